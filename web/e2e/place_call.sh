#!/usr/bin/env bash
# A real call for the dashboard's browser tests: the demo call (tools/demo/demo_call.sh: sipp
# registers as the tenant's manager1 and answers, sipp as the carrier at 127.0.0.1 calls the
# number, 3 s of audio both ways), then manager1's registration is removed so nothing is left.
# Env: DEMO_API_KEY, DEMO_NUMBER, DEMO_SIP_DOMAIN, DEMO_SIP_MANAGER1_PASSWORD and ./tel env's.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=../../tests/sip/lib.sh
source "$root/tests/sip/lib.sh"
export TEL_DEMO_PHONE_PORT=${TEL_DEMO_PHONE_PORT:-17172} TEL_DEMO_CALLER_PORT=${TEL_DEMO_CALLER_PORT:-17174}
"$root/tools/demo/demo_call.sh"
status=$?
sipp_register register.xml manager1 "$DEMO_SIP_MANAGER1_PASSWORD" "$DEMO_SIP_DOMAIN" 0 u1 "$TEL_DEMO_PHONE_PORT" ||
  { show_sipp_errors; echo "un-REGISTER failed"; status=1; }
exit $status
