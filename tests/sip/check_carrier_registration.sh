#!/usr/bin/env bash
# Registration to a carrier that wants the PBX to register (a SIP/GSM gateway): the tenant saves
# the carrier with a registration (username, write-only password); sip-edge sends REGISTER to the
# carrier's outbound URI, answers the digest challenge with the password, refreshes the binding as
# the carrier asks, and the carrier's state shows on the API. The carrier (sipp) then calls the
# registered contact from an address it never listed, and the call reaches the tenant's number.
# A wrong password shows as failed; removing the registration un-registers. Bad settings are
# refused naming the field; the other tenant sees none of it; a stranger calling a made-up
# contact gets 404.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=calls_lib.sh
source "$here/calls_lib.sh"
run=$(random_hex 6)
domain="reg-$run.sip.test"
pids=()
tenants=()
trap cleanup_test EXIT
[[ -n ${KEEP_WORK:-} ]] && trap - EXIT

test_tenants registration
# The line's number; the gateway names it as its username (digits, no "+").
number=$(new_number '{"kind":"none"}' 2)
username=${number#+}
gw_password='gw pass word!'
api "$key" PUT /v1/prompts/reg-greeting '{"text": "Hello."}' >/dev/null
api "$key" PUT /v1/dialplan "{
  \"nodes\": {\"vm\": {\"type\": \"voicemail\", \"box\": \"line\", \"greeting\": \"reg-greeting\"}},
  \"numbers\": {\"$number\": \"vm\"}}" >/dev/null

# status KEY METHOD PATH BODY: the HTTP status, the body in $work/body
status() {
  curl -s -o "$work/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" \
    -H 'Content-Type: application/json' ${4:+--data "$4"} "$TEL_API_URL$3"
}
# answers KEY METHOD PATH BODY CODE [JQ]: the API answers CODE, and its body satisfies JQ
answers() {
  local code
  code=$(status "$1" "$2" "$3" "$4")
  [[ $code == "$5" ]] && jq -e "${6:-.}" "$work/body" >/dev/null || { echo "  $code $(cat "$work/body")"; return 1; }
}
# refused BODY FIELD: creating a carrier with BODY is refused (400) naming FIELD
refused() {
  local code
  code=$(status "$key" POST /v1/carriers "$1")
  [[ $code == 400 ]] && jq -e --arg f "$2" '.error.field == $f' "$work/body" >/dev/null ||
    { echo "  $code $(cat "$work/body")"; return 1; }
}
check "a registration needs the carrier's outbound URI (its registrar)" \
  refused '{"name":"gw","registration":{"username":"a","password":"p"}}' outbound_uri
check "a registration needs a password" \
  refused '{"name":"gw","outbound_uri":"sip:127.0.0.1:5999","registration":{"username":"a"}}' registration.password
check "a password with a colon is refused (it could not be presented)" \
  refused '{"name":"gw","outbound_uri":"sip:127.0.0.1:5999","registration":{"username":"a","password":"p:q"}}' registration.password
check "a username with a colon is refused" \
  refused '{"name":"gw","outbound_uri":"sip:127.0.0.1:5999","registration":{"username":"a:b","password":"p"}}' registration.username
check "an expiry under a minute is refused" \
  refused '{"name":"gw","outbound_uri":"sip:127.0.0.1:5999","registration":{"username":"a","password":"p","expires_seconds":30}}' registration.expires_seconds
check "a domain with header characters is refused" \
  refused '{"name":"gw","outbound_uri":"sip:127.0.0.1:5999","registration":{"username":"a","password":"p","domain":"gw>;x"}}' registration.domain
check "an unknown registration field is refused" \
  refused '{"name":"gw","outbound_uri":"sip:127.0.0.1:5999","registration":{"username":"a","password":"p","auth":"x"}}' registration.auth

# registrar BLOCK [FIRST_EXPIRES]: the carrier's registrar (sipp) on $gw_port, in the background
registrar() {
  local file
  # shellcheck disable=SC2086 # BLOCKS are words
  file=$(scenario carrier_registrar.xml $1)
  (cd "$work" && exec timeout 60 sipp -sf "$file" -m 1 -i 127.0.0.1 -p "$gw_port" \
    -key username "$username" -key password "${2:-$gw_password}" -key first_expires "${3:-2}" \
    -key contact_file "$work/contact" -timeout 55 -trace_err -trace_msg \
    -error_file "$work/registrar-${1// /-}.err" -message_file "$work/registrar-${1// /-}.msg" \
    >"$work/registrar-${1// /-}.out" 2>&1) &
  registrar_pid=$!
  pids+=("$registrar_pid")
  eventually 5 udp_bound "$gw_port"
}
registration() { api "$key" GET "/v1/carriers/$carrier" | jq -e "$1" >/dev/null; }

take_port
gw_port=$port
registrar good
# The outbound URI names a user: the REGISTER's Request-URI must not (RFC 3261 10.2).
carrier=$(api "$key" POST /v1/carriers "{\"name\":\"gsm gateway\",\"outbound_uri\":\"sip:gw@127.0.0.1:$gw_port\",
  \"registration\":{\"username\":\"$username\",\"password\":$(jq -n --arg p "$gw_password" '$p'),\"expires_seconds\":120}}" |
  jq -r .id)
shown() { api "$key" GET "/v1/carriers/$carrier" | jq -e --arg u "$username" --arg p "$gw_password" "$1" >/dev/null; }
check "the carrier shows its registration, never the password" \
  shown '.registration.username == $u and .registration.expires_seconds == 120 and ([.. | strings | select(contains($p))] | length == 0)'
# sealed: the stored password is nonce + ciphertext + tag, and the password is nowhere in it
sealed() {
  [[ $(psql -Atq "$TEL_PG_OWNER_URL" -c "SELECT length(registration_secret) = 12 + length('$gw_password') + 16
      AND position(convert_to('$gw_password', 'UTF8') IN registration_secret) = 0 FROM carriers WHERE id = '$carrier'") == t ]]
}
check "the password is stored sealed (AES-256-GCM), not as it was given" sealed
check "sip-edge registers, answers both challenges with the password and refreshes as asked" \
  eventually 15 test -s "$work/contact"
check "the carrier shows as registered, until about 300 s from now (the refresh's expiry)" \
  eventually 5 registration ".registration.state == \"registered\" and
    (.registration.registered_until | sub(\"\\\\.[0-9]+\"; \"\") | fromdateiso8601) > (now + 240)"
contact_user=$(cat "$work/contact")
check "the contact user is unguessable (r + 128 random bits)" grep -Eqx 'r[0-9a-f]{32}' "$work/contact"
check "the registration state is in sip-edge's metrics" \
  test "$(metric sip-edge 'tel_sip_carrier_registrations{state="registered"}')" -ge 1

# An account's call out through the carrier, which challenges the INVITE: sip-edge answers with the
# registration's credentials.
check "the registrar is done" finished "$registrar_pid"
declare -A password
api "$key" POST /v1/sip-accounts "{\"username\":\"alice\",\"extension\":\"101\",\"password\":\"Secret-101-$run\"}" >/dev/null
password[alice]="Secret-101-$run"
far_end=$(scenario uas_answer.xml challenge caller-bye)
sed -i "s/\[from_check\]/./" "$far_end"
(cd "$work" && exec timeout 60 sipp -sf "$far_end" -m 1 -i 127.0.0.1 -p "$gw_port" -mp $((gw_port + 2)) -rtp_echo \
  -key username "$username" -key password "$gw_password" -timeout 50 -trace_err -error_file "$work/far-end.err" \
  >"$work/far-end.out" 2>&1) &
far_end_pid=$!
pids+=("$far_end_pid")
eventually 5 udp_bound "$gw_port"
check "an account's call out through the carrier is answered after the carrier's challenge" \
  phone_call alice 0015559990001 answered -d 500
check "the carrier checked the answer to its challenge with the registration's password" finished "$far_end_pid"

# The carrier delivers a call to the registered contact, from an address it never listed (the
# carrier has none), naming the contact, not the number: the line's username is the number.
file=$(scenario uac_call.xml caller-bye)
sed -i "s#\[audio\]#$work/silence.al#" "$file"  # sipp takes the rtp_stream file name literally
since=$(now_utc)
check "the carrier's call to the registered contact is answered" \
  carrier_call "$contact_user" "$file" -d 1500
inbound_record() { expect "$(newest_record "$since")" ".direction == \"inbound\" and .called == \"$number\""; }
check "it is the line's number's inbound call in the call log" inbound_record
check "a made-up contact user is no number: 404" refused_call r0123456789abcdef0123456789abcdef 404
check "the other tenant does not see the carrier" answers "$other_key" GET "/v1/carriers/$carrier" "" 404
check "nor can it change the registration" \
  answers "$other_key" PATCH "/v1/carriers/$carrier" '{"registration": null}' 404

# A new expiry for the same binding: registered again with the same contact, and no un-REGISTER
# in between (racing the new REGISTER, it could remove the binding at the carrier).
rm -f "$work/contact"
registrar good
check "a new expiry is taken up" answers "$key" PATCH "/v1/carriers/$carrier" \
  "{\"registration\":{\"username\":\"$username\",\"expires_seconds\":900}}" 200 '.registration.state == ""'
check "and registered again, challenge and refresh included" eventually 15 test -s "$work/contact"
check "with the same contact" grep -qx "$contact_user" "$work/contact"
check "and nothing else reached the registrar (no un-REGISTER)" finished "$registrar_pid"
check "the carrier shows as registered again" eventually 5 registration '.registration.state == "registered"'
check "saving the same settings keeps the state shown" answers "$key" PATCH "/v1/carriers/$carrier" \
  "{\"registration\":{\"username\":\"$username\",\"expires_seconds\":900}}" 200 '.registration.state == "registered"'

registrar unregister
check "the registration can be removed" answers "$key" PATCH "/v1/carriers/$carrier" '{"registration": null}' 200
check "which un-registers the contact at the carrier" finished "$registrar_pid"
check "the carrier no longer shows a registration" registration '.registration == null'
check "calls to the old contact are no longer taken" eventually 5 refused_call "$contact_user" 404

# A wrong password: the carrier challenges the answer again, and the carrier shows as failed.
rm -f "$work/contact"
registrar wrong "the carrier's real password"
check "a registration can be set again on the carrier" answers "$key" PATCH "/v1/carriers/$carrier" \
  "{\"registration\":{\"username\":\"$username\",\"password\":\"not it\"}}" 200
check "a registration refused for its password shows as failed, with the reason" \
  eventually 10 registration '.registration.state == "failed" and (.registration.reason | test("401.*wrong credentials"))'
check "the registrar saw the answer to its challenge" finished "$registrar_pid"
check "changed settings keep the stored password when none is given" answers "$key" PATCH "/v1/carriers/$carrier" \
  "{\"registration\":{\"username\":\"$username\",\"expires_seconds\":600}}" 200 '.registration.expires_seconds == 600'
check "the outbound URI cannot be removed while registering" \
  answers "$key" PATCH "/v1/carriers/$carrier" '{"outbound_uri": ""}' 400 '.error.field == "outbound_uri"'

((failed == 0)) || show_sipp_errors
exit $failed
