#!/usr/bin/env bash
# Call tracking end to end: visitor sessions of a tracked site get pool numbers through the public
# endpoint (as the snippet does), then real SIP calls (sipp as the carrier and as the tenant's
# phone, through sip-edge, routing, media-relay, Kafka and cdr-ingest) reach the numbers they were
# shown. Each call record carries its session's source; a call after the hold period carries none;
# a pool smaller than the visitors degrades to the site's default number and the pool report says
# so; the ads report groups the calls; other tenants see nothing; bad input is refused; the public
# endpoint is rate limited per client address.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sip=$here/../sip
: "${TEL_ADMIN_URLS:?run through ./tel test}"
work=$(mktemp -d)
# shellcheck source=../sip/lib.sh
source "$sip/lib.sh"
# shellcheck source=../sip/calls_lib.sh
source "$sip/calls_lib.sh"
run=$(random_hex 6)
domain="tracking-$run.sip.test"
pids=()
tenant=""
other=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [[ -n $tenant ]] && admin DELETE "/v1/tenants/$tenant" >/dev/null
  [[ -n $other ]] && admin DELETE "/v1/tenants/$other" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# Ports 29000-29899: clear of the other SIP tests (21000-28999) and of media-relay (30000+).
next_port=$((29000 + (RANDOM % 30) * 10))
head -c 16000 /dev/zero | tr '\0' '\325' >"$work/silence.al"

tenant=$(admin POST /v1/tenants "{\"name\":\"tracking $run\",\"sip_domain\":\"$domain\"}" | jq -r .id)
key=$(admin POST "/v1/tenants/$tenant/api-keys" '{"name":"tracking test"}' | jq -r .secret)
declare -A password phone_port
password[alice]="Secret-101-$run"
api "$key" POST /v1/sip-accounts "{\"username\":\"alice\",\"extension\":\"101\",\"password\":\"${password[alice]}\"}" >/dev/null
take_port
phone_port[alice]=$port
api "$key" POST /v1/carriers '{"name":"test carrier","addresses":["127.0.0.1"]}' >/dev/null

plain=$(scenario uac_call.xml caller-bye)
sed -i "s#\[audio\]#$work/silence.al#" "$plain"
answers=$(scenario uas_answer.xml caller-bye)
sed -i 's/\[from_check\]/./' "$answers"

# call NUMBER: the carrier calls NUMBER, alice's phone answers; prints the newest complete record.
call() {
  local before id=""
  before=$(api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$1" '$n|@uri')" | jq '[.items[] | select(.complete)] | length')
  device alice "$answers" || return 1
  carrier_call "$1" "$plain" -d 500 || { echo "  the call to $1 failed"; return 1; }
  finished "$device_pid" || return 1
  local deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    id=$(api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$1" '$n|@uri')" |
      jq -r --argjson before "$before" '[.items[] | select(.complete)] | if length > $before then .[0].id else empty end')
    [[ -n $id ]] && break
    sleep 0.1
  done
  [[ -n $id ]] && api "$key" GET "/v1/calls/$id"
}
visit() {  # visit JSON: the public endpoint, no credentials
  curl -sS -X POST -H 'Content-Type: application/json' --data "$1" "$TEL_API_URL/v1/tracking/visits"
}

# --- A site whose numbers are held 60 s: its visitor is started first, its call comes last --------
short_number=$(new_number "$(ring '"101"')")
short_site=$(api "$key" POST /v1/tracking/sites '{"name":"short hold","hold_seconds":60}')
api "$key" POST "/v1/tracking/sites/$(jq -r .id <<<"$short_site")/numbers" "{\"e164\":\"$short_number\",\"kind\":\"pool\"}" >/dev/null
short_visit=$(visit "{\"site_key\":\"$(jq -r .site_key <<<"$short_site")\",\"utm_source\":\"bing\",\"utm_campaign\":\"expired\"}")
short_visit_at=$SECONDS
check "the short-hold site's visitor is shown its pool number" \
  test "$(jq -r '.number + " " + (.tracked|tostring)' <<<"$short_visit")" == "$short_number true"

# --- The shop: two pool numbers, three visitors --------------------------------------------------
default_number=$(new_number "$(ring '"101"')")
pool_a=$(new_number "$(ring '"101"')")
pool_b=$(new_number "$(ring '"101"')")
site=$(api "$key" POST /v1/tracking/sites "{\"name\":\"shop\",\"default_number\":\"$default_number\"}")
site_id=$(jq -r .id <<<"$site")
site_key=$(jq -r .site_key <<<"$site")
check "a site is created with a public key and the default hold of 15 minutes" \
  expect "$site" '(.site_key | test("^trk_[A-Za-z0-9]{24}$")) and .hold_seconds == 900'
