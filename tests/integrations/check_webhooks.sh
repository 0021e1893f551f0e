#!/usr/bin/env bash
# Webhooks end to end, with real calls (sipp as carrier and phone through sip-edge, routing,
# media-relay, Kafka, cdr-ingest) and a real HTTP receiver (webhook_receiver.py on 127.0.0.99, the
# one private address the local stack allows):
#   - SSRF: loopback, private, link-local, metadata, IPv6 and encoded addresses are refused when
#     saved, and a redirect to a private address is not followed;
#   - tenant A's endpoint fails (500) for a while, then recovers: every event arrives once by id
#     (after de-duplication), in per-call order, signed with A's secret, call.ended with the call
#     record as the API shows it, every attempt in the log; tenant B's healthy endpoint meanwhile
#     gets its events without delay;
#   - ping, secret rotation (both secrets sign during the overlap), replay by id and by time;
#   - an endpoint failing longer than disable_after (25 s in the local stack) is disabled and the
#     tenant told by a webhook.disabled event; enabling it again works;
#   - integrations killed (SIGKILL) while a delivery is in flight: after a restart it goes out
#     again with the same id;
#   - another tenant can neither see nor touch any of it; bad input is refused naming the field.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sip=$here/../sip
root=$here/../..
: "${TEL_ADMIN_URLS:?run through ./tel test}" "${TEL_RUN_DIR:?}"
work=$(mktemp -d)
# shellcheck source=../sip/lib.sh
source "$sip/lib.sh"
# shellcheck source=../sip/calls_lib.sh
source "$sip/calls_lib.sh"
run=$(random_hex 6)
pids=()
tenant=""
other=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [[ -n $tenant ]] && admin DELETE "/v1/tenants/$tenant" >/dev/null
  [[ -n $other ]] && admin DELETE "/v1/tenants/$other" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
integrations_admin=$(tr ' ' '\n' <<<"$TEL_ADMIN_URLS" | sed -n 's/^integrations=//p')

# sipp's ports 19400-19499: clear of the other tests' ranges. The receivers take free ports.
next_port=$((19400 + (RANDOM % 5) * 20))
hooks=$work/received.jsonl
trapped=$work/trapped.jsonl
touch "$hooks" "$trapped"
listen() {  # listen ADDRESS LOG: a receiver on a free port of ADDRESS; sets listening_port
  python3 "$here/webhook_receiver.py" "$1" 0 "$2" 2>"$2.err" &
  pids+=($!)
  for _ in $(seq 50); do [[ -s $2.port ]] && break; sleep 0.1; done
  listening_port=$(cat "$2.port" 2>/dev/null) || { echo "FAIL: no receiver on $1:"; cat "$2.err"; exit 1; }
}
listen 127.0.0.99 "$hooks"
receiver_port=$listening_port
listen 127.0.0.1 "$trapped"
trap_port=$listening_port
receiver="http://127.0.0.99:$receiver_port"
head -c 16000 /dev/zero | tr '\0' '\325' >"$work/silence.al"

# --- Two tenants, each with a phone (101) and the local carrier ------------------------------------
new_tenant() {  # new_tenant NAME: prints "tenant-id api-key"
  local id key
  id=$(admin POST /v1/tenants "{\"name\":\"webhooks $1 $run\",\"sip_domain\":\"hooks-$1-$run.sip.test\"}" | jq -r .id)
  key=$(admin POST "/v1/tenants/$id/api-keys" '{"name":"webhooks test"}' | jq -r .secret)
  echo "$id $key"
}
read -r tenant key_a <<<"$(new_tenant a)"
read -r other key_b <<<"$(new_tenant b)"
declare -A password phone_port
password[alice]="Secret-101-$run"
for k in "$key_a" "$key_b"; do
  api "$k" POST /v1/sip-accounts "{\"username\":\"alice\",\"extension\":\"101\",\"password\":\"${password[alice]}\"}" >/dev/null
  api "$k" POST /v1/carriers '{"name":"test carrier","addresses":["127.0.0.1"]}' >/dev/null
done
take_port
phone_port[alice]=$port
plain=$(scenario uac_call.xml caller-bye)
sed -i "s#\[audio\]#$work/silence.al#" "$plain"
answers=$(scenario uas_answer.xml caller-bye)
sed -i 's/\[from_check\]/./' "$answers"

