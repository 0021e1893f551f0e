#!/usr/bin/env bash
# The call queue with real calls: the dial plan sends a number's callers to a queue; the queue
# service answers them, plays them a ringing tone while they wait (real RTP, counted by a listener
# per caller), and rings its two agents (sipp phones registered as the tenant's accounts) by the
# queue's strategy. Five callers arriving one after another are answered strictly in arrival order,
# the linear strategy giving each to the first free agent in the list. The wallboard shows the line
# while they wait, and its event stream shows a caller joining and an agent answering within 1 s; a
# caller who hangs up waiting is counted abandoned; a caller finding every agent paused is sent to
# the plan's overflow node after the queue's maximum wait. Waiting callers are told their position
# every 5 s. When Redis loses the queue's keys, the line comes back in the same order and the
# agents' pauses with it. Bad settings are refused naming the field, and another tenant can neither
# see the queue nor set this tenant's agents; a dashboard user linked to an agent's SIP account sets
# that agent's state, and no other. An agent on a direct call is not offered a caller.
# Each record sums up its queue visit (outcome, wait,
# agent, offers and misses), and a CRM's endpoint gets queue.caller_joined and
# queue.caller_abandoned webhooks. Last, a second queue instance shares the calls and is killed
# (SIGKILL) in a burst of callers: sip-edge offers its calls to the first instance, which serves
# them; no agent rings for two callers at once and every caller is answered once.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: check_queue.sh <build dir>}
: "${TEL_REDIS_URL:?run through ./tel test}" "${TEL_PG_URL:?}" "${TEL_CALL_CONTROL_ADDR:?}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=calls_lib.sh
source "$here/calls_lib.sh"
run=$(random_hex 6)
domain="queue-$run.sip.test"
pids=()
tenants=()
trap cleanup_test EXIT
[[ -n ${KEEP_WORK:-} ]] && trap - EXIT

test_tenants queue
api "$key" POST /v1/carriers '{"name":"test carrier","addresses":["127.0.0.1"],"outbound_uri":"sip:127.0.0.1:5060"}' >/dev/null
declare -A password account phone_port
for user in agent1:201 agent2:202; do
  name=${user%%:*}
  password[$name]="Secret-${user##*:}-$run"
  account[$name]=$(api "$key" POST /v1/sip-accounts \
    "{\"username\":\"$name\",\"extension\":\"${user##*:}\",\"password\":\"${password[$name]}\"}" | jq -r .id)
  take_port
  phone_port[$name]=$port
done
number=$(new_number '{"kind":"none"}' 10)
# A CRM's endpoint (127.0.0.99: the private address the local stack lets webhooks reach) takes the
# queue's events.
hooks=$work/hooks.jsonl
python3 "$here/../integrations/webhook_receiver.py" 127.0.0.99 0 "$hooks" 2>"$work/receiver.err" &
pids+=($!)
for _ in $(seq 50); do [[ -s $hooks.port ]] && break; sleep 0.1; done
api "$key" POST /v1/webhooks "{\"url\":\"http://127.0.0.99:$(cat "$hooks.port")/ok/queue\",
  \"event_types\":[\"queue.caller_joined\",\"queue.caller_abandoned\"]}" >/dev/null
