#!/usr/bin/env bash
# Overload: a sip-edge (started beside the stack) admits at most calls.max_admitting INVITEs at
# once. Its accounts service here accepts connections and never answers, so every admission
# stalls for the lookup's 2 s deadline: with two stalled, a third INVITE is refused at once (503
# with Retry-After) and counted as shed; once they are over, INVITEs are admitted again.
set -uo pipefail
build=${1:?usage: check_overload.sh <build dir>}
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}" "${TEL_KAFKA_BROKERS:?}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# Fixed ports below the kernel's ephemeral range (32768+), used by no other test.
sip_port=19170
admin_port=19171
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# An accounts "service" that completes TCP handshakes (the listen backlog) and never says a word.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
time.sleep(600)' >"$work/silent.port" &
pids+=($!)
for ((i = 0; i < 50; i++)); do [[ -s $work/silent.port ]] && break; sleep 0.1; done

TEL_SIP_EDGE_SIP_LISTEN=127.0.0.1:$sip_port TEL_SIP_EDGE_ADMIN_LISTEN=127.0.0.1:$admin_port \
  TEL_SIP_EDGE_CONTROL_LISTEN=127.0.0.1:0 TEL_SIP_EDGE_REDIS_URL="$TEL_REDIS_URL" \
  TEL_SIP_EDGE_KAFKA_BROKERS="$TEL_KAFKA_BROKERS" \
  TEL_SIP_EDGE_ACCOUNTS_ADDRESS="127.0.0.1:$(cat "$work/silent.port")" \
  TEL_SIP_EDGE_CALLS_MAX_ADMITTING=2 \
  "$build/services/sip-edge/sip-edge" >"$work/sip-edge.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do grep -qs '"msg":"sip-edge serving"' "$work/sip-edge.log" && break; sleep 0.1; done
grep -qs '"msg":"sip-edge serving"' "$work/sip-edge.log" || { echo "FAIL: sip-edge did not start"; cat "$work/sip-edge.log"; exit 1; }

metric() { curl -s "http://127.0.0.1:$admin_port/metrics" | awk -v name="$1" '$1 == name {print $2+0}'; }
invite() {  # invite TAG WAIT: an INVITE with an offer to one of our numbers; prints the final statuses
  local sdp="v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n"
  local body_length
  body_length=$(printf '%b' "$sdp" | wc -c)
  python3 "$here/sip_probe.py" --target "127.0.0.1:$sip_port" --wait "$2" --with-header Retry-After --raw \
    "INVITE sip:+15550001000@127.0.0.1:$sip_port SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-$1;rport\r\nFrom: <sip:+15557654321@127.0.0.1>;tag=$1\r\nTo: <sip:+15550001000@127.0.0.1>\r\nCall-ID: overload-$1\r\nCSeq: 1 INVITE\r\nContact: <sip:carrier@127.0.0.1:5999>\r\nContent-Type: application/sdp\r\nContent-Length: $body_length\r\n\r\n$sdp"
}

run=$(random_hex 4)
shed_before=$(metric tel_sip_calls_shed_total)
invite "$run-1" 1 >"$work/first" &
first=$!
invite "$run-2" 1 >"$work/second" &
second=$!
sleep 0.5  # both are in admission now, waiting on the silent accounts service
# (A 503 nobody ACKs is sent again after 500 ms: look before that.)
third=$(invite "$run-3" 0.4)
check "a third INVITE while two are being admitted: 503 at once, with Retry-After (got '$third')" \
  test "$third" = "503/5"
check "it is counted as shed" test "$(metric tel_sip_calls_shed_total)" = "$((shed_before + 1))"
wait "$first" "$second"
check "the two being admitted were not refused (no final response within 1 s)" \
  test -z "$(cat "$work/first")$(cat "$work/second")"
sleep 1.5  # their lookups have failed by now (2 s deadline): the backlog is gone
check "with the backlog gone, an INVITE is admitted again (no final response within 0.5 s)" \
  test -z "$(invite "$run-4" 0.5)"
check "and nothing more was shed" test "$(metric tel_sip_calls_shed_total)" = "$((shed_before + 1))"
exit $failed
