#!/usr/bin/env bash
# Calls end to end with real SIP and RTP: sipp plays the tenant's carrier and the tenant's phones;
# the calls go through sip-edge (B2BUA), routing, media-relay, Kafka and cdr-ingest, and each one is
# checked in the call log API. Cases: answered with audio both ways, callee hangs up, hold/resume,
# busy, no answer, cancel, parallel ringing, internal call, outbound call through the carrier,
# unknown number, a caller that is not the carrier, the call over a number's channel limit, a wrong
# password, malformed SDP; then that nothing is left behind.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}" "${TEL_ADMIN_URLS:?}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=calls_lib.sh
source "$here/calls_lib.sh"
run=$(random_hex 6)
domain="calls-$run.sip.test"
sip_host=${TEL_SIP_ADDR%:*}
pids=()
tenant=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [[ -n $tenant ]] && admin DELETE "/v1/tenants/$tenant" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
[[ -n ${KEEP_WORK:-} ]] && trap - EXIT

# --- The tenant: accounts 101-103, a carrier on this machine, numbers created per case -------------
tenant=$(admin POST /v1/tenants "{\"name\":\"calls $run\",\"sip_domain\":\"$domain\"}" | jq -r .id)
key=$(admin POST "/v1/tenants/$tenant/api-keys" '{"name":"calls test"}' | jq -r .secret)
declare -A password
for user in alice:101 bob:102 carol:103; do
  password[${user%%:*}]="Secret-${user##*:}-$run"
  api "$key" POST /v1/sip-accounts \
    "{\"username\":\"${user%%:*}\",\"extension\":\"${user##*:}\",\"password\":\"${password[${user%%:*}]}\"}" >/dev/null
done
take_port
carrier_port=$port
main_number="+1555$(printf '%07d' $((RANDOM * 32 % 10000000)))"
api "$key" POST /v1/numbers "{\"e164\":\"$main_number\",\"label\":\"caller id\"}" >/dev/null
api "$key" POST /v1/carriers "{\"name\":\"test carrier\",\"addresses\":[\"127.0.0.1\"],\"outbound_uri\":\"sip:127.0.0.1:$carrier_port\",\"caller_id\":\"$main_number\"}" >/dev/null

# --- sipp peers ---------------------------------------------------------------------------------
# Each user's phone keeps one port, so its registration (one contact) is refreshed, not added to.
declare -A phone_port
for user in alice bob carol; do take_port; phone_port[$user]=$port; done
plain=$(scenario uac_call.xml caller-bye)
waits_for_bye=$(scenario uac_call.xml callee-bye)
with_hold=$(scenario uac_call.xml hold caller-bye)
with_early_media=$(scenario uac_call.xml early-media caller-bye)
# sipp takes the rtp_stream file name literally, not from a key.
sed -i "s#\[audio\]#$work/silence.al#" "$plain" "$waits_for_bye" "$with_hold" "$with_early_media"
answers=$(scenario uas_answer.xml caller-bye)
answers_then_hangs_up=$(scenario uas_answer.xml callee-bye)
answers_hold=$(scenario uas_answer.xml hold caller-bye)
answers_after_early_media=$(scenario uas_answer.xml early-media caller-bye)
# sipp does not expand keys inside a regexp either: the From check is written into each copy.
far_end_answers=$(scenario uas_answer.xml caller-bye)
sed -i "s/\[from_check\]/sip:.${main_number#+}@/" "$far_end_answers"  # '.' for the '+'
sed -i 's/\[from_check\]/./' "$answers" "$answers_then_hangs_up" "$answers_hold" "$answers_after_early_media"

# --- Answered, audio both ways through the relay, caller hangs up --------------------------------
number=$(new_number "$(ring '"101"')")
device alice "$answers"
check "carrier call answered by the registered phone, 2 s of audio, caller hangs up" \
  carrier_call "$number" "$plain" -d 2000
check "the phone saw the whole call" finished "$device_pid"
started=$SECONDS
call=$(record "$number")
check "the call record is in the API within a second" test -n "$call" -a $((SECONDS - started)) -le 1
check "record: inbound, answered by 101, caller hung up, talk time counted" expect "$call" \
  ".direction == \"inbound\" and .disposition == \"answered\" and .hangup_side == \"caller\" and
   .caller == \"+15557654321\" and .called == \"$number\" and .answered_by == \"101\" and .talk_seconds >= 1"
