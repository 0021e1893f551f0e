#include "api_error.h"

#include <nlohmann/json.hpp>

#include "tel/grpc/status.h"

namespace tel::gateway {

std::string ApiError::body() const {
  nlohmann::json error = {{"code", code}, {"message", message}};
  if (!field.empty()) error["field"] = field;
  return nlohmann::json{{"error", error}}.dump();
}

ApiError ApiError::invalid(std::string field, std::string message) {
  return {400, "invalid_argument", std::move(message), std::move(field), {}};
}
ApiError ApiError::unauthenticated() {
  return {401, "unauthenticated", "missing, invalid or revoked API key", "", {}};
}
ApiError ApiError::forbidden(std::string message) {
  return {403, "forbidden", std::move(message), "", {}};
}
ApiError ApiError::notFound(std::string message) {
  return {404, "not_found", std::move(message), "", {}};
}
ApiError ApiError::conflict(std::string field, std::string message) {
  return {409, "conflict", std::move(message), std::move(field), {}};
}
ApiError ApiError::payloadTooLarge(size_t limit) {
  return {413, "payload_too_large", "request body exceeds " + std::to_string(limit) + " bytes", "", {}};
}
ApiError ApiError::unsupportedMediaType() {
  return {415, "unsupported_media_type", "request body must be application/json", "", {}};
}
ApiError ApiError::rateLimited(int retry_after_seconds) {
  return {429, "rate_limited", "too many requests for this API key", "", retry_after_seconds};
}
ApiError ApiError::unavailable(std::string message) {
  return {503, "unavailable", std::move(message), "", {}};
}

ApiError fromGrpc(const grpc::Status& status) {
  const std::string field = grpc_util::fieldOf(status);
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return ApiError::invalid(field, status.error_message());
    case grpc::StatusCode::NOT_FOUND:
      return ApiError::notFound(status.error_message());
    case grpc::StatusCode::ALREADY_EXISTS:
      return ApiError::conflict(field, status.error_message());
    case grpc::StatusCode::FAILED_PRECONDITION:  // a limit reached, or a state that forbids it
      return {412, "failed_precondition", status.error_message(), field, {}};
    case grpc::StatusCode::UNAUTHENTICATED:
      return ApiError::unauthenticated();
    case grpc::StatusCode::PERMISSION_DENIED:
      return ApiError::forbidden(status.error_message());
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return ApiError::rateLimited(1);
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return ApiError::unavailable("a backend service is unavailable; retry later");
    default:
      return ApiError{};
  }
}

ApiError fromHttpStatus(int status) {
  switch (status) {
    case 400: return ApiError::invalid("", "malformed HTTP request");
    case 404: return ApiError::notFound("no such route");
    case 405: return {405, "method_not_allowed", "method not allowed on this route", "", {}};
    case 413: return ApiError::payloadTooLarge(0);
    case 414: return {414, "uri_too_long", "request URI too long", "", {}};
    case 431: return {431, "headers_too_large", "request headers too large", "", {}};
    default:
      if (status >= 500) return ApiError{};
      return {status, "error", "request failed", "", {}};
  }
}

}  // namespace tel::gateway
