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

}  // namespace tel::routing