hooks_of() {  # hooks_of TYPE CALL_ID: the bodies of TYPE webhooks received about the call
  jq -c --arg type "$1" --arg call "$2" 'select(.phase == "answered") | .body | fromjson
    | select(.type == $type and .call_id == $call)' "$hooks" 2>/dev/null
}
holds() { jq -e "$@" >/dev/null; }  # holds FILTER FILE...: jq's verdict, without its output
answers() {  # answers KEY METHOD PATH BODY JQ: the API's answer satisfies JQ (shown when not)
  local body
  body=$(api "$1" "$2" "$3" "$4")
  jq -e "$5" >/dev/null <<<"$body" 2>&1 || { echo "  answer: $body"; return 1; }
}
refused() {  # refused BODY FIELD: POST /v1/queues answers 400 naming FIELD
  local body
  body=$(curl -s -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$1" "$TEL_API_URL/v1/queues")
  jq -e --arg field "$2" '.error.field == $field' >/dev/null <<<"$body" ||
    { echo "  answer: $body"; return 1; }
}

# --- Settings -------------------------------------------------------------------------------------
members="[{\"account_id\":\"${account[agent1]}\"},{\"account_id\":\"${account[agent2]}\"}]"
queue=$(api "$key" POST /v1/queues "{\"name\":\"Sales\",\"strategy\":\"linear\",\"members\":$members,
  \"ring_timeout_seconds\":10,\"wrapup_seconds\":0,\"max_wait_seconds\":60}" | jq -r .id)
check "a queue is created with its defaults" answers "$key" GET "/v1/queues/$queue" "" \
  '.name == "Sales" and .strategy == "linear" and (.members | length) == 2 and .ring_at_once == 1 and .service_level_seconds == 20'
check "a strategy nobody knows is refused naming it" refused '{"name":"x","strategy":"random"}' strategy
check "a member that is no account of the tenant is refused naming it" \
  refused '{"name":"x","members":[{"account_id":"3f2b8f9e-1d2c-4b5a-9e8f-7a6b5c4d3e2f"}]}' "members[0].account_id"
check "a ring timeout of 1 s is refused naming it" refused '{"name":"x","ring_timeout_seconds":1}' ring_timeout_seconds
check "an unknown field is refused naming it" refused '{"name":"x","colour":"red"}' colour
check "a second queue of the same name is refused" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{"name":"Sales"}' "$TEL_API_URL/v1/queues")" = 409
check "the other tenant does not see the queue (404)" test "$(status_of "$other_key" "/v1/queues/$queue")" = 404
check "nor its wallboard (404)" test "$(status_of "$other_key" "/v1/queues/$queue/wallboard")" = 404
check "nor can it set this tenant's agent (404)" test "$(curl -s -o /dev/null -w '%{http_code}' -X PUT \
  -H "Authorization: Bearer $other_key" -H 'Content-Type: application/json' -d '{"state":"paused"}' \
  "$TEL_API_URL/v1/agents/${account[agent1]}/state")" = 404
check "an agent state nobody knows is refused naming it" \
  answers "$key" PUT "/v1/agents/${account[agent1]}/state" '{"state":"busy"}' '.error.field == "state"'
# status_for METHOD PATH BODY: the HTTP status of a request with this tenant's key
status_for() {
  curl -s -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    --data-binary "$3" "$TEL_API_URL$2"
}
check "a body that is not JSON is refused (400)" test "$(status_for POST /v1/queues '{"name": "x",')" = 400
check "a body that is no object is refused (400)" test "$(status_for POST /v1/queues '["x"]')" = 400
check "a member that is no object is refused (400)" test "$(status_for POST /v1/queues '{"name":"x","members":[7]}')" = 400
check "a name of 101 characters is refused naming it" refused "{\"name\":\"$(printf 'n%.0s' {1..101})\"}" name
check "a pause reason of 101 characters is refused naming it" answers "$key" PUT "/v1/agents/${account[agent1]}/state" \
  "{\"state\":\"paused\",\"reason\":\"$(printf 'r%.0s' {1..101})\"}" '.error.field == "reason"'
check "a queue id that is no id is 404" test "$(status_for GET "/v1/queues/..%2F..%2Fetc" "")" = 404
check "an agent id that is no account is 404" test "$(status_for PUT /v1/agents/not-an-account/state '{"state":"paused"}')" = 404
check "the wallboard of a queue that does not exist is 404" \
  test "$(status_for GET /v1/queues/3f2b8f9e-1d2c-4b5a-9e8f-7a6b5c4d3e2f/wallboard "")" = 404
check "no queue was created by any of it" answers "$key" GET /v1/queues "" '[.items[].name] == ["Sales"]'

# --- An agent sets its own state --------------------------------------------------------------------------
# A dashboard user linked to agent 1's SIP account, with the role agent, pauses itself and is back;
# it may set no other agent's state and change no queue.
agent_email="agent1-$run@queue.example.com"
check "a user with the role agent is linked to agent 1's SIP account" answers "$key" POST /v1/users \
  "{\"email\":\"$agent_email\",\"password\":\"agent-$run-long-enough\",\"role\":\"agent\",
    \"sip_account_id\":\"${account[agent1]}\"}" '.sip_account_id == "'"${account[agent1]}"'"'
check "a second user for the same SIP account is refused naming it" answers "$key" POST /v1/users \
  "{\"email\":\"x-$agent_email\",\"password\":\"agent-$run-long-enough\",\"sip_account_id\":\"${account[agent1]}\"}" \
  '.error.field == "sip_account_id"'
foreign_account=$(api "$other_key" POST /v1/sip-accounts "{\"username\":\"x$run\",\"extension\":\"901\",\"password\":\"Secret-901-$run\"}" | jq -r .id)
check "another tenant's SIP account cannot be linked (400 naming it)" answers "$key" POST /v1/users \
  "{\"email\":\"y-$agent_email\",\"password\":\"agent-$run-long-enough\",\"sip_account_id\":\"$foreign_account\"}" \
  '.error.field == "sip_account_id"'
check "nor an id that is none" answers "$key" POST /v1/users \
  "{\"email\":\"z-$agent_email\",\"password\":\"agent-$run-long-enough\",\"sip_account_id\":\"../1\"}" \
  '.error.field == "sip_account_id"'
jar=$work/agent.cookies
csrf=$(curl -s -c "$jar" -H 'Content-Type: application/json' -X POST "$TEL_API_URL/v1/sessions" \
  -d "{\"email\":\"$agent_email\",\"password\":\"agent-$run-long-enough\"}" | jq -r .csrf_token)
as_agent() {  # as_agent METHOD PATH BODY: the HTTP status of the agent's signed-in request
  curl -s -o "$work/agent.body" -w '%{http_code}' -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -X "$1" "$TEL_API_URL$2" -d "$3"
}
check "the agent signs in" test -n "$csrf" -a "$csrf" != null
check "and pauses itself" test "$(as_agent PUT "/v1/agents/${account[agent1]}/state" '{"state":"paused","reason":"coffee"}')" = 200
check "(paused, for coffee)" answers "$key" GET /v1/agents "" \
  '.items[] | select(.account_id == "'"${account[agent1]}"'") | .state == "paused" and .reason == "coffee"'
check "and is back" test "$(as_agent PUT "/v1/agents/${account[agent1]}/state" '{"state":"available"}')" = 200
check "it may not set agent 2's state (403)" test "$(as_agent PUT "/v1/agents/${account[agent2]}/state" '{"state":"paused"}')" = 403
check "nor change the queue (403)" test "$(as_agent PUT "/v1/queues/$queue" '{"name":"Mine"}')" = 403
check "agent 2 was not paused" answers "$key" GET /v1/agents "" \
  '[.items[] | select(.account_id == "'"${account[agent2]}"'") | .state] != ["paused"]'
as_agent DELETE /v1/sessions "" >/dev/null
check "the plan sends the number to the queue, and overflow to a hangup" \
  answers "$key" PUT /v1/dialplan "{\"nodes\": {
      \"line\": {\"type\": \"queue\", \"queue\": \"$queue\", \"then\": \"full\"},
      \"full\": {\"type\": \"hangup\", \"status\": 486, \"reason\": \"queue overflow\"}},
    \"numbers\": {\"$number\": \"line\"}}" '.version >= 1'

# --- Two agents, five callers -------------------------------------------------------------------------
# Each agent's phone answers the calls it is offered (echoing their audio) until the caller hangs up.
agent_phone() {  # agent_phone NAME CALLS
  local name=$1
  sipp_register register.xml "$name" "${password[$name]}" "$domain" 300 u1 "${phone_port[$name]}" || return 1
  (cd "$work" && exec timeout 90 sipp -sf "$answers_file" -m "$2" -i 127.0.0.1 -p "${phone_port[$name]}" \
    -mp $((phone_port[$name] + 2)) -rtp_echo -timeout 80 -trace_err -error_file "$work/$name.err" \
    >"$work/$name.out" 2>&1) &
  pids+=($!)
}
answers_file=$(scenario uas_answer.xml caller-bye)
sed -i 's#\[from_check\]#.*#' "$answers_file"
check "agent 1's phone registers" agent_phone agent1 3
check "agent 2's phone registers" agent_phone agent2 2
# caller I STAY_MS: caller I stays STAY_MS after the answer, its RTP counted.
caller() {
  local file listen=$((port + 5))
  file=$(scenario uac_ivr.xml hang-up)
  sed -i "s#\[wait\]#$2#; s#<pause milliseconds=\"\[after\]\"/>##" "$file"
  python3 "$here/rtp_listener.py" --port "$listen" --seconds $(($2 / 1000 + 2)) --out "$work/heard-$1.json" &
  local listener=$!
  sleep 0.2
  CALL_PORT=$port carrier_call "$number" "$file" -key listen_port "$listen"
  local status=$?
  wait "$listener"
  return $status
}
# The wallboard's event stream, read while the callers come and go.
python3 "$here/sse_reader.py" --url "$TEL_API_URL/v1/queues/$queue/wallboard/stream" --key "$key" --seconds 16 \
  --out "$work/stream.jsonl" 2>"$work/stream.err" &
stream_reader=$!
sleep 1
since=$(now_utc)
callers=()
for i in 1 2 3 4 5; do
  take_port
  caller "$i" 8000 &
  callers+=($!)
  sleep 1
done
# Two callers talk to agents; three wait: the wallboard lists them in order, with their positions.
check "the wallboard shows the three waiting in arrival order, both agents on calls" \
  answers "$key" GET "/v1/queues/$queue/wallboard" "" \
  '([.callers[] | select(.state == "waiting") | .position] == [1, 2, 3]) and
   ([.callers[] | select(.state == "waiting") | .joined_ms] | . == sort) and
   ([.agents[].state] == ["on_call", "on_call"]) and .answered == 2'
status=0
for pid in "${callers[@]}"; do wait "$pid" || status=1; done
check "every caller's call went through" test $status = 0
# Callers 1 and 2 went straight to an agent (who echoes their silence); the others waited, hearing
# the ringing tone (PCMA) until an agent took them.
for i in 3 4 5; do
  check "caller $i heard the queue's audio while it waited" holds '.payload_types["8"] >= 100' "$work/heard-$i.json"
done

# The records: each caller was bridged to an agent, in the order they arrived.
records() {
  api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$number" '$n|@uri')&limit=20" >"$work/calls.json"
  [[ $(jq '[.items[] | select(.complete and .started_at > "'"$since"'")] | length' "$work/calls.json") == 5 ]]
}
check "five call records" eventually 10 records
for id in $(jq -r '.items[].id' "$work/calls.json"); do api "$key" GET "/v1/calls/$id"; done |
  jq -s 'map({id, started_at, answered: ([.legs[] | select(.answered_at != null)] | first), visits: .queue_visits})
    | sort_by(.started_at)' >"$work/served.json"
served_in_order() {
  jq -e '[.[].answered.answered_at] | (. == sort) and all(. != null)' "$work/served.json" >/dev/null ||
    { jq -c '.[] | [.started_at, .answered.answered_at]' "$work/served.json"; return 1; }
}
check "callers were answered by agents in the order they arrived" served_in_order
check "linear strategy: agent 1 took callers 1, 3, 5 and agent 2 callers 2 and 4" \
  holds --arg a1 "${account[agent1]}" --arg a2 "${account[agent2]}" \
  '[.[].answered.account_id] == [$a1, $a2, $a1, $a2, $a1]' "$work/served.json"
check "each record shows its queue visit: answered by the agent who took it, after its wait" \
  holds --arg queue "$queue" 'all(.[]; .visits | length == 1 and .[0].queue_id == $queue
    and .[0].outcome == "answered" and .[0].offers == 1 and .[0].missed == 0)
    and ([.[] | .visits[0].account_id] == [.[].answered.account_id])
    and ([.[] | .visits[0].wait_seconds] | .[0] <= 1 and .[4] >= 1)' "$work/served.json"
