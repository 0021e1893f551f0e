#!/usr/bin/env bash
# SIP calls per second: sipp uac -> system -> sipp uas, ramping the rate, for two systems in one run:
#   kamailio  Kamailio 5.6 as a transaction-stateful proxy (the anchor)
#   floor     a bare B2BUA on sofia-sip nua (bench_nua_b2bua_floor): two legs, offer and answer
#             passed through, nothing else; the least any B2BUA on nua can cost here
#   tel       sip-edge (B2BUA) -> routing (number routed to the UAS's SIP URI) -> sipp uas, with
#             SDP so that media-relay allocates and frees ports for both legs
#   ivr       the same, through a voice menu: sip-edge answers, media-relay plays the menu's prompt,
#             the caller presses 1 (RFC 4733, barge-in) 400 ms in, routing rings the UAS, which is
#             bridged to the caller; a call counts as successful only if it ended answered (the key
#             understood, the agent reached), as sip-edge's tel_sip_calls_total says
# BENCH_SYSTEMS picks them (default "kamailio floor tel"; `bench/run ivr`: "kamailio tel ivr").
# Each step runs BENCH_SECONDS (60) at one rate; a step passes with < 0.1% failed calls. The CPU
# time of the system under test is read from /proc before and after each step (all its processes;
# for tel also the backing services, reported separately). sipp runs on the same 2 cores.
# Needs the local stack (./tel up) and `./tel env` in the environment.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_API_URL:?run through bench/run sip}" "${TEL_ADMIN_KEY:?}" "${TEL_SIP_ADDR:?}"
seconds=${BENCH_SECONDS:-60}
kamailio_rates=${BENCH_KAMAILIO_RATES:-"200 400 800 1200 1600 2000"}
floor_rates=${BENCH_FLOOR_RATES:-"400 800 1200 1600 2000"}
tel_rates=${BENCH_TEL_RATES:-"50 100 200 300 400 600 800"}
ivr_rates=${BENCH_IVR_RATES:-"25 50 100 150 200 300 400"}
systems=" ${BENCH_SYSTEMS:-kamailio floor tel} "
runs() { [[ $systems == *" $1 "* ]]; }
floor_binary=${BENCH_FLOOR_BINARY:-$here/../../build/bench/bench_nua_b2bua_floor}
work=$(mktemp -d)
uas_port=46550
uac_port=46560
kamailio_port=46570
floor_port=46580
pids=()
tenant=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [[ -f $work/kamailio.pid ]] && kill "$(cat "$work/kamailio.pid")" 2>/dev/null
  [[ -n ${floor_pid:-} ]] && kill "$floor_pid" 2>/dev/null
  [[ -n $tenant ]] && curl -s -X DELETE -H "Authorization: Bearer $TEL_ADMIN_KEY" "$TEL_API_URL/v1/tenants/$tenant" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
api() {  # api KEY METHOD PATH [JSON]
  curl -sS -X "$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' ${4:+--data "$4"} "$TEL_API_URL$3"
}
clock_ticks=$(getconf CLK_TCK)
cpu_seconds() {  # cpu_seconds PID...: user + system time of the processes (all their threads)
  local total=0 pid fields
  for pid in "$@"; do
    [[ -r /proc/$pid/stat ]] || continue
    read -ra fields < <(sed 's/^.*) //' "/proc/$pid/stat")
    total=$((total + fields[11] + fields[12]))
  done
  echo "scale=3; $total / $clock_ticks" | bc
}
pids_of() { pgrep -d ' ' -f "$1" || true; }

# --- The far end: sipp's built-in UAS (answers with SDP) -------------------------------------------
sipp -sn uas -i 127.0.0.1 -p "$uas_port" -mp 46600 -nostdin -bg >/dev/null 2>&1 || true
uas_pid=$(pgrep -f "sipp -sn uas -i 127.0.0.1 -p $uas_port" | head -1)
pids+=("$uas_pid")

