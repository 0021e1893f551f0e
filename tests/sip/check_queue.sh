#!/usr/bin/env bash
# The call queue with real calls: the dial plan sends a number's callers to a queue; the queue
# service answers them, plays them a ringing tone while they wait (real RTP, counted by a listener
# per caller), and rings its two agents (sipp phones registered as the tenant's accounts) by the
# queue's strategy. Five callers arriving one after another are answered strictly in arrival order,
# the linear strategy giving each to the first free agent in the list. The wallboard shows the line
# while they wait; a caller who hangs up waiting is counted abandoned; a caller finding every agent
# paused is sent to the plan's overflow node after the queue's maximum wait. Bad settings are refused
# naming the field, and another tenant can neither see the queue nor set this tenant's agents.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}"
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
answers() {  # answers KEY METHOD PATH BODY JQ: the API's answer satisfies JQ (shown when not)
  local body
  body=$(api "$1" "$2" "$3" "$4")
  jq -e "$5" >/dev/null <<<"$body" 2>&1 || { echo "  answer: $body"; return 1; }
}
refused() {  # refused BODY FIELD: POST /v1/queues answers 400 naming FIELD
  local body
  body=$(curl -s -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$1" "$TEL_API_URL/v1/queues")
  jq -e --arg field "$2" '.error.field == $field or (.error.message | contains($field))' >/dev/null <<<"$body" ||
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
  sleep 0.2
  CALL_PORT=$port carrier_call "$number" "$file" -key listen_port "$listen"
  wait
}
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
  check "caller $i heard the queue's audio while it waited" jq -e '.payload_types["8"] >= 100' "$work/heard-$i.json"
done

# The records: each caller was bridged to an agent, in the order they arrived.
records() {
  api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$number" '$n|@uri')&limit=20" >"$work/calls.json"
  [[ $(jq '[.items[] | select(.complete and .started_at > "'"$since"'")] | length' "$work/calls.json") == 5 ]]
}
check "five call records" eventually 10 records
for id in $(jq -r '.items[].id' "$work/calls.json"); do api "$key" GET "/v1/calls/$id"; done |
  jq -s 'map({started_at, answered: ([.legs[] | select(.answered_at != null)] | first)}) | sort_by(.started_at)' >"$work/served.json"
served_in_order() {
  jq -e '[.[].answered.answered_at] | (. == sort) and all(. != null)' "$work/served.json" >/dev/null ||
    { jq -c '.[] | [.started_at, .answered.answered_at]' "$work/served.json"; return 1; }
}
check "callers were answered by agents in the order they arrived" served_in_order
check "linear strategy: agent 1 took callers 1, 3, 5 and agent 2 callers 2 and 4" \
  jq -e --arg a1 "${account[agent1]}" --arg a2 "${account[agent2]}" \
  '[.[].answered.account_id] == [$a1, $a2, $a1, $a2, $a1]' "$work/served.json"
check "the wallboard counts five answered" answers "$key" GET "/v1/queues/$queue/wallboard" "" \
  '.answered == 5 and .abandoned == 0 and (.callers | length) == 0'
check "both agents finished" finished "${pids[-1]}"

# --- A caller who hangs up while waiting is abandoned ------------------------------------------------------
check "both agents pause" answers "$key" PUT "/v1/agents/${account[agent1]}/state" '{"state":"paused","reason":"lunch"}' \
  '.state == "paused" and .reason == "lunch"'
api "$key" PUT "/v1/agents/${account[agent2]}/state" '{"state":"paused"}' >/dev/null
take_port
check "a caller waits 3 s with both agents paused and hangs up" caller 6 3000
check "the wallboard counts one abandoned" eventually 5 answers "$key" GET "/v1/queues/$queue/wallboard" "" \
  '.abandoned == 1 and (.callers | length) == 0 and ([.agents[].state] == ["paused", "paused"])'

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
  '[.route[] | .type + " " + .outcome] | (index("queue overflow") != null) and (index("hangup 486") != null)'
check "the wallboard counts one overflowed" answers "$key" GET "/v1/queues/$queue/wallboard" "" '.overflowed == 1'

exit $failed
