#include "adapters.h"

namespace tel::routing {
namespace {

absl::Status fromGrpc(const char* what, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), std::string(what) + ": " + status.error_message());
}

void setDeadline(grpc::ClientContext& context, std::chrono::milliseconds timeout) {
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

}  // namespace

absl::StatusOr<accounts::v1::Number> AccountsRouteDirectory::number(const std::string& tenant_id,
                                                                   const std::string& number_id) {
  accounts::v1::GetRequest request;
  request.set_tenant_id(tenant_id);
  request.set_id(number_id);
  accounts::v1::Number reply;
  grpc::ClientContext context;
  setDeadline(context, timeout_);
  if (auto status = fromGrpc("accounts", stub_->GetNumber(&context, request, &reply)); !status.ok()) return status;
  return reply;
}

absl::StatusOr<std::optional<accounts::v1::SipAccount>> AccountsRouteDirectory::extension(
    const std::string& tenant_id, const std::string& extension) {
  accounts::v1::ResolveExtensionRequest request;
  request.set_tenant_id(tenant_id);
  request.set_extension(extension);
  accounts::v1::SipAccount reply;
  grpc::ClientContext context;
  setDeadline(context, timeout_);
  const grpc::Status status = stub_->ResolveExtension(&context, request, &reply);
  // A dialled string that cannot be an extension is simply not one.
  if (status.error_code() == grpc::StatusCode::NOT_FOUND || status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return std::nullopt;
  }
  if (!status.ok()) return fromGrpc("accounts", status);
  return reply;
}

absl::StatusOr<std::optional<accounts::v1::OutboundRoute>> AccountsRouteDirectory::outboundRoute(
    const std::string& tenant_id) {
  accounts::v1::GetOutboundRouteRequest request;
  request.set_tenant_id(tenant_id);
  accounts::v1::OutboundRoute reply;
  grpc::ClientContext context;
  setDeadline(context, timeout_);
  const grpc::Status status = stub_->GetOutboundRoute(&context, request, &reply);
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) return std::nullopt;
  if (!status.ok()) return fromGrpc("accounts", status);
  return reply;
}

absl::Status GrpcCallCommander::dial(const calls::v1::DialRequest& request) {
  calls::v1::CommandResult reply;
  grpc::ClientContext context;
  setDeadline(context, timeout_);
  return fromGrpc("sip-edge", stub_->Dial(&context, request, &reply));
}

absl::Status GrpcCallCommander::hangup(const calls::v1::HangupRequest& request) {
  calls::v1::CommandResult reply;
  grpc::ClientContext context;
  setDeadline(context, timeout_);
  return fromGrpc("sip-edge", stub_->Hangup(&context, request, &reply));
}

ApplicationLink::ApplicationLink(std::shared_ptr<calls::v1::CallControl::StubInterface> stub, std::string application,
                                 std::function<void(calls::v1::CallNotification)> on_notification, log::Logger logger)
    : stub_(std::move(stub)),
      application_(std::move(application)),
      on_notification_(std::move(on_notification)),
      log_(std::move(logger)) {}

ApplicationLink::~ApplicationLink() { stop(); }

void ApplicationLink::start() { thread_ = std::thread([this] { run(); }); }

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

}  // namespace tel::routing
