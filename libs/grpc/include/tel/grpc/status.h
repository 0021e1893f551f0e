#pragma once

#include <absl/status/status.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

namespace tel::grpc_util {

// INVALID_ARGUMENT naming the field: message "<field>: <reason>", details = the bare field name.
// The gateway turns it into HTTP 400 with the field in the error body.
grpc::Status invalidArgument(const std::string& field, const std::string& reason);
// The field named by invalidArgument(), or "" for other statuses.
std::string fieldOf(const grpc::Status& status);

grpc::Status notFound(const std::string& what);

// For readiness probes: false while the channel cannot reach its server (it keeps trying).
bool channelUsable(grpc::Channel& channel);
grpc::Status alreadyExists(const std::string& field, const std::string& what);

// A client call's outcome as absl::Status with the same code, the message prefixed by the peer
// ("accounts: deadline exceeded").
absl::Status toAbsl(const char* peer, const grpc::Status& status);
// Gives a client call `timeout` from now.
void setTimeout(grpc::ClientContext& context, std::chrono::milliseconds timeout);

// One blocking unary call with a deadline: callUnary(*stub_, &Stub::GetNumber, request, &reply,
// timeout).
template <typename Stub, typename Request, typename Reply>
grpc::Status callUnary(Stub& stub,
                       grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
                       const Request& request, Reply* reply, std::chrono::milliseconds timeout) {
  grpc::ClientContext context;
  setTimeout(context, timeout);
  return (stub.*method)(&context, request, reply);
}

}  // namespace tel::grpc_util
