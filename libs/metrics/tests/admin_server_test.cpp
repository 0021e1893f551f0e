#include "tel/metrics/admin_server.h"

#include <httplib.h>
#include <prometheus/counter.h>

#include <atomic>
#include <catch2/catch.hpp>

using tel::metrics::AdminServer;
using tel::metrics::HealthReport;

TEST_CASE("metrics, liveness and readiness are served on the admin port") {
  auto registry = std::make_shared<prometheus::Registry>();
  tel::metrics::registerProcessMetrics(*registry, "test", "1.2.3");
  prometheus::BuildCounter().Name("test_events_total").Help("events").Register(*registry).Add({}).Increment(3);
  std::atomic<bool> ready{true};
  AdminServer server("test", registry, [&] {
    return ready ? HealthReport{} : HealthReport{false, "database down"};
  });
  const int port = server.start("127.0.0.1", 0);
  httplib::Client client("127.0.0.1", port);

  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->body.find("test_events_total 3") != std::string::npos);
  CHECK(metrics->body.find("tel_build_info{service=\"test\",version=\"1.2.3\"} 1") != std::string::npos);

  CHECK(client.Get("/healthz")->status == 200);
  CHECK(client.Get("/readyz")->status == 200);
  ready = false;
  auto not_ready = client.Get("/readyz");
  CHECK(not_ready->status == 503);
  CHECK(not_ready->body.find("database down") != std::string::npos);
  server.stop();
}

TEST_CASE("binding a taken port is reported") {
  auto registry = std::make_shared<prometheus::Registry>();
  AdminServer first("a", registry, {});
  const int port = first.start("127.0.0.1", 0);
  AdminServer second("b", registry, {});
  CHECK_THROWS(second.start("127.0.0.1", port));
}