queue_joined_hooks() {
  local id
  for id in $(jq -r '.[].id' "$work/served.json"); do
    hooks_of queue.caller_joined "$id" | jq -e --arg queue "$queue" '.data.queue_id == $queue' >/dev/null || return 1
  done
}
check "the CRM was sent queue.caller_joined for each of the five callers" eventually 10 queue_joined_hooks
# within_1s FIELD FILTER: the first stream event whose board matches FILTER came within 1 s of the
# first call's FIELD (started_at, or its agent leg's answered_at).
first_call_at() {
  jq -r --arg field "$1" 'first(.[] | if $field == "started_at" then .started_at else .answered.answered_at end)' \
    "$work/served.json"
}
within_1s() {
  python3 - "$work/stream.jsonl" "$(first_call_at "$1")" "$2" <<'PY'
import datetime, json, sys
events = [json.loads(line) for line in open(sys.argv[1])]
at = datetime.datetime.fromisoformat(sys.argv[2].replace("Z", "+00:00")).timestamp()
test = {"joined": lambda b: len(b["callers"]) > 0 or b["answered"] > 0,
        "answered": lambda b: b["answered"] > 0}[sys.argv[3]]
seen = [e["at"] for e in events if e["event"] == "wallboard" and test(e["data"])]
delay = seen[0] - at if seen else None
print(f"  {len(events)} events; first {sys.argv[3]} {delay if delay is None else round(delay, 3)} s after the call's")
sys.exit(0 if delay is not None and -0.2 <= delay <= 1.0 else 1)
PY
}
wait "$stream_reader"
check "the stream's first event is the empty board" holds -s '.[0].event == "wallboard" and (.[0].data.callers | length) == 0' \
  "$work/stream.jsonl"
