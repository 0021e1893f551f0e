#!/usr/bin/env bash
# A bad configuration stops a service at once with exit code 2 and a message naming the key.
set -uo pipefail
build=${1:?usage: check_bad_config.sh <build dir>}
failed=0
expect() {  # expect KEY COMMAND... : the command must exit 2 and mention KEY
  local key=$1 output status
  shift
  output=$(timeout 10 env -i PATH="$PATH" "$@" 2>&1)
  status=$?
  if [[ $status != 2 || $output != *"'$key'"* ]]; then
    echo "FAIL: expected exit 2 naming '$key', got $status: $output"
    failed=1
  else
    echo "ok: $output"
  fi
}
accounts=$build/services/accounts/accounts
gateway=$build/services/gateway/gateway
expect database.url "$accounts"
expect workers TEL_ACCOUNTS_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_ACCOUNTS_WORKERS=lots "$accounts"
expect grpc.listen TEL_ACCOUNTS_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_ACCOUNTS_GRPC_LISTEN=nowhere "$accounts"
expect secrets.credentials_key TEL_ACCOUNTS_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_ACCOUNTS_SECRETS_CREDENTIALS_KEY=0123abcd "$accounts"
expect redis.url TEL_GATEWAY_REDIS_URL=http://wrong "$gateway"
expect limits.body_bytes TEL_GATEWAY_REDIS_URL=redis://127.0.0.1:1 TEL_GATEWAY_LIMITS_BODY_BYTES=10 "$gateway"
queue=$build/services/queue/queue
queue_needs="TEL_QUEUE_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_QUEUE_REDIS_URL=redis://127.0.0.1:1
  TEL_QUEUE_KAFKA_BROKERS=127.0.0.1:1"
