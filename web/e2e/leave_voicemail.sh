#!/usr/bin/env bash
# A real voicemail message for the dashboard's browser tests: sipp as the carrier at 127.0.0.1 calls
# the number (its dial plan sends callers to voicemail), waits out the beep, says a 1 kHz tone for
# 2 s and hangs up. Env: DEMO_NUMBER, TEL_VOICEMAIL_WAIT_MS (the greeting and beep) and ./tel env's.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../../tests/sip/lib.sh
source "$root/tests/sip/lib.sh"
port=${TEL_DEMO_CALLER_PORT:-17174}
python3 "$root/tests/sip/tone.py" "$work/speech.al" 2 1000
caller=$(scenario uac_ivr.xml speak hang-up)
sed -i "s#SPEECH_FILE#$work/speech.al#; s#\[wait\]#${TEL_VOICEMAIL_WAIT_MS:-900}#; s#\[speak_after\]#2500#" "$caller"
(cd "$work" && timeout 30 sipp -sf "$caller" -m 1 -s "$DEMO_NUMBER" -key caller +15557654321 -key listen_port $((port + 30)) \
  -i 127.0.0.1 -p "$port" -mp $((port + 22)) -timeout 25 -trace_err -error_file "$work/caller.err" \
  "$TEL_SIP_ADDR" >"$work/caller.out" 2>&1) || { show_sipp_errors; exit 1; }
echo "a message of about 3 s left at $DEMO_NUMBER"
