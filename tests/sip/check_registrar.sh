#!/usr/bin/env bash
# The registrar with sipp as the phone: digest registration over UDP and TCP, refusals (wrong
# password, unknown user, another tenant's domain), un-REGISTER, and garbage on the SIP port.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_API_URL:?run through ./tel test}" "${TEL_ADMIN_KEY:?}" "${TEL_SIP_ADDR:?}" "${TEL_REDIS_URL:?}"
redis_port=${TEL_REDIS_URL##*:}
run=$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')
failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"; for t in "${tenants[@]}"; do admin DELETE "/v1/tenants/$t" >/dev/null; done' EXIT
tenants=()

api() {  # api KEY METHOD PATH [JSON]
  curl -sS -X "$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' ${4:+--data "$4"} "$TEL_API_URL$3"
}
admin() { api "$TEL_ADMIN_KEY" "$@"; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failed=1; fi
}
sipp_register() {  # sipp_register SCENARIO USER PASSWORD DOMAIN EXPIRES [TRANSPORT [PORT]]
  # 47000-49999: clear of media-relay's range (30000-30999) and of the unit tests' fixed ports.
  local port=${7:-$((47000 + RANDOM % 3000))}
  (cd "$work" && timeout 30 sipp -sf "$here/$1" -m 1 -s "$2" -au "$2" -ap "$3" -key domain "$4" \
    -key expires "$5" -t "${6:-u1}" -i 127.0.0.1 -p "$port" -timeout 15 -trace_err \
    -error_file "$work/sipp-$2-$port.err" "$TEL_SIP_ADDR" >"$work/sipp-$2-$port.out" 2>&1)
}
fails() { ! "$@"; }
bindings() {  # bindings TENANT ACCOUNT: number of contacts registered
  redis-cli -p "$redis_port" HLEN "tel:reg:$1:$2"
}

# Two tenants with their own SIP domains, each with an account "alice".
declare -A tenant_id key account_id
for name in a b; do
  tenant=$(admin POST /v1/tenants "{\"name\":\"sip $name $run\",\"sip_domain\":\"$name-$run.sip.test\"}")
  tenant_id[$name]=$(jq -r .id <<<"$tenant")
  tenants+=("${tenant_id[$name]}")
  key[$name]=$(admin POST "/v1/tenants/${tenant_id[$name]}/api-keys" '{"name":"sip test"}' | jq -r .secret)
  account_id[$name]=$(api "${key[$name]}" POST /v1/sip-accounts \
    "{\"username\":\"alice\",\"extension\":\"101\",\"password\":\"Alice-$name-password\"}" | jq -r .id)
done

device_port=$((46000 + RANDOM % 1000))  # the UDP "phone" keeps its port, so its contact stays the same
check "registers with digest over UDP" \
  sipp_register register.xml alice "Alice-a-password" "a-$run.sip.test" 300 u1 "$device_port"
check "the binding is in Redis" test "$(bindings "${tenant_id[a]}" "${account_id[a]}")" = 1
check "registers a second device over TCP" sipp_register register.xml alice "Alice-a-password" "a-$run.sip.test" 300 t1
check "both devices are bound" test "$(bindings "${tenant_id[a]}" "${account_id[a]}")" = 2
check "a wrong password is refused" sipp_register register_refused.xml alice "wrong-password" "a-$run.sip.test" 300
check "an unknown user is refused" sipp_register register_refused.xml mallory "whatever-pass" "a-$run.sip.test" 300
check "tenant A's account cannot register in tenant B's domain" \
  sipp_register register_refused.xml alice "Alice-a-password" "b-$run.sip.test" 300
check "nothing was bound in tenant B" test "$(bindings "${tenant_id[b]}" "${account_id[b]}")" = 0
check "an expiry below the minimum is not accepted (423)" \
  fails sipp_register register.xml alice "Alice-a-password" "a-$run.sip.test" 5
check "so the bindings are unchanged" test "$(bindings "${tenant_id[a]}" "${account_id[a]}")" = 2
check "un-REGISTER (Expires: 0) is accepted" \
  sipp_register register.xml alice "Alice-a-password" "a-$run.sip.test" 0 u1 "$device_port"
check "and removes that device's binding only" test "$(bindings "${tenant_id[a]}" "${account_id[a]}")" = 1

invite_refused() {
  local port=$((47000 + RANDOM % 3000))
  (cd "$work" && timeout 30 sipp -sf "$here/invite_refused.xml" -m 1 -key domain "a-$run.sip.test" \
    -i 127.0.0.1 -p "$port" -timeout 15 -trace_err -error_file "$work/sipp-invite-$port.err" \
    "$TEL_SIP_ADDR" >"$work/sipp-invite-$port.out" 2>&1)
}
check "an INVITE is refused with 405 and Allow: REGISTER (no calls here yet)" invite_refused

# Garbage and malformed requests: the stack drops or rejects them and keeps serving.
host=${TEL_SIP_ADDR%:*}
port=${TEL_SIP_ADDR##*:}
for payload in "$(head -c 1500 /dev/urandom | base64 -w0)" "REGISTER sip:x SIP/2.0"$'\r\n\r\n' \
  "INVITE sip:x SIP/2.0"$'\r\n'"Via: broken"$'\r\n'"Content-Length: 99999"$'\r\n\r\n' \
  "OPTIONS sip:x SIP/2.0"$'\r\n'"X-Long: $(head -c 60000 /dev/zero | tr '\0' a)"$'\r\n\r\n'; do
  printf '%s' "$payload" >"/dev/udp/$host/$port" 2>/dev/null || true
  printf '%s' "$payload" | timeout 2 bash -c "cat >/dev/tcp/$host/$port" 2>/dev/null || true
done
check "sip-edge still registers after garbage" \
  sipp_register register.xml alice "Alice-a-password" "a-$run.sip.test" 300

if ((failed)); then
  for f in "$work"/*.err; do [[ -s $f ]] && { echo "--- $f"; tail -5 "$f"; }; done
fi
exit $failed