check "the stream shows the first caller joining within 1 s" within_1s started_at joined
check "the stream shows the first agent answering within 1 s" within_1s answered answered
check "another tenant cannot open the stream (404)" \
  test "$(status_of "$other_key" "/v1/queues/$queue/wallboard/stream")" = 404
check "the wallboard counts five answered" answers "$key" GET "/v1/queues/$queue/wallboard" "" \
  '.answered == 5 and .abandoned == 0 and (.callers | length) == 0'
check "both agents finished" finished "${pids[-1]}"

# --- An agent who does not answer is skipped, and paused after its misses -----------------------------------
# Agent 1's phone rings without answering; the offer times out after 5 s, agent 1 is paused (one miss
# is the queue's limit) and the caller, back at the head of the line, goes to agent 2, who talks for a
# second and hangs up, then wraps up for 4 s.
check "the queue pauses an agent after one miss and rings for 5 s" answers "$key" PUT "/v1/queues/$queue" \
  "{\"name\":\"Sales\",\"strategy\":\"linear\",\"members\":$members,\"ring_timeout_seconds\":5,
    \"pause_after_misses\":1,\"wrapup_seconds\":4}" '.pause_after_misses == 1 and .wrapup_seconds == 4'
sleep 2.5  # the queue service's settings cache
declare -A phone_pid
phone_once() {  # phone_once NAME SCENARIO [SIPP ARGS...]: the agent's phone takes one call by SCENARIO
  local name=$1 file=$2
  shift 2
  # The phone's port is free once its previous call's sipp is gone.
  [[ -n ${phone_pid[$name]:-} ]] && wait "${phone_pid[$name]}"
  sipp_register register.xml "$name" "${password[$name]}" "$domain" 300 u1 "${phone_port[$name]}" || return 1
  (cd "$work" && exec timeout 60 sipp -sf "$file" -m 1 -i 127.0.0.1 -p "${phone_port[$name]}" \
    -mp $((phone_port[$name] + 2)) -timeout 50 -trace_err -error_file "$work/$name-once.err" "$@" \
    >"$work/$name-once.out" 2>&1) &
  phone_pid[$name]=$!
  pids+=($!)
}
talks_a_second=$(scenario uas_answer.xml callee-bye)
sed -i 's#\[from_check\]#.*#' "$talks_a_second"
check "agent 1's phone rings and never answers" phone_once agent1 "$(scenario uas_ring.xml)"
check "agent 2's phone answers" phone_once agent2 "$talks_a_second" -d 1000
skipped=$(scenario uac_ivr.xml wait-bye)
sed -i "s#\[wait\]#100#; s#<pause milliseconds=\"\[after\]\"/>##" "$skipped"
take_port
since=$(now_utc)
check "the caller is answered by agent 2 after agent 1's 5 s of ringing" \
  carrier_call "$number" "$skipped" -key listen_port $((port + 5))
