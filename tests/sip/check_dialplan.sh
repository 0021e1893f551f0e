#!/usr/bin/env bash
# The dial plan with real calls (sipp as the carrier and the phones, through sip-edge, routing,
# media-relay and cdr-ingest): a sequential forwarding scheme rings its steps one after another, a
# busy phone is skipped at once, a scheme whose phones are not registered reaches the backup number
# through the carrier showing the company number (FMC), and a holiday in the tenant's time zone
# sends the call to the closed branch; the outbound rules refuse a premium-rate number, choose
# the caller id by destination prefix and cap concurrent calls; a carrier that fails a call (503)
# hands it to the tenant's next carrier. Before each inbound call, the preview endpoint says what the
# call then does.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}" "${TEL_ADMIN_URLS:?}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=calls_lib.sh
source "$here/calls_lib.sh"
run=$(random_hex 6)
domain="plan-$run.sip.test"
# Fourteen hours ahead of UTC: for ten hours of every day its date is not UTC's, so a holiday only
# matches when the plan really reads the tenant's zone.
zone=Pacific/Kiritimati
pids=()
tenant=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [[ -n $tenant ]] && admin DELETE "/v1/tenants/$tenant" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
[[ -n ${KEEP_WORK:-} ]] && trap - EXIT


tenant=$(admin POST /v1/tenants "{\"name\":\"plan $run\",\"sip_domain\":\"$domain\",\"timezone\":\"$zone\"}" | jq -r .id)
key=$(admin POST "/v1/tenants/$tenant/api-keys" '{"name":"dial plan test"}' | jq -r .secret)
declare -A password phone_port
for user in alice:101 bob:102 carol:103; do
  password[${user%%:*}]="Secret-${user##*:}-$run"
  api "$key" POST /v1/sip-accounts \
    "{\"username\":\"${user%%:*}\",\"extension\":\"${user##*:}\",\"password\":\"${password[${user%%:*}]}\"}" >/dev/null
  take_port
  phone_port[${user%%:*}]=$port
done
take_port
carrier_port=$port
number=$(new_number '{"kind":"none"}' 4)
api "$key" POST /v1/carriers "{\"name\":\"test carrier\",\"addresses\":[\"127.0.0.1\"],\"outbound_uri\":\"sip:127.0.0.1:$carrier_port\",\"caller_id\":\"$number\"}" >/dev/null
# A second carrier, outbound only: it takes the calls the first one fails.
take_port
backup_port=$port
api "$key" POST /v1/carriers "{\"name\":\"backup carrier\",\"outbound_uri\":\"sip:127.0.0.1:$backup_port\"}" >/dev/null

plain=$(scenario uac_call.xml caller-bye)
sed -i "s#\[audio\]#$work/silence.al#" "$plain"
answers=$(scenario uas_answer.xml caller-bye)
sed -i 's/\[from_check\]/./' "$answers"
# The far end behind the carrier answers only a call whose From is the company number.
far_end_answers=$(scenario uas_answer.xml caller-bye)
sed -i "s/\[from_check\]/sip:.${number#+}@/" "$far_end_answers"

# plan SCHEDULE_JSON STEPS_JSON: saves a plan for the number: the schedule decides, open rings the
# steps (then the backup number), closed hangs up with 603.
plan() {
  api "$key" PUT /v1/dialplan "{
    \"schedules\": {\"office\": $1},
    \"nodes\": {
      \"main\": {\"type\": \"schedule\", \"schedule\": \"office\", \"open\": \"sales\", \"closed\": \"night\"},
      \"sales\": {\"type\": \"scheme\", \"steps\": $2, \"backup_number\": \"+4930123456\", \"then\": \"night\"},
      \"night\": {\"type\": \"hangup\", \"status\": 603, \"reason\": \"closed\"}},
    \"numbers\": {\"$number\": \"main\"}}" | jq -e '.version >= 1' >/dev/null
}
all_week='{"hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"], "wed": ["00:00-24:00"], "thu": ["00:00-24:00"], "fri": ["00:00-24:00"], "sat": ["00:00-24:00"], "sun": ["00:00-24:00"]}}'
# preview_is EXPECTED: the preview's path now, as "node:outcome ..."
preview_is() {
  local path
  path=$(api "$key" GET "/v1/dialplan/preview?number=$(jq -rn --arg n "$number" '$n|@uri')" |
    jq -r '[.path[] | .node + ":" + .outcome] | join(" ")')
  [[ $path == "$1" ]] || { echo "  preview: $path"; return 1; }
}
api_ok() { api "$key" "$@" | jq -e '.version >= 1' >/dev/null; }

