#!/usr/bin/env bash
# The Helm chart lints and renders for the default and a production-like configuration, every
# rendered object is valid against the Kubernetes schemas (strict: unknown fields are errors), and
# a misspelt value, a broken template or an invalid manifest is refused.
set -uo pipefail
root=${1:?usage: check_chart.sh <repo root>}
helm=${TEL_HELM:?run through ./tel test (it builds helm)}
validate=${TEL_KUBERNETES_VALIDATE:?run through ./tel test (it installs kubernetes-validate)}
kubernetes_version=1.30.0
chart=$root/helm/tel
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
check() { local what=$1; shift; if "$@" >"$work/out" 2>&1; then echo "ok: $what"; else echo "FAIL: $what"; cat "$work/out"; failed=1; fi; }
fails() { ! "$@"; }
renders_kinds() {  # every document of the rendering has apiVersion and kind
  "$helm" template t "$chart" "$@" >"$work/rendered.yaml" || return 1
  local docs kinds
  docs=$(grep -c '^apiVersion:' "$work/rendered.yaml")
  kinds=$(grep -c '^kind:' "$work/rendered.yaml")
  [[ $docs -gt 10 && $docs == "$kinds" ]]
}

check "helm lint (default values)" "$helm" lint --strict "$chart"
check "helm lint (production values)" "$helm" lint --strict "$chart" -f "$chart/ci/production-values.yaml"
check "renders with default values" renders_kinds
check "renders with production values" renders_kinds -f "$chart/ci/production-values.yaml"
check "every rendered object is valid for Kubernetes $kubernetes_version" \
  "$validate" --strict --quiet -k "$kubernetes_version" "$work/rendered.yaml"
"$helm" template t "$chart" >"$work/default.yaml"
check "the default rendering is valid too" "$validate" --strict --quiet -k "$kubernetes_version" "$work/default.yaml"
sed 's/^  minAvailable:/  minAvailabel:/' "$work/default.yaml" >"$work/invalid.yaml"
check "an invalid manifest is refused by the validation" \
  fails "$validate" --strict --quiet -k "$kubernetes_version" "$work/invalid.yaml"
# The SIP load balancer's configuration, started the way the chart starts it: Kamailio accepts it.
lb_config_valid() {
  "$helm" template t "$chart" -f "$chart/ci/production-values.yaml" >"$work/lb.yaml" || return 1
  mapfile -t lb_args < <("$(dirname "$validate")/python" "$root/tests/ops/sip_lb_args.py" "$work/lb.yaml" "$work/dispatcher.list") || return 1
  ((${#lb_args[@]} > 0)) && grep -q '^1 sip:t-sip-edge-2\.' "$work/dispatcher.list" &&
    kamailio -c -f "$root/deploy/sip-lb/kamailio.cfg" "${lb_args[@]}"
}
check "the SIP load balancer's Kamailio configuration passes kamailio -c with the chart's arguments" lb_config_valid
check "a misspelt value is refused by the schema" fails "$helm" template t "$chart" --set gateway.replicsa=3
check "a value of the wrong type is refused" fails "$helm" template t "$chart" --set accounts.replicas=many
cp -r "$chart" "$work/broken"
printf '{{ .Values.gateway.replicas | nosuchfunction }}\n' >"$work/broken/templates/broken.yaml"
check "a broken template is refused" fails "$helm" lint --strict "$work/broken"
exit $failed