completed_call() {  # completed_call NUMBER: the id of the call to NUMBER once its record is complete
  local id=""
  for _ in $(seq 80); do
    id=$(api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$1" '$n|@uri')" | jq -r '[.items[] | select(.complete)][0].id // empty')
    [[ -n $id ]] && break
    sleep 0.1
  done
  echo "$id"
}
# answered_call KEY DOMAIN: a carrier call to a fresh number of the tenant, answered by alice
# (101); prints the call id once its record is complete.
answered_call() {
  local number
  key=$1 domain=$2  # what calls_lib.sh's helpers use
  number=$(new_number "$(ring '"101"')") || return 1
  device alice "$answers" || return 1
  carrier_call "$number" "$plain" -d 500 || return 1
  finished "$device_pid" >/dev/null || return 1
  completed_call "$number"
}
# missed_call KEY: a call to a number ringing alice, whose phone (registered by the call before)
# no longer answers: after the number's 5 s ring timeout, a missed call.
missed_call() {
  local number
  key=$1
  number=$(new_number "$(ring '"101"' 5)") || return 1
  refused_call "$number" 480 >/dev/null 2>&1
  completed_call "$number"
}
subscribe() {  # subscribe KEY PATH TYPES_JSON: prints the subscription JSON (with its secret)
  api "$1" POST /v1/webhooks "{\"url\":\"$receiver$2\",\"event_types\":$3}"
}
# answers PATH: the JSON lines the receiver answered on PATH, as one JSON array
answers_on() { jq -s --arg p "$1" '[.[] | select(.phase == "answered" and .path == $p)]' "$hooks"; }
wait_for_hooks() {  # wait_for_hooks SECONDS JQ_TEST PATH: until the receiver's log for PATH passes
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    [[ $(answers_on "$3" | jq "$2") == true ]] && return 0
    sleep 0.2
  done
  echo "  receiver log for $3: $(answers_on "$3" | jq -c '[.[] | {status, id: .webhook_id, type: (.body | fromjson | .type)}]')"
  return 1
}
wait_until() {  # wait_until SECONDS COMMAND: until COMMAND (a string, evaluated) succeeds
  local deadline=$((SECONDS + $1))
  while ((SECONDS < deadline)); do
    eval "$2" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}
# signed SECRET PATH [JQ]: every request on PATH (or those JQ picks from them) carries a valid
# signature made with SECRET.
signed() {
  answers_on "$2" | jq "${3:-.}" | python3 -c '
import base64, hashlib, hmac, json, sys
key = base64.b64decode(sys.argv[1][len("whsec_"):])
requests = json.load(sys.stdin)
for r in requests:
    expected = "v1," + base64.b64encode(hmac.new(key, ("%s.%s.%s" % (r["webhook_id"], r["webhook_timestamp"], r["body"])).encode(), hashlib.sha256).digest()).decode()
    if expected not in r["webhook_signature"].split(" "):
        sys.exit("bad signature on %s" % r["webhook_id"])
sys.exit(0 if requests else "no requests")' "$1"
}

# --- SSRF: refused when saved -------------------------------------------------------------------
for url in "http://127.0.0.1:$receiver_port/" "http://localhost/" "http://10.1.2.3/" "http://172.16.0.1/" \
  "http://192.168.1.1/" "http://169.254.169.254/latest/meta-data/" "http://[::1]/" "http://[::ffff:127.0.0.1]/" \
  "http://2130706433/" "http://0x7f000001/" "http://127.0.0.98:$receiver_port/" "http://[fe80::1]/"; do
  check "a webhook to $url is refused (SSRF)" expect \
    "$(api "$key_a" POST /v1/webhooks "{\"url\":\"$url\",\"event_types\":[\"call.started\"]}")" \
    '.error.code == "invalid_argument" and .error.field == "url" and (.error.message | test("non-public"))'
done
check "ftp and URLs with credentials are refused" expect \
  "$(api "$key_a" POST /v1/webhooks '{"url":"ftp://example.com/","event_types":["call.started"]}')$(api "$key_a" POST /v1/webhooks "{\"url\":\"http://u:p@127.0.0.99:$receiver_port/\",\"event_types\":[\"call.started\"]}")" \
  '.error.field == "url"'

# --- Bad input ------------------------------------------------------------------------------------
check "an unknown event type is refused naming the field" expect \
  "$(api "$key_a" POST /v1/webhooks "{\"url\":\"$receiver/ok/x\",\"event_types\":[\"call.exploded\"]}")" '.error.field == "event_types"'
