// SipEdgeFleet against an in-process call-control server on loopback: it resolves the name,
// attaches, receives the offer, and commands go back on the stream of the sip-edge the offer came
// from, their outcomes with them.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "tel/call_control/application_link.h"
#include "tel/grpc/resolve.h"

using namespace tel;
using namespace std::chrono_literals;

namespace {

// A stand-in sip-edge: once an application attaches, offers it one call; records the dials it
// is sent and refuses each as FAILED_PRECONDITION.
class FakeSipEdge final : public calls::v1::CallControl::CallbackService {
 public:
  using Reactor = grpc::ServerBidiReactor<calls::v1::ApplicationMessage, calls::v1::ControlMessage>;

  Reactor* Attach(grpc::CallbackServerContext*) override {
    class Session final : public Reactor {
     public:
      explicit Session(FakeSipEdge& edge) : edge_(edge) { StartRead(&incoming_); }
      void OnReadDone(bool ok) override {
        if (!ok) {
          Finish(grpc::Status::OK);
          return;
        }
        std::lock_guard lock(mutex_);
        calls::v1::ControlMessage& reply = queue_.emplace_back();
        if (incoming_.has_attach()) {
          StartSendInitialMetadata();
          reply.mutable_notification()->set_call_id("call-1");
          reply.mutable_notification()->mutable_offered()->set_tenant_id("tenant-a");
        } else {
          edge_.dialled(incoming_.command().dial().call_id());
          reply.mutable_outcome()->set_id(incoming_.command().id());
          reply.mutable_outcome()->set_code(grpc::StatusCode::FAILED_PRECONDITION);
          reply.mutable_outcome()->set_message("the call is not waiting for a dial");
        }
        if (queue_.size() == 1) StartWrite(&queue_.front());
        StartRead(&incoming_);
      }
      void OnWriteDone(bool) override {
        std::lock_guard lock(mutex_);
        queue_.pop_front();
        if (!queue_.empty()) StartWrite(&queue_.front());
      }
      void OnDone() override { delete this; }

     private:
      FakeSipEdge& edge_;
      calls::v1::ApplicationMessage incoming_;
      std::mutex mutex_;
      std::deque<calls::v1::ControlMessage> queue_;  // front() is being written
    };
    return new Session(*this);
  }

  void dialled(const std::string& call_id) {
    {
      std::lock_guard lock(mutex);
      calls.push_back(call_id);
    }
    changed.notify_all();
  }

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::string> calls;  // dialled
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

  prometheus::Registry registry;
  call_control::SipEdgeFleet fleet(
      "127.0.0.1:" + std::to_string(port), call_control::AttachOptions{.application = "routing", .decisions_only = true},
      [](calls::v1::CallNotification notification,
         std::shared_ptr<call_control::CallCommander> commander) {
        calls::v1::DialRequest dial;
        dial.set_call_id(notification.call_id());
        CHECK(commander->dial(dial).ok());  // sent; refused later, on the stream
      },
      1s, registry, log::Logger::create("fleet-test", log::Level::kError));
  fleet.start();
  {
    std::unique_lock lock(edge.mutex);
    REQUIRE(edge.changed.wait_for(lock, 5s, [&] { return !edge.calls.empty(); }));
    CHECK(edge.calls.front() == "call-1");
  }
  CHECK(fleet.members() == 1);
  CHECK(fleet.attached() == 1);
  // The refusal comes back on the stream and is counted against the dial.
  auto failedDials = [&registry] {
    for (const auto& family : registry.Collect()) {
      if (family.name != "tel_routing_commands_failed_total") continue;
      for (const auto& metric : family.metric) {
        if (metric.label.at(0).value == "dial") return metric.counter.value;
      }
    }
    return -1.0;
  };
  for (int i = 0; i < 100 && failedDials() < 1; ++i) std::this_thread::sleep_for(20ms);
  CHECK(failedDials() == 1);
  fleet.stop();
  server->Shutdown(std::chrono::system_clock::now() + 1s);
}