expect database.url "$queue"
# shellcheck disable=SC2086
expect redis.url TEL_QUEUE_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_QUEUE_REDIS_URL=http://wrong "$queue"
# shellcheck disable=SC2086
expect dispatch.interval $queue_needs TEL_QUEUE_DISPATCH_INTERVAL=1ms "$queue"
# shellcheck disable=SC2086
expect dispatch.stale_after $queue_needs TEL_QUEUE_DISPATCH_STALE_AFTER=1s "$queue"
# shellcheck disable=SC2086
expect instance.id $queue_needs TEL_QUEUE_INSTANCE_ID="$(printf 'q%.0s' {1..129})" "$queue"
# shellcheck disable=SC2086
expect kafka.brokers TEL_QUEUE_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_QUEUE_REDIS_URL=redis://127.0.0.1:1 "$queue"
# shellcheck disable=SC2086
expect presence.lapse $queue_needs TEL_QUEUE_PRESENCE_LAPSE=10s "$queue"
# shellcheck disable=SC2086
expect metrics.max_tenants $queue_needs TEL_QUEUE_METRICS_MAX_TENANTS=many "$queue"
media=$build/services/media-relay/media-relay
expect rtp.bind TEL_MEDIA_RELAY_RTP_BIND=somewhere "$media"
expect rtp.port_max TEL_MEDIA_RELAY_RTP_PORT_MIN=30000 TEL_MEDIA_RELAY_RTP_PORT_MAX=30001 "$media"
expect timeouts.media TEL_MEDIA_RELAY_TIMEOUTS_MEDIA=forever "$media"
expect drain.grace_period TEL_MEDIA_RELAY_DRAIN_GRACE_PERIOD=soon "$media"
cdr=$build/services/cdr-ingest/cdr-ingest
expect kafka.brokers TEL_CDR_INGEST_DATABASE_URL=postgresql://x@127.0.0.1:1/x "$cdr"
expect batch.max_events TEL_CDR_INGEST_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_CDR_INGEST_KAFKA_BROKERS=127.0.0.1:1 TEL_CDR_INGEST_BATCH_MAX_EVENTS=0 "$cdr"
expect kafka.fetch_max_wait TEL_CDR_INGEST_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_CDR_INGEST_KAFKA_BROKERS=127.0.0.1:1 TEL_CDR_INGEST_KAFKA_FETCH_MAX_WAIT=later "$cdr"
expect metrics.max_tenants TEL_CDR_INGEST_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_CDR_INGEST_KAFKA_BROKERS=127.0.0.1:1 TEL_CDR_INGEST_METRICS_MAX_TENANTS=-1 "$cdr"
expect recordings.sweep_interval TEL_CDR_INGEST_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_CDR_INGEST_KAFKA_BROKERS=127.0.0.1:1 TEL_CDR_INGEST_RECORDINGS_SWEEP_INTERVAL=100ms "$cdr"
sip=$build/services/sip-edge/sip-edge
expect kafka.brokers TEL_SIP_EDGE_REDIS_URL=redis://127.0.0.1:1 "$sip"
sip_env=(TEL_SIP_EDGE_REDIS_URL=redis://127.0.0.1:1 TEL_SIP_EDGE_KAFKA_BROKERS=127.0.0.1:1)
expect sip.listen "${sip_env[@]}" TEL_SIP_EDGE_SIP_LISTEN=127.0.0.1:0 "$sip"
expect auth.algorithms "${sip_env[@]}" TEL_SIP_EDGE_AUTH_ALGORITHMS=MD5,SHA-512 "$sip"
expect auth.nonce_secret "${sip_env[@]}" TEL_SIP_EDGE_AUTH_NONCE_SECRET=short "$sip"
expect calls.decision_timeout "${sip_env[@]}" TEL_SIP_EDGE_CALLS_DECISION_TIMEOUT=1ms "$sip"
expect calls.max_duration "${sip_env[@]}" TEL_SIP_EDGE_CALLS_MAX_DURATION=4s "$sip"
expect sip.trusted_proxies "${sip_env[@]}" TEL_SIP_EDGE_SIP_TRUSTED_PROXIES=10.0.0.1,lb.example "$sip"
expect media_relay.address "${sip_env[@]}" TEL_SIP_EDGE_MEDIA_RELAY_ADDRESS=" , " "$sip"
expect drain.grace_period "${sip_env[@]}" TEL_SIP_EDGE_DRAIN_GRACE_PERIOD=eventually "$sip"
expect kafka.linger "${sip_env[@]}" TEL_SIP_EDGE_KAFKA_LINGER=a-while "$sip"
expect calls.outbound_proxy "${sip_env[@]}" TEL_SIP_EDGE_CALLS_OUTBOUND_PROXY="lb.example:5060" "$sip"
expect cluster.lost_after "${sip_env[@]}" TEL_SIP_EDGE_CLUSTER_LOST_AFTER=1s "$sip"
expect cluster.heartbeat_interval "${sip_env[@]}" TEL_SIP_EDGE_CLUSTER_HEARTBEAT_INTERVAL=10ms "$sip"
expect registrations.contact_host "${sip_env[@]}" "TEL_SIP_EDGE_REGISTRATIONS_CONTACT_HOST=pbx.example>;x" "$sip"
expect registrations.retry_max "${sip_env[@]}" TEL_SIP_EDGE_REGISTRATIONS_RETRY_MIN=10s TEL_SIP_EDGE_REGISTRATIONS_RETRY_MAX=5s "$sip"
analytics=$build/services/analytics/analytics
analytics_env=(TEL_ANALYTICS_DATABASE_URL=postgresql://x@127.0.0.1:1/x)
expect tracking.visit_writers "${analytics_env[@]}" TEL_ANALYTICS_DATABASE_POOL_SIZE=2 TEL_ANALYTICS_TRACKING_VISIT_WRITERS=2 "$analytics"
expect tracking.visit_batch "${analytics_env[@]}" TEL_ANALYTICS_TRACKING_VISIT_BATCH=0 "$analytics"
expect reports.rollup_merge_interval "${analytics_env[@]}" TEL_ANALYTICS_REPORTS_ROLLUP_MERGE_INTERVAL=often "$analytics"
integrations=$build/services/integrations/integrations
integrations_env=(TEL_INTEGRATIONS_DATABASE_URL=postgresql://x@127.0.0.1:1/x TEL_INTEGRATIONS_KAFKA_BROKERS=127.0.0.1:1
                  TEL_INTEGRATIONS_CALL_LOG_ADDRESS=127.0.0.1:1)
expect webhooks.retry_schedule "${integrations_env[@]}" "TEL_INTEGRATIONS_WEBHOOKS_RETRY_SCHEDULE=0s, soon" "$integrations"
expect webhooks.retry_schedule "${integrations_env[@]}" "TEL_INTEGRATIONS_WEBHOOKS_RETRY_SCHEDULE=5s, 1m" "$integrations"
expect webhooks.allowed_private_networks "${integrations_env[@]}" \
  TEL_INTEGRATIONS_WEBHOOKS_ALLOWED_PRIVATE_NETWORKS=10.0.0.0/99 "$integrations"
expect webhooks.timeout "${integrations_env[@]}" TEL_INTEGRATIONS_WEBHOOKS_TIMEOUT=0s "$integrations"
expect webhooks.per_subscription_in_flight "${integrations_env[@]}" TEL_INTEGRATIONS_WEBHOOKS_MAX_IN_FLIGHT=2 \
  TEL_INTEGRATIONS_WEBHOOKS_PER_SUBSCRIPTION_IN_FLIGHT=3 "$integrations"
expect metrics.max_tenants "${integrations_env[@]}" TEL_INTEGRATIONS_METRICS_MAX_TENANTS=-1 "$integrations"
expect call_log.address TEL_INTEGRATIONS_DATABASE_URL=postgresql://x@127.0.0.1:1/x \
  TEL_INTEGRATIONS_KAFKA_BROKERS=127.0.0.1:1 "$integrations"
routing=$build/services/routing/routing
routing_db=TEL_ROUTING_DATABASE_URL=postgresql://x@127.0.0.1:1/x
expect database.url "$routing"
expect workers "$routing_db" TEL_ROUTING_WORKERS=0 "$routing"
expect admin.listen "$routing_db" TEL_ROUTING_ADMIN_LISTEN=nowhere "$routing"
expect grpc.listen "$routing_db" TEL_ROUTING_GRPC_LISTEN=nowhere "$routing"
# The prompts directory: required, absolute, creatable and writable.
expect prompts.dir "$routing_db" "$routing"
expect prompts.dir "$routing_db" TEL_ROUTING_PROMPTS_DIR=relative/prompts "$routing"
expect prompts.dir "$routing_db" TEL_ROUTING_PROMPTS_DIR=/proc/tel-prompts "$routing"
not_a_dir=$(mktemp)
expect prompts.dir "$routing_db" TEL_ROUTING_PROMPTS_DIR="$not_a_dir" "$routing"
rm -f "$not_a_dir"
expect prompts.workers "$routing_db" TEL_ROUTING_PROMPTS_DIR="${TMPDIR:-/tmp}" TEL_ROUTING_PROMPTS_WORKERS=0 "$routing"
expect carriers.response_timeout "$routing_db" TEL_ROUTING_PROMPTS_DIR="${TMPDIR:-/tmp}" TEL_ROUTING_CARRIERS_RESPONSE_TIMEOUT=100ms "$routing"
expect carriers.probe_interval "$routing_db" TEL_ROUTING_PROMPTS_DIR="${TMPDIR:-/tmp}" TEL_ROUTING_CARRIERS_PROBE_INTERVAL=0s "$routing"
config=$(mktemp)
printf 'http:\n  listne: 127.0.0.1:1\nredis:\n  url: redis://127.0.0.1:1\n' >"$config"
expect http.listne "$gateway" --config "$config"
rm -f "$config"
# telctl refuses what it cannot use, with a message, before touching anything.
telctl=$build/tools/telctl/telctl
expect_status() {  # expect_status STATUS TEXT COMMAND...: exit STATUS and mention TEXT
  local status=$1 text=$2 output got
  shift 2
  output=$(timeout 10 "$@" 2>&1)
  got=$?
  if [[ $got != "$status" || $output != *"$text"* ]]; then
    echo "FAIL: expected exit $status mentioning '$text', got $got: $output"
    failed=1
  else
    echo "ok: $output"
  fi
}
topics=$(mktemp)
printf 'call-events twelve\n' >"$topics"
expect_status 1 "bad line" "$telctl" create-topics 127.0.0.1:1 "$topics"
printf 'call-events 0\n' >"$topics"
expect_status 1 "bad line" "$telctl" create-topics 127.0.0.1:1 "$topics"
expect_status 1 "cannot read" "$telctl" create-topics 127.0.0.1:1 /nonexistent/topics.txt
expect_status 1 "does not exist" "$telctl" migrate postgresql://x@127.0.0.1:1/x /nonexistent/migrations
expect_status 2 "usage" "$telctl" frobnicate
rm -f "$topics"
exit $failed