# --- Sequential scheme: the first phone rings its 5 s, then the second answers --------------------
check "a plan with a sequential scheme is saved" plan "$all_week" \
  '[{"targets": [{"extension": "101"}], "ring_seconds": 5}, {"targets": [{"extension": "102"}], "ring_seconds": 10}]'
check "the preview: open, the scheme rings" preview_is "main:open sales:ring"
device alice "$(scenario uas_ring.xml)"
alice_pid=$device_pid
device bob "$answers"
since=$(now_utc)
started=$SECONDS
check "the carrier's call is answered" carrier_call "$number" "$plain" -d 1000
check "by the second step, after the first rang its 5 s" test $((SECONDS - started)) -ge 5
check "alice's phone rang and was cancelled" finished "$alice_pid"
check "bob's phone had the call" finished "$device_pid"
call=$(newest_record "$since")
check "record: answered by 102 after 101 rang unanswered" expect "$call" \
  '.disposition == "answered" and .answered_by == "102" and ([.legs[].extension] | index("101") != null)'
check "record: its route through the plan, step by step" expect "$call" \
  '[.route[] | .node + " " + .type + " " + .outcome] ==
     ["main schedule open", "sales scheme ring", "sales step 1", "sales step_failed no_answer", "sales step 2"]
   and .route[2].detail == "extension 101 for 5 s" and .route[0].plan_version >= 1'

# --- A busy phone is skipped at once --------------------------------------------------------------
device alice "$(scenario uas_busy.xml)"
alice_pid=$device_pid
device bob "$answers"
since=$(now_utc)
started=$SECONDS
check "alice is busy, bob answers" carrier_call "$number" "$plain" -d 1000
check "without waiting out alice's ring time" test $((SECONDS - started)) -lt 5
finished "$alice_pid"
check "bob's phone had the call" finished "$device_pid"
check "record: answered by 102, the route shows alice busy" expect "$(newest_record "$since")" \
  '.disposition == "answered" and .answered_by == "102" and .route[3].type == "step_failed" and .route[3].outcome == "busy"'

# --- No phone of the scheme registered: the backup number, through the carrier (FMC) --------------
check "a plan ringing carol (never registered), then the backup number" plan "$all_week" \
  '[{"targets": [{"extension": "103"}], "ring_seconds": 20}]'
(cd "$work" && exec timeout 60 sipp -sf "$far_end_answers" -m 1 -i 127.0.0.1 -p "$carrier_port" -mp $((carrier_port + 2)) \
  -rtp_echo -timeout 50 -trace_err -error_file "$work/far-end.err" >"$work/far-end.out" 2>&1) &
far_end=$!
pids+=("$far_end")
sleep 0.3
since=$(now_utc)
started=$SECONDS
check "the call reaches the backup number" carrier_call "$number" "$plain" -d 1000
check "at once, not after carol's 20 s" test $((SECONDS - started)) -lt 5
check "the carrier got it with the company number as caller id" finished "$far_end"
check "record: answered, the route shows carol's step failing, then the backup number" \
  expect "$(newest_record "$since")" \
  '.disposition == "answered" and ([.route[].type] == ["schedule", "scheme", "step", "step_failed", "step"])
   and .route[4].detail == "number +4930123456 for 60 s"'

# --- A holiday in the tenant's time zone: the closed branch ----------------------------------------
today=$(TZ=$zone date +%F)
check "a plan whose schedule has today ($today in $zone) as a holiday" plan \
  "{\"hours\": $(jq -c .hours <<<"$all_week"), \"holidays\": [{\"date\": \"$today\", \"name\": \"test day\"}]}" \
  '[{"targets": [{"extension": "101"}]}]'
check "the preview: closed, hang up with 603" preview_is "main:closed night:603"
since=$(now_utc)
check "the caller gets 603 from the plan's hangup node" refused_call "$number" 603
check "record: the route says why" expect "$(newest_record "$since")" \
  '[.route[] | .node + " " + .outcome] == ["main closed", "night 603"] and (.route[0].detail | contains("holiday"))'

# --- Outbound rules: premium rate blocked by default, the caller id chosen by destination prefix ----
blocked_metric='tel_routing_decisions_total{outcome="outbound_blocked"}'
blocked_before=$(metric routing "$blocked_metric")
check "bob dials a premium-rate number: refused (403) with no rule saying otherwise" \
  phone_call bob 0019005551234 refused