check "agent 2 wraps up after the call" answers "$key" GET "/v1/queues/$queue/wallboard" "" \
  '.agents[1].state == "wrap_up" and .agents[1].calls_taken >= 3'
check "its record: agent 1's leg was not answered, agent 2's was" expect "$(newest_record "$since")" \
  '([.legs[] | select(.account_id == "'"${account[agent1]}"'") | .answered_at] == [null]) and
   ([.legs[] | select(.answered_at != null) | .account_id] == ["'"${account[agent2]}"'"])'
check "and its queue visit: two offers, one missed by agent 1, answered by agent 2 after about 5 s" \
  expect "$(newest_record "$since")" '(.queue_visits | length == 1) and
   (.queue_visits[0] | .outcome == "answered" and .offers == 2 and .missed == 1 and .account_id == "'"${account[agent2]}"'"
     and .wait_seconds >= 4 and .wait_seconds <= 7)
   and ([.route[] | select(.type == "queue" and .outcome == "missed") | .account_id] == ["'"${account[agent1]}"'"])
   and all(.route[]; .at != null)'
check "agent 1 is paused for its missed offer" answers "$key" GET /v1/agents "" \
  '.items[] | select(.account_id == "'"${account[agent1]}"'") | .state == "paused" and .reason == "missed offers" and .misses == 1'
check "agent 1 is available again" answers "$key" PUT "/v1/agents/${account[agent1]}/state" '{"state":"available"}' \
  '.state == "available" and .misses == 0'

# --- An agent on another call is not offered a caller -------------------------------------------------------
# Agent 1 takes a direct call to its extension (another number rings 201) for 6 s; a caller arriving
# meanwhile goes to agent 2, though the linear strategy puts agent 1 first.
direct=$(new_number "$(ring '"201"' 20)")
check "agent 1's phone answers a direct call" phone_once agent1 "$answers_file"
check "agent 2's phone answers" phone_once agent2 "$talks_a_second" -d 1000
direct_call=$(scenario uac_call.xml caller-bye)
sed -i "s#\[audio\]#$work/silence.al#" "$direct_call"
take_port
CALL_PORT=$port carrier_call "$direct" "$direct_call" -d 6000 &
direct_pid=$!
check "the wallboard shows agent 1 on a call the queue did not give it" eventually 5 answers "$key" \
  GET "/v1/queues/$queue/wallboard" "" '.agents[0].state == "on_call" and .agents[0].call_id == ""'
