#!/usr/bin/env bash
# Call recording with a real call: the dial plan's scheme records its calls; the carrier's caller
# (sipp) says a 1 kHz tone, the answering phone (sipp) a 2 kHz tone; media-relay writes one stereo
# WAV, the call record lists it and the API serves it. The file must have two channels, last as
# long as the call was talked (within half a second), and hold each side's tone on its own
# channel (the caller left, the callee right). Another tenant cannot fetch it; once older than the
# tenant's retention it is deleted and the record says so; an unrecorded call has none.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}" "${TEL_RECORDINGS_DIR:?}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=calls_lib.sh
source "$here/calls_lib.sh"
run=$(random_hex 6)
domain="rec-$run.sip.test"
pids=()
tenants=()
trap cleanup_test EXIT
[[ -n ${KEEP_WORK:-} ]] && trap - EXIT

test_tenants recording
declare -A password phone_port
password[bob]="Secret-102-$run"
api "$key" POST /v1/sip-accounts "{\"username\":\"bob\",\"extension\":\"102\",\"password\":\"${password[bob]}\"}" >/dev/null
take_port
phone_port[bob]=$port
number=$(new_number '{"kind":"none"}' 4)
take_port
api "$key" POST /v1/carriers "{\"name\":\"test carrier\",\"addresses\":[\"127.0.0.1\"],\"outbound_uri\":\"sip:127.0.0.1:$port\"}" >/dev/null

# Ten seconds of each tone, raw A-law (what sipp's rtp_stream sends).
python3 "$here/tone.py" "$work/caller.al" 10 1000
python3 "$here/tone.py" "$work/callee.al" 10 2000
caller_says=$(scenario uac_call.xml caller-bye)
sed -i "s#\[audio\]#$work/caller.al#" "$caller_says"
callee_says=$(scenario uas_answer.xml stream caller-bye)
sed -i "s/\[from_check\]/./; s#\[callee_audio\]#$work/callee.al#" "$callee_says"

plan() {  # plan RECORD: the number rings bob, recording or not
  api "$key" PUT /v1/dialplan "{
    \"nodes\": {\"sales\": {\"type\": \"scheme\", \"record\": $1, \"steps\": [{\"targets\": [{\"extension\": \"102\"}]}]}},
    \"numbers\": {\"$number\": \"sales\"}}" | jq -e '.version >= 1' >/dev/null
}

# --- A recorded call ---------------------------------------------------------------------------------
check "a plan whose scheme records is saved" plan true
DEVICE_ECHO=no device bob "$callee_says"
since=$(now_utc)
check "the caller talks to bob for 3 s" carrier_call "$number" "$caller_says" -d 3000
check "bob's phone had the call" finished "$device_pid"
call=$(newest_record "$since")
call_id=$(jq -r .id <<<"$call")
check "the record lists the recording and where the API serves it" expect "$call" \
  '.recording.duration_ms > 2000 and .recording.bytes > 44 and .recording.url == "/v1/calls/\(.id)/recording"'
check "the API serves the recording as audio/wav" test "$(status_of "$key" "/v1/calls/$call_id/recording")" = 200
check "the WAV: two channels, 8 kHz, as long as the call was talked (within 0.5 s), each side's tone on its own channel" \
  python3 - "$work/body" "$call" <<'PY'
import datetime, json, math, struct, sys, wave
record = json.loads(sys.argv[2])
with wave.open(sys.argv[1]) as w:
    channels, rate, frames = w.getnchannels(), w.getframerate(), w.getnframes()
    data = w.readframes(frames)
def when(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
talk_ms = (when(record["ended_at"]) - when(record["answered_at"])).total_seconds() * 1000
duration_ms = frames * 1000 / rate
samples = struct.unpack("<%dh" % (len(data) // 2), data)
left, right = samples[0::2], samples[1::2]
def power(xs, frequency):
    c = 2 * math.cos(2 * math.pi * frequency / 8000)
    p = q = 0.0
    for x in xs:
        p, q = x + c * p - q, p
    return p * p + q * q - c * p * q
ok = (channels == 2 and rate == 8000 and abs(duration_ms - talk_ms) <= 500
      and abs(duration_ms - record["recording"]["duration_ms"]) <= 20
      and power(left, 1000) > 100 * power(left, 2000) and power(right, 2000) > 100 * power(right, 1000))
if not ok:
    print(f"  channels {channels}, rate {rate}, {duration_ms:.0f} ms recorded, {talk_ms:.0f} ms talked, "
          f"left 1k/2k {power(left, 1000):.3g}/{power(left, 2000):.3g}, right 2k/1k {power(right, 2000):.3g}/{power(right, 1000):.3g}")
sys.exit(0 if ok else 1)
PY
check "the file is in the recordings store, under the tenant" test -s "$TEL_RECORDINGS_DIR/$tenant/$call_id.wav"
check "another tenant's key cannot fetch it (404)" test "$(status_of "$other_key" "/v1/calls/$call_id/recording")" = 404

# --- Retention: the tenant keeps recordings one day; this one is made two days old ------------------
retention() { api "$key" PATCH "/v1/tenants/$tenant" "{\"recording_retention_days\": $1}"; }
refused_retention() { retention "$1" | jq -e '.error.field == "recording_retention_days"' >/dev/null; }
kept_days() { retention "$1" | jq -e --argjson days "$1" '.recording_retention_days == $days' >/dev/null; }
check "a retention of 0 days is refused" refused_retention 0
check "and one of 5000 days" refused_retention 5000
check "the tenant keeps recordings for one day" kept_days 1
check "the recorded call ended two days ago" psql -q "$TEL_PG_OWNER_URL" -v ON_ERROR_STOP=1 -c "
  BEGIN; SET LOCAL tel.tenant_id = '$tenant';
  UPDATE calls SET ended_at = now() - interval '2 days' WHERE call_id = '$call_id'; COMMIT;"
expired() {
  [[ ! -e "$TEL_RECORDINGS_DIR/$tenant/$call_id.wav" ]] &&
    api "$key" GET "/v1/calls/$call_id" | jq -e '.recording.expired == true and .recording.url == null and .recording.duration_ms > 2000' >/dev/null
}
check "within a sweep (5 s here), the file is deleted and the record says so, keeping its length" \
  eventually 15 expired
check "the API answers 404 for it" test "$(status_of "$key" "/v1/calls/$call_id/recording")" = 404

# --- An unrecorded call -----------------------------------------------------------------------------
check "a plan whose scheme does not record" plan false
plain_answers=$(scenario uas_answer.xml caller-bye)
sed -i 's/\[from_check\]/./' "$plain_answers"
device bob "$plain_answers"
since=$(now_utc)
check "a call answered by bob" carrier_call "$number" "$caller_says" -d 500
finished "$device_pid"
call=$(newest_record "$since")
check "its record has no recording" expect "$call" '.disposition == "answered" and .recording == null'
check "and the API says so (404)" test "$(status_of "$key" "/v1/calls/$(jq -r .id <<<"$call")/recording")" = 404

exit $failed
