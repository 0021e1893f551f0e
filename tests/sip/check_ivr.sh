#!/usr/bin/env bash
# Voice menus with real calls: sipp is the carrier's caller (its audio port pointed at an RTP
# listener, so the test sees what the caller hears) and the managers' phones; sip-edge answers the
# caller itself, media-relay plays the menu's prompt (rendered by espeak-ng when it was saved) and
# hears the caller's keys as RFC 4733 telephone-events, routing follows the key pressed. Cases: a
# key picks the sales scheme and 101 answers; no key replays the menu with its timeout prompt and
# the fallback hangs up; a wrong key plays the invalid prompt, then an extension typed with #
# rings that phone; a key sent as SIP INFO (the fallback for phones without RFC 4733) works too;
# a prompt whose file is gone is never played, and the menu still ends.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${TEL_REDIS_URL:?run through ./tel test}" "${TEL_PROMPTS_DIR:?}"
work=$(mktemp -d)
# shellcheck source=lib.sh
source "$here/lib.sh"
# shellcheck source=calls_lib.sh
source "$here/calls_lib.sh"
run=$(random_hex 6)
domain="ivr-$run.sip.test"
pids=()
tenant=""
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  [[ -n $tenant ]] && admin DELETE "/v1/tenants/$tenant" >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
[[ -n ${KEEP_WORK:-} ]] && trap - EXIT

tenant=$(admin POST /v1/tenants "{\"name\":\"ivr $run\",\"sip_domain\":\"$domain\"}" | jq -r .id)
key=$(admin POST "/v1/tenants/$tenant/api-keys" '{"name":"ivr test"}' | jq -r .secret)
declare -A password phone_port
for user in alice:101 bob:102; do
  password[${user%%:*}]="Secret-${user##*:}-$run"
  api "$key" POST /v1/sip-accounts \
    "{\"username\":\"${user%%:*}\",\"extension\":\"${user##*:}\",\"password\":\"${password[${user%%:*}]}\"}" >/dev/null
  take_port
  phone_port[${user%%:*}]=$port
done
number=$(new_number '{"kind":"none"}' 4)
take_port
api "$key" POST /v1/carriers "{\"name\":\"test carrier\",\"addresses\":[\"127.0.0.1\"],\"outbound_uri\":\"sip:127.0.0.1:$port\"}" >/dev/null
answers=$(scenario uas_answer.xml caller-bye)
sed -i 's/\[from_check\]/./' "$answers"

prompt_ms() { api "$key" GET "/v1/prompts/$1" | jq -r .duration_ms; }
say() { api "$key" PUT "/v1/prompts/$1" "{\"text\": \"$2\"}" | jq -e '.duration_ms > 500' >/dev/null; }
check "the menu's prompts are rendered from text when saved" say welcome "Welcome. For sales, press one."
check "and the timeout prompt" say no-input "We did not hear you."
check "and the invalid-key prompt" say sorry "That is not a choice."
welcome_ms=$(prompt_ms welcome)
no_input_ms=$(prompt_ms no-input)

# plan MAIN_MENU_JSON: the number's menu "main" ("1": sales, ringing 101; fallback: hang up 480).
plan() {
  api "$key" PUT /v1/dialplan "{
    \"nodes\": {
      \"main\": $1,
      \"sales\": {\"type\": \"scheme\", \"steps\": [{\"targets\": [{\"extension\": \"101\"}], \"ring_seconds\": 10}]},
      \"bye\": {\"type\": \"hangup\", \"status\": 480, \"reason\": \"no choice\"}},
    \"numbers\": {\"$number\": \"main\"}}" | jq -e '.version >= 1' >/dev/null
}
menu='{"type": "menu", "prompt": "welcome", "choices": {"1": "sales"}, "timeout_seconds": 2, "retries": 1,
       "timeout_prompt": "no-input", "invalid_prompt": "sorry", "fallback": "bye", "dial_by_extension": true}'

