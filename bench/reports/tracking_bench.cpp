// Tracking number assignments per second: N clients call the analytics service's Visit for new
// visitor sessions of one site (each visit starts a session and takes a pool number under a row
// lock, writing the session, the number and the hold) for a fixed time. The anchor, run the same
// way in the same run: the same clients each writing one tracking session per transaction
// straight into Postgres, the least durable work a new visit needs.
//
//   bench_tracking <analytics address> <site key> <tenant id> <site id> <postgres url> [seconds] [clients]
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "tel/analytics/v1/tracking.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace v1 = ::tel::analytics::v1;

struct Result {
  uint64_t done = 0;
  uint64_t tracked = 0;
  uint64_t failed = 0;
  std::vector<double> latencies_ms;
};

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

// Runs `clients` threads of `one` (returns success, sets tracked) for `seconds`; prints a line.
template <typename Setup, typename One>
Result runClients(int clients, int seconds, Setup setup, One one) {
  std::vector<Result> results(clients);
  std::vector<std::thread> threads;
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto state = setup();
      Result& result = results[c];
      while (Clock::now() < deadline) {
        const auto started = Clock::now();
        bool tracked = false;
        if (one(*state, &tracked)) {
          ++result.done;
          if (tracked) ++result.tracked;
        } else {
          ++result.failed;
        }
        result.latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - started).count());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  Result total;
  for (auto& result : results) {
    total.done += result.done;
    total.tracked += result.tracked;
    total.failed += result.failed;
    total.latencies_ms.insert(total.latencies_ms.end(), result.latencies_ms.begin(), result.latencies_ms.end());
  }
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s <analytics address> <site key> <tenant id> <site id> <postgres url> [seconds] [clients]\n", argv[0]);
    return 2;
  }
  const std::string address = argv[1], site_key = argv[2], tenant = argv[3], site = argv[4], pg_url = argv[5];
  const int seconds = argc > 6 ? std::atoi(argv[6]) : 10;
  const int clients = argc > 7 ? std::atoi(argv[7]) : 16;

  struct GrpcClient {
    std::unique_ptr<v1::Tracking::Stub> stub;
  };
  Result visits = runClients(
      clients, seconds,
      [&] {
        return std::make_unique<GrpcClient>(GrpcClient{v1::Tracking::NewStub(
            grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), [] {
              grpc::ChannelArguments arguments;
              arguments.SetInt("grpc.use_local_subchannel_pool", 1);  // a connection per client
              return arguments;
            }()))});
      },
      [&](GrpcClient& client, bool* tracked) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        v1::VisitRequest request;
        request.set_site_key(site_key);
        request.mutable_source()->set_utm_source("bench");
        v1::VisitResponse response;
        if (!client.stub->Visit(&context, request, &response).ok()) return false;
        *tracked = response.tracked();
        return true;
      });
  const double visit_rate = static_cast<double>(visits.done) / seconds;

  Result anchor = runClients(
      clients, seconds, [&] { return std::make_unique<pqxx::connection>(pg_url); },
      [&](pqxx::connection& connection, bool* tracked) {
        pqxx::work txn(connection);
        txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant);
        txn.exec_params("INSERT INTO tracking_sessions (tenant_id, site_id, utm_source) VALUES ($1, $2, 'anchor')",
                        tenant, site);
        txn.commit();
        *tracked = true;
        return true;
      });
  const double anchor_rate = static_cast<double>(anchor.done) / seconds;

  std::printf("tracking visits (new sessions) with %d clients for %d s: %.0f/s, %llu given a pool number, "
              "%llu failed; latency p50 %.1f ms, p99 %.1f ms\n",
              clients, seconds, visit_rate, static_cast<unsigned long long>(visits.tracked),
              static_cast<unsigned long long>(visits.failed), percentile(visits.latencies_ms, 0.5),
              percentile(visits.latencies_ms, 0.99));
  std::printf("anchor (one session INSERT per transaction, straight into Postgres): %.0f/s; "
              "latency p50 %.1f ms, p99 %.1f ms\n",
              anchor_rate, percentile(anchor.latencies_ms, 0.5), percentile(anchor.latencies_ms, 0.99));
  std::printf("ratio: %.2f of the anchor's rate\n", anchor_rate > 0 ? visit_rate / anchor_rate : 0.0);
  return visits.failed == 0 ? 0 : 1;
}