# --- Kamailio (record-routes; the UAC follows the route set, [routes] in uac.xml) ----------------------------------------------------------------------------------
modules=$(dirname "$(find /usr/lib -name tm.so -path '*kamailio*' | head -1)")
sed -e "s#@PORT@#$kamailio_port#" -e "s#@UAS_PORT@#$uas_port#" -e "s#@MODULES@#$modules#" \
  -e "s#@CHILDREN@#$(nproc)#" "$here/kamailio.cfg.in" >"$work/kamailio.cfg"
kamailio -f "$work/kamailio.cfg" -P "$work/kamailio.pid" -m 256 -M 16 -w "$work" >"$work/kamailio.log" 2>&1 ||
  { cat "$work/kamailio.log"; echo "kamailio did not start"; exit 1; }
sleep 1
kamailio_pids=$(pids_of "kamailio -f $work/kamailio.cfg")
kamailio_version=$(kamailio -v 2>/dev/null | head -1)

# --- The floor: a bare nua B2BUA calling the UAS ------------------------------------------------
if runs floor; then
  "$floor_binary" "$floor_port" "sip:bench@127.0.0.1:$uas_port" >"$work/floor.log" 2>&1 &
  floor_pid=$!
  sleep 1
  kill -0 "$floor_pid" 2>/dev/null || { cat "$work/floor.log"; echo "the nua floor did not start"; exit 1; }
fi

# --- tel: a tenant whose number is routed to the UAS --------------------------------------------
tenant=$(api "$TEL_ADMIN_KEY" POST /v1/tenants "{\"name\":\"bench sip $$\",\"sip_domain\":\"bench-$$.sip.test\"}" | jq -r .id)
key=$(api "$TEL_ADMIN_KEY" POST "/v1/tenants/$tenant/api-keys" '{"name":"bench"}' | jq -r .secret)
number="+1555$(printf '%07d' $(((RANDOM * 32768 + RANDOM) % 10000000)))"
api "$key" POST /v1/carriers '{"name":"bench carrier","addresses":["127.0.0.1"]}' >/dev/null
api "$key" POST /v1/numbers "{\"e164\":\"$number\",\"channels\":1000,\"route\":{\"kind\":\"external\",\"external\":\"sip:bench@127.0.0.1:$uas_port\"}}" | jq -e .id >/dev/null ||
  { echo "cannot create the benchmark number"; exit 1; }
# The IVR's number: a voice menu whose key 1 rings the UAS (a one-second prompt, spoken by espeak-ng).
ivr_number="+1555$(printf '%07d' $(((RANDOM * 32768 + RANDOM) % 10000000)))"
if runs ivr; then
  api "$key" POST /v1/numbers "{\"e164\":\"$ivr_number\",\"channels\":1000,\"route\":{\"kind\":\"none\"}}" | jq -e .id >/dev/null &&
    api "$key" PUT /v1/prompts/bench-menu '{"text": "For sales, press one."}' | jq -e .duration_ms >/dev/null &&
    api "$key" PUT /v1/dialplan "{\"nodes\": {
        \"menu\": {\"type\": \"menu\", \"prompt\": \"bench-menu\", \"choices\": {\"1\": \"agents\"}, \"timeout_seconds\": 3, \"retries\": 0},
        \"agents\": {\"type\": \"scheme\", \"steps\": [{\"targets\": [{\"uri\": \"sip:bench@127.0.0.1:$uas_port\"}]}]}},
      \"numbers\": {\"$ivr_number\": \"menu\"}}" | jq -e .version >/dev/null ||
    { echo "cannot set up the IVR benchmark's number"; exit 1; }
