#!/usr/bin/env bash
# Scale-out, failover and graceful drain on one machine, beside the running stack (accounts, Redis,
# Kafka, cdr-ingest and the gateway are shared): two media-relays, two sip-edges that use both, a
# routing per sip-edge, and Kamailio's dispatcher in front of the sip-edges as the SIP load
# balancer. sipp calls from the carrier's address (127.0.0.2) through Kamailio (127.0.0.1) to a sipp
# UAS. Checks, in order:
#   1. calls spread over both sip-edges and both media-relays, each admitted by the carrier's own
#      address as the load balancer reports it (and a forged report from elsewhere is ignored);
#   1b. a phone behind NAT registers through the load balancer (which adds a Path) and its call
#      comes back to it through the load balancer;
#   2. a media-relay drains on SIGTERM: new calls go to the other, its call in progress goes on to
#      its normal end, then it exits 0;
#   3. a media-relay is lost (SIGKILL): sip-edge ends its calls (BYE, the record says why), new
#      calls go to the survivor;
#   4. a sip-edge drains on SIGTERM: OPTIONS and new INVITEs get 503, Kamailio sends new calls to
#      the other, the call in progress goes on to its end, then it exits 0;
#   5. a sip-edge is lost (SIGKILL): new calls go to the survivor, which also closes the lost
#      instance's call (record complete, media session and number channel freed), and Kamailio's
#      dialog keep-alive finds the call's sip-edge gone and sends the caller a BYE.
# Fixed ports 20000-20999 (below the ephemeral range; no other test uses them).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: check_scale_out.sh <build dir>}
: "${TEL_API_URL:?run through ./tel test}" "${TEL_ADMIN_KEY:?}" "${TEL_REDIS_URL:?}" "${TEL_KAFKA_BROKERS:?}"
work=$(mktemp -d)
failed=0
declare -A pids=()
tenant=""
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  [[ -f $work/kamailio.pid ]] && kill "$(cat "$work/kamailio.pid")" 2>/dev/null
  pkill -f "sipp .* -p 2008[0-9]" 2>/dev/null
  [[ -n $tenant ]] && curl -s -X DELETE -H "Authorization: Bearer $TEL_ADMIN_KEY" "$TEL_API_URL/v1/tenants/$tenant" >/dev/null
  if ((failed)); then
    for log in "$work"/*.log; do echo "--- $log"; grep -v "tport\|reported by\|failover support" "$log" | tail -15; done
  fi
  [[ -n ${KEEP_WORK:-} ]] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failed=1; fi
}
api() {  # api KEY METHOD PATH [JSON]
  curl -sS -X "$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' ${4:+--data "$4"} "$TEL_API_URL$3"
}
metric() {  # metric ADMIN_PORT NAME: the sum of the series of NAME (0 when absent)
  curl -s "http://127.0.0.1:$1/metrics" | awk -v name="$2" '$1 == name || index($1, name "{") == 1 {sum += $2} END {print sum + 0}'
}
wait_for() {  # wait_for SECONDS COMMAND...: polls every 0.2 s
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do ((SECONDS < deadline)) || return 1; sleep 0.2; done
}
exited_cleanly() {  # exited_cleanly NAME: the process has exited with status 0
  local pid=${pids[$1]}
  kill -0 "$pid" 2>/dev/null && return 1
  wait "$pid"
  local status=$?
  unset "pids[$1]"
  [[ $status == 0 ]]
}
serving() { grep -q "\"msg\":\"$2 serving\"" "$work/$1.log"; }

# --- The instances ----------------------------------------------------------------------------------
relay_grpc=(20120 20130)
relay_admin=(20121 20131)
relay_rtp=(20200 20300)
edge_sip=(20060 20070)
edge_admin=(20061 20071)
edge_control=(20062 20072)
relays="127.0.0.1:${relay_grpc[0]},127.0.0.1:${relay_grpc[1]}"
kamailio_port=20050
start_relay() {  # start_relay INDEX
  local i=$1
  env TEL_MEDIA_RELAY_GRPC_LISTEN=127.0.0.1:${relay_grpc[i]} TEL_MEDIA_RELAY_ADMIN_LISTEN=127.0.0.1:${relay_admin[i]} \
    TEL_MEDIA_RELAY_CONTROL_LISTEN=127.0.0.1:0 \
    TEL_MEDIA_RELAY_RTP_PORT_MIN=${relay_rtp[i]} TEL_MEDIA_RELAY_RTP_PORT_MAX=$((relay_rtp[i] + 99)) \
    TEL_MEDIA_RELAY_DRAIN_GRACE_PERIOD=20s \
    "$build/services/media-relay/media-relay" >>"$work/relay$i.log" 2>&1 &
  pids[relay$i]=$!
  wait_for 10 serving "relay$i" media-relay
}
# Digest nonces made by one sip-edge are checked by another: they share the secret.
nonce_secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
start_edge() {  # start_edge INDEX
  local i=$1
  env TEL_SIP_EDGE_SIP_LISTEN=127.0.0.1:${edge_sip[i]} TEL_SIP_EDGE_ADMIN_LISTEN=127.0.0.1:${edge_admin[i]} \
    TEL_SIP_EDGE_CONTROL_LISTEN=127.0.0.1:${edge_control[i]} TEL_SIP_EDGE_MEDIA_RELAY_ADDRESS="$relays" \
    TEL_SIP_EDGE_REDIS_URL="$TEL_REDIS_URL" TEL_SIP_EDGE_KAFKA_BROKERS="$TEL_KAFKA_BROKERS" \
    TEL_SIP_EDGE_SIP_TRUSTED_PROXIES=127.0.0.1 TEL_SIP_EDGE_PROTECTION_ALLOW=127.0.0.1,127.0.0.2 \
    TEL_SIP_EDGE_DRAIN_GRACE_PERIOD=20s TEL_SIP_EDGE_AUTH_NONCE_SECRET="$nonce_secret" \
    TEL_SIP_EDGE_CALLS_OUTBOUND_PROXY="sip:127.0.0.1:$kamailio_port" TEL_SIP_EDGE_CLUSTER_LOST_AFTER=3s \
    "$build/services/sip-edge/sip-edge" >>"$work/edge$i.log" 2>&1 &
  pids[edge$i]=$!
  wait_for 10 serving "edge$i" sip-edge || return 1
  env TEL_ROUTING_ADMIN_LISTEN=127.0.0.1:0 TEL_ROUTING_GRPC_LISTEN=127.0.0.1:0 \
    TEL_ROUTING_CALL_CONTROL_ADDRESS=127.0.0.1:${edge_control[i]} TEL_ROUTING_DATABASE_URL="$TEL_PG_URL" \
    TEL_ROUTING_PROMPTS_DIR="$TEL_PROMPTS_DIR" \
    "$build/services/routing/routing" >>"$work/routing$i.log" 2>&1 &
  pids[routing$i]=$!
  wait_for 10 grep -q '"msg":"attached to sip-edge"' "$work/routing$i.log"
}
for i in 0 1; do check "media-relay $i starts" start_relay $i; done
for i in 0 1; do check "sip-edge $i and its routing start" start_edge $i; done

# --- Kamailio's dispatcher in front of the sip-edges ------------------------------------------------
modules=$(dirname "$(find /usr/lib -name dispatcher.so -path '*kamailio*' | head -1)")
printf '1 sip:127.0.0.1:%s\n1 sip:127.0.0.1:%s\n' "${edge_sip[0]}" "${edge_sip[1]}" >"$work/dispatcher.list"
# The chart's load balancer configuration (deploy/sip-lb), probing every second.
kamailio -f "$here/../../deploy/sip-lb/kamailio.cfg" -l "udp:127.0.0.1:$kamailio_port" \
  -A "DS_LIST=\"$work/dispatcher.list\"" -A DS_PROBE_INTERVAL=1 -A DS_DNS_INTERVAL=60 -A KA_INTERVAL=30 \
  -A "MODULES=\"$modules\"" -P "$work/kamailio.pid" -m 64 -M 8 -w "$work" -E >"$work/kamailio.log" 2>&1 ||
  { echo "FAIL: kamailio did not start"; cat "$work/kamailio.log"; exit 1; }

# --- A tenant whose number is routed to the UAS ---------------------------------------------------
uas_port=20080
sipp -sf "$here/uas_carrier.xml" -i 127.0.0.1 -p "$uas_port" -mp 20600 -nostdin -bg >/dev/null 2>&1
tenant=$(api "$TEL_ADMIN_KEY" POST /v1/tenants "{\"name\":\"scale-out $$\",\"sip_domain\":\"scale-$$.sip.test\"}" | jq -r .id)
key=$(api "$TEL_ADMIN_KEY" POST "/v1/tenants/$tenant/api-keys" '{"name":"scale-out"}' | jq -r .secret)
number="+1556$(printf '%07d' $(((RANDOM * 32768 + RANDOM) % 10000000)))"
# The carrier's own address, not the load balancer's: sip-edge must see through Kamailio.
carrier_ip=127.0.0.2
api "$key" POST /v1/carriers "{\"name\":\"carrier\",\"addresses\":[\"$carrier_ip\"]}" >/dev/null
api "$key" POST /v1/numbers "{\"e164\":\"$number\",\"channels\":100,\"route\":{\"kind\":\"external\",\"external\":\"sip:uas@127.0.0.1:$uas_port\"}}" |
  jq -e .id >/dev/null || { echo "FAIL: cannot create the number"; exit 1; }

calls() {  # calls SCENARIO COUNT HOLD_MS [NAME]: sipp through Kamailio; true when every call succeeded
  local name=${4:-calls-$RANDOM}
  (cd "$work" && timeout 60 sipp -sf "$here/$1" -i "$carrier_ip" -p $((20081 + RANDOM % 8)) -mp 20700 -s "$number" \
    -r 10 -m "$2" -d "$3" -l 50 -recv_timeout 25000 -timeout 50 -nostdin -trace_err \
    -error_file "$work/$name.err" "127.0.0.1:$kamailio_port" >"$work/$name.out" 2>&1)
}
background_call() {  # background_call SCENARIO HOLD_MS NAME: one call; its sipp's pid in $call_pid
  local scenario=$1 limit=${CALL_LIMIT:-50}  # seconds the call may take
  [[ $scenario == /* ]] || scenario=$here/$scenario
  (cd "$work" && exec timeout $((limit + 10)) sipp -sf "$scenario" -i "$carrier_ip" -p "$3" -mp $((20800 + (${3} % 10) * 20)) -s "$number" \
    -m 1 -d "$2" -recv_timeout 25000 -timeout "$limit" -nostdin -trace_err -error_file "$work/$3.err" \
    "127.0.0.1:$kamailio_port" >"$work/$3.out" 2>&1) &
  call_pid=$!
}
holding() {  # holding ADMIN_PORT NAME: the instance has a call or session in progress
  (($(metric "$1" "$2") > 0))
}
index_holding() {  # index_holding PORTS_ARRAY NAME: the index of the instance that holds one
  local -n ports=$1
  local index
  for index in 0 1; do holding "${ports[index]}" "$2" && { echo "$index"; return; }; done
  echo -1
}
total() {  # total NAME ADMIN_PORT...: the metric summed over instances
  local name=$1 sum=0 port
  shift
  for port in "$@"; do sum=$((sum + $(metric "$port" "$name"))); done
  echo "$sum"
}
# Nothing in progress anywhere (the calls of the previous step are all torn down), so that the
# instance holding the next call can be told by its metrics.
idle() {
  [[ $(total tel_media_sessions "${relay_admin[@]}") == 0 && $(total tel_sip_calls_active "${edge_admin[@]}") == 0 ]]
}
# hold_one_call SCENARIO HOLD_MS SIPP_PORT ADMIN_PORTS_ARRAY GAUGE: with nothing else in progress,
# places one call in the background ($call_pid) and sets $holder to the index of the instance whose
# GAUGE counts it, $other to the other one.
hold_one_call() {
  local -n admin_ports=$4
  wait_for 5 idle
  background_call "$1" "$2" "$3"
  one_in_progress() { [[ $(total "$5" "${admin_ports[@]}") == 1 ]]; }
  check "a call is set up" wait_for 5 one_in_progress "$@"
  holder=$(index_holding "$4" "$5")
  other=$((1 - holder))
}
wait_for 5 test "$(metric "${edge_admin[0]}" tel_sip_media_relays_up)" = 2

# 1. Spread -----------------------------------------------------------------------------------------
check "20 calls through the load balancer all succeed" calls uac_held.xml 20 300 spread
for i in 0 1; do
  check "sip-edge $i took some of them" test "$(metric "${edge_admin[i]}" tel_sip_calls_total)" -ge 3
  check "media-relay $i relayed some of them" test "$(metric "${relay_admin[i]}" tel_media_sessions_ended_total)" -ge 3
done

# A client that is not a trusted proxy cannot claim another source: its X-Tel-Source is ignored and
# the call, sent straight to sip-edge from 127.0.0.3, is not the carrier's (403).
sed -e 's/"STATUS"/"403"/' -e '0,/Max-Forwards: 70/s//Max-Forwards: 70\n      X-Tel-Source: 127.0.0.2:5060/' \
  "$here/../sip/uac_refused.xml" >"$work/forged_source.xml"
forged_source_refused() {
  (cd "$work" && timeout 20 sipp -sf "$work/forged_source.xml" -i 127.0.0.3 -p 20089 -mp 20950 -s "$number" \
    -key sdp_media "m=audio 20950 RTP/AVP 0" -m 1 -timeout 15 -nostdin "127.0.0.1:${edge_sip[0]}" >"$work/forged.out" 2>&1)
}
check "a forged X-Tel-Source from a client that is not a trusted proxy is ignored (403)" forged_source_refused

# 1b. A phone registers through the load balancer from behind NAT ------------------------------------
phone_password="Phone-$RANDOM-$$-secret"
api "$key" POST /v1/sip-accounts "{\"username\":\"phone\",\"extension\":\"201\",\"password\":\"$phone_password\"}" >/dev/null
phone_number="+1557$(printf '%07d' $(((RANDOM * 32768 + RANDOM) % 10000000)))"
api "$key" POST /v1/numbers "{\"e164\":\"$phone_number\",\"channels\":2,\"route\":{\"kind\":\"extensions\",\"extensions\":[\"201\"]}}" >/dev/null
# The phone's Contact is a private address nobody can reach: only the Path leads back to it.
sed 's|Contact: <sip:\[service\]@\[local_ip\]:\[local_port\];transport=\[transport\]>|Contact: <sip:[service]@10.255.255.1:[local_port]>|' \
  "$here/../sip/register.xml" >"$work/register_behind_nat.xml"
register_through_lb() {
  (cd "$work" && timeout 20 sipp -sf "$work/register_behind_nat.xml" -m 1 -s phone -au phone -ap "$phone_password" \
    -key domain "scale-$$.sip.test" -key expires 300 -i 127.0.0.4 -p 20095 -timeout 15 -nostdin \
    "127.0.0.1:$kamailio_port" >"$work/register.out" 2>&1)
}
check "a phone behind NAT registers through the load balancer" register_through_lb
sed "s|LB_VIA|Via: SIP/2.0/UDP 127.0.0.1:$kamailio_port|" "$here/uas_phone_via_proxy.xml" >"$work/phone.xml"
(cd "$work" && exec timeout 30 sipp -sf "$work/phone.xml" -m 1 -i 127.0.0.4 -p 20095 -mp 20960 -timeout 25 -nostdin \
  -trace_err -error_file "$work/phone.err" >"$work/phone.out" 2>&1) &
phone_pid=$!
sleep 0.5
phone_call() {
  (cd "$work" && timeout 30 sipp -sf "$here/uac_held.xml" -i "$carrier_ip" -p 20096 -mp 20970 -s "$phone_number" \
    -m 1 -d 1000 -recv_timeout 20000 -timeout 25 -nostdin "127.0.0.1:$kamailio_port" >"$work/phone-call.out" 2>&1)
}
check "a call to it through the load balancer is answered" phone_call
check "...by the phone, reached through the load balancer (its Path), not at its Contact" wait "$phone_pid"

# 2. A media-relay drains ---------------------------------------------------------------------------
hold_one_call uac_held.xml 5000 20090 relay_admin tel_media_sessions
drained=$holder
kill -TERM "${pids[relay$drained]}"
check "the draining media-relay is no longer ready" wait_for 3 \
  bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${relay_admin[drained]}/readyz) == 503 ]]"
before=$(metric "${relay_admin[other]}" tel_media_sessions_ended_total)
check "new calls succeed while it drains" calls uac_held.xml 5 200 during-relay-drain
check "...on the other media-relay" test "$(metric "${relay_admin[other]}" tel_media_sessions_ended_total)" -ge $((before + 5))
check "the draining relay's call goes on to its normal end" wait "$call_pid"
check "then the drained media-relay exits 0" wait_for 5 exited_cleanly "relay$drained"
check "...with no session left" grep -q '"sessions_left":"0"' "$work/relay$drained.log"
check "the drained media-relay starts again" start_relay "$drained"

# 3. A media-relay is lost --------------------------------------------------------------------------
hold_one_call uac_ended_by_platform.xml 0 20091 relay_admin tel_media_sessions
lost=$holder
kill -KILL "${pids[relay$lost]}"
wait "${pids[relay$lost]}" 2>/dev/null
unset "pids[relay$lost]"
check "sip-edge ends the call whose relay was lost (the caller gets a BYE)" wait "$call_pid"
record_of_lost() {
  api "$key" GET "/v1/calls?limit=50" | jq -e '[.items[] | select(.complete and .hangup_side == "system"
    and .disposition == "answered" and (.cause | test("media relay lost")))] | length == 1' >/dev/null
}
check "its call record says the system ended it: media relay lost" wait_for 5 record_of_lost
check "new calls go to the surviving media-relay" calls uac_held.xml 5 200 after-relay-loss
check "the lost media-relay starts again" start_relay "$lost"

# 4. A sip-edge drains ------------------------------------------------------------------------------
hold_one_call uac_held.xml 5000 20092 edge_admin tel_sip_calls_active
drained=$holder
kill -TERM "${pids[edge$drained]}"
check "the draining sip-edge is no longer ready" wait_for 3 \
  bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${edge_admin[drained]}/readyz) == 503 ]]"
check "it answers OPTIONS with 503" \
  bash -c "[[ \$(python3 '$here/../sip/sip_probe.py' --target 127.0.0.1:${edge_sip[drained]} --method OPTIONS --wait 0.4) == 503 ]]"
check "and a new INVITE sent to it directly with 503" \
  bash -c "[[ \$(python3 '$here/../sip/sip_probe.py' --target 127.0.0.1:${edge_sip[drained]} --method INVITE --wait 0.4) == *503* ]]"
before=$(metric "${edge_admin[other]}" tel_sip_calls_total)
check "new calls through the load balancer succeed while it drains" calls uac_held.xml 5 200 during-edge-drain
check "...on the other sip-edge" test "$(metric "${edge_admin[other]}" tel_sip_calls_total)" -ge $((before + 5))
check "the draining sip-edge's call goes on to its normal end" wait "$call_pid"
check "then the drained sip-edge exits 0" wait_for 5 exited_cleanly "edge$drained"
check "...with no call left" grep -q '"calls_left":"0"' "$work/edge$drained.log"
kill "${pids[routing$drained]}" 2>/dev/null
unset "pids[routing$drained]"
check "the drained sip-edge starts again" start_edge "$drained"
check "the load balancer takes it back" wait_for 5 \
  bash -c "[[ \$(python3 '$here/../sip/sip_probe.py' --target 127.0.0.1:${edge_sip[drained]} --method OPTIONS --wait 0.4) == 200 ]]"
sleep 2  # a probe interval or two, so that Kamailio's dispatcher marks it active again

# 5. A sip-edge is lost -----------------------------------------------------------------------------
# Kamailio's first keep-alive goes out 30 s into the call, then the dialog has 10 s to live: the
# caller waits up to 75 s for its BYE.
sed 's/timeout="20000"/timeout="75000"/' "$here/uac_ended_by_platform.xml" >"$work/uac_ended_by_lb.xml"
CALL_LIMIT=90 hold_one_call "$work/uac_ended_by_lb.xml" 0 20093 edge_admin tel_sip_calls_active
lost=$holder
kill -KILL "${pids[edge$lost]}"
wait "${pids[edge$lost]}" 2>/dev/null
unset "pids[edge$lost]"
record_of_lost_edge() {
  api "$key" GET "/v1/calls?limit=50" | jq -e '[.items[] | select(.complete and .hangup_side == "system"
    and .disposition == "answered" and .cause == "sip-edge lost")] | length == 1' >/dev/null
}
check "a surviving sip-edge closes the lost one's call: its record is complete (sip-edge lost)" \
  wait_for 20 record_of_lost_edge
no_relay_session() { [[ $(total tel_media_sessions "${relay_admin[@]}") == 0 ]]; }
check "...its media session is deleted" wait_for 5 no_relay_session
number_id=$(api "$key" GET "/v1/numbers?limit=100" | jq -r --arg e "$number" '.items[] | select(.e164 == $e) | .id')
check "...and its number channel given back" \
  test "$(redis-cli -p "${TEL_REDIS_URL##*:}" ZCARD "tel:chan:$tenant:$number_id")" = 0
before=$(metric "${edge_admin[other]}" tel_sip_calls_total)
check "with one sip-edge lost, new calls through the load balancer all succeed" calls uac_held.xml 10 200 after-edge-loss
check "...on the survivor" test "$(metric "${edge_admin[other]}" tel_sip_calls_total)" -ge $((before + 10))
check "the load balancer ends the lost call's dialog: the caller gets a BYE" wait "$call_pid"

((failed)) && for f in "$work"/*.err; do [[ -s $f ]] && { echo "--- $f"; tail -8 "$f"; }; done
exit $failed
