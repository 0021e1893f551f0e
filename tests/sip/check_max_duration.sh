#!/usr/bin/env bash
# The maximum call duration (calls.max_duration): an answered call is ended by sip-edge, a BYE to
# each side, once it has lasted that long, and its record says why. A sip-edge of its own (with
# max_duration 5s) and a routing attached to it run beside the stack, sharing its accounts,
# media-relay, Redis, Kafka and Postgres; sipp plays the carrier and the phone.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: check_max_duration.sh <build dir>}
: "${TEL_REDIS_URL:?run through ./tel test}" "${TEL_KAFKA_BROKERS:?}" "${TEL_PG_URL:?}" "${TEL_MEDIA_RELAY_ADDR:?}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=calls_lib.sh
source "$here/calls_lib.sh"
run=$(random_hex 6)
domain="maxdur-$run.sip.test"
pids=()
tenant=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [[ -n $tenant ]] && admin DELETE "/v1/tenants/$tenant" >/dev/null
  if ((failed)); then for log in "$work"/*.log; do echo "--- $log"; tail -5 "$log"; done; fi
  rm -rf "$work"
}
trap cleanup EXIT


take_port
edge_sip=$port
env TEL_SIP_EDGE_SIP_LISTEN=127.0.0.1:$edge_sip TEL_SIP_EDGE_ADMIN_LISTEN=127.0.0.1:$((edge_sip + 1)) \
  TEL_SIP_EDGE_CONTROL_LISTEN=127.0.0.1:$((edge_sip + 2)) TEL_SIP_EDGE_MEDIA_RELAY_ADDRESS="$TEL_MEDIA_RELAY_ADDR" \
  TEL_SIP_EDGE_ACCOUNTS_ADDRESS="$TEL_ACCOUNTS_ADDR" TEL_SIP_EDGE_REDIS_URL="$TEL_REDIS_URL" \
  TEL_SIP_EDGE_KAFKA_BROKERS="$TEL_KAFKA_BROKERS" TEL_SIP_EDGE_PROTECTION_ALLOW=127.0.0.1 \
  TEL_SIP_EDGE_CALLS_MAX_DURATION=5s "$build/services/sip-edge/sip-edge" >>"$work/sip-edge.log" 2>&1 &
pids+=($!)
env TEL_ROUTING_CALL_CONTROL_ADDRESS=127.0.0.1:$((edge_sip + 2)) TEL_ROUTING_ACCOUNTS_ADDRESS="$TEL_ACCOUNTS_ADDR" \
  TEL_ROUTING_GRPC_LISTEN=127.0.0.1:0 TEL_ROUTING_ADMIN_LISTEN=127.0.0.1:0 TEL_ROUTING_DATABASE_URL="$TEL_PG_URL" \
  TEL_ROUTING_PROMPTS_DIR="$TEL_PROMPTS_DIR" \
  "$build/services/routing/routing" >>"$work/routing.log" 2>&1 &
pids+=($!)
attached() { grep -qs '"msg":"attached to sip-edge"' "$work/routing.log"; }
wait_until() {  # wait_until SECONDS COMMAND...
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do ((SECONDS < deadline)) || return 1; sleep 0.2; done
}
check "a sip-edge with calls.max_duration 5s and its routing start" wait_until 20 attached
# The peers below talk to this sip-edge.
export TEL_SIP_ADDR=127.0.0.1:$edge_sip

tenant=$(admin POST /v1/tenants "{\"name\":\"max duration $run\",\"sip_domain\":\"$domain\"}" | jq -r .id)
key=$(admin POST "/v1/tenants/$tenant/api-keys" '{"name":"max duration test"}' | jq -r .secret)
declare -A password phone_port
password[alice]="Secret-101-$run"
api "$key" POST /v1/sip-accounts "{\"username\":\"alice\",\"extension\":\"101\",\"password\":\"${password[alice]}\"}" >/dev/null
take_port
phone_port[alice]=$port
number=$(new_number "$(ring '"101"')")
api "$key" POST /v1/carriers '{"name":"test carrier","addresses":["127.0.0.1"]}' >/dev/null

waits_for_bye=$(scenario uac_call.xml callee-bye)
sed -i "s#\[audio\]#$work/silence.al#" "$waits_for_bye"
answers_until_bye=$(scenario uas_answer.xml caller-bye)
sed -i 's/\[from_check\]/./' "$answers_until_bye"

device alice "$answers_until_bye"
started=$SECONDS
check "the call is answered and both sides get a BYE from sip-edge" carrier_call "$number" "$waits_for_bye"
check "the phone got its BYE too" finished "$device_pid"
check "after about 5 s of talk" test $((SECONDS - started)) -ge 5 -a $((SECONDS - started)) -le 12
check "record: answered, ended by the system for its duration, 5 s of talk" expect "$(record "$number")" \
  '.disposition == "answered" and .hangup_side == "system" and .cause == "maximum call duration reached"
   and .talk_seconds >= 4 and .talk_seconds <= 7'

((failed)) && show_sipp_errors
exit $failed
