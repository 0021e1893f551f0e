#!/usr/bin/env bash
# sip-edge against abusive and malformed traffic: a flooding source, a scanner, a source that keeps
# failing authentication (all banned, then dropped silently in the kernel), the allow-listed
# address that is never banned, malformed requests (right 4xx or dropped, nothing leaked,
# service alive), and bursts of challenges that must each carry their own reason phrase. Each run
# uses fresh loopback source addresses (127.x.y.z), since bans last.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_ADMIN_URLS:?run through ./tel test}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
run=$(random_hex 6)
tenant=""
trap '[[ -n $tenant ]] && admin DELETE "/v1/tenants/$tenant" >/dev/null; rm -rf "$work"' EXIT
sip_admin=$(tr ' ' '\n' <<<"$TEL_ADMIN_URLS" | sed -n 's/^sip-edge=//p')
probe() { python3 "$here/sip_probe.py" --target "$TEL_SIP_ADDR" "$@"; }
bans() { curl -s "$sip_admin/metrics" | awk -v reason="$1" '$1 == "tel_sip_source_bans_total{reason=\"" reason "\"}" {print $2+0}'; }
net="127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1))"
silent() { [[ -z $(probe --source "$1" --count 3 --interval 0.1 --wait 1) ]]; }
expect_statuses() { local got; got=$(probe "${@:2}"); [[ $got == "$1" ]] || { echo "  got: '$got'"; return 1; }; }

# --- Flood (pike): 16 requests per 2 s pass, then the source is banned ---------------------------
flood=$net.1
floods_before=$(bans flood)
check "a flood: the first 16 requests are answered, the rest refused" \
  expect_statuses "$(printf '200 %.0s' {1..16})403 403 403 403" --source "$flood" --count 20 --wait 1
check "the flooding source is counted as banned" test "$(bans flood)" -gt "${floods_before:-0}"
sleep 0.5
check "and from then on gets no answer at all (dropped in the kernel)" silent "$flood"
check "other sources are unaffected" expect_statuses "200" --source "$net.2"
check "the allow-listed address (the local carrier) is never banned" \
  expect_statuses "$(printf '200 %.0s' {1..39})200" --source 127.0.0.1 --count 40 --wait 1

# --- Scanners ------------------------------------------------------------------------------------
scanner=$net.3
check "a scanner's first request is refused without a challenge" \
  expect_statuses "403" --source "$scanner" --method REGISTER --user-agent "friendly-scanner"
sleep 0.5
check "and its source is then dropped silently" silent "$scanner"
# (An INVITE's 403 is retransmitted after 500 ms when nobody ACKs it: look before that.)
check "sipvicious too" expect_statuses "403" --source "$net.4" --method INVITE --user-agent "SIPVicious 0.3.4" --wait 0.4

# --- Failed authentication (fail2ban): 3 failures ban the source ---------------------------------
tenant=$(admin POST /v1/tenants "{\"name\":\"protection $run\",\"sip_domain\":\"prot-$run.sip.test\"}" | jq -r .id)
key=$(admin POST "/v1/tenants/$tenant/api-keys" '{"name":"protection"}' | jq -r .secret)
api "$key" POST /v1/sip-accounts '{"username":"alice","extension":"101","password":"Right-password-1"}' >/dev/null
guesser=$net.5
register_from() {  # register_from SOURCE SCENARIO PASSWORD
  local port=$((26000 + RANDOM % 3000))
  (cd "$work" && timeout 10 sipp -sf "$here/$2" -m 1 -s alice -au alice -ap "$3" -key domain "prot-$run.sip.test" \
    -key expires 300 -i "$1" -p "$port" -timeout 3 -trace_err -error_file "$work/reg-$port.err" \
    "$TEL_SIP_ADDR" >"$work/reg-$port.out" 2>&1)
}
for attempt in 1 2 3; do
  check "wrong password from $guesser (attempt $attempt) is refused" register_from "$guesser" register_refused.xml wrong-password
done
sleep 0.5
check "after 3 failures even the right password from that source gets no answer" \
  fails register_from "$guesser" register.xml Right-password-1
