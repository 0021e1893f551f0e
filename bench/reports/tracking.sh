#!/usr/bin/env bash
# Tracking number assignments per second (part of bench/run reports): a site of the big bench
# tenant with a pool of 100,000 numbers, so that every new visit in the run takes a free number,
# then bench_tracking against the analytics service and its Postgres anchor.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck disable=SC1091
source "$root/.tel/bench-reports.env"
pool=${BENCH_TRACKING_POOL:-100000}
as_tenant() { psql "$TEL_PG_URL" -qAt -v ON_ERROR_STOP=1 -c "SELECT set_config('tel.tenant_id', '$BENCH_BIG_TENANT', false)" -c "$1" | tail -n +2; }
# A fresh site each run: all of its pool is free.
as_tenant "DELETE FROM tracking_sites WHERE name = 'bench'; DELETE FROM numbers WHERE e164 LIKE '+1996%'" >/dev/null
site=$(curl -sS --fail-with-body -H "Authorization: Bearer $BENCH_BIG_KEY" -H 'Content-Type: application/json' \
  -d '{"name":"bench","hold_seconds":900}' "$TEL_API_URL/v1/tracking/sites")
site_id=$(jq -r .id <<<"$site")
as_tenant "INSERT INTO numbers (tenant_id, e164) SELECT '$BENCH_BIG_TENANT', '+1996' || lpad(i::text, 7, '0') FROM generate_series(1, $pool) i;
  INSERT INTO tracking_numbers (tenant_id, e164, site_id, kind) SELECT '$BENCH_BIG_TENANT', '+1996' || lpad(i::text, 7, '0'), '$site_id', 'pool' FROM generate_series(1, $pool) i" >/dev/null
psql "$TEL_PG_OWNER_URL" -qc "ANALYZE tracking_numbers" >/dev/null
echo
echo "== tracking number assignments (pool of $pool numbers)"
"$root/build/bench/bench_tracking" "${TEL_REPORTS_ADDR:?}" "$(jq -r .site_key <<<"$site")" "$BENCH_BIG_TENANT" "$site_id" \
  "$TEL_PG_URL" "${BENCH_TRACKING_SECONDS:-10}" "${BENCH_TRACKING_CLIENTS:-16}"
