#!/usr/bin/env bash
# Voicemail with real calls: the dial plan sends the number's callers to a voicemail node; sip-edge
# answers, media-relay plays the greeting (rendered by espeak-ng when saved) and its beep, then
# records what the caller (sipp) says into a mono WAV until # (RFC 4733), silence or the maximum
# length, and routing hangs up. Each message is a call record in the box's list
# (GET /v1/voicemails), missed (no_answer), with its recording served by the API; it can be marked
# heard. A caller who hangs up mid-message leaves it too; one who hangs up in the greeting leaves
# none. Another tenant sees none of it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}" "${TEL_RECORDINGS_DIR:?}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=calls_lib.sh
source "$here/calls_lib.sh"
run=$(random_hex 6)
domain="vm-$run.sip.test"
pids=()
tenants=()
trap cleanup_test EXIT
[[ -n ${KEEP_WORK:-} ]] && trap - EXIT

test_tenants voicemail
number=$(new_number '{"kind":"none"}' 4)
api "$key" POST /v1/carriers '{"name":"test carrier","addresses":["127.0.0.1"],"outbound_uri":"sip:127.0.0.1:5060"}' >/dev/null

# The caller's speech: a 1 kHz tone, raw A-law (what sipp's rtp_stream sends), 2 s and 12 s long.
python3 "$here/tone.py" "$work/speech.al" 2 1000
python3 "$here/tone.py" "$work/long.al" 12 1000

# answers KEY METHOD PATH BODY JQ: the API's answer satisfies JQ
answers() { api "$1" "$2" "$3" "$4" | jq -e "$5" >/dev/null; }
check "the greeting is rendered from text when saved" \
  answers "$key" PUT /v1/prompts/vm-greeting '{"text": "Please leave a message after the tone."}' '.duration_ms > 500'
greeting_ms=$(api "$key" GET /v1/prompts/vm-greeting | jq -r .duration_ms)
plan() {  # plan MAX_SECONDS SILENCE_SECONDS: the number goes straight to the sales box
  api "$key" PUT /v1/dialplan "{
    \"nodes\": {\"vm\": {\"type\": \"voicemail\", \"box\": \"sales\", \"greeting\": \"vm-greeting\",
                       \"max_seconds\": $1, \"silence_seconds\": $2}},
    \"numbers\": {\"$number\": \"vm\"}}" | jq -e '.version >= 1' >/dev/null
}
# caller BLOCKS SPEECH WAIT_MS SPEAK_AFTER_MS KEYS: a call to the number; the greeting is heard by the
# RTP listener (its summary in $work/heard.json), then the caller says SPEECH ("" for nothing) and
# presses KEYS ("#" or nothing).
caller() {
  local blocks=$1 speech=$2 wait=$3 speak_after=$4 keys=$5 file actions=""
  file=$(scenario uac_ivr.xml $blocks)
  # No pause after the key: sip-edge's BYE may follow at once, and sipp aborts on one it is not waiting for.
  [[ $keys == "#" ]] && actions="<nop><action><exec play_pcap_audio=\"/usr/share/sip-tester/dtmf_2833_pound.pcap\"/></action></nop>"
  sed -i "s#KEYS#$actions#; s#SPEECH_FILE#$work/$speech.al#; s#\[wait\]#$wait#; s#\[speak_after\]#$speak_after#; s#<pause milliseconds=\"\[after\]\"/>##" "$file"
  take_port
  local listen=$((port + 5))
  python3 "$here/rtp_listener.py" --port "$listen" --seconds $(((wait + 1000) / 1000)) --out "$work/heard.json" &
  local listener=$!
  sleep 0.2
  carrier_call "$number" "$file" -key listen_port "$listen"
  local status=$?
  wait "$listener"
  return $status
}
heard() { jq -e "$1" "$work/heard.json" >/dev/null || { echo "  heard: $(cat "$work/heard.json")"; return 1; }; }
# message_wav MIN_MS MAX_MS: $work/body is a mono 8 kHz WAV of that length, the caller's 1 kHz tone in it.
message_wav() {
  python3 - "$work/body" "$1" "$2" <<'PY'
import math, struct, sys, wave
with wave.open(sys.argv[1]) as w:
    channels, rate, frames = w.getnchannels(), w.getframerate(), w.getnframes()
    samples = struct.unpack("<%dh" % frames, w.readframes(frames)) if channels == 1 else ()
def power(xs, frequency):
    c = 2 * math.cos(2 * math.pi * frequency / 8000)
    p = q = 0.0
    for x in xs:
        p, q = x + c * p - q, p
    return p * p + q * q - c * p * q
duration_ms = frames * 1000 / rate
ok = channels == 1 and rate == 8000 and int(sys.argv[2]) <= duration_ms <= int(sys.argv[3]) \
     and power(samples, 1000) > 100 * power(samples, 2000)
if not ok:
    print(f"  channels {channels}, rate {rate}, {duration_ms:.0f} ms")
sys.exit(0 if ok else 1)
PY
}
# The caller starts talking half a second after the greeting and its 400 ms beep.
talk_at=$((greeting_ms + 400 + 500))

# --- # ends the message ------------------------------------------------------------------------------
check "a plan sending the number to voicemail is saved" plan 30 5
since=$(now_utc)
# The key comes from sipp's other media port: the relay takes it once the speech's port has been
# quiet for 2 s (re-latching, timeouts.relatch), as from a phone that moved; so 2.5 s after the speech.
check "the caller hears the greeting and the beep, talks for 2 s, presses # and is hung up on" \
  caller "speak press wait-bye" speech "$talk_at" 4500 "#"