for number in "$pool_a" "$pool_b"; do
  api "$key" POST "/v1/tracking/sites/$site_id/numbers" "{\"e164\":\"$number\",\"kind\":\"pool\"}" >/dev/null
done

winter=$(visit "{\"site_key\":\"$site_key\",\"utm_source\":\"google\",\"utm_medium\":\"cpc\",\"utm_campaign\":\"winter\",\"utm_term\":\"boots\",\"landing_page\":\"https://shop.example/boots?utm_campaign=winter\",\"click_ids\":{\"gclid\":\"g-1\"}}")
summer=$(visit "{\"site_key\":\"$site_key\",\"utm_source\":\"facebook\",\"utm_medium\":\"paid_social\",\"utm_campaign\":\"summer\",\"utm_term\":\"sandals\",\"referrer\":\"https://facebook.com/\"}")
third=$(visit "{\"site_key\":\"$site_key\",\"utm_source\":\"google\",\"utm_medium\":\"organic\"}")
winter_number=$(jq -r .number <<<"$winter")
summer_number=$(jq -r .number <<<"$summer")
check "two visitors get the two pool numbers, one each" \
  test "$(printf '%s\n' "$winter_number" "$summer_number" | sort | tr '\n' ' ')" == "$(printf '%s\n' "$pool_a" "$pool_b" | sort | tr '\n' ' ')"
check "the third visitor, beyond the pool, is shown the site's default number, untracked" \
  expect "$third" ".number == \"$default_number\" and .tracked == false and (.session_id | length == 36)"
again=$(visit "{\"site_key\":\"$site_key\",\"session_id\":\"$(jq -r .session_id <<<"$winter")\"}")
check "a returning visitor (the snippet's renewal) keeps its number" \
  expect "$again" ".number == \"$winter_number\" and .tracked"
check "the site lists both pool numbers as held" \
  expect "$(api "$key" GET "/v1/tracking/sites/$site_id")" '[.numbers[] | select(.kind == "pool" and .held)] | length == 2'

record=$(call "$winter_number")
check "a real call to the winter visitor's number carries its campaign and keyword" \
  expect "$record" ".disposition == \"answered\" and .source.session_id == $(jq .session_id <<<"$winter") and
    .source.utm_source == \"google\" and .source.utm_medium == \"cpc\" and .source.utm_campaign == \"winter\" and
    .source.utm_term == \"boots\" and .source.landing_page == \"https://shop.example/boots?utm_campaign=winter\""
record=$(call "$summer_number")
check "a real call to the summer visitor's number carries its campaign and keyword" \
  expect "$record" ".source.utm_campaign == \"summer\" and .source.utm_term == \"sandals\" and .source.referrer == \"https://facebook.com/\""
record=$(call "$default_number")
check "a call to the default number is not attributed" expect "$record" '.source == null'

usage=$(api "$key" GET "/v1/tracking/sites/$site_id/usage")
check "the pool report: 3 sessions, 1 without a number, peak 3, recommends 4 numbers for a pool of 2" \
  expect "$usage" '.pool_size == 2 and .sessions == 3 and .sessions_without_number == 1 and
         .peak_concurrent_sessions == 3 and .recommended_pool_size == 4'
ads=$(api "$key" GET "/v1/reports/ads")
check "the ads report has one row per campaign and keyword, and the tracked share" \
  expect "$ads" '(.rows | map({utm_source, utm_campaign, keyword, received}) | sort_by(.utm_campaign)) ==
           [{"utm_source":"facebook","utm_campaign":"summer","keyword":"sandals","received":1},
            {"utm_source":"google","utm_campaign":"winter","keyword":"boots","received":1}]
         and .summary.tracked_calls == 2 and .summary.inbound_calls == 3'
check "reports filter by source" \
  expect "$(api "$key" GET "/v1/reports/incoming?source=facebook")" '.summary.received == 1'

