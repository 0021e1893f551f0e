#!/usr/bin/env bash
# ctest entry of the dashboard's browser tests: reports the production build's size (and fails
# past its budget), then runs the Playwright tests (web/e2e/*.spec.ts) with Debian's chromium
# against the running platform. Screenshots and failure traces go under BUILD/web-e2e.
set -euo pipefail
web=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath -m "${1:?usage: run.sh BUILD_DIR}")/web-e2e
: "${TEL_API_URL:?run through ./tel test (eval \"\$(./tel env)\")}" "${TEL_ADMIN_KEY:?}" "${TEL_SIP_ADDR:?}"
[[ -f $web/dist/index.html ]] || { echo "FAIL: $web/dist is missing (./tel up builds it)"; exit 1; }
[[ -x $web/node_modules/.bin/playwright ]] || { echo "FAIL: npm packages missing (./tel up installs them)"; exit 1; }

# What a browser downloads on a cold visit: every file of the build, raw and gzipped.
raw=0 gzipped=0 files=0
while IFS= read -r -d '' file; do
  raw=$((raw + $(stat -c %s "$file")))
  gzipped=$((gzipped + $(gzip -9c "$file" | wc -c)))
  files=$((files + 1))
done < <(find "$web/dist" -type f -print0)
echo "dashboard production build: $files files, $((raw / 1024)) KiB ($((gzipped / 1024)) KiB gzipped)"
budget_kib=${TEL_WEB_BUDGET_KIB:-120}
if ((gzipped > budget_kib * 1024)); then
  echo "FAIL: the build is over its budget of $budget_kib KiB gzipped"
  exit 1
fi

rm -rf "$out"
mkdir -p "$out/screenshots"
cd "$web"
status=0
TEL_E2E_OUT=$out TEL_E2E_SCREENSHOTS=$out/screenshots PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
  timeout 400 node_modules/.bin/playwright test -c e2e/playwright.config.ts || status=$?
echo "screenshots: $out/screenshots ($(find "$out/screenshots" -name '*.png' | wc -l) pages)"
exit $status
