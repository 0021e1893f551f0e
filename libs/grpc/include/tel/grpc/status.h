#pragma once

#include <grpcpp/grpcpp.h>

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

}  // namespace tel::grpc_util
