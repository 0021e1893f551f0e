#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api_error.h"
#include "tel/grpc/status.h"

using namespace tel::gateway;

TEST_CASE("backend statuses map to HTTP errors with JSON bodies") {
  auto invalid = fromGrpc(tel::grpc_util::invalidArgument("e164", "must be E.164"));
  CHECK(invalid.status == 400);
  auto body = nlohmann::json::parse(invalid.body());
  CHECK(body["error"]["code"] == "invalid_argument");
  CHECK(body["error"]["field"] == "e164");

  CHECK(fromGrpc(tel::grpc_util::notFound("number")).status == 404);
  CHECK(fromGrpc(tel::grpc_util::alreadyExists("e164", "taken")).status == 409);
  const auto limited = fromGrpc(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "at most 20"));
  CHECK(limited.status == 412);
  CHECK(limited.code == "failed_precondition");
  CHECK(limited.message == "at most 20");
  CHECK(fromGrpc(tel::grpc_util::alreadyExists("e164", "taken")).field == "e164");
  CHECK(fromGrpc(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "x")).status == 401);
  CHECK(fromGrpc(grpc::Status(grpc::StatusCode::UNAVAILABLE, "x")).status == 503);
}

TEST_CASE("internal details are not passed to clients") {
  auto internal = fromGrpc(grpc::Status(grpc::StatusCode::INTERNAL, "relation users does not exist"));
  CHECK(internal.status == 500);
  CHECK(internal.body().find("relation") == std::string::npos);
}

TEST_CASE("rate limit errors carry Retry-After") {
  auto limited = ApiError::rateLimited(3);
  CHECK(limited.status == 429);
  CHECK(limited.retry_after_seconds == 3);
}
