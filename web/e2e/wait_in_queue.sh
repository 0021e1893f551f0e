#!/usr/bin/env bash
# A caller waiting in a queue for the dashboard's browser tests: sipp as the carrier at 127.0.0.1
# calls the number (its dial plan sends callers to a queue whose agents are paused), stays in line
# for TEL_QUEUE_WAIT_MS (default 8000) and hangs up. Env: DEMO_NUMBER and ./tel env's.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../../tests/sip/lib.sh
source "$root/tests/sip/lib.sh"
port=${TEL_DEMO_CALLER_PORT:-17174}
caller=$(scenario uac_ivr.xml hang-up)
sed -i "s#\[wait\]#${TEL_QUEUE_WAIT_MS:-8000}#; s#<pause milliseconds=\"\[after\]\"/>##" "$caller"
(cd "$work" && timeout 40 sipp -sf "$caller" -m 1 -s "$DEMO_NUMBER" -key caller +15557654321 -key listen_port $((port + 30)) \
  -i 127.0.0.1 -p "$port" -mp $((port + 22)) -timeout 35 -trace_err -error_file "$work/caller.err" \
  "$TEL_SIP_ADDR" >"$work/caller.out" 2>&1) || { show_sipp_errors; exit 1; }
echo "a caller waited $((${TEL_QUEUE_WAIT_MS:-8000} / 1000)) s in line at $DEMO_NUMBER"