fi
sip_edge_admin=$(tr ' ' '\n' <<<"${TEL_ADMIN_URLS:-}" | sed -n 's/^sip-edge=//p')
answered_calls() { curl -s "$sip_edge_admin/metrics" | awk '$1 == "tel_sip_calls_total{disposition=\"DISPOSITION_ANSWERED\"}" {print $2}'; }
path_pids="$(pids_of build/services/sip-edge/sip-edge) $(pids_of build/services/routing/routing) $(pids_of build/services/media-relay/media-relay)"
backing_pids="$(pids_of build/services/accounts/accounts) $(pids_of build/services/cdr-ingest/cdr-ingest) $(pids_of 'postgres') $(pids_of redis-server) $(pids_of kafka.Kafka)"

port_of() {  # port_of TARGET: where the UAC sends its INVITEs
  case $1 in kamailio) echo "$kamailio_port" ;; floor) echo "$floor_port" ;; *) echo "${TEL_SIP_ADDR##*:}" ;; esac
}

# step TARGET RATE: one step; prints "rate ok|FAIL successful failed cpu_path cpu_backing"
step() {
  local target=$1 rate=$2 calls=$(($2 * seconds)) before_path before_backing out answered_before
  if [[ $target == kamailio ]]; then before_path=$(cpu_seconds $kamailio_pids); before_backing=0
  elif [[ $target == floor ]]; then before_path=$(cpu_seconds $floor_pid); before_backing=0
  else before_path=$(cpu_seconds $path_pids); before_backing=$(cpu_seconds $backing_pids); fi
  out=$work/uac-$target-$rate.out
  local scenario=$here/uac.xml called=$number
  if [[ $target == ivr ]]; then scenario=$here/uac_ivr.xml called=$ivr_number answered_before=$(answered_calls); fi
  sipp -sf "$scenario" -i 127.0.0.1 -p "$uac_port" -mp 46700 -s "$called" -r "$rate" -m "$calls" -l 5000 \
    -recv_timeout 10000 -timeout $((seconds + 60)) -nostdin -trace_err -error_file "$out.errors" \
    "127.0.0.1:$(port_of "$target")" >"$out" 2>&1
  sleep 2  # let the system finish the last calls before reading its CPU time
  local after_path after_backing successful failed
  if [[ $target == kamailio ]]; then after_path=$(cpu_seconds $kamailio_pids); after_backing=0
  elif [[ $target == floor ]]; then after_path=$(cpu_seconds $floor_pid); after_backing=0
  else after_path=$(cpu_seconds $path_pids); after_backing=$(cpu_seconds $backing_pids); fi
  successful=$(awk -F'|' '/Successful call/ {gsub(/ /, "", $3); print $3}' "$out" | tail -1)
  failed=$(awk -F'|' '/Failed call/ {gsub(/ /, "", $3); print $3}' "$out" | tail -1)
  successful=${successful:-0}
  failed=${failed:-$calls}
  if [[ $target == ivr ]]; then
    # sipp sees its side of the call succeed even when the menu missed the key (the menu then hangs
    # up after its timeout, past the caller's BYE): only calls that reached the agent count.
    local reached=$(($(answered_calls) - answered_before))
    if ((reached < successful)); then
      failed=$((failed + successful - reached))
      successful=$reached
    fi
  fi
  local verdict=ok
  if ((successful + failed < calls)) || ((failed * 1000 >= calls)); then verdict=FAIL; fi
  # Why calls failed, from sipp's error log (stderr): its events, with call ids, branches and the
  # messages' headers left out so that alike events count together, most frequent first.
  if ((failed > 0)) && [[ -s $out.errors ]]; then
    awk -v step="$target $rate" '
      /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]\t/ {
        sub(/^[^\t]*\t[^\t]*\t[^ ]* /, "")
        event = $0
        if (event ~ /:$/) { getline; event = event " " $0 }  # the message follows on the next line
        gsub(/[0-9]+-[0-9]+@[0-9.]+/, "<call>", event)
        sub(/ Via:.*/, "", event)
        count[event]++
      }
      END { for (e in count) printf "%8d %s: %s\n", count[e], step, e }' "$out.errors" | sort -rn | head -4 >&2
  fi
  printf '%s %s %s %s %s %s\n' "$rate" "$verdict" "$successful" "$failed" \
    "$(echo "scale=3; ($after_path - $before_path) * 1000000 / ($successful + 1)" | bc)" \
    "$(echo "scale=3; ($after_backing - $before_backing) * 1000000 / ($successful + 1)" | bc)"
}

