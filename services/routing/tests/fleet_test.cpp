// SipEdgeFleet against an in-process call-control server on loopback: it resolves the name,
// attaches, receives the offer, and commands go back to the sip-edge the offer came from.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "adapters.h"
#include "tel/grpc/resolve.h"

using namespace tel;
using namespace std::chrono_literals;

namespace {

// A stand-in sip-edge: offers one call on every Attach, records Dial requests.
class FakeSipEdge final : public calls::v1::CallControl::CallbackService {
 public:
  grpc::ServerWriteReactor<calls::v1::CallNotification>* Attach(
      grpc::CallbackServerContext*, const calls::v1::AttachRequest*) override {
    class Offer final : public grpc::ServerWriteReactor<calls::v1::CallNotification> {
     public:
      Offer() {
        notification_.set_call_id("call-1");
        notification_.mutable_offered()->set_tenant_id("tenant-a");
        StartSendInitialMetadata();
        StartWrite(&notification_);
      }
      void OnWriteDone(bool) override {}
      void OnCancel() override { Finish(grpc::Status::CANCELLED); }
      void OnDone() override { delete this; }

     private:
      calls::v1::CallNotification notification_;
    };
    return new Offer;
  }
  grpc::ServerUnaryReactor* Dial(grpc::CallbackServerContext* context,
                                 const calls::v1::DialRequest* request,
                                 calls::v1::CommandResult*) override {
    {
      std::lock_guard lock(mutex);
      dialled.push_back(request->call_id());
    }
    changed.notify_all();
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> dialled;
};

}  // namespace

TEST_CASE("names resolve to every address, IP literals to themselves") {
  CHECK(tel::grpc_util::resolveAll("127.0.0.1:17142") ==
        std::vector<std::string>{"127.0.0.1:17142"});
  const auto local = tel::grpc_util::resolveAll("localhost:5");
  CHECK(std::find(local.begin(), local.end(), "127.0.0.1:5") != local.end());
  CHECK(tel::grpc_util::resolveAll("no-such-host.invalid:5").empty());
  CHECK(tel::grpc_util::resolveAll("missing-port").empty());
}

TEST_CASE(
    "the fleet attaches, gets the offer, and drives the call on the sip-edge that offered it") {
  FakeSipEdge edge;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&edge);
  auto server = builder.BuildAndStart();
  REQUIRE(port > 0);

  routing::SipEdgeFleet fleet(
      "127.0.0.1:" + std::to_string(port),
      [](calls::v1::CallNotification notification,
         std::shared_ptr<routing::CallCommander> commander) {
        calls::v1::DialRequest dial;
        dial.set_call_id(notification.call_id());
        REQUIRE(commander->dial(dial).ok());
      },
      2000ms, 1s, log::Logger::create("fleet-test", log::Level::kError));
  fleet.start();
  {
    std::unique_lock lock(edge.mutex);
    REQUIRE(edge.changed.wait_for(lock, 5s, [&] { return !edge.dialled.empty(); }));
    CHECK(edge.dialled.front() == "call-1");
  }
  CHECK(fleet.members() == 1);
  for (int i = 0; i < 50 && fleet.attached() == 0; ++i) std::this_thread::sleep_for(20ms);
  CHECK(fleet.attached() == 1);
  fleet.stop();
  server->Shutdown(std::chrono::system_clock::now() + 1s);
}
