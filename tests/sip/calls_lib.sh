# Peers, ports and lookups of the call tests (sourced after lib.sh, once `work` exists). The sourcing
# script provides: key (the tenant's API key), domain (its SIP domain), password[user] and
# phone_port[user] for its accounts, and pids (background peers to kill at the end).

# Ports for the sipp peers: 21000-24999, below the kernel's ephemeral range (32768+, where any
# client socket may sit) and clear of media-relay (30000-32767), the registrar and protection tests
# (25000-28999) and the services (17xxx). Each peer takes a block of 10 (SIP, media, RTP stream);
# the tests that use this range run alone (RUN_SERIAL).
next_port=$((21000 + (RANDOM % 380) * 10))
take_port() { port=$next_port; next_port=$((next_port + 10)); }
# 5 s of A-law silence for sipp's rtp_stream.
head -c 40000 /dev/zero | tr '\0' '\325' >"${work:?}/silence.al"

new_number() {  # new_number ROUTE_JSON [CHANNELS]: prints a fresh number routed as given
  local e164
  for _ in 1 2 3 4 5; do
    e164="+1555$(printf '%07d' $(((RANDOM * 32768 + RANDOM) % 10000000)))"
    if api "$key" POST /v1/numbers "{\"e164\":\"$e164\",\"channels\":${2:-2},\"route\":$1}" | jq -e .id >/dev/null; then
      echo "$e164"
      return 0
    fi
  done
  return 1
}
ring() { echo "{\"kind\":\"extensions\",\"extensions\":[$1],\"ring_timeout_seconds\":${2:-30}}"; }

device() {  # device USER SCENARIO_FILE [SIPP ARGS...]: registers USER's phone and answers there
  # (it echoes the audio it gets, unless DEVICE_ECHO=no: a device that streams its own)
  local user=$1 file=$2
  shift 2
  port=${phone_port[$user]}
  device_runs=$((${device_runs:-0} + 1))
  sipp_register register.xml "$user" "${password[$user]}" "$domain" 300 u1 "$port" || return 1
  local echo=-rtp_echo
  [[ ${DEVICE_ECHO:-yes} == no ]] && echo=""
  (cd "$work" && exec timeout 60 sipp -sf "$file" -m 1 -i 127.0.0.1 -p "$port" -mp $((port + 2)) $echo \
    -timeout 50 -trace_err -error_file "$work/device-$user-$device_runs.err" "$@" \
    >"$work/device-$user-$device_runs.out" 2>&1) &
  device_pid=$!
  pids+=("$device_pid")
}
carrier_call() {  # carrier_call NUMBER SCENARIO_FILE [SIPP ARGS...]: a call from the carrier
  local number=$1 file=$2
  shift 2
  # A call run in the background gets its port from the caller (CALL_PORT): a subshell's take_port
  # would not advance the parent's counter.
  if [[ -n ${CALL_PORT:-} ]]; then port=$CALL_PORT; else take_port; fi
  (cd "$work" && timeout 60 sipp -sf "$file" -m 1 -s "$number" -key caller +15557654321 \
    -i "${source_ip:-127.0.0.1}" -p "$port" -mp $((port + 2)) \
    -timeout 50 -trace_err -error_file "$work/carrier-$port.err" "$@" "$TEL_SIP_ADDR" >"$work/carrier-$port.out" 2>&1)
}
refused_call() {  # refused_call NUMBER STATUS [SDP_MEDIA_LINE]
  local file
  file=$(scenario uac_refused.xml)
  sed -i "s/response=\"STATUS\"/response=\"$2\"/" "$file"
  carrier_call "$1" "$file" -key sdp_media "${3:-m=audio 4000 RTP/AVP 8}"
}
phone_call() {  # phone_call USER DIALLED BLOCK [SIPP ARGS...]: a call placed by an account
  # (REFUSED_STATUS: the status the "refused" block expects instead of 403)
  local user=$1 dialled=$2 block=$3 file
  shift 3
  file=$(scenario uac_account_call.xml "$block")
  [[ -n ${REFUSED_STATUS:-} ]] && sed -i "s/recv response=\"403\"/recv response=\"$REFUSED_STATUS\"/" "$file"
  take_port
  (cd "$work" && timeout 60 sipp -sf "$file" -m 1 -s "$dialled" -au "$user" -ap "${PHONE_PASSWORD:-${password[$user]}}" \
    -key user "$user" -key domain "$domain" -i 127.0.0.1 -p "$port" -mp $((port + 2)) -timeout 50 -trace_err \
    -error_file "$work/phone-$user-$port.err" "$@" "$TEL_SIP_ADDR" >"$work/phone-$user-$port.out" 2>&1)
}
finished() {  # finished PID: the background peer ended its scenario successfully
  local status
  wait "$1"
  status=$?
  ((status == 0)) || echo "  sipp exit status $status"
  return $status
}

