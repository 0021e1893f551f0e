# Helpers shared by the SIP tests (sourced). Needs TEL_API_URL, TEL_ADMIN_KEY, TEL_SIP_ADDR.
: "${TEL_API_URL:?run through ./tel test}" "${TEL_ADMIN_KEY:?}" "${TEL_SIP_ADDR:?}"
sip_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
failed=0

api() {  # api KEY METHOD PATH [JSON]
  curl -sS -X "$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' ${4:+--data "$4"} "$TEL_API_URL$3"
}
admin() { api "$TEL_ADMIN_KEY" "$@"; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failed=1; fi
}
fails() { ! "$@"; }
udp_bound() { [[ -n $(ss -Hlun "sport = :$1") ]]; }  # udp_bound PORT: something listens there
eventually() {  # eventually SECONDS COMMAND...: COMMAND succeeds within SECONDS
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do ((SECONDS < deadline)) || return 1; sleep 0.5; done
}
random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# scenario FILE BLOCK...: a copy of the sipp scenario keeping only the named optional blocks
# (<!-- name:begin --> ... <!-- name:end -->); every other marked block is cut out. Prints the path.
# Every scenario goes through here, so that variables set only for check_it are declared as such.
scenario() {
  local source=$sip_dir/$1 out
  shift
  out=$(mktemp --tmpdir="${work:?}" --suffix=.xml)
  python3 - "$source" "$out" "$@" <<'PY'
import re, sys
source, out, keep = sys.argv[1], sys.argv[2], set(sys.argv[3:])
text = open(source).read()
def block(match):
    name, body = match.group(1), match.group(2)
    if name not in keep:
        return ""
    # A kept block may be written inside a comment (so that the file stays valid without it).
    return body
text = re.sub(r"[ \t]*<!-- ([a-z-]+):begin.*?(?:-->)?\n(.*?)[ \t]*(?:<!-- )?\1:end -->\n", block, text, flags=re.S)
# sipp refuses variables that are set but never read; ours are set only to be checked (check_it).
assigned = {name for names in re.findall(r'assign_to="([^"]+)"', text) for name in names.split(",")}
unread = sorted(name for name in assigned if "[$" + name + "]" not in text)
if unread:
    text = text.replace("</scenario>", '  <Reference variables="' + ",".join(unread) + '"/>\n</scenario>')
open(out, "w").write(text)
PY
  echo "$out"
}

sipp_register() {  # sipp_register SCENARIO USER PASSWORD DOMAIN EXPIRES [TRANSPORT [PORT]]
  # 26000-28999: below the kernel's ephemeral range (32768+) and clear of media-relay's ports
  # (30000-32767) and of the calls test's (21000-24999).
  local port=${7:-$((26000 + RANDOM % 3000))}
  (cd "$work" && timeout 30 sipp -sf "$sip_dir/$1" -m 1 -s "$2" -au "$2" -ap "$3" -key domain "$4" \
    -key expires "$5" -t "${6:-u1}" -i 127.0.0.1 -p "$port" -timeout 15 -trace_err \
    -error_file "$work/sipp-$2-$port.err" "$TEL_SIP_ADDR" >"$work/sipp-$2-$port.out" 2>&1)
}

show_sipp_errors() {
  for f in "$work"/*.err; do [[ -s $f ]] && { echo "--- $f"; tail -8 "$f"; }; done
  return 0
}