check "the same account still registers from elsewhere" register_from "$net.6" register.xml Right-password-1

# --- Malformed requests: a 4xx or nothing, and the service keeps serving --------------------------
via="Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-$run;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\n"
raw() { probe --source 127.0.0.1 --wait 0.4 --raw "$1"; }  # before a final response is retransmitted
check "missing Via: dropped" test -z "$(raw "OPTIONS sip:x@y SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>\r\nCall-ID: m1-$run\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")"
check "missing CSeq: 400" test "$(raw "OPTIONS sip:x@y SIP/2.0\r\n${via}Call-ID: m2-$run\r\nContent-Length: 0\r\n\r\n")" = 400
check "missing Call-ID: 400" test "$(raw "OPTIONS sip:x@y SIP/2.0\r\n${via}CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")" = 400
check "CSeq method not the request's: 400" test "$(raw "OPTIONS sip:x@y SIP/2.0\r\n${via}Call-ID: m3-$run\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")" = 400
check "Content-Length beyond the body: 400" test "$(raw "OPTIONS sip:x@y SIP/2.0\r\n${via}Call-ID: m4-$run\r\nCSeq: 1 OPTIONS\r\nContent-Length: 500\r\n\r\nshort")" = 400
check "an unknown method: 501" test "$(raw "FOO sip:x@y SIP/2.0\r\n${via}Call-ID: m5-$run\r\nCSeq: 1 FOO\r\nContent-Length: 0\r\n\r\n")" = 501
check "an INVITE with garbage for SDP: 488" test "$(raw "INVITE sip:+15550001000@127.0.0.1 SIP/2.0\r\n${via}Call-ID: m6-$run\r\nCSeq: 1 INVITE\r\nContact: <sip:a@127.0.0.1:5999>\r\nContent-Type: application/sdp\r\nContent-Length: 9\r\n\r\nv=garbage")" = 488
check "a 60 KB header: dropped (sip.max_message_bytes)" test -z "$(raw "OPTIONS sip:x@y SIP/2.0\r\n${via}Call-ID: m7-$run\r\nCSeq: 1 OPTIONS\r\nX-Big: $(head -c 60000 /dev/zero | tr '\0' a)\r\nContent-Length: 0\r\n\r\n")"
# A keep-alive within a dialog that does not exist (To has a tag): 481, and no handle is kept.
in_dialog="Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-d$run;rport\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:x@y>;tag=no-such-dialog\r\n"
check "an in-dialog OPTIONS for no dialog of ours: 481" test "$(raw "OPTIONS sip:x@y SIP/2.0\r\n${in_dialog}Call-ID: m8-$run\r\nCSeq: 2 OPTIONS\r\nContent-Length: 0\r\n\r\n")" = 481
check "random bytes: dropped" test -z "$(raw "$(head -c 1000 /dev/urandom | base64 -w0)")"
# --- Reason phrases under load: sofia sends a response after the code that made it has moved on,
# so a phrase that did not outlive it went out as garbage or as another call's memory -------------
challenged() {  # challenged PROBE ARGS...: "COUNT STATUS-LINE" for each distinct first final response
  probe --source 127.0.0.1 --domain "prot-$run.sip.test" --count 100 --wait 2 --status-lines "$@" |
    sort | uniq -c | awk '{$1 = $1} 1'
}
phrases() { local got; got=$(challenged "${@:2}"); [[ $got == "$1" ]] || { echo "  got: $(cat -A <<<"$got" | head -5)"; return 1; }; }
check "100 INVITEs at once, each challenged with '407 Proxy Authentication Required'" \
  phrases "100 SIP/2.0 407 Proxy Authentication Required" --method INVITE --offer
check "100 REGISTERs at once, each challenged with '401 Unauthorized'" \
  phrases "100 SIP/2.0 401 Unauthorized" --method REGISTER
check "sip-edge still answers" expect_statuses "200" --source 127.0.0.1
check "and holds no call state" test "$(curl -s "$sip_admin/metrics" | awk '$1 == "tel_sip_calls_active" {print $2}')" = 0

((failed)) && show_sipp_errors
exit $failed