check "audio went both ways through media-relay (caller leg in and out, phone leg in and out)" expect "$call" \
  '.caller_media.packets_in > 20 and .caller_media.packets_out > 20 and
   (.legs | length == 1) and .legs[0].media.packets_in > 20 and .legs[0].media.packets_out > 20'

# --- The phone hangs up --------------------------------------------------------------------------
number=$(new_number "$(ring '"101"')")
device alice "$answers_then_hangs_up" -d 1000
check "callee hangs up: the carrier gets BYE" carrier_call "$number" "$waits_for_bye"
finished "$device_pid"
check "record: answered, callee hung up" expect "$(record "$number")" '.disposition == "answered" and .hangup_side == "callee"'

# --- Hold and resume (re-INVITEs passed through both ways) ---------------------------------------
number=$(new_number "$(ring '"101"')")
device alice "$answers_hold"
check "hold (sendonly -> recvonly) and resume pass through the B2BUA" carrier_call "$number" "$with_hold" -d 500
check "the phone answered both re-INVITEs" finished "$device_pid"
check "record: answered" expect "$(record "$number")" '.disposition == "answered"'

# --- Early media: the phone's 183 with SDP reaches the caller, pointed at the relay --------------
number=$(new_number "$(ring '"101"')")
device alice "$answers_after_early_media"
check "early media (183 with SDP) passed on, its SDP rewritten to the relay" \
  carrier_call "$number" "$with_early_media" -d 500
check "the phone saw the whole call" finished "$device_pid"
check "record: answered, the leg rang with early media" expect "$(record "$number")" \
  '.disposition == "answered" and .legs[0].ringing_at != null'

# --- Busy, no answer, cancel ---------------------------------------------------------------------
number=$(new_number "$(ring '"101"')")
device alice "$(scenario uas_busy.xml)"
check "busy phone: the caller gets 486" refused_call "$number" 486
finished "$device_pid"
check "record: busy" expect "$(record "$number")" '.disposition == "busy" and .sip_status == 486'

number=$(new_number "$(ring '"101"' 5)")
device alice "$(scenario uas_ring.xml)"
check "no answer within the number's 5 s ring timeout: the caller gets 480" refused_call "$number" 480
check "and the phone's ringing was cancelled" finished "$device_pid"
check "record: no answer, rang about 5 s" expect "$(record "$number")" \
  '.disposition == "no_answer" and .ring_seconds >= 4 and .ring_seconds <= 7'

number=$(new_number "$(ring '"101"')")
device alice "$(scenario uas_ring.xml)"
check "the caller cancels while it rings" carrier_call "$number" "$(scenario uac_cancel.xml)"
check "and the phone's ringing was cancelled" finished "$device_pid"
check "record: cancelled by the caller" expect "$(record "$number")" \
  '.disposition == "cancelled" and .hangup_side == "caller" and .legs[0].end_reason == "cancelled"'

# --- Parallel ringing: first answer wins, the other phone stops ringing ---------------------------
number=$(new_number "$(ring '"101","102"')")
device alice "$answers"
alice_pid=$device_pid
device bob "$(scenario uas_ring.xml)"
check "two phones ring, alice answers" carrier_call "$number" "$plain" -d 500
check "alice had the call" finished "$alice_pid"
check "bob's ringing was cancelled" finished "$device_pid"
check "record: answered by 101, 102's leg cancelled" expect "$(record "$number")" \
  '.answered_by == "101" and (.legs | length == 2) and
   ([.legs[] | select(.extension == "102")][0].end_reason == "answered_elsewhere")'

# --- Internal and outbound calls placed by an account -------------------------------------------
device alice "$answers"
check "bob (102) calls alice (101) with digest authentication" phone_call bob 101 answered -d 500
finished "$device_pid"
call=$(api "$key" GET "/v1/calls?direction=internal" | jq -r '.items[0].id')
check "record: internal, 102 -> 101, answered" expect "$(api "$key" GET "/v1/calls/$call")" \
  '.direction == "internal" and .caller == "102" and .called == "101" and .disposition == "answered"'

(cd "$work" && exec timeout 60 sipp -sf "$far_end_answers" -m 1 -i 127.0.0.1 -p "$carrier_port" -mp $((carrier_port + 2)) \
  -rtp_echo -timeout 50 -trace_err -error_file "$work/far-end.err" \
  >"$work/far-end.out" 2>&1) &
