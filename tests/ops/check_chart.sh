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
trial_renders_valid() {  # Postgres, Redis and Kafka in the release, wired to every service
  "$helm" template t "$chart" --set trial.enabled=true >"$work/trial.yaml" 2>"$work/trial.err" || { cat "$work/trial.err"; return 1; }
  "$validate" --strict --quiet -k "$kubernetes_version" "$work/trial.yaml" || return 1
  grep -q 'value: "redis://t-trial-redis:6379"' "$work/trial.yaml" &&
    grep -q 'PLAINTEXT://t-trial-kafka-0.t-trial-kafka:9092' "$work/trial.yaml" &&
    grep -q 'name: t-trial-postgres, key: owner-url' "$work/trial.yaml" &&
    grep -q 'CREATE ROLE' "$work/trial.yaml"  # deploy/postgres/roles.sql, through the chart's link
}
# The pods that carry calls get their drain grace period plus 15 s to exit after SIGTERM (there is
# no preStop hook: SIGTERM starts the drain), for the default and a changed callDrainSeconds.
drain_matches_grace() {
  "$helm" template t "$chart" "$@" | "$(dirname "$validate")/python" -c '
import re, sys, yaml
checked = 0
for doc in yaml.safe_load_all(sys.stdin):
    if not doc or doc["kind"] not in ("Deployment", "StatefulSet", "DaemonSet"):
        continue
    pod = doc["spec"]["template"]["spec"]
    for container in pod["containers"]:
        for env in container.get("env", []):
            if env["name"].endswith("_DRAIN_GRACE_PERIOD"):
                drain = int(re.fullmatch(r"(\d+)s", env["value"]).group(1))
                grace = pod["terminationGracePeriodSeconds"]
                if grace != drain + 15 or pod.get("lifecycle") or container.get("lifecycle"):
                    sys.exit("%s: grace %s for a drain of %ss" % (doc["metadata"]["name"], grace, drain))
                checked += 1
sys.exit(0 if checked == 2 else "expected sip-edge and media-relay, checked %d" % checked)'
}
check "sip-edge and media-relay get their drain period plus 15 s after SIGTERM" drain_matches_grace
check "...also with callDrainSeconds changed" drain_matches_grace --set callDrainSeconds=45
check "the trial install (trial.enabled) renders, validates and wires the services to its stores" trial_renders_valid
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
