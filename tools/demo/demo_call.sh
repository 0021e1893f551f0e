#!/usr/bin/env bash
# The demo call behind `./tel demo`: sipp registers as the demo tenant's manager1 (ext 101) and
# answers, another sipp plays the demo carrier calling the demo number, 3 s of audio flow both ways
# through media-relay, the caller hangs up, and the call record is printed from the REST API.
# Needs the running stack and `./tel env` in the environment, plus DEMO_* from .tel/secrets/demo.env.
set -uo pipefail
: "${DEMO_API_KEY:?}" "${DEMO_NUMBER:?}" "${DEMO_SIP_DOMAIN:?}" "${DEMO_SIP_MANAGER1_PASSWORD:?}"
work=$(mktemp -d)
trap 'kill "${phone:-}" 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=../../tests/sip/lib.sh
source "$(dirname "$0")/../../tests/sip/lib.sh"

phone_port=${TEL_DEMO_PHONE_PORT:-17072}
carrier_port=${TEL_DEMO_CALLER_PORT:-17074}
# Media ports (-mp, and -mp + 2 for echo) sit above the SIP ports so that none collide.
head -c 40000 /dev/zero | tr '\0' '\325' >"$work/audio.al"  # 5 s of A-law silence

echo "1. manager1@$DEMO_SIP_DOMAIN registers from 127.0.0.1:$phone_port (digest auth)"
sipp_register register.xml manager1 "$DEMO_SIP_MANAGER1_PASSWORD" "$DEMO_SIP_DOMAIN" 120 u1 "$phone_port" ||
  { show_sipp_errors; echo "registration failed"; exit 1; }
answer=$(scenario uas_answer.xml caller-bye)
sed -i 's/\[from_check\]/./' "$answer"  # any caller
(cd "$work" && exec timeout 30 sipp -sf "$answer" -m 1 -i 127.0.0.1 -p "$phone_port" -mp $((phone_port + 22)) \
  -rtp_echo -timeout 25 -trace_err -error_file "$work/phone.err" >"$work/phone.out" 2>&1) &
phone=$!

echo "2. the demo carrier (127.0.0.1) calls $DEMO_NUMBER; the phone answers and echoes the audio"
call=$(scenario uac_call.xml caller-bye)
sed -i "s#\[audio\]#$work/audio.al#" "$call"
(cd "$work" && timeout 30 sipp -sf "$call" -m 1 -s "$DEMO_NUMBER" -key caller +15557654321 -d 3000 \
  -i 127.0.0.1 -p "$carrier_port" -mp $((carrier_port + 26)) -timeout 25 -trace_err \
  -error_file "$work/carrier.err" "$TEL_SIP_ADDR" >"$work/carrier.out" 2>&1) ||
  { show_sipp_errors; echo "the call failed"; exit 1; }
wait "$phone" || { show_sipp_errors; echo "the phone did not complete the call"; exit 1; }
echo "3. the caller hung up after 3 s; the call record, from GET /v1/calls:"

for _ in $(seq 50); do
  record=$(api "$DEMO_API_KEY" GET "/v1/calls?limit=1" | jq '.items[0] // empty')
  [[ $(jq -r '.complete // false' <<<"$record") == true ]] && break
  sleep 0.1
done
id=$(jq -r .id <<<"$record")
api "$DEMO_API_KEY" GET "/v1/calls/$id" | jq '{id, direction, caller, called, disposition, answered_by,
  ring_seconds, talk_seconds, hangup_side, caller_media, recording, legs: [.legs[] | {id, extension, end_reason, media}]}'
