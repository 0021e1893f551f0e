#include <catch2/catch.hpp>

#include "accounts_service.h"
#include "tel/grpc/status.h"

using namespace tel::accounts;

namespace {

v1::NumberRoute route(v1::NumberRoute::Kind kind, std::vector<std::string> extensions = {},
                      std::string external = "", int timeout = 0) {
  v1::NumberRoute out;
  out.set_kind(kind);
  for (auto& extension : extensions) out.add_extensions(std::move(extension));
  out.set_external(std::move(external));
  out.set_ring_timeout_seconds(timeout);
  return out;
}

// The field a refused route names ("" when accepted).
std::string refusedField(const v1::NumberRoute& in) {
  v1::NumberRoute out;
  const grpc::Status status = completeRoute(in, &out);
  if (status.ok()) return "";
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().rfind(tel::grpc_util::fieldOf(status) + ": ", 0) == 0);
  return tel::grpc_util::fieldOf(status);
}

}  // namespace

TEST_CASE("a number's route gets the default ring timeout and keeps its targets") {
  v1::NumberRoute out;
  REQUIRE(completeRoute(route(v1::NumberRoute::KIND_EXTENSIONS, {"101", "102"}), &out).ok());
  CHECK(out.ring_timeout_seconds() == 30);
  CHECK(out.extensions_size() == 2);
  REQUIRE(completeRoute(route(v1::NumberRoute::KIND_EXTERNAL, {}, "sip:desk@pbx.example", 45), &out)
              .ok());
  CHECK(out.ring_timeout_seconds() == 45);
  CHECK(out.external() == "sip:desk@pbx.example");
  REQUIRE(completeRoute(v1::NumberRoute(), &out).ok());
  CHECK(out.kind() == v1::NumberRoute::KIND_NONE);
  CHECK(out.ring_timeout_seconds() == 30);
}

TEST_CASE("a bad route is refused naming the field") {
  using R = v1::NumberRoute;
  CHECK(refusedField(route(static_cast<R::Kind>(7))) == "route.kind");
  CHECK(refusedField(route(R::KIND_EXTENSIONS)) == "route.extensions");
  CHECK(refusedField(route(R::KIND_EXTENSIONS, std::vector<std::string>(21, "101"))) ==
        "route.extensions");
  CHECK(refusedField(route(R::KIND_EXTENSIONS, {"101", "0"})) == "route.extensions");
  CHECK(refusedField(route(R::KIND_EXTENSIONS, {"101", "101"})) == "route.extensions");
  CHECK(refusedField(route(R::KIND_EXTENSIONS, {"101"}, "+380441234567")) == "route.external");
  CHECK(refusedField(route(R::KIND_EXTERNAL)) == "route.external");
  CHECK(refusedField(route(R::KIND_EXTERNAL, {}, "not a number")) == "route.external");
  CHECK(refusedField(route(R::KIND_EXTERNAL, {"101"}, "+380441234567")) == "route.extensions");
  CHECK(refusedField(route(R::KIND_NONE, {"101"})) == "route.extensions");
  CHECK(refusedField(route(R::KIND_EXTERNAL, {}, "+380441234567", 4)) ==
        "route.ring_timeout_seconds");
  CHECK(refusedField(route(R::KIND_EXTERNAL, {}, "+380441234567", 301)) ==
        "route.ring_timeout_seconds");
  CHECK(refusedField(route(R::KIND_EXTERNAL, {}, "+380441234567", -5)) ==
        "route.ring_timeout_seconds");
  CHECK(refusedField(
            route(R::KIND_EXTENSIONS, std::vector<std::string>{"101", "102", "103"}, "", 300))
            .empty());
}

TEST_CASE("a carrier lists at most 32 valid addresses") {
  google::protobuf::RepeatedPtrField<std::string> addresses;
  CHECK(checkCarrierAddresses(addresses).ok());
  for (int i = 0; i < 32; ++i) *addresses.Add() = "198.51.100." + std::to_string(i);
  CHECK(checkCarrierAddresses(addresses).ok());
  *addresses.Add() = "198.51.100.200";
  CHECK(tel::grpc_util::fieldOf(checkCarrierAddresses(addresses)) == "addresses");
  addresses.Clear();
  *addresses.Add() = "198.51.100.0/24";
  *addresses.Add() = "198.51.100.1/24";
  const grpc::Status status = checkCarrierAddresses(addresses);
  CHECK(tel::grpc_util::fieldOf(status) == "addresses");
  CHECK(status.error_message().find("entry 2") != std::string::npos);
}