check "refused by routing's outbound rules, not by authentication" \
  test "$(metric routing "$blocked_metric")" -gt "${blocked_before:-0}"
uk_number=$(new_number '{"kind":"none"}')
bob_line=$(new_number '{"kind":"none"}')  # bob's direct line: not the carrier's caller id
check "a plan whose outbound rules show the UK number to UK destinations, bob's own line elsewhere, one call per account at once" \
  api_ok PUT /v1/dialplan "{\"outbound\": {\"caller_ids\": [{\"prefix\": \"+44\", \"caller_id\": \"$uk_number\"}],
                                            \"account_caller_ids\": {\"102\": \"$bob_line\"},
                                            \"max_concurrent_per_account\": 1}}"
uk_far_end=$(scenario uas_answer.xml caller-bye)
sed -i "s/\[from_check\]/sip:.${uk_number#+}@/" "$uk_far_end"
(cd "$work" && exec timeout 60 sipp -sf "$uk_far_end" -m 1 -i 127.0.0.1 -p "$carrier_port" -mp $((carrier_port + 2)) \
  -rtp_echo -timeout 50 -trace_err -error_file "$work/uk-far-end.err" >"$work/uk-far-end.out" 2>&1) &
far_end=$!
pids+=("$far_end")
sleep 0.3
phone_call bob 00447911123456 answered -d 3000 &
first_call=$!
take_port  # the block the call in the background took
sleep 1.5
REFUSED_STATUS=486 check "while bob's first call goes on, his second is refused (486): the cap holds" \
  phone_call bob 00447911123457 refused
check "bob's UK call went out through the carrier" finished "$first_call"
check "the far end saw the UK number as caller id" finished "$far_end"
us_far_end=$(scenario uas_answer.xml caller-bye)
sed -i "s/\[from_check\]/sip:.${bob_line#+}@/" "$us_far_end"
(cd "$work" && exec timeout 60 sipp -sf "$us_far_end" -m 1 -i 127.0.0.1 -p "$carrier_port" -mp $((carrier_port + 2)) \
  -rtp_echo -timeout 50 -trace_err -error_file "$work/us-far-end.err" >"$work/us-far-end.out" 2>&1) &
far_end=$!
pids+=("$far_end")
sleep 0.3
check "once it is over, bob can call out again" phone_call bob 0015559998888 answered -d 200
check "and a US number sees bob's own line (account_caller_ids), no prefix rule matching" finished "$far_end"

# --- Carrier failover: the primary carrier answers 503, the backup carrier takes the call ----------
primary_fails=$(scenario uas_busy.xml)
sed -i 's/SIP\/2.0 486 Busy Here/SIP\/2.0 503 Service Unavailable/' "$primary_fails"
(cd "$work" && exec timeout 60 sipp -sf "$primary_fails" -m 1 -i 127.0.0.1 -p "$carrier_port" -mp $((carrier_port + 2)) \
  -timeout 50 -trace_err -error_file "$work/primary.err" >"$work/primary.out" 2>&1) &
primary=$!
(cd "$work" && exec timeout 60 sipp -sf "$answers" -m 1 -i 127.0.0.1 -p "$backup_port" -mp $((backup_port + 2)) \
  -rtp_echo -timeout 50 -trace_err -error_file "$work/backup.err" >"$work/backup.out" 2>&1) &
backup=$!
pids+=("$primary" "$backup")
sleep 0.3
check "bob's call fails at the primary carrier (503) and goes out through the backup" \
  phone_call bob 0015559998877 answered -d 300
check "the primary carrier saw the call" finished "$primary"
check "the backup carrier had it" finished "$backup"
call=$(api "$key" GET "/v1/calls?direction=outbound" | jq -r '.items[0].id')
check "record: two carrier attempts, the first 503, both in the route" expect "$(api "$key" GET "/v1/calls/$call")" \
  '.disposition == "answered" and (.legs | length == 2) and .legs[0].sip_status == 503
   and ([.route[].type] == ["carrier", "carrier_failed", "carrier"]) and .route[1].outcome == "503"'

# --- A slow primary carrier: 100 Trying at once, the callee rings 4 s later ---------------------------
# Past the 3 s response timeout, but the carrier answered: the call stays with it.
slow_far_end=$(scenario uas_answer.xml trying-first caller-bye)
sed -i 's/\[from_check\]/./' "$slow_far_end"
(cd "$work" && exec timeout 60 sipp -sf "$slow_far_end" -m 1 -i 127.0.0.1 -p "$carrier_port" -mp $((carrier_port + 2)) \
  -rtp_echo -timeout 50 -trace_err -error_file "$work/slow.err" >"$work/slow.out" 2>&1) &
