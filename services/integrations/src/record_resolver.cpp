#include "record_resolver.h"

#include <thread>

#include "tel/events/call_record_json.h"
#include "tel/grpc/status.h"

namespace tel::integrations {
namespace {

// queue.caller_abandoned names the queue the caller hung up in and how long it had waited there.
void addAbandonedVisit(const calls::v1::CallRecord& record, nlohmann::json* data) {
  for (auto visit = record.queue_visits().rbegin(); visit != record.queue_visits().rend(); ++visit) {
    if (visit->outcome() != "abandoned") continue;
    (*data)["queue_id"] = visit->queue_id();
    (*data)["wait_seconds"] = visit->wait_seconds();
    return;
  }
}

}  // namespace

RecordResolver::RecordResolver(std::shared_ptr<pg::ConnectionPool> pool,
                               calls::v1::CallLog::StubInterface& call_log,
                               std::chrono::milliseconds give_up_after, log::Logger logger,
                               prometheus::Registry& registry)
    : pool_(std::move(pool)),
      call_log_(call_log),
      give_up_after_(give_up_after),
      log_(std::move(logger)),
      resolved_(prometheus::BuildCounter()
                    .Name("tel_webhooks_records_attached_total")
                    .Help("call.ended, call.missed, recording.ready and voicemail.received events given their call record")
                    .Register(registry)
                    .Add({})),
      without_record_(prometheus::BuildCounter()
                          .Name("tel_webhooks_records_missing_total")
                          .Help("Events that carry the call record sent without it, none being complete in time")
                          .Register(registry)
                          .Add({})),
      failures_(prometheus::BuildCounter()
                    .Name("tel_webhooks_record_lookup_failures_total")
                    .Help("Passes that failed to read waiting events or store their data")
                    .Register(registry)
                    .Add({})) {}

int RecordResolver::resolveWaiting() {
  struct Waiting {
    std::string event_id, tenant_id, call_id, type;
    int64_t age_ms;
  };
  std::vector<Waiting> waiting;
  pool_->inTransaction([&](pqxx::work& txn) {
    waiting.clear();
    for (const auto& row : txn.exec(
             "SELECT event_id::text, tenant_id::text, call_id::text, type,"
             " (extract(epoch FROM now() - created_at) * 1000)::bigint FROM tel_unresolved_webhook_events(200)")) {
      waiting.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                         row[3].as<std::string>(), row[4].as<int64_t>()});
    }
  });
  int done = 0;
  for (const auto& event : waiting) {
    calls::v1::GetCallRequest request;
    request.set_tenant_id(event.tenant_id);
    request.set_call_id(event.call_id);
    calls::v1::CallRecord record;
    const grpc::Status status = grpc_util::callUnary(call_log_, &calls::v1::CallLog::StubInterface::GetCall,
                                                     request, &record, std::chrono::seconds(2));
    nlohmann::json data;
    if (status.ok() && record.complete()) {
      data = {{"call", events::callRecordJson(record, true)}};
      if (event.type == "queue.caller_abandoned") addAbandonedVisit(record, &data);
      resolved_.Increment();
    } else if (event.age_ms > give_up_after_.count()) {
      data = {{"call", nullptr}, {"call_id", event.call_id}, {"record_missing", true}};
      without_record_.Increment();
      log_.warn("webhook event sent without its call record",
                {{"call_id", event.call_id}, {"tenant_id", event.tenant_id}, {"type", event.type},
                 {"lookup", status.ok() ? "incomplete" : status.error_message()}});
    } else {
      continue;  // not written yet: the next pass looks again
    }
    pool_->inTenantTransaction(event.tenant_id, [&](pqxx::work& txn) {
      txn.exec_params("UPDATE webhook_events SET data = $2::jsonb WHERE id = $1 AND data IS NULL",
                      event.event_id, data.dump());
    });
    ++done;
  }
  return done;
}

void RecordResolver::run(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  while (!stop) {
    int done = 0;
    try {
      done = resolveWaiting();
    } catch (const std::exception& e) {
      failures_.Increment();
      log_.error("attaching call records to webhook events failed", {{"error", e.what()}});
    }
    if (done == 0) std::this_thread::sleep_for(interval);
  }
}

}  // namespace tel::integrations