# newest_record SINCE: the call log's only complete call of $number started after SINCE (now_utc
# before the call), with its legs; earlier cases' calls are older.
newest_record() {
  local id="" deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    id=$(api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$number" '$n|@uri')" |
      jq -r --arg after "$1" '[.items[] | select(.complete and .started_at > $after)] | if length == 1 then .[0].id else empty end')
    [[ -n $id ]] && break
    sleep 0.1
  done
  [[ -n $id ]] && api "$key" GET "/v1/calls/$id"
}
now_utc() { date -u +%Y-%m-%dT%H:%M:%S; }
# test_tenants NAME: the test's tenant ($tenant, its API key $key, SIP domain $domain) and another
# ($other, $other_key) to show isolation, both listed in $tenants for cleanup_test to delete.
test_tenants() {
  tenant=$(admin POST /v1/tenants "{\"name\":\"$1 $run\",\"sip_domain\":\"$domain\"}" | jq -r .id)
  tenants+=("$tenant")
  key=$(admin POST "/v1/tenants/$tenant/api-keys" "{\"name\":\"$1 test\"}" | jq -r .secret)
  other=$(admin POST /v1/tenants "{\"name\":\"other $run\",\"sip_domain\":\"other-$domain\"}" | jq -r .id)
  tenants+=("$other")
  other_key=$(admin POST "/v1/tenants/$other/api-keys" "{\"name\":\"$1 test\"}" | jq -r .secret)
}
# cleanup_test: the EXIT trap of a test using test_tenants: its peers ($pids), tenants and files go.
cleanup_test() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  local id
  for id in "${tenants[@]}"; do admin DELETE "/v1/tenants/$id" >/dev/null; done
  rm -rf "$work"
}
admin_url() { tr ' ' '\n' <<<"$TEL_ADMIN_URLS" | sed -n "s/^$1=//p"; }  # admin_url SERVICE
metric() { curl -s "$(admin_url "$1")/metrics" | awk -v name="$2" '$1 == name {print $2}'; }  # metric SERVICE SERIES
# status_of KEY PATH: the HTTP status of a GET, its body in $work/body
status_of() { curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$TEL_API_URL$2"; }

# record NUMBER: the call log's only call for NUMBER, once complete (prints its JSON with legs)
record() {
  local id="" deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    id=$(api "$key" GET "/v1/calls?number=$(jq -rn --arg n "$1" '$n|@uri')" |
      jq -r '[.items[] | select(.complete)] | if length == 1 then .[0].id else empty end')
    [[ -n $id ]] && break
    sleep 0.1
  done
  [[ -n $id ]] && api "$key" GET "/v1/calls/$id"
}
# expect JSON JQ_FILTER: the filter holds for the record
# expect JSON FILTER: the record is there and matches (jq -e alone passes an empty input).
expect() {
  [[ -n $1 ]] || { echo "  no record"; return 1; }
  jq -e "$2" >/dev/null <<<"$1" || { echo "  record: $(jq -c 'del(.legs[]?.created_at)' <<<"$1")"; return 1; }
}
