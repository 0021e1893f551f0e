#pragma once

#include <chrono>
#include <memory>

#include "registrar.h"
#include "tel/accounts/v1/accounts.grpc.pb.h"

namespace tel::sip {

// Credentials from the accounts service (blocking gRPC call; used from worker threads only).
class AccountsCredentials final : public CredentialsSource {
 public:
  AccountsCredentials(std::shared_ptr<accounts::v1::Accounts::StubInterface> stub,
                      std::chrono::milliseconds timeout)
      : stub_(std::move(stub)), timeout_(timeout) {}

  absl::StatusOr<std::optional<SipAccountCredentials>> find(const std::string& domain,
                                                            const std::string& username) override {
    accounts::v1::GetSipCredentialsRequest request;
    request.set_sip_domain(domain);
    request.set_username(username);
    accounts::v1::SipCredentials reply;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout_);
    const grpc::Status status = stub_->GetSipCredentials(&context, request, &reply);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::nullopt;
    if (!status.ok()) return absl::UnavailableError("accounts: " + status.error_message());
    return SipAccountCredentials{reply.tenant_id(),
                                 reply.account_id(),
                                 reply.extension(),
                                 {reply.ha1_md5(), reply.ha1_sha256()},
                                 reply.outbound_allowed()};
  }

 private:
  std::shared_ptr<accounts::v1::Accounts::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
};

}  // namespace tel::sip
