// The call-control API's notification streams, over a real gRPC server on loopback: what each
// attached application is sent.
#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <string>
#include <vector>

#include "call_control_service.h"
#include "tel/grpc/server.h"

namespace {

using tel::calls::v1::CallNotification;

// The hub is under test, not the commands: the test sends none, and checks that none arrived.
struct CountedCommands : tel::sip::CallCommands {
  std::atomic<int> received{0};
  void dial(const tel::calls::v1::DialRequest&, std::function<void(grpc::Status)> done) override {
    ++received;
    done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no calls in this test"));
  }
  void hangup(const tel::calls::v1::HangupRequest&,
              std::function<void(grpc::Status)> done) override {
    ++received;
    done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no calls in this test"));
  }
  void listLiveCalls(std::function<void(tel::calls::v1::ListLiveCallsResponse)> done) override {
    ++received;
    done({});
  }
};

// Attaches as an application, has one call offered to it and every other notice sent about it,
// then a second call offered: the kinds of notification received about the first call.
std::vector<CallNotification::KindCase> receivedWhenAttached(bool decisions_only) {
  tel::sip::ApplicationHub hub;
  CountedCommands commands;
  tel::sip::CallControlService service(hub, commands);
  tel::grpc_util::GrpcServer server("127.0.0.1:0", {&service});
  const int port = server.start();
  auto stub = tel::calls::v1::CallControl::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));

  grpc::ClientContext context;
  tel::calls::v1::AttachRequest request;
  request.set_application("test");
  request.set_decisions_only(decisions_only);
  auto reader = stub->Attach(&context, request);
  reader->WaitForInitialMetadata();  // sent once the stream is registered with the hub
  REQUIRE(hub.attached() == 1);

  CallNotification offered;
  offered.set_call_id("call-1");
  offered.mutable_offered()->set_tenant_id("tenant-a");
  auto application = hub.offer(offered);
  REQUIRE(application);
  CallNotification notice;
  notice.set_call_id("call-1");
  notice.mutable_ringing()->set_leg_id("b1.1");
  CHECK(hub.notify(*application, notice));
  notice.mutable_dial_failed()->set_status_code(486);
  CHECK(hub.notify(*application, notice));
  notice.mutable_bridged()->set_leg_id("b2.1");
  CHECK(hub.notify(*application, notice));
  notice.mutable_ended();
  CHECK(hub.notify(*application, notice));
  // A second call offered: every application is sent it, after all of the first call's notices.
  CallNotification next = offered;
  next.set_call_id("call-2");
  REQUIRE(hub.offer(next) == application);

  std::vector<CallNotification::KindCase> kinds;
  for (CallNotification received; reader->Read(&received);) {
    if (received.call_id() == "call-2") break;
    kinds.push_back(received.kind_case());
  }
  context.TryCancel();
  (void)reader->Finish();
  server.shutdown(std::chrono::milliseconds(100));
  CHECK(commands.received == 0);  // notifications go out without any command coming in
  return kinds;
}

}  // namespace

TEST_CASE("an application is sent every notification about the calls it takes") {
  CHECK(receivedWhenAttached(false) ==
        std::vector<CallNotification::KindCase>{
            CallNotification::kOffered, CallNotification::kRinging,
            CallNotification::kDialFailed, CallNotification::kBridged, CallNotification::kEnded});
}

TEST_CASE("an application attached for decisions only is sent offers and failed dials") {
  CHECK(receivedWhenAttached(true) ==
        std::vector<CallNotification::KindCase>{CallNotification::kOffered,
                                                CallNotification::kDialFailed});
}