check "an unknown field is refused" expect \
  "$(api "$key_a" POST /v1/webhooks "{\"url\":\"$receiver/ok/x\",\"event_types\":[\"call.started\"],\"script\":1}")" '.error.code == "invalid_argument"'
check "a bad number filter is refused naming the field" expect \
  "$(api "$key_a" POST /v1/webhooks "{\"url\":\"$receiver/ok/x\",\"event_types\":[\"call.started\"],\"numbers\":[\"12\"]}")" '.error.field == "numbers"'
check "a description of 300 characters is refused" expect \
  "$(api "$key_a" POST /v1/webhooks "{\"url\":\"$receiver/ok/x\",\"event_types\":[\"call.started\"],\"description\":\"$(printf 'x%.0s' {1..300})\"}")" '.error.field == "description"'
check "malformed JSON is refused" expect "$(api "$key_a" POST /v1/webhooks '{"url": ')" '.error.code == "invalid_argument"'

# --- Subscriptions ---------------------------------------------------------------------------------
call_types='["call.started","call.ringing","call.answered","call.ended","call.missed"]'
a1=$(subscribe "$key_a" "/fail-first/4/a1-$run" "$call_types")
a1_id=$(jq -r .id <<<"$a1")
a1_secret=$(jq -r .secret <<<"$a1")
check "a subscription is created with its secret, shown once" expect "$a1" \
  '(.secret | startswith("whsec_")) and .enabled and (.event_types | length) == 5'
check "and never shown again" expect "$(api "$key_a" GET "/v1/webhooks/$a1_id")" '.id != null and (has("secret") | not)'
watcher=$(subscribe "$key_a" "/ok/a2-$run" '["webhook.disabled"]')
dead=$(subscribe "$key_a" "/always-fail/a3-$run" '["call.started"]')
dead_id=$(jq -r .id <<<"$dead")
b1=$(subscribe "$key_b" "/ok/b1-$run" "$call_types")
b1_id=$(jq -r .id <<<"$b1")
b1_secret=$(jq -r .secret <<<"$b1")

# --- Calls: A's endpoint fails at first, B's is healthy ---------------------------------------------
a_started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
a_answered=$(answered_call "$key_a" "hooks-a-$run.sip.test")
a_missed=$(missed_call "$key_a")
b_answered=$(answered_call "$key_b" "hooks-b-$run.sip.test")
check "the calls happened" test -n "$a_answered" -a -n "$a_missed" -a -n "$b_answered"

check "B's healthy endpoint gets its call's four events meanwhile, within 3 s of its end" \
  wait_for_hooks 3 "[.[] | select(.status == 200)] | length >= 4" "/ok/b1-$run"
check "B's events were not held up by A's failures: each arrived at its first attempt" expect \
  "$(answers_on "/ok/b1-$run")" "length == 4 and ([.[].body | fromjson | .type] | sort) == [\"call.answered\",\"call.ended\",\"call.ringing\",\"call.started\"]"
check "B's signatures verify with B's secret" signed "$b1_secret" "/ok/b1-$run"

check "A's endpoint recovers: all 7 events arrive (answered call 4, missed call 3)" \
  wait_for_hooks 30 '[.[] | select(.status == 200) | .webhook_id] | unique | length == 7' "/fail-first/4/a1-$run"
a1_log=$(answers_on "/fail-first/4/a1-$run")
check "the first 4 requests got 500 and were retried" expect "$a1_log" '[.[] | select(.status == 500)] | length == 4'
check "each event was accepted exactly once by id" expect "$a1_log" \
  '[.[] | select(.status == 200) | .webhook_id] | (length == (unique | length))'
check "every request, failed or not, is signed with A's secret" signed "$a1_secret" "/fail-first/4/a1-$run"
check "per call, events were accepted in sequence order" expect "$a1_log" '
  [.[] | select(.status == 200) | .body | fromjson] | group_by(.call_id)
  | all(. as $call | [$call[].sequence] == ([$call[].sequence] | sort) and ([$call[].sequence] | unique | length) == length)'
