#include "tel/metrics/admin_server.h"

#include <httplib.h>
#include <prometheus/gauge.h>
#include <prometheus/text_serializer.h>

#include <sys/socket.h>

#include <chrono>
#include <stdexcept>

namespace tel::metrics {

AdminServer::AdminServer(std::string service, std::shared_ptr<prometheus::Registry> registry,
                         HealthProbe readiness)
    : service_(std::move(service)),
      registry_(std::move(registry)),
      readiness_(std::move(readiness)),
      server_(std::make_unique<httplib::Server>()) {
  configureListener(*server_);
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    const auto families = registry_->Collect();
    res.set_content(prometheus::TextSerializer().Serialize(families),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"alive\"}", "application/json");
  });
  server_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    const HealthReport report = readiness_ ? readiness_() : HealthReport{};
    res.status = report.ready ? 200 : 503;
    std::string body = "{\"service\":\"" + service_ + "\",\"ready\":" +
                       (report.ready ? "true" : "false") + ",\"detail\":\"";
    for (char c : report.detail) body += (c == '"' || c == '\\') ? '\'' : c;
    body += "\"}";
    res.set_content(body, "application/json");
  });
}

AdminServer::~AdminServer() { stop(); }

int AdminServer::start(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
  } else if (!server_->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound <= 0) {
    throw std::runtime_error("admin server: cannot bind " + host + ":" + std::to_string(port));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  waitUntilListening(*server_);
  return bound;
}

void AdminServer::stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void configureListener(httplib::Server& server) {
  // httplib's default sets SO_REUSEPORT, which lets a second process bind the same port and
  // silently share its traffic; a port that is taken must be an error instead.
  server.set_socket_options([](int socket) {
    int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
}

void waitUntilListening(httplib::Server& server) {
  // stop() only reaches a server that is already listening; returning earlier would let a quick
  // start()/stop() pair leave the listener thread running forever.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void registerProcessMetrics(prometheus::Registry& registry, const std::string& service,
                            const std::string& version) {
  prometheus::BuildGauge()
      .Name("tel_build_info")
      .Help("Build information of the running service; always 1")
      .Register(registry)
      .Add({{"service", service}, {"version", version}})
      .Set(1);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  prometheus::BuildGauge()
      .Name("process_start_time_seconds")
      .Help("Start time of the process since the Unix epoch in seconds")
      .Register(registry)
      .Add({})
      .Set(std::chrono::duration<double>(now).count());
}

const std::vector<double>& latencyBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return buckets;
}

}  // namespace tel::metrics
