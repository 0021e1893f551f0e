#!/usr/bin/env bash
# A service started beside the running stack (on free ports) serves, then exits 0 on SIGTERM after
# a graceful shutdown. Fixed ports (SIP, RTP) sit below the kernel's ephemeral range (32768+), so
# that no client socket of a concurrent test can hold them.
set -uo pipefail
build=${1:?usage: check_sigterm.sh <build dir>}
: "${TEL_PG_URL:?run through ./tel test}" "${TEL_REDIS_URL:?}" "${TEL_KAFKA_BROKERS:?}"
failed=0
check() {  # check NAME ENV... : start, wait for "serving", SIGTERM, expect exit 0 within 10 s
  local name=$1 log
  shift
  log=$(mktemp)
  env "$@" "$build/services/$name/$name" >"$log" 2>&1 &
  local pid=$!
  for ((i = 0; i < 100; i++)); do grep -q "\"msg\":\"$name serving\"" "$log" && break; sleep 0.1; done
  if ! grep -q "\"msg\":\"$name serving\"" "$log"; then
    echo "FAIL $name did not start:"; cat "$log"; kill -KILL $pid 2>/dev/null; failed=1; return
  fi
  kill -TERM $pid
  local status=124
  for ((i = 0; i < 100; i++)); do
    if ! kill -0 $pid 2>/dev/null; then wait $pid; status=$?; break; fi
    sleep 0.1
  done
  if [[ $status != 0 ]] || ! grep -q '"msg":"shutting down"' "$log"; then
    echo "FAIL $name: exit status $status after SIGTERM"; cat "$log"; kill -KILL $pid 2>/dev/null; failed=1
  else
    echo "ok $name stopped cleanly on SIGTERM"
  fi
  rm -f "$log"
}
check accounts TEL_ACCOUNTS_GRPC_LISTEN=127.0.0.1:0 TEL_ACCOUNTS_ADMIN_LISTEN=127.0.0.1:0 \
  TEL_ACCOUNTS_DATABASE_URL="$TEL_PG_URL" TEL_ACCOUNTS_PASSWORD_HASH_LOG2N=12
check media-relay TEL_MEDIA_RELAY_GRPC_LISTEN=127.0.0.1:0 TEL_MEDIA_RELAY_ADMIN_LISTEN=127.0.0.1:0 \
  TEL_MEDIA_RELAY_CONTROL_LISTEN=127.0.0.1:0 \
  TEL_MEDIA_RELAY_RTP_PORT_MIN=19200 TEL_MEDIA_RELAY_RTP_PORT_MAX=19299
check cdr-ingest TEL_CDR_INGEST_GRPC_LISTEN=127.0.0.1:0 TEL_CDR_INGEST_ADMIN_LISTEN=127.0.0.1:0 \
  TEL_CDR_INGEST_DATABASE_URL="$TEL_PG_URL" TEL_CDR_INGEST_KAFKA_BROKERS="$TEL_KAFKA_BROKERS" \
  TEL_CDR_INGEST_KAFKA_GROUP=sigterm-check
check sip-edge TEL_SIP_EDGE_SIP_LISTEN=127.0.0.1:19160 TEL_SIP_EDGE_ADMIN_LISTEN=127.0.0.1:0 \
  TEL_SIP_EDGE_CONTROL_LISTEN=127.0.0.1:0 TEL_SIP_EDGE_REDIS_URL="$TEL_REDIS_URL" \
  TEL_SIP_EDGE_KAFKA_BROKERS="$TEL_KAFKA_BROKERS"
check integrations TEL_INTEGRATIONS_GRPC_LISTEN=127.0.0.1:0 TEL_INTEGRATIONS_ADMIN_LISTEN=127.0.0.1:0 \
  TEL_INTEGRATIONS_DATABASE_URL="$TEL_PG_URL" TEL_INTEGRATIONS_KAFKA_BROKERS="$TEL_KAFKA_BROKERS" \
  TEL_INTEGRATIONS_KAFKA_GROUP=sigterm-check TEL_INTEGRATIONS_CALL_LOG_ADDRESS=127.0.0.1:1
# routing with no sip-edge to attach to: it keeps trying, and still stops at once on SIGTERM.
check routing TEL_ROUTING_ADMIN_LISTEN=127.0.0.1:0 TEL_ROUTING_GRPC_LISTEN=127.0.0.1:0 \
  TEL_ROUTING_CALL_CONTROL_ADDRESS=127.0.0.1:1 TEL_ROUTING_DATABASE_URL="$TEL_PG_URL" \
  TEL_ROUTING_PROMPTS_DIR="$TEL_PROMPTS_DIR"
# queue likewise, with no sip-edge to attach to.
check queue TEL_QUEUE_ADMIN_LISTEN=127.0.0.1:0 TEL_QUEUE_GRPC_LISTEN=127.0.0.1:0 \
  TEL_QUEUE_CALL_CONTROL_ADDRESS=127.0.0.1:1 TEL_QUEUE_DATABASE_URL="$TEL_PG_URL" TEL_QUEUE_REDIS_URL="$TEL_REDIS_URL" \
  TEL_QUEUE_KAFKA_BROKERS="$TEL_KAFKA_BROKERS" TEL_QUEUE_KAFKA_GROUP=sigterm-check
check gateway TEL_GATEWAY_HTTP_LISTEN=127.0.0.1:0 TEL_GATEWAY_ADMIN_LISTEN=127.0.0.1:0 \
  TEL_GATEWAY_REDIS_URL="$TEL_REDIS_URL"
exit $failed
