#include "adapters.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <set>

#include "tel/grpc/resolve.h"
#include "tel/grpc/status.h"

namespace tel::routing {

using AccountsStub = accounts::v1::Accounts::StubInterface;
using ControlStub = calls::v1::CallControl::StubInterface;

absl::StatusOr<accounts::v1::Number> AccountsRouteDirectory::number(const std::string& tenant_id,
                                                                    const std::string& number_id) {
  const std::string key = tenant_id + "|" + number_id;
  if (auto cached = numbers_.get(key)) return *cached;
  accounts::v1::GetRequest request;
  request.set_tenant_id(tenant_id);
  request.set_id(number_id);
  accounts::v1::Number reply;
  if (auto status = grpc_util::toAbsl(
          "accounts",
          grpc_util::callUnary(*stub_, &AccountsStub::GetNumber, request, &reply, timeout_));
      !status.ok())
    return status;
  numbers_.put(key, reply);
  return reply;
}

absl::StatusOr<std::optional<accounts::v1::SipAccount>> AccountsRouteDirectory::extension(
    const std::string& tenant_id, const std::string& extension) {
  return extensions_.resolve(tenant_id, extension);
}

absl::StatusOr<std::optional<accounts::v1::OutboundRoute>> AccountsRouteDirectory::outboundRoute(
    const std::string& tenant_id) {
  if (auto cached = outbound_.get(tenant_id)) return cached;
  accounts::v1::GetOutboundRouteRequest request;
  request.set_tenant_id(tenant_id);
  accounts::v1::OutboundRoute reply;
  const grpc::Status status =
      grpc_util::callUnary(*stub_, &AccountsStub::GetOutboundRoute, request, &reply, timeout_);
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) return std::nullopt;
  if (!status.ok()) return grpc_util::toAbsl("accounts", status);
  outbound_.put(tenant_id, reply);
  return reply;
}

absl::Status GrpcCallCommander::dial(const calls::v1::DialRequest& request) {
  calls::v1::CommandResult reply;
  return grpc_util::toAbsl(
      "sip-edge", grpc_util::callUnary(*stub_, &ControlStub::Dial, request, &reply, timeout_));
}

absl::Status GrpcCallCommander::hangup(const calls::v1::HangupRequest& request) {
  calls::v1::CommandResult reply;
  return grpc_util::toAbsl(
      "sip-edge", grpc_util::callUnary(*stub_, &ControlStub::Hangup, request, &reply, timeout_));
}

ApplicationLink::ApplicationLink(std::shared_ptr<calls::v1::CallControl::StubInterface> stub,
                                 std::string application,
                                 std::function<void(calls::v1::CallNotification)> on_notification,
                                 log::Logger logger)
    : stub_(std::move(stub)),
      application_(std::move(application)),
      on_notification_(std::move(on_notification)),
      log_(std::move(logger)) {}

ApplicationLink::~ApplicationLink() { stop(); }

void ApplicationLink::start() {
  thread_ = std::thread([this] { run(); });
}

void ApplicationLink::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    if (current_ != nullptr) current_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void ApplicationLink::run() {
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping_) {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      current_ = &context;
    }
    calls::v1::AttachRequest request;
    request.set_application(application_);
    request.set_decisions_only(true);  // the dial plan acts on offers and failed dials only
    auto reader = stub_->Attach(&context, request);
    reader->WaitForInitialMetadata();  // sent by sip-edge as soon as the stream is registered
    if (!stopping_) {
      attached_ = true;
      log_.info("attached to sip-edge");
      backoff = std::chrono::milliseconds(100);
    }
    calls::v1::CallNotification notification;
    while (reader->Read(&notification)) on_notification_(std::move(notification));
    const grpc::Status status = reader->Finish();
    attached_ = false;
    {
      std::lock_guard lock(mutex_);
      current_ = nullptr;
    }
    if (stopping_) break;
    log_.warn("call-control stream ended; re-attaching", {{"error", status.error_message()}});
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

SipEdgeFleet::SipEdgeFleet(std::string address, Handler handler,
                           std::chrono::milliseconds rpc_timeout, std::chrono::seconds refresh,
                           log::Logger logger)
    : address_(std::move(address)),
      handler_(std::move(handler)),
      rpc_timeout_(rpc_timeout),
      refresh_(refresh),
      log_(std::move(logger)) {}

SipEdgeFleet::~SipEdgeFleet() { stop(); }

void SipEdgeFleet::start() {
  resolver_ = std::thread([this] { run(); });
}

void SipEdgeFleet::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (resolver_.joinable()) resolver_.join();
  std::map<std::string, Member> members;
  {
    std::lock_guard lock(mutex_);
    members.swap(members_);
  }
  for (auto& [address, member] : members) member.link->stop();
}

size_t SipEdgeFleet::members() const {
  std::lock_guard lock(mutex_);
  return members_.size();
}

size_t SipEdgeFleet::attached() const {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(std::count_if(members_.begin(), members_.end(), [](const auto& entry) {
    return entry.second.link->attached();
  }));
}

void SipEdgeFleet::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const auto addresses = grpc_util::resolveAll(address_);
    if (addresses.empty()) log_.warn("sip-edge address does not resolve", {{"address", address_}});
    reconcile(addresses);
    lock.lock();
    wake_.wait_for(lock, refresh_, [this] { return stopping_; });
  }
}

void SipEdgeFleet::reconcile(const std::vector<std::string>& addresses) {
  std::vector<std::unique_ptr<ApplicationLink>> gone;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    for (auto it = members_.begin(); it != members_.end();) {
      if (std::find(addresses.begin(), addresses.end(), it->first) == addresses.end()) {
        log_.info("sip-edge gone; detaching", {{"sip_edge", it->first}});
        gone.push_back(std::move(it->second.link));
        it = members_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& address : addresses) {
      if (members_.count(address)) continue;
      std::shared_ptr<calls::v1::CallControl::StubInterface> stub = calls::v1::CallControl::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      Member member;
      member.commander = std::make_shared<GrpcCallCommander>(stub, rpc_timeout_);
      member.link = std::make_unique<ApplicationLink>(
          stub, "routing",
          [handler = handler_,
           commander = member.commander](calls::v1::CallNotification notification) {
            handler(std::move(notification), commander);
          },
          log_.withFields({{"sip_edge", address}}));
      member.link->start();
      members_.emplace(address, std::move(member));
    }
  }
  for (auto& link : gone) link->stop();  // joins its reader, outside the lock
}

}  // namespace tel::routing