check "the answered call's events: started, ringing, answered, ended" expect "$a1_log" "
  [.[] | select(.status == 200) | .body | fromjson | select(.call_id == \"$a_answered\") | .type]
  == [\"call.started\",\"call.ringing\",\"call.answered\",\"call.ended\"]"
check "the missed call's events end with call.missed" expect "$a1_log" "
  [.[] | select(.status == 200) | .body | fromjson | select(.call_id == \"$a_missed\") | .type]
  | (.[0] == \"call.started\" and .[-2:] == [\"call.ended\",\"call.missed\"])"
record=$(api "$key_a" GET "/v1/calls/$a_answered")
ended=$(jq -c "[.[] | select(.status == 200) | .body | fromjson | select(.call_id == \"$a_answered\" and .type == \"call.ended\")][0]" <<<"$a1_log")
check "call.ended carries the call record exactly as GET /v1/calls/{id} shows it" \
  test "$(jq -S .data.call <<<"$ended")" == "$(jq -S . <<<"$record")"
check "the body has id, type, created_at, tenant_id, call_id, sequence and data" expect "$ended" "
  .id != null and .type == \"call.ended\" and (.created_at | test(\"Z$\")) and .tenant_id == \"$tenant\"
  and .call_id == \"$a_answered\" and .sequence == 4 and (.data | type) == \"object\""
attempts=$(api "$key_a" GET "/v1/webhooks/$a1_id/attempts?limit=500")
check "the delivery log shows each attempt: 4 failures (HTTP 500, retrying), 7 deliveries" expect "$attempts" '
  ([.items[] | select(.outcome == "retrying" and .status_code == 500 and .error == "HTTP 500" and .next_attempt_at != null)] | length) == 4
  and ([.items[] | select(.outcome == "delivered" and .status_code == 200)] | length) == 7
  and ([.items[] | select(.response_excerpt == "failing on purpose")] | length) == 4'

# --- Redirects are not followed ---------------------------------------------------------------------
redirect=$(subscribe "$key_a" "/redirect/a4-$run?to=http://127.0.0.1:$trap_port/trap" '["call.started"]')
redirect_id=$(jq -r .id <<<"$redirect")
api "$key_a" POST "/v1/webhooks/$redirect_id/ping" "{}" >/dev/null
check "a redirect (to a private address) is a failed attempt, not followed" \
  wait_for_hooks 5 'length >= 1 and .[0].status == 302' "/redirect/a4-$run"
sleep 1
check "and the private address got nothing" test ! -s "$trapped"
check "the log shows the 302 as a failure to retry" expect "$(api "$key_a" GET "/v1/webhooks/$redirect_id/attempts")" \
  '.items[-1].status_code == 302 and .items[-1].outcome == "retrying"'
api "$key_a" DELETE "/v1/webhooks/$redirect_id" >/dev/null

# --- Ping, rotation, replay ---------------------------------------------------------------------------
pinged=$(subscribe "$key_a" "/ok/a5-$run" '["call.started"]')
pinged_id=$(jq -r .id <<<"$pinged")
old_secret=$(jq -r .secret <<<"$pinged")
ping=$(api "$key_a" POST "/v1/webhooks/$pinged_id/ping" "{}")
check "a ping is delivered to that subscription with the id it was given" \
  wait_for_hooks 5 "[.[] | select(.webhook_id == $(jq .event_id <<<"$ping") and (.body | fromjson | .type) == \"webhook.ping\")] | length == 1" "/ok/a5-$run"
rotated=$(api "$key_a" POST "/v1/webhooks/$pinged_id/rotate-secret" '{"overlap_seconds":600}')
check "rotating gives a new secret and says until when the old one signs" expect "$rotated" \
  "(.secret | startswith(\"whsec_\")) and .secret != \"$old_secret\" and .previous_secret_expires_at != null"
api "$key_a" POST "/v1/webhooks/$pinged_id/ping" "{}" >/dev/null
wait_for_hooks 5 'length == 2' "/ok/a5-$run" >/dev/null
check "during the overlap a delivery carries two signatures" expect "$(answers_on "/ok/a5-$run")" \
  '.[1].webhook_signature | split(" ") | length == 2'
check "which verify with the new secret" signed "$(jq -r .secret <<<"$rotated")" "/ok/a5-$run" '.[1:]'
check "and with the old one" signed "$old_secret" "/ok/a5-$run"

ended_id=$(jq -r .id <<<"$ended")
check "replaying one event queues it" expect "$(api "$key_a" POST "/v1/webhooks/$a1_id/replay" "{\"event_id\":\"$ended_id\"}")" '.events == 1'
check "and it arrives again with the same id" \
  wait_for_hooks 5 "[.[] | select(.status == 200 and .webhook_id == \"$ended_id\")] | length == 2" "/fail-first/4/a1-$run"
check "replaying since the calls began queues A's 7 events" expect \
  "$(api "$key_a" POST "/v1/webhooks/$a1_id/replay" "{\"since\":\"$a_started\"}")" '.events == 7'
check "replay refuses both or neither of event_id and since" expect \
  "$(api "$key_a" POST "/v1/webhooks/$a1_id/replay" '{}')" '.error.code == "invalid_argument"'

# --- Tenant isolation ----------------------------------------------------------------------------------
check "B cannot read A's subscription" expect "$(api "$key_b" GET "/v1/webhooks/$a1_id")" '.error.code == "not_found"'
check "nor change it" expect "$(api "$key_b" PATCH "/v1/webhooks/$a1_id" '{"enabled":false}')" '.error.code == "not_found"'
check "nor delete it" expect "$(api "$key_b" DELETE "/v1/webhooks/$a1_id")" '.error.code == "not_found"'
check "nor read its delivery log" expect "$(api "$key_b" GET "/v1/webhooks/$a1_id/attempts")" '.error.code == "not_found"'
check "nor replay A's event into its own subscription" expect \
  "$(api "$key_b" POST "/v1/webhooks/$b1_id/replay" "{\"event_id\":\"$ended_id\"}")" '.error.code == "not_found"'
check "B's list has only B's subscription" expect "$(api "$key_b" GET /v1/webhooks)" "[.items[].id] == [\"$b1_id\"]"
check "A's subscription still works after B's attempts" expect "$(api "$key_a" GET "/v1/webhooks/$a1_id")" '.enabled'

# --- Crash during delivery: SIGKILL, restart, the same id again ----------------------------------------
slow=$(subscribe "$key_a" "/slow/2/a6-$run" '["call.started"]')
slow_ping=$(api "$key_a" POST "/v1/webhooks/$(jq -r .id <<<"$slow")/ping" "{}" | jq -r .event_id)
deadline=$((SECONDS + 10))
until jq -e -s --arg id "$slow_ping" 'any(.[]; .phase == "arrived" and .webhook_id == $id)' "$hooks" >/dev/null; do
  ((SECONDS < deadline)) || break
  sleep 0.1
done
victim=$(cat "$TEL_RUN_DIR/integrations.pid")
kill -KILL "$victim"
while kill -0 "$victim" 2>/dev/null && [[ $(ps -o stat= -p "$victim") != Z* ]]; do sleep 0.1; done
check "integrations killed with a delivery in flight, started again" "$root/tel" start integrations
check "the delivery goes out again with the same id and is accepted" \
  wait_for_hooks 30 "[.[] | select(.status == 200 and .webhook_id == \"$slow_ping\")] | length >= 1" "/slow/2/a6-$run"
check "the receiver saw that id more than once: duplicates carry the same id" expect \
  "$(jq -s --arg id "$slow_ping" '[.[] | select(.phase == "arrived" and .webhook_id == $id)]' "$hooks")" 'length >= 2'

# --- An endpoint failing for longer than disable_after is disabled, the tenant told -----------------
check "the dead endpoint's subscription is disabled once it failed for longer than 25 s" \
  wait_until 45 "api '$key_a' GET '/v1/webhooks/$dead_id' | jq -e '.enabled == false and .disabled_reason == \"failing\"'"
check "the tenant's webhook.disabled subscriber is told which one" \
  wait_for_hooks 10 "[.[] | .body | fromjson | select(.type == \"webhook.disabled\" and .data.subscription_id == \"$dead_id\")] | length == 1" "/ok/a2-$run"
check "its log kept the non-UTF-8 answers readable" expect "$(api "$key_a" GET "/v1/webhooks/$dead_id/attempts?limit=1")" \
  '.items[0].status_code == 503 and (.items[0].response_excerpt | test("Ошибка"))'
check "a disabled subscription cannot be pinged" expect "$(api "$key_a" POST "/v1/webhooks/$dead_id/ping" "{}")" \
  '.error.code == "failed_precondition"'
check "enabling it again clears the failure" expect "$(api "$key_a" PATCH "/v1/webhooks/$dead_id" '{"enabled":true}')" \
  '.enabled and .disabled_reason == "" and .failing_since == null'
check "deleting a subscription answers 204" test "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE \
  -H "Authorization: Bearer $key_a" "$TEL_API_URL/v1/webhooks/$dead_id")" = 204

check "the service counts its deliveries" expect "$(curl -s "$integrations_admin/metrics" |
  awk '$1 == "tel_webhooks_attempts_total{outcome=\"delivered\"}" {print "{\"delivered\":" $2 "}"}')" '.delivered > 0'
((failed)) && show_sipp_errors
exit $((failed > 0))