expected=$(((greeting_ms + 400) / 20))
check "the caller heard the greeting and the beep: PCMA packets, one source, no gap" heard \
  ".payload_types[\"8\"] >= $((expected - 3)) and .payload_types[\"8\"] <= $((expected + 3)) and (.ssrcs | length) == 1
   and .sequence_gaps == 0"
call=$(newest_record "$since")
call_id=$(jq -r .id <<<"$call")
check "record: missed (no answer), in the sales box, new, with a mono recording of about 5 s" expect "$call" \
  '.disposition == "no_answer" and .voicemail == {"box": "sales", "heard": false, "heard_at": null}
   and .recording.voicemail and .recording.channels == 1
   and .recording.duration_ms >= 4000 and .recording.duration_ms <= 6500'
check "record: the route shows the message and why it ended" expect "$call" \
  '[.route[] | .type + " " + .outcome] | index("voicemail recording") != null and index("voicemail terminator") != null'
check "the API serves the message" test "$(status_of "$key" "/v1/calls/$call_id/recording")" = 200
check "the WAV: one channel, 8 kHz, 4-6.5 s, the caller's tone in it" message_wav 4000 6500

# --- Silence ends the message -------------------------------------------------------------------------
check "a plan ending messages after 2 s of silence" plan 30 2
since=$(now_utc)
started=$SECONDS
check "the caller talks for 2 s, then says nothing and is hung up on" \
  caller "speak wait-bye" speech "$talk_at" 100 ""
check "about 2 s after the caller fell silent" test $((SECONDS - started)) -le $(((talk_at + 2500 + 2000) / 1000 + 3))
silent=$(newest_record "$since")
check "record: in the sales box, ended by silence, 4-6 s long" expect "$silent" \
  '.voicemail.box == "sales" and ([.route[] | .outcome] | index("silence") != null)
   and .recording.duration_ms >= 4000 and .recording.duration_ms <= 6000'

# --- The maximum length ends the message ---------------------------------------------------------------
check "a plan allowing messages of 5 s, no end on silence" plan 5 0
since=$(now_utc)
check "the caller talks on and is hung up on after 5 s" caller "speak wait-bye" long "$talk_at" 100 ""
long=$(newest_record "$since")
check "record: ended at the maximum length, 5 s long (within 0.3 s)" expect "$long" \
  '([.route[] | .outcome] | index("max_length") != null) and .recording.duration_ms >= 4700 and .recording.duration_ms <= 5300'

# --- A caller who hangs up mid-message leaves it; one who hangs up in the greeting leaves none ---------
check "a plan with messages of up to 30 s" plan 30 5
since=$(now_utc)
check "the caller talks for 2 s and hangs up" caller "speak hang-up" speech "$talk_at" 2500 ""
hung_up=$(newest_record "$since")
check "record: the message is kept, missed, in the box" expect "$hung_up" \
  '.disposition == "no_answer" and .voicemail.box == "sales" and .recording.voicemail and .recording.duration_ms >= 2000'
since=$(now_utc)
check "a caller hangs up during the greeting" caller "hang-up" speech 500 0 ""
early=$(newest_record "$since")
check "record: no message, so no voicemail and no recording" expect "$early" '.voicemail == null and .recording == null'

# --- The box's list, heard and new -----------------------------------------------------------------------
listed() { answers "$key" GET "/v1/voicemails$1" "" "$2"; }
check "the sales box lists the four messages, newest first" \
  listed "?box=sales" "[.items[].id] == [\"$(jq -r .id <<<"$hung_up")\", \"$(jq -r .id <<<"$long")\", \"$(jq -r .id <<<"$silent")\", \"$call_id\"]"
check "all of them new" listed "?unheard=true" '.items | length == 4'
check "a message is marked heard" \
  answers "$key" PATCH "/v1/voicemails/$call_id" '{"heard": true}' '.voicemail.heard and .voicemail.heard_at != null'
check "three are new now" listed "?unheard=true" '(.items | length) == 3 and all(.items[]; .id != "'"$call_id"'")'
check "another box is empty" listed "?box=support" '.items == []'
check "a call without a message cannot be marked (404)" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"heard": true}' "$TEL_API_URL/v1/voicemails/$(jq -r .id <<<"$early")")" = 404
check "a heard that is no boolean is refused naming it (400)" \
  answers "$key" PATCH "/v1/voicemails/$call_id" '{"heard": "yes"}' '.error.field == "heard"'
check "unheard must be true or false (400)" test "$(status_of "$key" "/v1/voicemails?unheard=maybe")" = 400
check "a box name past 64 characters is refused naming it (400)" \
  answers "$key" GET "/v1/voicemails?box=$(printf 'b%.0s' {1..65})" "" '.error.field == "box"'
check "a PATCH without heard is refused naming it (400)" answers "$key" PATCH "/v1/voicemails/$call_id" '{}' '.error.field == "heard"'
check "an unknown field is refused (400)" answers "$key" PATCH "/v1/voicemails/$call_id" '{"heard": true, "box": "x"}' '.error.code == "invalid_argument"'
check "a message id that is no call is 404" test "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $key" \
  -H 'Content-Type: application/json' -d '{"heard": true}' "$TEL_API_URL/v1/voicemails/..%2F..%2Fetc")" = 404

# --- Another tenant ------------------------------------------------------------------------------------------
check "another tenant lists no voicemail" answers "$other_key" GET /v1/voicemails "" '.items == []'
check "cannot mark this tenant's message (404)" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $other_key" -H 'Content-Type: application/json' \
    -d '{"heard": false}' "$TEL_API_URL/v1/voicemails/$call_id")" = 404
check "nor fetch it (404)" test "$(status_of "$other_key" "/v1/calls/$call_id/recording")" = 404
check "and the message is still heard" answers "$key" GET "/v1/calls/$call_id" "" '.voicemail.heard'

exit $failed
