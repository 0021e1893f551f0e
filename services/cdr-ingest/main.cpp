// cdr-ingest: call events from Kafka into one call record per call in Postgres; serves the call
// log (tel.calls.v1.CallLog) over gRPC.
#include <iostream>
#include <thread>

#include "call_log_service.h"
#include "cdr_config.h"
#include "ingest_loop.h"
#include "recording_sweeper.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/metrics/admin_server.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::cdr::CdrConfig>(argc, argv, "cdr-ingest",
                                                                          "TEL_CDR_INGEST");
  auto log = tel::log::Logger::create("cdr-ingest", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "cdr-ingest", TEL_VERSION);
    auto pool =
        std::make_shared<tel::pg::ConnectionPool>(config.database_url, config.database_pool_size);
    tel::cdr::CdrStore store(pool);
    auto consumer = tel::kafka::Consumer::create(
        {config.kafka_brokers,
         config.kafka_group,
         {config.kafka_topic},
         "cdr-ingest",
         {{"session.timeout.ms", std::to_string(config.kafka_session_timeout.count())},
          {"fetch.wait.max.ms", std::to_string(config.kafka_fetch_max_wait.count())},
          {"fetch.min.bytes", "65536"}}});
    if (!consumer.ok()) {
      log.error("cannot create the Kafka consumer",
                {{"error", std::string(consumer.status().message())}});
      return 1;
    }
    tel::cdr::IngestLoop ingest(**consumer, store, config.ingest, log, *registry);
    std::atomic<bool> stop{false};
    std::thread ingest_thread([&] { ingest.run(stop); });

    std::unique_ptr<tel::cdr::RecordingSweeper> sweeper;
    if (!config.recordings_dir.empty()) {
      sweeper = std::make_unique<tel::cdr::RecordingSweeper>(pool, config.recordings_dir,
                                                             config.recordings_sweep_interval, log, *registry);
      sweeper->start();
    }

    tel::cdr::CallLogService call_log(store, config.workers);
    tel::metrics::AdminServer admin("cdr-ingest", registry, [&] {
      if (!ingest.consuming())
        return tel::metrics::HealthReport{false, "waiting for Kafka partitions"};
      return store.healthy() ? tel::metrics::HealthReport{}
                             : tel::metrics::HealthReport{false, "database unreachable"};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    tel::grpc_util::GrpcServer server(config.grpc_listen.str(), {&call_log});
    const int grpc_port = server.start();
    log.info("cdr-ingest serving", {{"grpc_port", std::to_string(grpc_port)},
                                    {"admin_port", std::to_string(admin_port)},
                                    {"topic", config.kafka_topic},
                                    {"group", config.kafka_group}});
    const int signal = shutdown_signal.wait();
    log.info("shutting down", {{"signal", std::to_string(signal)}});
    stop = true;
    if (sweeper) sweeper->stop();
    ingest_thread.join();
    (*consumer)->close();
    server.shutdown(std::chrono::seconds(5));
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
