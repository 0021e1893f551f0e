#include "ingest_loop.h"

#include <thread>

#include "tel/events/call_events.h"
#include "tel/metrics/admin_server.h"

namespace tel::cdr {

IngestLoop::IngestLoop(kafka::Consumer& consumer, CdrStore& store, IngestOptions options,
                       log::Logger logger, prometheus::Registry& registry)
    : consumer_(consumer),
      store_(store),
      options_(options),
      log_(std::move(logger)),
      tenant_metrics_(registry, options_.max_tenant_series),
      consumed_(prometheus::BuildCounter()
                    .Name("tel_cdr_consumed_events_total")
                    .Help("Call events read from Kafka")
                    .Register(registry)
                    .Add({})),
      rejected_(prometheus::BuildCounter()
                    .Name("tel_cdr_rejected_events_total")
                    .Help("Malformed call events skipped")
                    .Register(registry)
                    .Add({})),
      new_events_(prometheus::BuildCounter()
                      .Name("tel_cdr_stored_events_total")
                      .Help("Call events stored for the first time (replays not counted)")
                      .Register(registry)
                      .Add({})),
      calls_updated_(prometheus::BuildCounter()
                         .Name("tel_cdr_call_record_updates_total")
                         .Help("Call records recomputed and written")
                         .Register(registry)
                         .Add({})),
      write_failures_(prometheus::BuildCounter()
                          .Name("tel_cdr_batch_write_failures_total")
                          .Help("Batches whose database write failed and was retried")
                          .Register(registry)
                          .Add({})),
      batch_seconds_(prometheus::BuildHistogram()
                         .Name("tel_cdr_batch_duration_seconds")
                         .Help("Time to store one batch and commit its offsets")
                         .Register(registry)
                         .Add({}, metrics::latencyBuckets())),
      ended_to_stored_seconds_(
          prometheus::BuildHistogram()
              .Name("tel_cdr_call_end_to_record_seconds")
              .Help("From call.ended occurring to its call record being committed")
              .Register(registry)
              .Add({}, metrics::latencyBuckets())) {}

void IngestLoop::run(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(100);
  while (!stop) {
    auto batch = consumer_.poll(options_.max_batch, options_.poll_wait);
    if (!batch.ok()) {
      log_.warn("kafka poll failed", {{"error", std::string(batch.status().message())}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    consuming_ = consumer_.assignedPartitions() > 0;
    if (batch->empty()) continue;
    const auto started = std::chrono::steady_clock::now();
    consumed_.Increment(static_cast<double>(batch->size()));

    std::vector<IncomingEvent> events;
    std::vector<int64_t> call_ends;  // occurred_at of call.ended events, for the latency metric
    events.reserve(batch->size());
    for (const auto& message : *batch) {
      auto decoded = events::decodeCallEvent(message.value);
      if (!decoded.ok()) {
        rejected_.Increment();
        log_.warn("malformed call event skipped",
                  {{"partition", std::to_string(message.partition)},
                   {"offset", std::to_string(message.offset)},
                   {"error", std::string(decoded.status().message())}});
        continue;
      }
      IncomingEvent event;
      event.tenant_id = decoded->envelope.tenant_id();
      event.call_id = decoded->envelope.call_id();
      event.type = decoded->envelope.type();
      event.payload = decoded->event.SerializeAsString();
      event.record = {decoded->envelope.event_id(), decoded->envelope.sequence(),
                      decoded->occurred_micros, std::move(decoded->event)};
      if (event.record.event.has_call_ended()) call_ends.push_back(event.record.occurred_micros);
      events.push_back(std::move(event));
    }

    // The batch is retried until stored: committing offsets of unstored events would lose them.
    bool stored = events.empty();
    while (!stored && !stop) {
      try {
        const BatchResult result = store_.writeBatch(events);
        new_events_.Increment(static_cast<double>(result.new_events));
        calls_updated_.Increment(static_cast<double>(result.calls_updated));
        for (const auto& completed : result.completed) tenant_metrics_.record(completed);
        stored = true;
        backoff = std::chrono::milliseconds(100);
      } catch (const std::exception& e) {
        write_failures_.Increment();
        log_.error("storing call events failed; retrying",
                   {{"error", e.what()}, {"events", std::to_string(events.size())}});
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
    if (!stored) return;  // stopping: the batch will be delivered again
    if (auto status = consumer_.commit(*batch); !status.ok()) {
      // The next owner of these partitions re-reads the batch; the store absorbs it.
      log_.warn("offset commit failed", {{"error", std::string(status.message())}});
    }
    const auto now_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
    for (int64_t ended : call_ends) {
      ended_to_stored_seconds_.Observe(std::max<int64_t>(0, now_micros - ended) / 1e6);
    }
    batch_seconds_.Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
}

}  // namespace tel::cdr