far_end=$!
pids+=("$far_end")
sleep 0.3
check "bob dials an external number: out through the carrier" phone_call bob 0015559998888 answered -d 500
check "the far end got the call with the tenant's number as caller id" finished "$far_end"
call=$(api "$key" GET "/v1/calls?direction=outbound" | jq -r '.items[0].id')
check "record: outbound, to +15559998888, answered" expect "$(api "$key" GET "/v1/calls/$call")" \
  '.direction == "outbound" and .caller == "102" and .disposition == "answered" and .legs[0].target_kind == "external"'

# --- Refusals --------------------------------------------------------------------------------------
check "a number nobody has: 404" refused_call "+1555$(printf '%07d' $((RANDOM % 1000)))000" 404
number=$(new_number "$(ring '"101"')")
source_ip=127.0.0.2 check "a call to the tenant's number from an address that is not its carrier: 403" \
  refused_call "$number" 403
check "malformed SDP: 488" refused_call "$number" 488 "m=audio notaport RTP/AVP 8"
check "an offer without audio: 488" refused_call "$number" 488 "m=video 4000 RTP/AVP 31"
PHONE_PASSWORD=wrong-password check "a phone with a wrong password cannot call: 403" phone_call bob 101 refused

# --- A carrier authenticating by digest instead of by address (after the refusals: once the
# tenant has a carrier with credentials, unlisted addresses are challenged rather than refused) --
api "$key" POST /v1/carriers "{\"name\":\"digest carrier\",\"auth_username\":\"trunk-$run\",\"auth_password\":\"Trunk-password-$run\"}" >/dev/null
trunk_source="127.$((RANDOM % 200 + 20)).9.$((RANDOM % 250 + 1))"  # not a listed address
digest_carrier_call() {  # digest_carrier_call NUMBER BLOCK PASSWORD [SIPP ARGS...]
  local number=$1 block=$2 secret=$3 file
  shift 3
  file=$(scenario uac_account_call.xml "$block")
  take_port
  (cd "$work" && timeout 60 sipp -sf "$file" -m 1 -s "$number" -au "trunk-$run" -ap "$secret" -key user "trunk-$run" \
    -key domain "$TEL_SIP_ADDR" -i "$trunk_source" -p "$port" -mp $((port + 2)) -timeout 50 -trace_err \
    -error_file "$work/trunk-$port.err" "$@" "$TEL_SIP_ADDR" >"$work/trunk-$port.out" 2>&1)
}
number=$(new_number "$(ring '"101"')")
device alice "$answers"
check "a carrier calling from an unlisted address is challenged (407) and gets in with its credentials" \
  digest_carrier_call "$number" answered "Trunk-password-$run" -d 500
check "the phone had the call" finished "$device_pid"
check "record: inbound, answered" expect "$(record "$number")" '.direction == "inbound" and .disposition == "answered"'
check "the same carrier with a wrong password: 403" digest_carrier_call "$number" refused wrong-password-123

# --- A number with one channel: the second concurrent call gets 486 ------------------------------
number=$(new_number "$(ring '"103"')" 1)
device carol "$answers"
take_port
CALL_PORT=$port carrier_call "$number" "$plain" -d 2500 &
first_call=$!
sleep 1.2
check "the call over the number's only channel gets 486" refused_call "$number" 486
check "while the first call goes on undisturbed" finished "$first_call"
finished "$device_pid"
sleep 0.5
check "both calls are in the log: one answered, one busy (all channels busy)" test "$(
  api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$number" '$n|@uri')" |
    jq -r '[.items[] | .disposition] | sort | join(",")')" = "answered,busy"

# --- Nothing left behind -------------------------------------------------------------------------
settled() {
  local deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    [[ $(metric sip-edge tel_sip_calls_active) == 0 && $(metric media-relay tel_media_port_pairs_in_use) == 0 ]] && return 0
    sleep 0.2
  done
  return 1
}
check "no call state in sip-edge and every relay port free" settled
check "no channel held in Redis" test -z "$(redis-cli -p "${TEL_REDIS_URL##*:}" --scan --pattern "tel:chan:$tenant:*")"
ledger_empty() {  # no sip-edge instance lists a call of this tenant as open (the ledger survivors read)
  local key
  for key in $(redis-cli -p "${TEL_REDIS_URL##*:}" --scan --pattern 'tel:sip-edge:*:calls'); do
    redis-cli -p "${TEL_REDIS_URL##*:}" HVALS "$key" | grep -q "^$tenant"$'\t' && return 1
  done
  return 0
}
check "no call of the tenant left in the sip-edge call ledger" ledger_empty

((failed)) && show_sipp_errors
exit $failed
