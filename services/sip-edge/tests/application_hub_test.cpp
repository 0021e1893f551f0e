// The call-control API's application streams, over a real gRPC server on loopback: what each
// attached application is sent, and how the commands it sends on its stream are answered.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "call_control_service.h"
#include "tel/grpc/server.h"

namespace {

using tel::calls::v1::ApplicationMessage;
using tel::calls::v1::CallNotification;
using tel::calls::v1::ControlMessage;

// The stream is under test, not the B2BUA: every command is refused as if its call were gone, or,
// when holding, kept unanswered until release().
struct CountedCommands : tel::sip::CallCommands {
  std::atomic<int> received{0};
  std::atomic<bool> holding{false};
  std::mutex mutex;
  std::vector<std::function<void(grpc::Status)>> held;

  void take(std::function<void(grpc::Status)> done) {
    ++received;
    if (holding) {
      std::lock_guard lock(mutex);
      held.push_back(std::move(done));
      return;
    }
    done(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such call"));
  }
  void dial(const tel::calls::v1::DialRequest&, std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void hangup(const tel::calls::v1::HangupRequest&,
              std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void answer(const tel::calls::v1::AnswerRequest&, std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void play(const tel::calls::v1::PlayRequest&, std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void stopPlayback(const tel::calls::v1::StopPlaybackRequest&,
                    std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void collectDigits(const tel::calls::v1::CollectDigitsRequest&,
                     std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void record(const tel::calls::v1::RecordRequest&, std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void handOver(const tel::calls::v1::HandOverRequest&, std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void note(const tel::calls::v1::NoteRequest&, std::function<void(grpc::Status)> done) override {
    take(std::move(done));
  }
  void probe(const tel::calls::v1::ProbeRequest&,
             std::function<void(grpc::Status, tel::calls::v1::ProbeResult)> done) override {
    ++received;
    done(grpc::Status::OK, {});
  }
  void listLiveCalls(std::function<void(tel::calls::v1::ListLiveCallsResponse)> done) override {
    ++received;
    done({});
  }
  void release() {
    std::vector<std::function<void(grpc::Status)>> answering;
    {
      std::lock_guard lock(mutex);
      answering.swap(held);
    }
    for (auto& done : answering) done(grpc::Status::OK);
  }
};

// A sip-edge's call-control API without the B2BUA, and one application's stream to it.
struct Fixture {
  tel::sip::ApplicationHub hub;
  CountedCommands commands;
  tel::sip::CallControlService service{hub, commands};
  tel::grpc_util::GrpcServer server{"127.0.0.1:0", {&service}};
  std::unique_ptr<tel::calls::v1::CallControl::Stub> stub;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReaderWriter<ApplicationMessage, ControlMessage>> stream;
  bool finished = false;

  Fixture() {
    const int port = server.start();
    stub = tel::calls::v1::CallControl::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
    stream = stub->Attach(&context);
  }
  ~Fixture() {
    context.TryCancel();
    if (!finished) (void)stream->Finish();
    server.shutdown(std::chrono::milliseconds(100));
    commands.release();  // answers to streams that are gone
  }

  void attach(bool decisions_only) {
    ApplicationMessage hello;
    hello.mutable_attach()->set_application("test");
    hello.mutable_attach()->set_decisions_only(decisions_only);
    REQUIRE(stream->Write(hello));
    stream->WaitForInitialMetadata();  // sent once the stream is registered with the hub
    REQUIRE(hub.attached() == 1);
  }

  void send(uint64_t id, const tel::calls::v1::DialRequest& dial) {
    ApplicationMessage message;
    message.mutable_command()->set_id(id);
    *message.mutable_command()->mutable_dial() = dial;
    REQUIRE(stream->Write(message));
  }

  std::vector<tel::calls::v1::CommandOutcome> outcomes(size_t count) {
    std::vector<tel::calls::v1::CommandOutcome> read;
    for (ControlMessage message; read.size() < count && stream->Read(&message);) {
      if (message.has_outcome()) read.push_back(message.outcome());
    }
    return read;
  }
};

tel::calls::v1::DialRequest validDial(const std::string& call_id) {
  tel::calls::v1::DialRequest dial;
  dial.set_call_id(call_id);
  dial.add_targets()->mutable_external()->set_request_uri("sip:+15550100@127.0.0.1");
  return dial;
}

// Attaches as an application, has one call offered to it and every other notice sent about it,
// then a second call offered: the kinds of notification received about the first call.
std::vector<CallNotification::KindCase> receivedWhenAttached(bool decisions_only) {
  Fixture fixture;
  fixture.attach(decisions_only);
  auto& hub = fixture.hub;

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
  notice.mutable_digit()->set_digit("5");
  CHECK(hub.notify(*application, notice));
  notice.mutable_digits_collected()->set_digits("12");
  CHECK(hub.notify(*application, notice));
  notice.mutable_playback_ended()->set_playback_id("p1");
  CHECK(hub.notify(*application, notice));
  notice.mutable_recording_ended()->set_reason("silence");
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
  for (ControlMessage received; fixture.stream->Read(&received);) {
    REQUIRE(received.has_notification());
    if (received.notification().call_id() == "call-2") break;
    kinds.push_back(received.notification().kind_case());
  }
  CHECK(fixture.commands.received == 0);  // notifications go out without any command coming in
  return kinds;
}

}  // namespace

TEST_CASE("an application is sent every notification about the calls it takes") {
  CHECK(receivedWhenAttached(false) ==
        std::vector<CallNotification::KindCase>{
            CallNotification::kOffered, CallNotification::kRinging, CallNotification::kDialFailed,
            CallNotification::kDigit, CallNotification::kDigitsCollected,
            CallNotification::kPlaybackEnded, CallNotification::kRecordingEnded, CallNotification::kBridged,
            CallNotification::kEnded});
}

TEST_CASE("an application attached for decisions only is sent offers, failed dials, keys, playback and message ends, bridges") {
  CHECK(receivedWhenAttached(true) ==
        std::vector<CallNotification::KindCase>{CallNotification::kOffered, CallNotification::kDialFailed,
                                                CallNotification::kDigit, CallNotification::kDigitsCollected,
                                                CallNotification::kPlaybackEnded, CallNotification::kRecordingEnded,
                                                CallNotification::kBridged});
}

TEST_CASE("commands on the stream are answered on it by outcomes carrying their ids") {
  Fixture fixture;
  fixture.attach(true);
  fixture.send(7, validDial("call-7"));
  ApplicationMessage hangup;
  hangup.mutable_command()->set_id(8);
  hangup.mutable_command()->mutable_hangup()->set_call_id("call-8");
  REQUIRE(fixture.stream->Write(hangup));

  auto read = fixture.outcomes(2);
  REQUIRE(read.size() == 2);
  std::sort(read.begin(), read.end(),
            [](const auto& left, const auto& right) { return left.id() < right.id(); });
  CHECK(read[0].id() == 7);
  CHECK(read[0].code() == grpc::StatusCode::NOT_FOUND);
  CHECK(read[0].message() == "no such call");
  CHECK(read[1].id() == 8);
  CHECK(read[1].code() == grpc::StatusCode::NOT_FOUND);
  CHECK(fixture.commands.received == 2);
}

TEST_CASE("a malformed command gets INVALID_ARGUMENT naming the field and reaches nothing") {
  Fixture fixture;
  fixture.attach(true);
  auto no_targets = validDial("call-1");
  no_targets.clear_targets();
  fixture.send(1, no_targets);
  ApplicationMessage empty;
  empty.mutable_command()->set_id(2);  // neither dial nor hangup
  REQUIRE(fixture.stream->Write(empty));

  auto read = fixture.outcomes(2);
  REQUIRE(read.size() == 2);
  CHECK(read[0].id() == 1);
  CHECK(read[0].code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(read[0].message().find("targets") != std::string::npos);
  CHECK(read[1].id() == 2);
  CHECK(read[1].code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(fixture.commands.received == 0);
  // The stream is still usable.
  fixture.send(3, validDial("call-3"));
  CHECK(fixture.outcomes(1).at(0).id() == 3);
}

TEST_CASE("malformed Answer, Play, StopPlayback, CollectDigits and Record get INVALID_ARGUMENT naming the field") {
  Fixture fixture;
  fixture.attach(true);
  std::vector<std::pair<tel::calls::v1::Command, std::string>> cases;
  auto add = [&](const std::string& field, auto fill) {
    tel::calls::v1::Command command;
    command.set_id(cases.size() + 1);
    fill(command);
    cases.emplace_back(command, field);
  };
  add("call_id", [](auto& c) { c.mutable_answer(); });
  add("route", [](auto& c) {
    c.mutable_answer()->set_call_id("call-1");
    c.mutable_answer()->add_route()->set_node(std::string(300, 'n'));
  });
  add("playback_id", [](auto& c) {
    c.mutable_play()->set_call_id("call-1");
    c.mutable_play()->add_prompts("welcome");
  });
  add("prompts", [](auto& c) {
    c.mutable_play()->set_call_id("call-1");
    c.mutable_play()->set_playback_id("p1");
  });
  add("prompts", [](auto& c) {
    c.mutable_play()->set_call_id("call-1");
    c.mutable_play()->set_playback_id("p1");
    c.mutable_play()->add_prompts("../../etc/passwd");
  });
  add("call_id", [](auto& c) { c.mutable_stop_playback()->set_call_id(std::string(200, 'x')); });
  add("max_digits", [](auto& c) { c.mutable_collect_digits()->set_call_id("call-1"); });
  add("first_digit_timeout_ms", [](auto& c) {
    c.mutable_collect_digits()->set_call_id("call-1");
    c.mutable_collect_digits()->set_max_digits(1);
    c.mutable_collect_digits()->set_first_digit_timeout_ms(500000);
  });
  add("terminators", [](auto& c) {
    c.mutable_collect_digits()->set_call_id("call-1");
    c.mutable_collect_digits()->set_max_digits(4);
    c.mutable_collect_digits()->set_terminators("#x");
  });
  add("call_id", [](auto& c) { c.mutable_record(); });
  add("max_seconds", [](auto& c) {
    c.mutable_record()->set_call_id("call-1");
    c.mutable_record()->set_max_seconds(7200);
  });
  add("silence_seconds", [](auto& c) {
    c.mutable_record()->set_call_id("call-1");
    c.mutable_record()->set_silence_seconds(61);
  });
  add("terminators", [](auto& c) {
    c.mutable_record()->set_call_id("call-1");
    c.mutable_record()->set_terminators("#!");
  });
  add("prompts", [](auto& c) {  // '@' and a name: the relay's tones and the platform's prompts
    c.mutable_play()->set_call_id("call-1");
    c.mutable_play()->set_playback_id("p1");
    c.mutable_play()->add_prompts("@../siren");
  });
  for (const auto& [command, field] : cases) {
    ApplicationMessage message;
    *message.mutable_command() = command;
    REQUIRE(fixture.stream->Write(message));
  }
  auto read = fixture.outcomes(cases.size());
  REQUIRE(read.size() == cases.size());
  std::sort(read.begin(), read.end(), [](const auto& left, const auto& right) { return left.id() < right.id(); });
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(cases[i].second);
    CHECK(read[i].code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(read[i].message().find(cases[i].second) != std::string::npos);
  }
  CHECK(fixture.commands.received == 0);  // none reached the B2BUA
}

TEST_CASE("a stream that does not begin with attach is ended and never offered a call") {
  Fixture fixture;
  fixture.send(1, validDial("call-1"));
  ControlMessage message;
  CHECK_FALSE(fixture.stream->Read(&message));
  const grpc::Status status = fixture.stream->Finish();
  fixture.finished = true;
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("attach") != std::string::npos);
  CHECK(fixture.hub.attached() == 0);
  CHECK(fixture.commands.received == 0);
}

TEST_CASE("past 1000 commands awaiting their outcome the next is refused as RESOURCE_EXHAUSTED") {
  Fixture fixture;
  fixture.commands.holding = true;
  fixture.attach(true);
  for (uint64_t id = 1; id <= 1001; ++id) fixture.send(id, validDial("call-" + std::to_string(id)));
  auto refused = fixture.outcomes(1);
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].id() == 1001);
  CHECK(refused[0].code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK(fixture.commands.received == 1000);
  // Once answered, every held command's outcome comes, and commands are taken again.
  fixture.commands.release();
  CHECK(fixture.outcomes(1000).size() == 1000);
  fixture.commands.holding = false;
  fixture.send(1002, validDial("call-1002"));
  CHECK(fixture.outcomes(1).at(0).code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("a command answered after its application has gone is dropped without harm") {
  Fixture fixture;
  fixture.commands.holding = true;
  fixture.attach(true);
  fixture.send(1, validDial("call-1"));
  for (int i = 0; i < 100 && fixture.commands.received == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(fixture.commands.received == 1);
  fixture.context.TryCancel();
  (void)fixture.stream->Finish();
  fixture.finished = true;
  for (int i = 0; i < 100 && fixture.hub.attached() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(fixture.hub.attached() == 0);
  fixture.commands.release();  // its stream is done: the outcome goes nowhere, the stream is freed
}

TEST_CASE("a second attach on a stream ends it and the application is no longer offered calls") {
  Fixture fixture;
  fixture.attach(true);
  ApplicationMessage again;
  again.mutable_attach()->set_application("test");
  REQUIRE(fixture.stream->Write(again));
  ControlMessage message;
  CHECK_FALSE(fixture.stream->Read(&message));
  const grpc::Status status = fixture.stream->Finish();
  fixture.finished = true;
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(fixture.hub.attached() == 0);
  CallNotification offered;
  offered.set_call_id("call-1");
  offered.mutable_offered();
  CHECK_FALSE(fixture.hub.offer(offered));
}

TEST_CASE("a probe needs a sip: URI and a timeout of at most 10 s, a dial's response timeout is bounded") {
  tel::calls::v1::ProbeRequest probe;
  CHECK(tel::sip::validateProbe(probe).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  probe.set_request_uri("http://carrier.example");
  CHECK(tel::sip::validateProbe(probe).error_message().find("request_uri") != std::string::npos);
  probe.set_request_uri("sip:carrier.example>\r\nX-Injected: 1");
  CHECK(tel::sip::validateProbe(probe).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  probe.set_request_uri("sip:carrier.example:5060");
  CHECK(tel::sip::validateProbe(probe).ok());
  probe.set_timeout_ms(60000);
  CHECK(tel::sip::validateProbe(probe).error_message().find("timeout_ms") != std::string::npos);
  // A dial's response timeout for a target is half a second at least, half a minute at most.
  tel::calls::v1::DialRequest dial;
  dial.set_call_id("call-1");
  auto* target = dial.add_targets()->mutable_external();
  target->set_request_uri("sip:+4930123456@carrier.example");
  target->set_response_timeout_ms(100);
  CHECK(tel::sip::validateDial(dial).error_message().find("response_timeout_ms") != std::string::npos);
  target->set_response_timeout_ms(3000);
  CHECK(tel::sip::validateDial(dial).ok());
}

TEST_CASE("new calls go to applications that take them and a handed over call to the one named, whose loss is told once") {
  std::mutex gone_mutex;
  std::vector<uint64_t> gone;  // before the fixture: its streams detach when it goes
  Fixture fixture;
  fixture.hub.setDetachListener([&](uint64_t id) {
    std::lock_guard lock(gone_mutex);
    gone.push_back(id);
  });
  fixture.attach(true);
  grpc::ClientContext queue_context;
  auto queue = fixture.stub->Attach(&queue_context);
  ApplicationMessage hello;
  hello.mutable_attach()->set_application("queue");
  hello.mutable_attach()->set_hand_overs_only(true);
  REQUIRE(queue->Write(hello));
  queue->WaitForInitialMetadata();
  REQUIRE(fixture.hub.attached() == 2);

  CallNotification offered;
  offered.set_call_id("call-1");
  offered.mutable_offered();
  for (int i = 0; i < 4; ++i) {
    auto id = fixture.hub.offer(offered);
    REQUIRE(id);
    CHECK(fixture.hub.nameOf(*id) == "test");
  }
  auto to_queue = fixture.hub.offerTo("queue", offered);
  REQUIRE(to_queue);
  CHECK(fixture.hub.nameOf(*to_queue) == "queue");
  ControlMessage message;
  REQUIRE(queue->Read(&message));
  CHECK(message.notification().call_id() == "call-1");
  CHECK_FALSE(fixture.hub.offerTo("callback", offered));

  // A second instance of the queue: handed-over calls alternate between the two, whatever new
  // calls do meanwhile.
  grpc::ClientContext second_context;
  auto second = fixture.stub->Attach(&second_context);
  REQUIRE(second->Write(hello));
  second->WaitForInitialMetadata();
  std::set<uint64_t> takers;
  for (int i = 0; i < 4; ++i) {
    REQUIRE(fixture.hub.offer(offered));
    auto taker = fixture.hub.offerTo("queue", offered);
    REQUIRE(taker);
    takers.insert(*taker);
  }
  CHECK(takers.size() == 2);
  second_context.TryCancel();
  (void)second->Finish();
  for (int i = 0; i < 100 && fixture.hub.attached() != 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  {
    std::lock_guard lock(gone_mutex);
    gone.clear();
  }

  queue_context.TryCancel();
  (void)queue->Finish();
  for (int i = 0; i < 100 && fixture.hub.attached() != 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  {
    std::lock_guard lock(gone_mutex);
    CHECK(gone == std::vector<uint64_t>{*to_queue});
  }
  CHECK_FALSE(fixture.hub.offerTo("queue", offered));
  CHECK(fixture.hub.nameOf(*to_queue).empty());
  fixture.hub.setDetachListener(nullptr);
}

TEST_CASE("a hand over names its application and bounds its context") {
  tel::calls::v1::HandOverRequest request;
  request.set_call_id("call-1");
  CHECK(tel::sip::validateHandOver(request).error_message().find("application") != std::string::npos);
  request.set_application("queue");
  CHECK(tel::sip::validateHandOver(request).ok());
  (*request.mutable_context())[""] = "x";
  CHECK(tel::sip::validateHandOver(request).error_message().find("context") != std::string::npos);
  request.mutable_context()->clear();
  (*request.mutable_context())["queue"] = std::string(257, 'q');
  CHECK(tel::sip::validateHandOver(request).error_message().find("context") != std::string::npos);
  request.mutable_context()->clear();
  for (int i = 0; i < 17; ++i) (*request.mutable_context())["k" + std::to_string(i)] = "v";
  CHECK(tel::sip::validateHandOver(request).error_message().find("context") != std::string::npos);
}

TEST_CASE("a note carries one to 32 bounded steps") {
  tel::calls::v1::NoteRequest request;
  request.set_call_id("call-1");
  CHECK(tel::sip::validateNote(request).error_message().find("route") != std::string::npos);
  auto* step = request.add_route();
  step->set_type("queue");
  step->set_outcome("answered");
  step->set_account_id("a1");
  CHECK(tel::sip::validateNote(request).ok());
  step->set_account_id(std::string(257, 'a'));
  CHECK(tel::sip::validateNote(request).error_message().find("route") != std::string::npos);
  step->set_account_id("a1");
  for (int i = 0; i < 32; ++i) *request.add_route() = *step;
  CHECK(tel::sip::validateNote(request).error_message().find("route") != std::string::npos);
  request.set_call_id("");
  CHECK_FALSE(tel::sip::validateNote(request).ok());
}
