#include "event_ingest.h"

#include <map>
#include <set>
#include <thread>

#include "call_event_impact.h"
#include "tel/events/call_events.h"
#include "tel/pg/arrays.h"

namespace tel::integrations {


EventIngest::EventIngest(kafka::Consumer& consumer, std::shared_ptr<pg::ConnectionPool> pool,
                         log::Logger logger, prometheus::Registry& registry)
    : consumer_(consumer),
      pool_(std::move(pool)),
      log_(std::move(logger)),
      consumed_(prometheus::BuildCounter()
                    .Name("tel_webhooks_consumed_call_events_total")
                    .Help("Call events read from Kafka")
                    .Register(registry)
                    .Add({})),
      rejected_(prometheus::BuildCounter()
                    .Name("tel_webhooks_rejected_call_events_total")
                    .Help("Malformed call events skipped")
                    .Register(registry)
                    .Add({})),
      raised_(prometheus::BuildCounter()
                  .Name("tel_webhooks_events_total")
                  .Help("Webhook events recorded, by type (replayed call events not counted)")
                  .Register(registry)),
      queued_(prometheus::BuildCounter()
                  .Name("tel_webhooks_deliveries_queued_total")
                  .Help("Deliveries queued for subscriptions as events were recorded")
                  .Register(registry)
                  .Add({})),
      write_failures_(prometheus::BuildCounter()
                          .Name("tel_webhooks_ingest_failures_total")
                          .Help("Batches whose database write failed and was retried")
                          .Register(registry)
                          .Add({})) {}

int64_t EventIngest::record(const std::vector<events::DecodedCallEvent>& batch) {
  int64_t queued = 0;
  std::map<std::string, int64_t> raised;
  int64_t refused = 0;
  pool_->inTransaction([&](pqxx::work& txn) {
    queued = 0;
    refused = 0;
    raised.clear();
    // Most tenants have no webhook: one question for the batch spares their events the five round
    // trips of the per-event path (whose functions would find no subscription either).
    // (decodeCallEvent refused every event whose tenant id is not a UUID.)
    std::set<std::string> tenants;
    for (const auto& decoded : batch) tenants.insert(decoded.envelope.tenant_id());
    std::set<std::string> subscribed;
    for (const auto& row : txn.exec_params("SELECT t::text FROM tel_tenants_with_webhooks($1::uuid[]) AS t",
                                           pg::arrayLiteral(tenants))) {
      subscribed.insert(row[0].as<std::string>());
    }
    for (const auto& decoded : batch) {
      const auto& envelope = decoded.envelope;
      if (!subscribed.contains(envelope.tenant_id())) continue;
      const CallEventImpact impact = impactOf(decoded.event);
      if (!impact.facts && !impact.queue && impact.events.empty()) continue;
      // Each event in its own savepoint: one the database refuses (its tenant deleted meanwhile)
      // is skipped instead of holding up the partition behind it forever.
      pqxx::subtransaction savepoint(txn, "call_event");
      try {
        savepoint.exec_params("SELECT set_config('tel.tenant_id', $1, true)", envelope.tenant_id());
        if (impact.facts) {
          const CallFacts& facts = *impact.facts;
          savepoint.exec_params("SELECT tel_note_webhook_call($1, $2, $3, $4::text[], $5::text[], $6, $7::jsonb)",
                                envelope.tenant_id(), envelope.call_id(), facts.direction,
                                pg::arrayLiteral(facts.numbers), pg::arrayLiteral(facts.extensions), facts.leg_id,
                                facts.leg.is_null() ? std::string("{}") : facts.leg.dump());
        }
        if (impact.queue) {
          savepoint.exec_params("SELECT tel_note_webhook_call_queue($1, $2, $3)", envelope.tenant_id(),
                                envelope.call_id(), impact.queue->waiting_in);
        }
        std::map<std::string, int64_t> raised_here;
        int64_t queued_here = 0;
        for (const auto& event : impact.events) {
          const std::optional<std::string> data =
              event.data ? std::optional<std::string>(event.data->dump()) : std::nullopt;
          const int deliveries =
              savepoint.exec_params1("SELECT tel_add_webhook_call_event($1, $2, $3, $4,"
                                     " to_timestamp($5::double precision / 1e6), $6::jsonb, $7)",
                                     envelope.tenant_id(), envelope.call_id(), envelope.event_id(), event.type,
                                     decoded.occurred_micros, data, event.leg_id)[0]
                  .as<int>();
          if (deliveries < 0) continue;
          ++raised_here[event.type];
          queued_here += deliveries;
        }
        savepoint.commit();
        for (const auto& [type, count] : raised_here) raised[type] += count;
        queued += queued_here;
      } catch (const pqxx::broken_connection&) {
        throw;  // the whole batch is retried
      } catch (const pqxx::sql_error& e) {
        savepoint.abort();
        ++refused;
        log_.warn("call event refused by the database; skipped",
                  {{"tenant_id", envelope.tenant_id()}, {"call_id", envelope.call_id()},
                   {"event_id", envelope.event_id()}, {"error", e.what()}});
      }
    }
  });
  rejected_.Increment(static_cast<double>(refused));
  for (const auto& [type, count] : raised) raised_.Add({{"type", type}}).Increment(static_cast<double>(count));
  return queued;
}

void EventIngest::run(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(100);
  while (!stop) {
    auto batch = consumer_.poll(1000, std::chrono::milliseconds(100));
    if (!batch.ok()) {
      log_.warn("kafka poll failed", {{"error", std::string(batch.status().message())}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    consuming_ = consumer_.assignedPartitions() > 0;
    if (batch->empty()) continue;
    consumed_.Increment(static_cast<double>(batch->size()));
    std::vector<events::DecodedCallEvent> decoded_batch;
    decoded_batch.reserve(batch->size());
    for (const auto& message : *batch) {
      auto decoded = events::decodeCallEvent(message.value);
      if (!decoded.ok()) {
        // It can never become valid: skipped, so that it does not stop the partition.
        rejected_.Increment();
        log_.warn("malformed call event skipped", {{"partition", std::to_string(message.partition)},
                                                   {"offset", std::to_string(message.offset)},
                                                   {"error", std::string(decoded.status().message())}});
        continue;
      }
      decoded_batch.push_back(std::move(*decoded));
    }
    // Retried until recorded: committing offsets of unrecorded events would lose them.
    bool recorded = false;
    while (!recorded && !stop) {
      try {
        queued_.Increment(static_cast<double>(record(decoded_batch)));
        recorded = true;
        backoff = std::chrono::milliseconds(100);
      } catch (const std::exception& e) {
        write_failures_.Increment();
        log_.error("recording webhook events failed; retrying",
                   {{"error", e.what()}, {"events", std::to_string(batch->size())}});
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
    if (!recorded) return;  // stopping: the batch will be read again
    if (auto status = consumer_.commit(*batch); !status.ok()) {
      log_.warn("offset commit failed", {{"error", std::string(status.message())}});
    }
  }
}

}  // namespace tel::integrations