# caller LISTEN_SECONDS BLOCKS KEYS WAIT_MS AFTER_MS: a call into the menu; the RTP listener's summary
# goes to $work/heard.json. KEYS are sent one after another (sipp's RFC 2833 pcaps, 400 ms apart);
# a "." in them is a pause of a second.
caller() {
  local seconds=$1 blocks=$2 keys=$3 wait=$4 after=$5 file actions="" digit
  file=$(scenario uac_ivr.xml $blocks)
  for ((i = 0; i < ${#keys}; i++)); do
    digit=${keys:i:1}
    if [[ $digit == "." ]]; then
      actions+="<pause milliseconds=\"1000\"/>"
      continue
    fi
    [[ $digit == "#" ]] && digit=pound
    actions+="<nop><action><exec play_pcap_audio=\"/usr/share/sip-tester/dtmf_2833_$digit.pcap\"/></action></nop><pause milliseconds=\"400\"/>"
  done
  # sipp expands no keys in pauses: the test writes them into its copy.
  sed -i "s#KEYS#$actions#; s#\[wait\]#$wait#; s#\[after\]#$after#" "$file"
  take_port
  local listen=$((port + 5))
  python3 "$here/rtp_listener.py" --port "$listen" --seconds "$seconds" --out "$work/heard.json" &
  local listener=$!
  sleep 0.2
  carrier_call "$number" "$file" -key listen_port "$listen"
  local status=$?
  wait "$listener"
  return $status
}
heard() { jq -e "$1" "$work/heard.json" >/dev/null || { echo "  heard: $(cat "$work/heard.json")"; return 1; }; }
route_of() { jq -c '[.route[] | .node + " " + .type + " " + .outcome]' <<<"$1"; }

# --- A key picks the sales scheme: 101 rings and answers ------------------------------------------
check "a plan with a voice menu is saved" plan "$menu"
# Segmentation by IVR choice: callers who pressed 1 in the main menu are sales leads.
lead=$(api "$key" POST /v1/call-categories '{"name": "sales lead", "value": 40}' | jq -r .id)
rule_refused() {  # rule_refused BODY FIELD
  [[ $(api "$key" POST /v1/category-rules "$1" | jq -r .error.field) == "$2" ]]
}
check "a menu rule without its key is refused naming menu_key" \
  rule_refused "{\"category_id\": \"$lead\", \"menu\": \"main\"}" menu_key
check "a key that no phone can send is refused" \
  rule_refused "{\"category_id\": \"$lead\", \"menu\": \"main\", \"menu_key\": \"1a\"}" menu_key
check "a menu id the dial plan could not have is refused" \
  rule_refused "{\"category_id\": \"$lead\", \"menu\": \"main menu\", \"menu_key\": \"1\"}" menu
rule_saved() { api "$key" POST /v1/category-rules "$1" | jq -e '.menu == "main" and .menu_key == "1"' >/dev/null; }
check "a rule by IVR choice is saved" rule_saved "{\"category_id\": \"$lead\", \"menu\": \"main\", \"menu_key\": \"1\"}"
preview_is() {
  api "$key" GET "/v1/dialplan/preview?number=$(jq -rn --arg n "$number" '$n|@uri')" |
    jq -e --arg want "$1" '[.path[] | .node + ":" + .outcome] | join(" ") == $want' >/dev/null
}
check "the preview: the menu asks" preview_is "main:ask"
device alice "$answers"
since=$(now_utc)
# The prompt is heard out (plus half a second), then "1" and a pause of 3 s: past the 2 s that
# end a typed extension, so the key alone is the choice.
check "the caller presses 1 after the prompt and talks to 101" \
  caller $(((welcome_ms + 6000) / 1000 + 2)) "press hang-up" 1 $((welcome_ms + 500)) 4500
check "alice's phone had the call" finished "$device_pid"
expected=$((welcome_ms / 20))
check "the caller heard the whole prompt: PCMA packets, 160 bytes each, one source, no gap" heard \
  ".payload_types[\"8\"] >= $((expected - 2)) and .payload_types[\"8\"] <= $((expected + 2)) and (.payload_types | length) == 1
   and .sizes == {\"160\": .packets} and (.ssrcs | length) == 1 and .sequence_gaps == 0"
call=$(newest_record "$since")
check "record: answered by 101, through the menu's key 1" expect "$call" \
  '.disposition == "answered" and .answered_by == "101"'
check "record: the route shows the menu, the key and the scheme" expect "$call" \
  '[.route[] | .node + " " + .type + " " + .outcome] | .[0:4] == ["main menu ask", "main menu prompt", "main menu key 1", "sales scheme ring"]'
check "record: the caller who pressed 1 is a sales lead, by the rule" expect "$call" \
  '.category.name == "sales lead" and .category.set_by == "rule"'

# --- No key: the timeout prompt and the menu again, then the fallback hangs up --------------------
since=$(now_utc)
started=$SECONDS
check "a silent caller hears the menu twice and is hung up on" \
  caller $(((2 * welcome_ms + no_input_ms + 6000) / 1000 + 2)) "wait-bye" "" 0 0
check "after two timeouts of 2 s" test $((SECONDS - started)) -ge 4
expected=$(((2 * welcome_ms + no_input_ms) / 20))
check "the caller heard the prompt, the timeout prompt and the prompt again" heard \
  ".payload_types[\"8\"] >= $((expected - 4)) and .payload_types[\"8\"] <= $((expected + 4))"
call=$(newest_record "$since")
check "record: two timeouts, then no choice; nobody answered" expect "$call" \
  '.disposition != "answered" and ([.route[] | .outcome] | index("no_choice") != null)
   and ([.route[] | select(.outcome == "timeout")] | length) == 2'
check "record: a caller who pressed nothing is no sales lead" expect "$call" '.category == null'

# --- A wrong key, then an extension typed with # ---------------------------------------------------
# "7" during the prompt (barge-in), then the 2 s that end a typed extension: no choice, so "sorry"
# and the menu again, during which 102# is typed.
device bob "$answers"
since=$(now_utc)
check "the caller presses 7, hears it is no choice, types 102# and talks to bob" \
  caller 20 "press hang-up" "7....102#" 300 3500
check "bob's phone had the call" finished "$device_pid"
# The caller's first key latched the relay onto sipp's own media port (symmetric RTP), so what it
# hears after that goes there, not to the listener: the record says what was played.
call=$(newest_record "$since")
check "record: answered by 102; the route shows the wrong key and the extension typed" expect "$call" \
  '.disposition == "answered" and .answered_by == "102"
   and ([.route[] | .type + " " + .outcome + " " + .detail] |
        index("menu invalid keys 7") != null and index("menu prompt sorry, welcome") != null
        and index("menu extension 102") != null)'

# --- A phone without RFC 4733: its key as SIP INFO ---------------------------------------------------
device alice "$answers"
since=$(now_utc)
info_caller=$(scenario uac_ivr.xml info hang-up)
sed -i "s#INFO_KEY#1#; s#\[wait\]#500#; s#\[after\]#3000#" "$info_caller"
take_port
check "INFOs without a key are refused (415), then 1 as SIP INFO reaches 101" \
  carrier_call "$number" "$info_caller" -key listen_port $((port + 5))
check "alice's phone had the call" finished "$device_pid"
check "record: answered by 101 through the menu's key 1" expect "$(newest_record "$since")" \
  '.disposition == "answered" and .answered_by == "101" and ([.route[] | .outcome] | index("key 1") != null)'

# --- A prompt whose file is gone: nothing is played, the menu still times out and ends -------------
check "the welcome prompt's file disappears from the store" rm "$TEL_PROMPTS_DIR/$tenant/welcome.wav"
since=$(now_utc)
check "the caller is still hung up on by the fallback" caller 15 "wait-bye" "" 0 0
check "and heard nothing (a playback naming a missing prompt is refused whole)" heard ".packets == 0"
check "media-relay is healthy" curl -sf "$(tr ' ' '\n' <<<"$TEL_ADMIN_URLS" | sed -n 's/^media-relay=//p')/healthz" -o /dev/null
call=$(newest_record "$since")
check "record: the route shows two timeouts and no choice" expect "$call" \
  '([.route[] | select(.outcome == "timeout")] | length) == 2'

exit $failed
