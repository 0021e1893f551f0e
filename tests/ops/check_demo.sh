#!/usr/bin/env bash
# The demo tenant that ./tel up seeds is usable with the credentials it prints.
set -euo pipefail
: "${TEL_API_URL:?run through ./tel test}" "${TEL_DEMO_API_KEY:?./tel up did not seed the demo tenant}"
numbers=$(curl -fsS -H "Authorization: Bearer $TEL_DEMO_API_KEY" "$TEL_API_URL/v1/numbers")
grep -q '"e164":"+15550001000"' <<<"$numbers" || { echo "FAIL: demo number missing: $numbers"; exit 1; }
accounts=$(curl -fsS -H "Authorization: Bearer $TEL_DEMO_API_KEY" "$TEL_API_URL/v1/sip-accounts")
for user in manager1 manager2; do
  grep -q "\"username\":\"$user\"" <<<"$accounts" || { echo "FAIL: SIP account $user missing"; exit 1; }
done
echo "ok: demo tenant has its number and SIP accounts"

# `./tel demo` places a real call and prints its record: answered, with audio both ways.
root=$(cd "$(dirname "$0")/../.." && pwd)
output=$("$root/tel" demo 2>&1) || { echo "FAIL: ./tel demo failed:"; echo "$output"; exit 1; }
record=$(sed -n '/^{/,/^}/p' <<<"$output")
jq -e '.disposition == "answered" and .answered_by == "101" and .caller_media.packets_in > 0 and
  .caller_media.packets_out > 0 and .legs[0].media.packets_in > 0' >/dev/null <<<"$record" ||
  { echo "FAIL: unexpected demo call record:"; echo "$output"; exit 1; }
echo "ok: ./tel demo placed a call and printed its record"