take_port
since=$(now_utc)
check "a caller arriving meanwhile is answered by agent 2" carrier_call "$number" "$skipped" -key listen_port $((port + 5))
check "(its record: agent 2 took the only offer)" expect "$(newest_record "$since")" \
  '.queue_visits[0] | .outcome == "answered" and .offers == 1 and .account_id == "'"${account[agent2]}"'"'
check "the direct call went through" wait "$direct_pid"
check "agent 1 is available once its call ended" eventually 5 answers "$key" GET "/v1/queues/$queue/wallboard" "" \
  '.agents[0].state == "available"'

# --- A caller who hangs up while waiting is abandoned ------------------------------------------------------
check "both agents pause" answers "$key" PUT "/v1/agents/${account[agent1]}/state" '{"state":"paused","reason":"lunch"}' \
  '.state == "paused" and .reason == "lunch"'
api "$key" PUT "/v1/agents/${account[agent2]}/state" '{"state":"paused"}' >/dev/null
take_port
since=$(now_utc)
check "a caller waits 3 s with both agents paused and hangs up" caller 6 3000
abandoned_record() { newest_record "$since" >"$work/abandoned.json" && [[ -s $work/abandoned.json ]]; }
check "its record shows the queue abandoned after about 3 s" eventually 5 abandoned_record
check "(the visit)" holds --arg queue "$queue" '.queue_visits == [.queue_visits[0]] and (.queue_visits[0] |
  .queue_id == $queue and .outcome == "abandoned" and .wait_seconds >= 2 and .wait_seconds <= 4 and .account_id == "")' \
  "$work/abandoned.json"
abandoned_hook() {
  hooks_of queue.caller_abandoned "$(jq -r .id "$work/abandoned.json")" | jq -se --arg queue "$queue" \
    'length == 1 and (.[0].data | .queue_id == $queue and .wait_seconds >= 2 and .wait_seconds <= 4
     and .call.queue_visits[0].outcome == "abandoned")' >/dev/null
}
check "the CRM was sent queue.caller_abandoned with the queue, the wait and the record" eventually 10 abandoned_hook
check "callers answered by agents raised no queue.caller_abandoned" \
  test -z "$(for id in $(jq -r '.[].id' "$work/served.json"); do hooks_of queue.caller_abandoned "$id"; done)"
check "the wallboard counts one abandoned, after its 3 s wait" eventually 5 answers "$key" GET "/v1/queues/$queue/wallboard" "" \
  '.abandoned == 1 and .average_abandoned_wait_seconds >= 2.8 and .average_abandoned_wait_seconds <= 4
   and (.callers | length) == 0 and ([.agents[].state] == ["paused", "paused"])'

# --- The maximum wait sends the caller to the overflow node ---------------------------------------------------
check "the queue's maximum wait becomes 10 s" answers "$key" PUT "/v1/queues/$queue" "{\"name\":\"Sales\",
  \"strategy\":\"linear\",\"members\":$members,\"max_wait_seconds\":10}" '.max_wait_seconds == 10'
sleep 2.5  # the queue service's settings cache
overflow=$(scenario uac_ivr.xml wait-bye)
sed -i "s#\[wait\]#100#; s#<pause milliseconds=\"\[after\]\"/>##" "$overflow"
take_port
started=$SECONDS
since=$(now_utc)
check "a caller nobody takes is hung up on by the overflow node" carrier_call "$number" "$overflow" -key listen_port $((port + 5))
check "after the 10 s maximum wait" test $((SECONDS - started)) -ge 9 -a $((SECONDS - started)) -le 16
record_overflow() { newest_record "$since"; }
check "its record shows the queue's overflow and the hangup node" expect "$(record_overflow)" \
  '([.route[] | .type + " " + .outcome] | (index("queue overflow") != null) and (index("hangup 486") != null))
   and (.queue_visits | length == 1) and (.queue_visits[0] | .outcome == "overflowed"
   and .overflow_reason == "max_wait" and .wait_seconds >= 9 and .wait_seconds <= 12)'
check "the wallboard counts one overflowed" answers "$key" GET "/v1/queues/$queue/wallboard" "" '.overflowed == 1'

# --- Position announcements ------------------------------------------------------------------------------
# Every 5 s each waiting caller hears its position and the estimated wait (the platform's spoken
# prompts); the call record's route says what was announced. Both agents are still paused.
check "the queue announces every 5 s" answers "$key" PUT "/v1/queues/$queue" \
  "{\"name\":\"Sales\",\"strategy\":\"linear\",\"members\":$members,\"announce_every_seconds\":5}" \
  '.announce_every_seconds == 5'
