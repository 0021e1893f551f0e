#!/usr/bin/env bash
# Every running service's /metrics passes promtool's exposition-format check and its health
# endpoints answer. Services are listed by ./tel env in TEL_ADMIN_URLS as name=url pairs.
set -euo pipefail
: "${TEL_ADMIN_URLS:?run through ./tel test (TEL_ADMIN_URLS is set by ./tel env)}"
failed=0
for entry in $TEL_ADMIN_URLS; do
  name=${entry%%=*}
  url=${entry#*=}
  metrics=$(curl -fsS --max-time 5 "$url/metrics") || { echo "FAIL $name: /metrics unreachable"; failed=1; continue; }
  if ! problems=$(printf '%s\n' "$metrics" | promtool check metrics 2>&1); then
    echo "FAIL $name: promtool check metrics:"; echo "$problems"; failed=1
  fi
  grep -q '^tel_build_info{' <<<"$metrics" || { echo "FAIL $name: tel_build_info missing"; failed=1; }
  for probe in healthz readyz; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/$probe")
    [[ $code == 200 ]] || { echo "FAIL $name: /$probe answered $code"; failed=1; }
  done
  echo "ok $name ($url)"
done
exit $failed
