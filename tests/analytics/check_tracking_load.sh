#!/usr/bin/env bash
# Call tracking under load: many visitors at once for a small pool. 40 new visitors arrive
# together, and the 5 pool numbers go to exactly 5 of them, each number to one visitor; the others
# are shown the site's default number. The 5 come back at once and keep their numbers, and the
# pool report counts what happened. The visits come from a loopback address of their own
# (127.77.x.y, new on every run), whose allowance under the public endpoint's per-address limit
# (a burst of 50) no other test or earlier run has used.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../sip/lib.sh
source "$here/../sip/lib.sh"
work=$(mktemp -d)
tenant=""
cleanup() {
  [[ -n $tenant ]] && admin DELETE "/v1/tenants/$tenant" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
visitor_address=127.77.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))

run=$(random_hex 6)
tenant=$(admin POST /v1/tenants "{\"name\":\"tracking load $run\"}" | jq -r .id)
key=$(admin POST "/v1/tenants/$tenant/api-keys" '{"name":"tracking load test"}' | jq -r .secret)
new_number() {  # a number of the tenant's, unique to this run
  local e164
  e164="+1557$(od -An -N4 -tu4 /dev/urandom | tr -d ' ' | head -c 8 | awk '{printf "%08d", $1}')"
  api "$key" POST /v1/numbers "{\"e164\":\"$e164\"}" | jq -r '.["e164"]'
}
default_number=$(new_number)
site=$(api "$key" POST /v1/tracking/sites "{\"name\":\"busy shop\",\"default_number\":\"$default_number\"}")
site_id=$(jq -r .id <<<"$site")
site_key=$(jq -r .site_key <<<"$site")
pool=()
for _ in 1 2 3 4 5; do
  number=$(new_number)
  api "$key" POST "/v1/tracking/sites/$site_id/numbers" "{\"e164\":\"$number\",\"kind\":\"pool\"}" >/dev/null
  pool+=("$number")
done
pool_json=$(printf '%s\n' "${pool[@]}" | jq -R . | jq -s -c 'sort')

visit() {  # visit FILE JSON: the public endpoint, no credentials, from the visitors' address
  curl -sS --interface "$visitor_address" -X POST -H 'Content-Type: application/json' --data "$2" \
    "$TEL_API_URL/v1/tracking/visits" >"$1"
}
for i in $(seq 1 40); do
  visit "$work/first-$i.json" "{\"site_key\":\"$site_key\",\"utm_source\":\"google\",\"utm_campaign\":\"c$i\"}" &
done
wait
first=$(cat "$work"/first-*.json | jq -s -c .)
check "40 visitors at once each get a session and a number to show" \
  test "$(jq '[.[] | select((.session_id | length) == 36 and (.number | length) > 0)] | length' <<<"$first")" == 40
check "exactly the 5 pool numbers are given, each to one visitor" \
  test "$(jq -c '[.[] | select(.tracked) | .number] | sort' <<<"$first")" == "$pool_json"
check "the other 35 are shown the default number" \
  test "$(jq --arg d "$default_number" '[.[] | select(.tracked | not) | select(.number == $d)] | length' <<<"$first")" == 35

mapfile -t holders < <(jq -r '.[] | select(.tracked) | .session_id + " " + .number' <<<"$first")
for i in "${!holders[@]}"; do
  visit "$work/again-$i.json" "{\"site_key\":\"$site_key\",\"session_id\":\"${holders[$i]%% *}\"}" &
done
wait
kept=0
for i in "${!holders[@]}"; do
  [[ $(jq -r '.session_id + " " + .number + " " + (.tracked | tostring)' "$work/again-$i.json") == "${holders[$i]} true" ]] &&
    kept=$((kept + 1))
done
check "the 5 holders come back at once and keep their numbers" test "$kept" == 5

usage=$(api "$key" GET "/v1/tracking/sites/$site_id/usage")
check "the pool report counts 40 sessions, 35 of them without a number" \
  test "$(jq -c '[.pool_size, .sessions, .sessions_without_number]' <<<"$usage")" == "[5,40,35]"
exit "$failed"