ramp() {  # ramp TARGET RATES...: steps until one fails; prints a table, remembers the best rate
  local target=$1
  shift
  best=0
  best_cpu=0
  printf '  %-8s %6s %-5s %10s %8s %18s %22s\n' "$target" rate verdict successful failed "CPU/call (us)" "backing CPU/call (us)"
  for rate in "$@"; do
    read -r r verdict successful failed cpu backing < <(step "$target" "$rate")
    printf '  %-8s %6s %-5s %10s %8s %18s %22s\n' "" "$r" "$verdict" "$successful" "$failed" "$cpu" "$backing"
    [[ $verdict == ok ]] || break
    best=$r
    best_cpu=$cpu
  done
}

# An unrecorded warm-up through each system: caches, connections, the UAS's sockets, and (for tel)
# the first load on the Kafka broker and Postgres after a start (JIT, plans), which made the first
# step of a run fail more often than the same rate later. 15 s at 100 calls/s.
warm_up() {
  sipp -sf "$here/uac.xml" -i 127.0.0.1 -p "$uac_port" -mp 46700 -s "$number" -r 100 -m 1500 -timeout 60 -nostdin "$1" >/dev/null 2>&1
}
runs kamailio && warm_up "127.0.0.1:$kamailio_port"
runs floor && warm_up "127.0.0.1:$floor_port"
warm_up "$TEL_SIP_ADDR"

echo "SIP calls/s, $(nproc) cores, ${seconds} s per step, sipp uac/uas on the same machine"
echo "anchor: $kamailio_version (tm, record-route, $(nproc) UDP workers)"
kamailio_best=0 kamailio_cpu=0 floor_best=0 floor_cpu=0 tel_best=0 tel_cpu=0 ivr_best=0 ivr_cpu=0
if runs kamailio; then ramp kamailio $kamailio_rates; kamailio_best=$best; kamailio_cpu=${best_cpu:-0}; fi
if runs floor; then ramp floor $floor_rates; floor_best=$best; floor_cpu=${best_cpu:-0}; fi
if runs tel; then ramp tel $tel_rates; tel_best=$best; tel_cpu=${best_cpu:-0}; fi
if runs ivr; then ramp ivr $ivr_rates; ivr_best=$best; ivr_cpu=${best_cpu:-0}; fi
echo
ratio() { if [[ $2 == 0 ]]; then echo "n/a"; else echo "scale=2; $1 / $2" | bc; fi; }
if runs tel; then
  echo "max rate held with < 0.1% failed calls: tel $tel_best calls/s, kamailio $kamailio_best calls/s" \
    "(ratio $(ratio "$tel_best" "$kamailio_best"))"
  echo "CPU per call at that rate: tel call path $tel_cpu us, kamailio $kamailio_cpu us" \
    "(ratio $(ratio "$tel_cpu" "$kamailio_cpu"))"
fi
if runs floor; then
  echo "floor (bare nua B2BUA): $floor_best calls/s at $floor_cpu us per call" \
    "(kamailio ratio: rate $(ratio "$floor_best" "$kamailio_best"), CPU $(ratio "$floor_cpu" "$kamailio_cpu"))"
fi
if runs ivr; then
  echo "IVR calls (answer, prompt, key, dial, bridge) held with < 0.1% failed: $ivr_best calls/s at $ivr_cpu us" \
    "of call-path CPU per call; beside kamailio: rate $(ratio "$ivr_best" "$kamailio_best"), CPU $(ratio "$ivr_cpu" "$kamailio_cpu")" \
    "$(runs tel && echo "; beside plain tel calls: rate $(ratio "$ivr_best" "$tel_best"), CPU $(ratio "$ivr_cpu" "$tel_cpu")")"
fi
