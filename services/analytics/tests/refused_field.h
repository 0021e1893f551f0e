#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "tel/grpc/status.h"

// The field an INVALID_ARGUMENT status names; "" for any other outcome, so that a check for a
// field also fails when the input was accepted.
inline std::string refusedField(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? tel::grpc_util::fieldOf(status) : "";
}