check "an announcement every second is refused naming the field" answers "$key" PUT "/v1/queues/$queue" \
  "{\"name\":\"Sales\",\"announce_every_seconds\":1}" '.error.field == "announce_every_seconds" or (.error.message | contains("announce_every_seconds"))'
sleep 2.5
since=$(now_utc)
callers=()
for i in 1 2; do
  take_port
  caller "a$i" 8000 &
  callers+=($!)
  sleep 1
done
for pid in "${callers[@]}"; do wait "$pid"; done
announced() {  # announced INDEX DETAIL: the INDEXth caller's record announced DETAIL (and nothing else)
  api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$number" '$n|@uri')&limit=10" |
    jq -r --arg after "$since" '[.items[] | select(.complete and .started_at > $after)] | sort_by(.started_at) | .['"$(($1 - 1))"'].id' \
    >"$work/announced.id"
  local record
  record=$(api "$key" GET "/v1/calls/$(cat "$work/announced.id")")
  expect "$record" '[.route[] | select(.type == "queue" and .outcome == "announced") | .detail] | length >= 1 and all(startswith("'"$2"'"))'
}
# With every agent paused nobody can say how long the wait is: the position alone is announced.
check "the first caller was told it is number 1" eventually 5 announced 1 "position 1"
check "the second caller was told it is number 2, and no wait" eventually 5 announced 2 "position 2"
check "no wait was promised" fails grep -q "wait" <<<"$(api "$key" GET "/v1/calls/$(cat "$work/announced.id")" | jq -c .route)"
check "the second caller heard the announcement and the music (RTP)" holds '.payload_types["8"] >= 250' "$work/heard-a2.json"
check "the queue counts its announcements" \
  test "$(metric queue 'tel_queue_caller_events_total{event="announced"}' | cut -d. -f1)" -ge 2

# --- Redis loses the queue's live state: it is rebuilt, the callers keep their order ----------------------
check "the maximum wait is lifted" answers "$key" PUT "/v1/queues/$queue" \
  "{\"name\":\"Sales\",\"strategy\":\"linear\",\"members\":$members}" '.max_wait_seconds == 0'
sleep 2.5
callers=()
for i in 1 2 3; do
  take_port
  (file=$(scenario uac_ivr.xml hang-up) && sed -i "s#\[wait\]#12000#; s#<pause milliseconds=\"\[after\]\"/>##" "$file" &&
    CALL_PORT=$port carrier_call "$number" "$file" -key listen_port $((port + 5))) &
  callers+=($!)
  sleep 0.5
done
sleep 1
line() { api "$key" GET "/v1/queues/$queue/wallboard" | jq -c '[.callers[] | [.call_id, .position]]'; }
before=$(line)
check "three callers wait in line" test "$(jq length <<<"$before")" = 3
redis-cli -u "$TEL_REDIS_URL" --scan --pattern "tq:{$tenant}:*" | xargs -r redis-cli -u "$TEL_REDIS_URL" DEL >/dev/null
check "the line is gone from Redis" test "$(line)" = "[]"
same_line() { [[ $(line) == "$before" ]]; }
check "within 3 s the line is back, in the same order" eventually 3 same_line || echo "  before $before, now $(line)"
check "and the agents' pauses are back from Postgres" answers "$key" GET "/v1/queues/$queue/wallboard" "" \
  '[.agents[].state] == ["paused", "paused"] and .agents[0].reason == "lunch"'
for pid in "${callers[@]}"; do wait "$pid"; done

# --- Two queue instances; one is killed in a burst ---------------------------------------------------------
# The second instance attaches to the same sip-edge: calls handed to the queue alternate between them.
env TEL_QUEUE_GRPC_LISTEN=127.0.0.1:0 TEL_QUEUE_ADMIN_LISTEN=127.0.0.1:0 TEL_QUEUE_DATABASE_URL="$TEL_PG_URL" \
  TEL_QUEUE_REDIS_URL="$TEL_REDIS_URL" TEL_QUEUE_CALL_CONTROL_ADDRESS="$TEL_CALL_CONTROL_ADDR" \
  TEL_QUEUE_KAFKA_BROKERS="$TEL_KAFKA_BROKERS" TEL_QUEUE_INSTANCE_ID="queue-two-$run" "$build/services/queue/queue" >"$work/queue2.log" 2>&1 &
queue2=$!
pids+=("$queue2")
check "a second queue instance attaches to sip-edge" eventually 10 grep -q '"msg":"attached to sip-edge"' "$work/queue2.log"
check "the queue rings the agent idle longest, without a maximum wait" answers "$key" PUT "/v1/queues/$queue" \
  "{\"name\":\"Sales\",\"strategy\":\"longest_idle\",\"members\":$members,\"ring_timeout_seconds\":10}" '.strategy == "longest_idle"'
