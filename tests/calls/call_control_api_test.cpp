// sip-edge's call-control API with bad and out-of-place commands: clear statuses, nothing changed.
// (Attach is not called here: an attached test would be offered calls meant for routing.)
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>

#include "tel/calls/v1/call_control.grpc.pb.h"
#include "tel/testing/env.h"

namespace v1 = tel::calls::v1;
using tel::testing::requireEnv;

namespace {

std::unique_ptr<v1::CallControl::Stub> control() {
  return v1::CallControl::NewStub(
      grpc::CreateChannel(requireEnv("TEL_CALL_CONTROL_ADDR"), grpc::InsecureChannelCredentials()));
}

grpc::Status dial(const v1::DialRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::CommandResult reply;
  return control()->Dial(&context, request, &reply);
}

grpc::Status hangup(const v1::HangupRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::CommandResult reply;
  return control()->Hangup(&context, request, &reply);
}

v1::DialRequest validDial() {
  v1::DialRequest request;
  request.set_call_id("no-such-call");
  request.add_targets()->mutable_account()->set_account_id("00000000-0000-0000-0000-000000000001");
  return request;
}

}  // namespace

TEST_CASE("a well-formed command for a call that does not exist is NOT_FOUND") {
  CHECK(dial(validDial()).error_code() == grpc::StatusCode::NOT_FOUND);
  v1::HangupRequest request;
  request.set_call_id("no-such-call");
  request.set_status_code(486);
  CHECK(hangup(request).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("malformed Dial requests are INVALID_ARGUMENT naming the field") {
  struct Case {
    const char* what;
    std::function<void(v1::DialRequest&)> spoil;
    const char* field;
  };
  const Case cases[] = {
      {"no call id", [](v1::DialRequest& r) { r.clear_call_id(); }, "call_id"},
      {"a huge call id", [](v1::DialRequest& r) { r.set_call_id(std::string(1000, 'x')); },
       "call_id"},
      {"no targets", [](v1::DialRequest& r) { r.clear_targets(); }, "targets"},
      {"21 targets",
       [](v1::DialRequest& r) {
         for (int i = 0; i < 20; ++i) *r.add_targets() = r.targets(0);
       },
       "targets"},
      {"an empty target", [](v1::DialRequest& r) { r.add_targets(); }, "targets"},
      {"an account target without id",
       [](v1::DialRequest& r) { r.mutable_targets(0)->mutable_account()->clear_account_id(); },
       "targets.account.account_id"},
      {"an external target that is not a SIP URI",
       [](v1::DialRequest& r) { r.add_targets()->mutable_external()->set_request_uri("http://x"); },
       "targets.external.request_uri"},
      {"a SIP URI with a line break (header injection)",
       [](v1::DialRequest& r) {
         r.add_targets()->mutable_external()->set_request_uri("sip:a@b\r\nX-Evil: 1");
       },
       "targets.external.request_uri"},
      {"a ring timeout over 600 s", [](v1::DialRequest& r) { r.set_timeout_seconds(601); },
       "timeout_seconds"},
      {"33 route steps",
       [](v1::DialRequest& r) {
         for (int i = 0; i < 33; ++i) r.add_route()->set_node("n");
       },
       "route"},
      {"five limits",
       [](v1::DialRequest& r) {
         for (int i = 0; i < 5; ++i) {
           auto* limit = r.add_limits();
           limit->set_key("k" + std::to_string(i));
           limit->set_max(1);
         }
       },
       "limits"},
      {"a limit without a key", [](v1::DialRequest& r) { r.add_limits()->set_max(1); }, "limits.key"},
      {"a limit of 0 calls", [](v1::DialRequest& r) { r.add_limits()->set_key("outbound:tenant"); }, "limits.max"},
      {"a route step with a huge detail",
       [](v1::DialRequest& r) { r.add_route()->set_detail(std::string(300, 'x')); }, "route"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    v1::DialRequest request = validDial();
    c.spoil(request);
    const grpc::Status status = dial(request);
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(status.error_message().rfind(std::string(c.field) + ":", 0) == 0);
  }
}

TEST_CASE("a Hangup with a status that is not a final failure is INVALID_ARGUMENT") {
  for (uint32_t status : {200u, 399u, 700u, 100000u}) {
    v1::HangupRequest request;
    request.set_call_id("no-such-call");
    request.set_status_code(status);
    const grpc::Status result = hangup(request);
    CHECK(result.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(result.error_message().rfind("status_code:", 0) == 0);
  }
  v1::HangupRequest request;
  CHECK(hangup(request).error_code() == grpc::StatusCode::INVALID_ARGUMENT);  // no call id
}

TEST_CASE("the live calls can be listed, and none belongs to a made-up id") {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ListLiveCallsResponse reply;
  REQUIRE(control()->ListLiveCalls(&context, v1::ListLiveCallsRequest(), &reply).ok());
  for (const auto& call : reply.calls()) CHECK(call.call_id() != "no-such-call");
}