slow=$!
pids+=("$slow")
sleep 0.3
check "a carrier that only says 100 Trying for 4 s keeps the call" phone_call bob 0015559998877 answered -d 200
check "the slow carrier had it" finished "$slow"

# --- A silent primary carrier: passed over within seconds, taken out, probed, brought back ---------
# The primary swallows every packet (as a carrier that is down behind a firewall would): each call
# gives it 3 s (carriers.response_timeout) before the backup takes it, instead of SIP's 32 s. After
# three failures in a minute, with no call it carried between them (the slow call above was one),
# routing takes it out: calls go to the backup first, and sip-edge probes the primary with OPTIONS
# every second (carriers.probe_interval here) until two are answered. Back, the primary answers
# probes but still fails its INVITEs (503): the next call tries it first, then the backup.
python3 "$here/silent_carrier.py" "$carrier_port" 90 &
silent=$!
pids+=("$silent")
(cd "$work" && exec timeout 90 sipp -sf "$answers" -m 5 -i 127.0.0.1 -p "$backup_port" -mp $((backup_port + 2)) \
  -rtp_echo -timeout 80 -trace_err -error_file "$work/backup2.err" >"$work/backup2.out" 2>&1) &
backup=$!
pids+=("$backup")
check "the primary listens" eventually 5 udp_bound "$carrier_port"
check "and the backup" eventually 5 udp_bound "$backup_port"
# outbound_record DIALLED: the record of the newest outbound call to DIALLED, once complete.
outbound_record() {
  local record deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    record=$(api "$key" GET "/v1/calls/$(api "$key" GET "/v1/calls?direction=outbound&number=$1" | jq -r '.items[0].id')")
    jq -e .complete >/dev/null <<<"$record" && break
    sleep 0.2
  done
  echo "$record"
}
for attempt in 1 2 3; do
  started=$SECONDS
  check "call $attempt: the primary stays silent, the backup answers" phone_call bob "00155599988$attempt$attempt" answered -d 200
  check "within the response timeout, not SIP's 32 s" test $((SECONDS - started)) -le 7
  check "record: the primary given up as 408, then the backup" expect "$(outbound_record "00155599988$attempt$attempt")" \
    '.disposition == "answered" and ([.route[].type] == ["carrier", "carrier_failed", "carrier"]) and .route[1].outcome == "408"
     and .legs[0].sip_status == 408 and .legs[0].end_reason == "no_response"'
done
ups=$(metric routing 'tel_routing_carrier_state_changes_total{to="up"}')
started=$SECONDS
check "call 4: the primary is out, so the backup answers at once" phone_call bob 0015559998844 answered -d 200
check "with no wait for the primary" test $((SECONDS - started)) -le 2
check "record: the primary listed as down, one carrier attempt" expect "$(outbound_record 0015559998844)" \
  '.disposition == "answered" and ([.route[].type] == ["carrier_down", "carrier"]) and (.legs | length) == 1'
kill -USR1 "$silent"
recovered() { (($(metric routing 'tel_routing_carrier_state_changes_total{to="up"}') > ups)); }
check "the primary answers its OPTIONS probes, and routing takes it back" eventually 8 recovered
check "call 5 tries the primary first again (it fails the call: 503), then the backup" \
  phone_call bob 0015559998855 answered -d 200
check "record: the primary first, its 503, then the backup" expect "$(outbound_record 0015559998855)" \
  '.disposition == "answered" and ([.route[].type] == ["carrier", "carrier_failed", "carrier"]) and .route[1].outcome == "503"
   and (.route[0].detail | endswith(":'"$carrier_port"'"))'
check "the backup carrier had the five calls" finished "$backup"

# --- Nothing left behind --------------------------------------------------------------------------
settled() {
  local deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    [[ $(metric sip-edge tel_sip_calls_active) == 0 ]] && return 0
    sleep 0.2
  done
  return 1
}
check "no call state left in sip-edge" settled
check "no channel or outbound-limit slot held in Redis" \
  test -z "$(redis-cli -p "${TEL_REDIS_URL##*:}" --scan --pattern "tel:chan:$tenant:*")"

((failed)) && show_sipp_errors
exit $failed
