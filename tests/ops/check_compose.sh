#!/usr/bin/env bash
# docker-compose.yml is valid (docker-compose parses it without an engine) and names every service
# that has a Dockerfile.
set -euo pipefail
root=${1:?usage: check_compose.sh <repo root>}
cd "$root"
docker-compose -f docker-compose.yml config -q
services=$(docker-compose -f docker-compose.yml config --services)
for dockerfile in services/*/Dockerfile; do
  name=$(basename "$(dirname "$dockerfile")")
  grep -qx "$name" <<<"$services" || { echo "FAIL: service $name has a Dockerfile but no compose entry"; exit 1; }
done
echo "ok docker-compose.yml ($(wc -w <<<"$services") services)"
