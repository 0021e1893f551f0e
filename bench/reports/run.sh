#!/usr/bin/env bash
# Reports and call tracking benchmark (bench/run reports): 10 million call records across 100
# tenants (one with 1 million over a year, 99 with about 91,000), each report's latency through the
# REST API for the big tenant (p50, p95 over REPORT_RUNS runs, a year and a month), beside the
# anchor of the same run: Postgres counting the tenant's calls of the period (the least any report
# over them must read); then tracking number assignments per second (tracking.sh).
# The data set is generated once (generate.sql) and kept; BENCH_REPORTS_REGENERATE=1 starts over.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${TEL_API_URL:?run through bench/run}" "${TEL_PG_URL:?}" "${TEL_ADMIN_KEY:?}"
state=$root/.tel/bench-reports.env
tenants=${BENCH_REPORTS_TENANTS:-100}
big_calls=${BENCH_REPORTS_BIG_CALLS:-1000000}
total_calls=${BENCH_REPORTS_TOTAL_CALLS:-10000000}
runs=${REPORT_RUNS:-20}

api() { curl -sS --fail-with-body -H "Authorization: Bearer $TEL_ADMIN_KEY" -H 'Content-Type: application/json' "$@"; }
as_tenant() { psql "$TEL_PG_URL" -qAt -v ON_ERROR_STOP=1 -c "SELECT set_config('tel.tenant_id', '$1', false)" -c "$2" | tail -n +2; }

if [[ -n ${BENCH_REPORTS_REGENERATE:-} && -s $state ]]; then
  # shellcheck disable=SC1090
  source "$state"
  for id in $BENCH_TENANTS; do api -X DELETE "$TEL_API_URL/v1/tenants/$id" >/dev/null || true; done
  rm -f "$state"
fi
if [[ ! -s $state ]]; then
  echo "generating $total_calls call records across $tenants tenants (kept in $state)..."
  started=$SECONDS
  ids=""
  for ((t = 0; t < tenants; t++)); do
    id=$(api -d "{\"name\":\"bench reports $t\",\"sip_domain\":\"bench-$t.reports.test\",\"timezone\":\"Europe/Kyiv\"}" \
      "$TEL_API_URL/v1/tenants" | jq -r .id)
    ids+="$id "
    as_tenant "$id" "INSERT INTO numbers (tenant_id, e164) SELECT '$id', '+1998' || lpad(($t * 10 + j)::text, 7, '0') FROM generate_series(0, 9) j;
      INSERT INTO sip_accounts (tenant_id, username, extension, display_name, ha1_md5, ha1_sha256)
      SELECT '$id', 'agent-' || e, e::text, 'Agent ' || e, repeat('0', 32), repeat('0', 64) FROM generate_series(101, 120) e" >/dev/null
    calls=$(( t == 0 ? big_calls : (total_calls - big_calls) / (tenants - 1) ))
    psql "$TEL_PG_URL" -q -v ON_ERROR_STOP=1 -v tenant="$id" -v calls="$calls" -v days=365 -v seed="0.$((t + 1))" \
      -f "$here/generate.sql" >/dev/null
    ((t % 10 == 9)) && echo "  $((t + 1)) tenants, $((SECONDS - started)) s"
  done
  # As autovacuum would have left a year of history: visibility map and statistics up to date.
  psql "$TEL_PG_OWNER_URL" -qc "VACUUM ANALYZE calls" -c "VACUUM ANALYZE call_legs" >/dev/null
  big=${ids%% *}
  key=$(api -d '{"name":"bench"}' "$TEL_API_URL/v1/tenants/$big/api-keys" | jq -r .secret)
  printf 'BENCH_TENANTS="%s"\nBENCH_BIG_TENANT=%s\nBENCH_BIG_KEY=%s\n' "$ids" "$big" "$key" >"$state"
  echo "generated in $((SECONDS - started)) s"
fi
# shellcheck disable=SC1090
source "$state"
echo "calls in the database: $(psql "$TEL_PG_OWNER_URL" -qAtc "SELECT reltuples::bigint FROM pg_class WHERE relname = 'calls'") (estimate);" \
     "the big tenant: $(as_tenant "$BENCH_BIG_TENANT" "SELECT count(*) FROM calls")"

percentiles() { sort -n | awk '{v[NR] = $1} END {printf "%.0f %.0f\n", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.95 + 0.5)]}'; }
today=$(as_tenant "$BENCH_BIG_TENANT" "SELECT (now() AT TIME ZONE 'Europe/Kyiv')::date")
for period in year month; do
  if [[ $period == year ]]; then from=$(date -d "$today - 364 days" +%F); else from=$(date -d "$today - 29 days" +%F); fi
  anchor=$(for ((i = 0; i < runs; i++)); do
    psql "$TEL_PG_URL" -qAt -c "SELECT set_config('tel.tenant_id', '$BENCH_BIG_TENANT', false)" -c '\timing on' \
      -c "SELECT count(*) FROM calls WHERE tenant_id = '$BENCH_BIG_TENANT' AND started_at >= '$from'::date AND started_at < '$today'::date + 1" |
      sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'
  done | percentiles)
  echo
  echo "== a $period ($from .. $today), $runs runs each; anchor (Postgres counting the period's calls): p50 ${anchor% *} ms, p95 ${anchor#* } ms"
  printf '%-14s %8s %8s %s\n' report "p50 ms" "p95 ms" "p95 / anchor p95"
  for report in incoming distribution missed employees ads target categories; do
    figures=$(for ((i = 0; i < runs; i++)); do
      curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "Authorization: Bearer $BENCH_BIG_KEY" \
        "$TEL_API_URL/v1/reports/$report?from=$from&to=$today"
    done)
    if grep -qv '^200 ' <<<"$figures"; then
      printf '%-14s failed: %s\n' "$report" "$(grep -v '^200 ' <<<"$figures" | cut -d' ' -f1 | sort | uniq -c | tr '\n' ' ')"
      continue
    fi
    read -r p50 p95 < <(awk '{print $2 * 1000}' <<<"$figures" | percentiles)
    printf '%-14s %8s %8s %s\n' "$report" "$p50" "$p95" "$(awk -v a="$p95" -v b="${anchor#* }" 'BEGIN {printf "%.1f", a / b}')"
  done
done

"$here/tracking.sh"
