#include "tel/accounts_client/extension_resolver.h"

#include "tel/grpc/status.h"

namespace tel::accounts_client {

absl::StatusOr<std::optional<accounts::v1::SipAccount>> ExtensionResolver::resolve(
    const std::string& tenant_id, const std::string& extension) {
  const std::string key = tenant_id + "|" + extension;
  if (auto cached = found_.get(key)) return cached;
  accounts::v1::ResolveExtensionRequest request;
  request.set_tenant_id(tenant_id);
  request.set_extension(extension);
  accounts::v1::SipAccount reply;
  const grpc::Status status = grpc_util::callUnary(
      *stub_, &accounts::v1::Accounts::StubInterface::ResolveExtension, request, &reply, timeout_);
  // A dialled string that cannot be an extension is simply not one.
  if (status.error_code() == grpc::StatusCode::NOT_FOUND ||
      status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    return std::nullopt;
  }
  if (!status.ok()) return grpc_util::toAbsl("accounts", status);
  found_.put(key, reply);
  return reply;
}

}  // namespace tel::accounts_client
