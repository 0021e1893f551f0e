#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/health_check_service_interface.h>
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <future>

#include "tel/grpc/blocking_executor.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/grpc/status.h"

using namespace tel::grpc_util;

TEST_CASE("the executor runs every posted task, also those queued at destruction") {
  std::atomic<int> done{0};
  {
    BlockingExecutor executor(2);
    for (int i = 0; i < 100; ++i) executor.post([&] { ++done; });
  }
  CHECK(done == 100);
}

TEST_CASE("invalid-argument statuses carry the field") {
  auto status = invalidArgument("e164", "must start with +");
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message() == "e164: must start with +");
  CHECK(fieldOf(status) == "e164");
  CHECK(fieldOf(notFound("number")).empty());
}

TEST_CASE("the server answers health checks until it shuts down") {
  GrpcServer server("127.0.0.1:0", {});
  const int port = server.start();
  REQUIRE(port > 0);
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  // grpc.health.v1.Health/Check with an empty request (the empty service name) is 0 bytes.
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::ByteBuffer request;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::promise<grpc::Status> result;
  grpc::ByteBuffer response;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status status) { result.set_value(status); });
  auto status = result.get_future().get();
  CHECK(status.ok());
  std::vector<grpc::Slice> slices;
  REQUIRE(response.Dump(&slices).ok());
  // HealthCheckResponse{status: SERVING(1)} encodes as 0x08 0x01.
  REQUIRE(slices.size() == 1);
  CHECK(slices[0].size() == 2);
  CHECK(slices[0].begin()[1] == 1);
  server.shutdown(std::chrono::milliseconds(100));
}

TEST_CASE("a drain ends as soon as nothing is left in progress") {
  ShutdownSignal signal;
  int calls_left = 3;
  const auto result = drainInProgress(signal, std::chrono::seconds(10),
                                      [&] { return static_cast<size_t>(calls_left--); });
  CHECK(result.left == 0);
  CHECK_FALSE(result.interrupted);
  CHECK(result.took < std::chrono::seconds(2));
}

TEST_CASE("a drain gives up when its grace period ends") {
  ShutdownSignal signal;
  const auto result =
      drainInProgress(signal, std::chrono::milliseconds(300), [] { return size_t{2}; });
  CHECK(result.left == 2);
  CHECK_FALSE(result.interrupted);
  CHECK(result.took >= std::chrono::milliseconds(300));
  CHECK(result.took < std::chrono::seconds(3));
}

TEST_CASE("a second signal ends a drain at once") {
  ShutdownSignal signal;  // blocks SIGTERM in this thread: it stays pending for sigtimedwait
  REQUIRE(pthread_kill(pthread_self(), SIGTERM) == 0);
  const auto result = drainInProgress(signal, std::chrono::seconds(10), [] { return size_t{1}; });
  CHECK(result.interrupted);
  CHECK(result.left == 1);
  CHECK(result.took < std::chrono::seconds(2));
}
