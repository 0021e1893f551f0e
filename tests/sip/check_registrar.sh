#!/usr/bin/env bash
# The registrar with sipp as the phone: digest registration over UDP and TCP, refusals (wrong
# password, unknown user, another tenant's domain), un-REGISTER, and garbage on the SIP port.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}"
redis_port=${TEL_REDIS_URL##*:}
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
run=$(random_hex 6)
trap 'rm -rf "$work"; for t in "${tenants[@]}"; do admin DELETE "/v1/tenants/$t" >/dev/null; done' EXIT
tenants=()

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

device_port=$((25000 + RANDOM % 1000))  # the UDP "phone" keeps its port, so its contact stays the same
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

((failed)) && show_sipp_errors
exit $failed