# --- Another tenant sees none of it --------------------------------------------------------------
other=$(admin POST /v1/tenants "{\"name\":\"tracking other $run\"}" | jq -r .id)
other_key=$(admin POST "/v1/tenants/$other/api-keys" '{"name":"other"}' | jq -r .secret)
status() { curl -s -o /dev/null -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' ${4:+--data "$4"} "$TEL_API_URL$3"; }
check "another tenant cannot read, use or delete the site" bash -c \
  "[[ $(status "$other_key" GET "/v1/tracking/sites/$site_id") == 404 && $(status "$other_key" GET "/v1/tracking/sites/$site_id/usage") == 404 &&
     $(status "$other_key" DELETE "/v1/tracking/sites/$site_id") == 404 &&
     $(status "$other_key" POST "/v1/tracking/sites/$site_id/numbers" "{\"e164\":\"+15550000000\",\"kind\":\"pool\"}") == 404 ]]"
other_site=$(api "$other_key" POST /v1/tracking/sites '{"name":"thief"}' | jq -r .id)
check "another tenant cannot put this tenant's number in its pool" \
  test "$(api "$other_key" POST "/v1/tracking/sites/$other_site/numbers" "{\"e164\":\"$pool_a\",\"kind\":\"pool\"}" | jq -r .error.field)" == e164
check "another tenant's site list and ads report are empty" bash -c \
  "[[ \$(jq '.items | length' <<<'$(api "$other_key" GET /v1/tracking/sites)') == 1 && \$(jq '.rows | length' <<<'$(api "$other_key" GET /v1/reports/ads)') == 0 ]]"

# --- Bad input -------------------------------------------------------------------------------------
field_of() { jq -r .error.field <<<"$1"; }
check "a malformed site key is refused" test "$(field_of "$(visit '{"site_key":"nope"}')")" == site_key
check "an unknown site key is not found" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data '{"site_key":"trk_AAAAAAAAAAAAAAAAAAAAAAAA"}' "$TEL_API_URL/v1/tracking/visits")" == 404
check "an unknown field is refused" test "$(field_of "$(visit "{\"site_key\":\"$site_key\",\"utm_foo\":\"x\"}")")" == utm_foo
check "an unknown click id is refused" test "$(field_of "$(visit "{\"site_key\":\"$site_key\",\"click_ids\":{\"evil\":\"x\"}}")")" == click_ids.evil
check "control characters in a source are refused" test "$(field_of "$(visit "{\"site_key\":\"$site_key\",\"utm_term\":\"a\\nb\"}")")" == utm_term
check "a made-up session id starts a new session instead of failing the page" \
  expect "$(visit "{\"site_key\":\"$site_key\",\"session_id\":\"00000000-0000-4000-8000-000000000000\"}")" \
  '.session_id != "00000000-0000-4000-8000-000000000000" and .tracked == false'
check "invalid JSON is refused" test "$(jq -r .error.code <<<"$(visit '{"site_key":')")" == invalid_argument
check "a static number needs its source" \
  test "$(api "$key" POST "/v1/tracking/sites/$site_id/numbers" "{\"e164\":\"$default_number\",\"kind\":\"static\"}" | jq -r .error.field)" == utm_source
check "a number that is not the tenant's is refused" \
  test "$(api "$key" POST "/v1/tracking/sites/$site_id/numbers" '{"e164":"+15550000001","kind":"pool"}' | jq -r .error.field)" == e164
check "a number tracks for one site only" \
  test "$(api "$key" POST "/v1/tracking/sites/$site_id/numbers" "{\"e164\":\"$pool_a\",\"kind\":\"pool\"}" | jq -r .error.code)" == conflict
check "the snippet is served as JavaScript" bash -c \
  "curl -sf -D - '$TEL_API_URL/v1/tracking/snippet.js' | grep -qi '^content-type: text/javascript' &&
   curl -sf '$TEL_API_URL/v1/tracking/snippet.js' | grep -q 'data-tel-number'"

# --- After the hold period, the short-hold number's calls are nobody's ----------------------------
wait_for=$((short_visit_at + 62 - SECONDS))
((wait_for > 0)) && sleep "$wait_for"
record=$(call "$short_number")
check "a call after the hold period is not attributed" expect "$record" '.disposition == "answered" and .source == null'

# --- The public endpoint is rate limited per client address (last: it spends this address's budget)
limited=0
for _ in $(seq 1 120); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data "{\"site_key\":\"$site_key\",\"session_id\":\"$(jq -r .session_id <<<"$winter")\"}" "$TEL_API_URL/v1/tracking/visits")
  [[ $code == 429 ]] && { limited=1; break; }
done
check "a flood of visits from one address gets 429" test $limited == 1

show_sipp_errors >/dev/null
((failed)) && show_sipp_errors
exit $failed
