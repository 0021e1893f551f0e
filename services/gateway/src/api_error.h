#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

namespace tel::gateway {

// An error as the REST API reports it:
//   {"error": {"code": "invalid_argument", "message": "...", "field": "e164"}}
// with the HTTP status that goes with the code.
struct ApiError {
  int status = 500;
  std::string code = "internal";
  std::string message = "internal error";
  std::string field;                      // for invalid_argument and conflict
  std::optional<int> retry_after_seconds;  // for rate_limited

  std::string body() const;

  static ApiError invalid(std::string field, std::string message);
  static ApiError unauthenticated();
  static ApiError forbidden(std::string message);
  static ApiError notFound(std::string message = "not found");
  static ApiError conflict(std::string field, std::string message);
  static ApiError payloadTooLarge(size_t limit);
  static ApiError unsupportedMediaType();
  static ApiError rateLimited(int retry_after_seconds);
  static ApiError unavailable(std::string message);
};

// Maps a status from a backend service to the API error the client sees. Internal details of
// INTERNAL/UNKNOWN errors are not passed on.
ApiError fromGrpc(const grpc::Status& status);

// The status that goes with an error code, for codes the HTTP library produces itself.
ApiError fromHttpStatus(int status);

}  // namespace tel::gateway
