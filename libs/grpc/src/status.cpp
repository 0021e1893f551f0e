#include "tel/grpc/status.h"

namespace tel::grpc_util {

grpc::Status invalidArgument(const std::string& field, const std::string& reason) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, field + ": " + reason, field);
}

std::string fieldOf(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT &&
      status.error_code() != grpc::StatusCode::ALREADY_EXISTS) {
    return "";
  }
  return status.error_details();
}

bool channelUsable(grpc::Channel& channel) {
  const auto state = channel.GetState(/*try_to_connect=*/true);
  return state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN;
}

grpc::Status notFound(const std::string& what) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND, what + " not found");
}

absl::Status toAbsl(const char* peer, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      std::string(peer) + ": " + status.error_message());
}

void setTimeout(grpc::ClientContext& context, std::chrono::milliseconds timeout) {
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

grpc::Status alreadyExists(const std::string& field, const std::string& what) {
  return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, what, field);
}

}  // namespace tel::grpc_util
