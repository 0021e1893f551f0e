#!/usr/bin/env bash
# The alert rules and the Grafana dashboard: promtool checks and unit-tests the rules, every alert
# has its runbook, the dashboard is well formed, and every metric that a rule or a panel queries
# is one the running services really export (scraped from their /metrics).
set -uo pipefail
root=${1:?usage: check_observability.sh <source dir>}
: "${TEL_ADMIN_URLS:?run through ./tel test}" "${TEL_GRAFANA_SCHEMA:?run through ./tel test (it installs the schema)}"
files=$root/helm/tel/files
failed=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failed=1; fi
}

check "promtool check rules" promtool check rules "$files/prometheus-alerts.yaml"
check "promtool test rules (each alert fires on its trigger, stays quiet otherwise)" \
  bash -c "cd '$files' && promtool test rules prometheus-alerts-test.yaml"

runbooks_present() {
  local alert missing=0
  for alert in $(awk '$1 == "-" && $2 == "alert:" {print $3}' "$files/prometheus-alerts.yaml"); do
    grep -q "runbook_url: docs/runbooks/$alert.md" "$files/prometheus-alerts.yaml" || { echo "  $alert: no runbook_url"; missing=1; }
    [[ -s $root/docs/runbooks/$alert.md ]] || { echo "  $alert: docs/runbooks/$alert.md missing"; missing=1; }
  done
  return $missing
}
check "every alert links a runbook page that exists" runbooks_present

dashboard_well_formed() {
  jq -e '
    (.uid | type == "string" and length > 0) and (.title | length > 0) and (.schemaVersion >= 36)
    and (.panels | length > 0)
    and ([.panels[].id] | length == (unique | length))
    and all(.panels[]; (.type == "timeseries" or .type == "stat")
        and (.gridPos | (.x >= 0 and .y >= 0 and .w > 0 and .w <= 24 and .h > 0 and .x + .w <= 24))
        and (.datasource.type == "prometheus")
        and (.targets | length > 0)
        and all(.targets[]; (.expr | length > 0) and (.refId | length > 0)))
    and (.templating.list[] | select(.name == "datasource") | .type == "datasource")
  ' "$files/grafana-dashboard.json" >/dev/null
}
check "the dashboard is well formed (unique panel ids, grid, Prometheus targets, datasource variable)" \
  dashboard_well_formed

# Grafana's own dashboard schema (the TypeScript types @grafana/schema generates from it): the JSON,
# as an object literal of type Dashboard, must compile, so a field of the wrong type or one that
# Grafana does not know is an error. A copy with an unknown panel field must fail.
schema_accepts() {  # schema_accepts DASHBOARD_JSON
  local dir
  dir=$(mktemp -d)
  ln -s "$TEL_GRAFANA_SCHEMA/node_modules" "$dir/node_modules"
  { echo "import type { Dashboard } from '@grafana/schema';"
    echo "export const dashboard: Dashboard ="
    cat "$1"
    echo ";"; } >"$dir/dashboard.ts"
  "$TEL_GRAFANA_SCHEMA/node_modules/.bin/tsc" --noEmit --strict --skipLibCheck --target es2020 \
    --module esnext --moduleResolution bundler "$dir/dashboard.ts"
  local status=$?
  rm -rf "$dir"
  return $status
}
check "the dashboard is valid against Grafana's dashboard schema (@grafana/schema $(jq -r '.devDependencies["@grafana/schema"]' "$root/tests/ops/grafana-schema/package.json"))" \
  schema_accepts "$files/grafana-dashboard.json"
schema_refuses_unknown_field() {
  local bad errors
  bad=$(mktemp --suffix=.json)
  jq '.panels[0].gridPoss = .panels[0].gridPos' "$files/grafana-dashboard.json" >"$bad"
  errors=$(schema_accepts "$bad" 2>&1)
  rm -f "$bad"
  grep -q "'\"gridPoss\"' does not exist" <<<"$errors"
}
check "...and the schema check refuses a panel field Grafana does not know" schema_refuses_unknown_field

# Every family the services export right now (histograms also as _bucket, _sum, _count).
exported=$(for entry in $TEL_ADMIN_URLS; do curl -fsS --max-time 5 "${entry#*=}/metrics"; done |
  awk '$1 == "#" && $2 == "TYPE" {print $3; if ($4 == "histogram") {print $3 "_bucket"; print $3 "_sum"; print $3 "_count"}}' |
  sort -u)
queried_metrics_exist() {
  local name missing=0
  for name in $( (python3 -c 'import sys, yaml
for group in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for rule in group["rules"]:
        print(rule["expr"])' "$files/prometheus-alerts.yaml"; jq -r '.panels[].targets[].expr' "$files/grafana-dashboard.json") |
    grep -oE '\b(tel|process)_[a-z0-9_]+\b' | sort -u); do
    grep -qx "$name" <<<"$exported" || { echo "  $name is queried but no service exports it"; missing=1; }
  done
  return $missing
}
check "every metric a rule or a panel queries is exported by the running services" queried_metrics_exist

exit $failed