for agent in agent1 agent2; do
  api "$key" PUT "/v1/agents/${account[$agent]}/state" '{"state":"available"}' >/dev/null
done
sleep 2.5  # the settings cache of both instances
# Each agent talks for a second and hangs up (the caller then gets the BYE); eight callers wait for it.
answers_file=$(scenario uas_answer.xml callee-bye)
sed -i 's#\[from_check\]#.*#' "$answers_file"
agent_phone() {  # agent_phone NAME CALLS (talks 1 s per call)
  local name=$1
  sipp_register register.xml "$name" "${password[$name]}" "$domain" 300 u1 "${phone_port[$name]}" || return 1
  (cd "$work" && exec timeout 90 sipp -sf "$answers_file" -m "$2" -d 1000 -i 127.0.0.1 -p "${phone_port[$name]}" \
    -mp $((phone_port[$name] + 2)) -timeout 80 -trace_err -error_file "$work/$name-burst.err" \
    >"$work/$name-burst.out" 2>&1) &
  agent_pids+=($!)
}
agent_pids=()
check "agent 1's phone registers again" agent_phone agent1 4
check "agent 2's phone registers again" agent_phone agent2 4
burst_caller=$(scenario uac_ivr.xml wait-bye)
sed -i "s#\[wait\]#100#; s#<pause milliseconds=\"\[after\]\"/>##" "$burst_caller"
since=$(now_utc)
callers=()
for i in 1 2 3 4 5 6 7 8; do
  take_port
  CALL_PORT=$port carrier_call "$number" "$burst_caller" -key listen_port $((port + 5)) &
  callers+=($!)
  sleep 0.3
  if ((i == 4)); then
    kill -KILL "$queue2"
    wait "$queue2" 2>/dev/null
  fi
done
status=0
for pid in "${callers[@]}"; do wait "$pid" || status=1; done
check "all eight callers were answered by an agent and hung up on when it was done" test $status = 0
for pid in "${agent_pids[@]}"; do check "an agent's phone took its four calls" finished "$pid"; done
check "the surviving instance took over the lost one's callers" \
  test "$(metric queue 'tel_queue_caller_events_total{event="rejoined"}' | cut -d. -f1)" -ge 1
burst_records() {
  api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$number" '$n|@uri')&limit=50" |
    jq -r --arg after "$since" '[.items[] | select(.complete and .started_at > $after) | .id] | if length == 8 then .[] else empty end' \
    >"$work/burst.ids"
  [[ -s $work/burst.ids ]]
}
check "eight call records" eventually 10 burst_records
while read -r id; do api "$key" GET "/v1/calls/$id"; done <"$work/burst.ids" | jq -s . >"$work/burst.json"
check "each caller was answered by exactly one agent" \
  holds 'all(.[]; [.legs[] | select(.answered_at != null)] | length == 1)' "$work/burst.json"
# Each agent's offers, from the queue's own route steps (timed by their events; a record's legs
# that did not answer all end with their call): an offer lasts until that agent's miss, another
# agent's answer, or the call's end when that agent answered it. No two of an agent's overlap.
no_double_offer() {
  jq -e 'def t: (.[0:19] + "Z" | fromdateiso8601) + (if .[19:20] == "." then ("0" + (.[19:] | rtrimstr("Z")) | tonumber) else 0 end);
[.[] | . as $call | [.route[] | select(.type == "queue")] as $steps
  | range(0; $steps | length) as $i | $steps[$i] | select(.outcome == "offered")
  | .at as $from | (.detail | capture("agents (?<a>.*)$").a | split(",")[]) as $agent
  | (first($steps[$i + 1:][] | select((.outcome == "missed" and .account_id == $agent)
        or .outcome == "answered" or .outcome == "overflow")) // null) as $stop
  | {agent: $agent, call: $call.id, from: ($from | t),
     to: (if $stop == null or ($stop.outcome == "answered" and $stop.account_id == $agent)
          then $call.ended_at else $stop.at end | t)}]
| group_by(.agent) | all(.[]; sort_by(.from) as $o | [range(1; $o | length) | $o[.].from >= $o[. - 1].to] | all)' "$work/burst.json" >/dev/null ||
    { jq -c '.[] | .id[0:8] as $c | .route[] | select(.type == "queue") | [$c, .outcome, .at, .account_id, .detail]' \
        "$work/burst.json"; return 1; }
}
check "no agent was offered two callers at once" no_double_offer

exit $failed
