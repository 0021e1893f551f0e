#pragma once

#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace tel::metrics {

// What a health probe reports: whether the process is alive (liveness) and whether it can serve
// (readiness: its dependencies answer). `detail` is shown to the operator.
struct HealthReport {
  bool ready = true;
  std::string detail = "ok";
};
using HealthProbe = std::function<HealthReport()>;

// The operator-facing HTTP endpoint every service runs on its own admin port:
//   GET /metrics  Prometheus text exposition of the registry
//   GET /healthz  liveness: 200 while the process serves HTTP
//   GET /readyz   readiness: 200 or 503 with the probe's detail
// Owns one listener thread. start() binds (port 0 picks a free port); stop() is idempotent and is
// called by the destructor.
class AdminServer {
 public:
  AdminServer(std::string service, std::shared_ptr<prometheus::Registry> registry,
              HealthProbe readiness);
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Returns the bound port; throws std::runtime_error when the address cannot be bound.
  int start(const std::string& host, int port);
  void stop();

 private:
  std::string service_;
  std::shared_ptr<prometheus::Registry> registry_;
  HealthProbe readiness_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

// Socket options for every HTTP listener of the platform: SO_REUSEADDR, never SO_REUSEPORT.
void configureListener(httplib::Server& server);
// Blocks (up to 5 s) until a server started on another thread accepts connections.
void waitUntilListening(httplib::Server& server);

// Registers the metrics every service exports: tel_build_info{service,version} and
// process_start_time_seconds.
void registerProcessMetrics(prometheus::Registry& registry, const std::string& service,
                            const std::string& version);

// Latency buckets in seconds for request histograms (0.5 ms .. 10 s).
const std::vector<double>& latencyBuckets();

}  // namespace tel::metrics
