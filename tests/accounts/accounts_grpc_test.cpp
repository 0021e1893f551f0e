// The accounts service's internal gRPC calls for call routing (not exposed by the gateway), against
// the running platform. Tenants and their data are made through the REST API, as users make them.
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>

#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/crypto/crypto.h"
#include "tel/testing/api_client.h"
#include "tel/testing/env.h"

namespace v1 = tel::accounts::v1;
using namespace tel::testing;
using nlohmann::json;

namespace {

std::unique_ptr<v1::Accounts::Stub> accounts() {
  return v1::Accounts::NewStub(
      grpc::CreateChannel(requireEnv("TEL_ACCOUNTS_ADDR"), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return ctx;
}

grpc::Status lookup(v1::Accounts::Stub& stub, const std::string& e164, const std::string& source_ip,
                    v1::InboundNumber* out) {
  v1::LookupInboundNumberRequest request;
  request.set_e164(e164);
  request.set_source_ip(source_ip);
  return stub.LookupInboundNumber(context().get(), request, out);
}

grpc::Status outboundRoute(v1::Accounts::Stub& stub, const std::string& tenant_id,
                           v1::OutboundRoute* out) {
  v1::GetOutboundRouteRequest request;
  request.set_tenant_id(tenant_id);
  return stub.GetOutboundRoute(context().get(), request, out);
}

grpc::Status carrierCredentials(v1::Accounts::Stub& stub, const std::string& tenant_id,
                                const std::string& username, v1::CarrierCredentials* out) {
  v1::GetCarrierCredentialsRequest request;
  request.set_tenant_id(tenant_id);
  request.set_username(username);
  return stub.GetCarrierCredentials(context().get(), request, out);
}

std::string created(const HttpResult& reply) {
  INFO(reply.body);
  REQUIRE(reply.status == 201);
  return reply.json["id"];
}

}  // namespace

TEST_CASE(
    "LookupInboundNumber: the number's tenant and route, and the carrier the source belongs to") {
  auto stub = accounts();
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "inbound-a");
  TestTenant b(platform, "inbound-b");
  const std::string e164 = uniqueE164();
  const std::string number_id = created(a.api->post(
      "/v1/numbers",
      {{"e164", e164},
       {"channels", 7},
       {"route",
        {{"kind", "extensions"}, {"extensions", {"101", "102"}}, {"ring_timeout_seconds", 25}}}}));
  created(a.api->post("/v1/carriers", {{"name", "Old trunk"}}));  // the oldest, but no addresses
  const std::string v4_trunk = created(a.api->post(
      "/v1/carriers", {{"name", "Trunk"}, {"addresses", {"203.0.113.0/24", "198.51.100.9"}}}));
  const std::string v6_trunk =
      created(a.api->post("/v1/carriers", {{"name", "v6"}, {"addresses", {"2001:db8:5::/48"}}}));
  // Another tenant's carrier with the same and more addresses never matches A's number.
  created(b.api->post("/v1/carriers",
                      {{"name", "B"}, {"addresses", {"203.0.113.0/24", "192.0.2.0/24"}}}));

  v1::InboundNumber found;
  REQUIRE(lookup(*stub, e164, "203.0.113.200", &found).ok());
  CHECK(found.tenant_id() == a.id);
  CHECK(found.number_id() == number_id);
  CHECK(found.e164() == e164);
  CHECK(found.channels() == 7);
  CHECK(found.route().kind() == v1::NumberRoute::KIND_EXTENSIONS);
  REQUIRE(found.route().extensions_size() == 2);
  CHECK(found.route().extensions(0) == "101");
  CHECK(found.route().extensions(1) == "102");
  CHECK(found.route().ring_timeout_seconds() == 25);
  CHECK(found.carrier_id() == v4_trunk);

  for (const auto& [source, carrier] : std::vector<std::pair<std::string, std::string>>{
           {"198.51.100.9", v4_trunk},
           {"2001:db8:5:1::10", v6_trunk},
           {"198.51.100.10", ""},  // next to the carrier's host address
           {"203.0.114.1", ""},    // just outside the block
           {"192.0.2.5", ""},      // only B's carrier has it
           {"", ""}}) {            // no source given
    INFO(source);
    v1::InboundNumber reply;
    REQUIRE(lookup(*stub, e164, source, &reply).ok());
    CHECK(reply.tenant_id() == a.id);
    CHECK(reply.carrier_id() == carrier);
  }

  // When two carriers contain the source, the oldest one is the answer.
  created(
      a.api->post("/v1/carriers", {{"name", "Overlapping"}, {"addresses", {"203.0.113.128/25"}}}));
  v1::InboundNumber overlapped;
  REQUIRE(lookup(*stub, e164, "203.0.113.200", &overlapped).ok());
  CHECK(overlapped.carrier_id() == v4_trunk);

  v1::InboundNumber unrouted;
  const std::string plain = uniqueE164();
  created(b.api->post("/v1/numbers", {{"e164", plain}}));
  REQUIRE(lookup(*stub, plain, "192.0.2.5", &unrouted).ok());
  CHECK(unrouted.tenant_id() == b.id);
  CHECK(unrouted.route().kind() == v1::NumberRoute::KIND_NONE);
  CHECK(unrouted.route().ring_timeout_seconds() == 30);

  v1::InboundNumber none;
  CHECK(lookup(*stub, uniqueE164(), "203.0.113.200", &none).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(lookup(*stub, "not-a-number", "", &none).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(lookup(*stub, e164, "203.0.113.0/24", &none).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(lookup(*stub, e164, "trunk.example.net", &none).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("ResolveExtension: the tenant's SIP account with that extension, or NOT_FOUND") {
  auto stub = accounts();
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "resolve-a");
  TestTenant b(platform, "resolve-b");
  const std::string alice = created(
      a.api->post("/v1/sip-accounts",
                  {{"username", "alice"}, {"extension", "101"}, {"display_name", "Alice"}}));
  const std::string bob =
      created(b.api->post("/v1/sip-accounts", {{"username", "bob"}, {"extension", "102"}}));

  auto resolve = [&](const std::string& tenant_id, const std::string& extension,
                     v1::SipAccount* out) {
    v1::ResolveExtensionRequest request;
    request.set_tenant_id(tenant_id);
    request.set_extension(extension);
    return stub->ResolveExtension(context().get(), request, out);
  };
  v1::SipAccount account;
  REQUIRE(resolve(a.id, "101", &account).ok());
  CHECK(account.id() == alice);
  CHECK(account.tenant_id() == a.id);
  CHECK(account.username() == "alice");
  CHECK(account.display_name() == "Alice");
  CHECK(account.sip_domain() == a.sip_domain);
  CHECK(account.password().empty());

  v1::SipAccount missing;
  CHECK(resolve(a.id, "102", &missing).error_code() ==
        grpc::StatusCode::NOT_FOUND);  // B's extension
  CHECK(resolve(b.id, "101", &missing).error_code() ==
        grpc::StatusCode::NOT_FOUND);  // A's extension
  CHECK(resolve(a.id, "999", &missing).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(resolve(a.id, "' OR 1=1 --", &missing).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(resolve("not-a-tenant", "101", &missing).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  REQUIRE(resolve(b.id, "102", &account).ok());
  CHECK(account.id() == bob);
}

TEST_CASE(
    "GetOutboundRoute: the oldest carrier with an outbound URI, caller id falling back to the "
    "oldest number") {
  auto stub = accounts();
  Platform platform = Platform::fromEnv();
  TestTenant tenant(platform, "outbound");
  auto& api = *tenant.api;
  v1::OutboundRoute route;

  auto none = outboundRoute(*stub, tenant.id, &route);
  CHECK(none.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(none.error_message() == "tenant has no outbound carrier");
  created(api.post("/v1/carriers", {{"name", "Inbound only"}, {"addresses", {"203.0.113.0/24"}}}));
  CHECK(outboundRoute(*stub, tenant.id, &route).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  // No caller id anywhere yet: empty.
  const std::string first = created(
      api.post("/v1/carriers", {{"name", "First"}, {"outbound_uri", "sip:first.example.net"}}));
  REQUIRE(outboundRoute(*stub, tenant.id, &route).ok());
  CHECK(route.carrier_id() == first);
  CHECK(route.outbound_uri() == "sip:first.example.net");
  CHECK(route.caller_id().empty());

  const std::string oldest_number = uniqueE164();
  created(api.post("/v1/numbers", {{"e164", oldest_number}}));
  created(api.post("/v1/numbers", {{"e164", uniqueE164()}}));
  const std::string second =
      created(api.post("/v1/carriers", {{"name", "Second"},
                                        {"outbound_uri", "sip:out@second.example.net:5080"},
                                        {"caller_id", "+380441112233"}}));
  REQUIRE(outboundRoute(*stub, tenant.id, &route).ok());
  CHECK(route.carrier_id() == first);
  CHECK(route.caller_id() == oldest_number);

  REQUIRE(api.patch("/v1/carriers/" + first, {{"caller_id", "+380445556677"}}).status == 200);
  REQUIRE(outboundRoute(*stub, tenant.id, &route).ok());
  CHECK(route.caller_id() == "+380445556677");

  // The first carrier loses its outbound URI: the next oldest one takes over, with its caller id.
  REQUIRE(api.patch("/v1/carriers/" + first, {{"outbound_uri", ""}}).status == 200);
  REQUIRE(outboundRoute(*stub, tenant.id, &route).ok());
  CHECK(route.carrier_id() == second);
  CHECK(route.outbound_uri() == "sip:out@second.example.net:5080");
  CHECK(route.caller_id() == "+380441112233");

  REQUIRE(api.del("/v1/carriers/" + second).status == 204);
  CHECK(outboundRoute(*stub, tenant.id, &route).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);

  // Another tenant's carriers are never the answer.
  TestTenant other(platform, "outbound-other");
  CHECK(outboundRoute(*stub, other.id, &route).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(outboundRoute(*stub, "not-a-tenant", &route).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE(
    "LookupInboundNumber: the tenant's SIP domain, and whether any of its carriers has "
    "credentials") {
  auto stub = accounts();
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "inbound-auth-a");
  TestTenant b(platform, "inbound-auth-b");
  const std::string e164 = uniqueE164();
  created(a.api->post("/v1/numbers", {{"e164", e164}}));
  const std::string listed =
      created(a.api->post("/v1/carriers", {{"name", "Listed"}, {"addresses", {"203.0.113.0/24"}}}));
  // Another tenant's carrier with credentials does not count for A.
  created(b.api->post(
      "/v1/carriers",
      {{"name", "B"}, {"auth_username", "b-trunk"}, {"auth_password", "B-trunk-secret-1"}}));

  v1::InboundNumber found;
  REQUIRE(lookup(*stub, e164, "203.0.113.5", &found).ok());
  CHECK(found.tenant_id() == a.id);
  CHECK(found.sip_domain() == a.sip_domain);
  CHECK_FALSE(found.carrier_auth());
  CHECK(found.carrier_id() == listed);

  const std::string authenticated = created(a.api->post(
      "/v1/carriers",
      {{"name", "Digest"}, {"auth_username", "a-trunk"}, {"auth_password", "A-trunk-secret-1"}}));
  for (const std::string& source : std::vector<std::string>{"203.0.113.5", "192.0.2.1", ""}) {
    INFO(source);
    v1::InboundNumber reply;
    REQUIRE(lookup(*stub, e164, source, &reply).ok());
    CHECK(reply.sip_domain() == a.sip_domain);
    CHECK(reply.carrier_auth());
  }

  // Without credentials again, the tenant has none to challenge for.
  REQUIRE(
      a.api->patch("/v1/carriers/" + authenticated, {{"auth_username", ""}, {"auth_password", ""}})
          .status == 200);
  REQUIRE(lookup(*stub, e164, "192.0.2.1", &found).ok());
  CHECK_FALSE(found.carrier_auth());
  CHECK(found.sip_domain() == a.sip_domain);
}

TEST_CASE(
    "GetCarrierCredentials: the HA1 values of the tenant's carrier with that username, or "
    "NOT_FOUND") {
  auto stub = accounts();
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "carrier-cred-a");
  TestTenant b(platform, "carrier-cred-b");
  const std::string password = "Trunk-password-42";
  const std::string trunk = created(
      a.api->post("/v1/carriers",
                  {{"name", "Trunk"}, {"auth_username", "Trunk.A"}, {"auth_password", password}}));
  created(
      a.api->post("/v1/carriers", {{"name", "No credentials"}, {"addresses", {"192.0.2.0/24"}}}));
  const std::string b_trunk = created(b.api->post(
      "/v1/carriers",
      {{"name", "B trunk"}, {"auth_username", "trunk-b"}, {"auth_password", "Other-password-7"}}));

  v1::CarrierCredentials credentials;
  REQUIRE(carrierCredentials(*stub, a.id, "Trunk.A", &credentials).ok());
  CHECK(credentials.carrier_id() == trunk);
  const std::string a1 = "Trunk.A:" + a.sip_domain + ":" + password;
  CHECK(credentials.ha1_md5() == tel::crypto::md5Hex(a1));
  CHECK(credentials.ha1_sha256() == tel::crypto::sha256Hex(a1));
  CHECK(credentials.ha1_md5().size() == 32);
  CHECK(credentials.ha1_sha256().size() == 64);

  v1::CarrierCredentials missing;
  // Another tenant's carrier, in either direction.
  CHECK(carrierCredentials(*stub, a.id, "trunk-b", &missing).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(carrierCredentials(*stub, b.id, "Trunk.A", &missing).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  REQUIRE(carrierCredentials(*stub, b.id, "trunk-b", &credentials).ok());
  CHECK(credentials.carrier_id() == b_trunk);
  // Unknown, differently cased, empty (carriers without credentials have ""), impossible names.
  for (const std::string& username :
       std::vector<std::string>{"nobody", "trunk.a", "", "' OR 1=1 --", std::string(65, 'u')}) {
    INFO(username);
    CHECK(carrierCredentials(*stub, a.id, username, &missing).error_code() ==
          grpc::StatusCode::NOT_FOUND);
  }
  CHECK(carrierCredentials(*stub, "not-a-tenant", "Trunk.A", &missing).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // New credentials replace the old ones; removed ones are gone.
  const std::string path = "/v1/carriers/" + trunk;
  REQUIRE(
      a.api->patch(path, {{"auth_username", "renamed"}, {"auth_password", "Changed-password-1"}})
          .status == 200);
  CHECK(carrierCredentials(*stub, a.id, "Trunk.A", &missing).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  REQUIRE(carrierCredentials(*stub, a.id, "renamed", &credentials).ok());
  CHECK(credentials.carrier_id() == trunk);
  CHECK(credentials.ha1_md5() ==
        tel::crypto::md5Hex("renamed:" + a.sip_domain + ":Changed-password-1"));
  REQUIRE(a.api->patch(path, {{"auth_username", ""}, {"auth_password", ""}}).status == 200);
  CHECK(carrierCredentials(*stub, a.id, "renamed", &missing).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  // A deleted carrier's credentials go with it.
  REQUIRE(b.api->del("/v1/carriers/" + b_trunk).status == 204);
  CHECK(carrierCredentials(*stub, b.id, "trunk-b", &missing).error_code() ==
        grpc::StatusCode::NOT_FOUND);
}

namespace {
// The registrations the accounts service hands sip-edge, by carrier id.
std::map<std::string, v1::RegistrationToKeep> registrationsToKeep(v1::Accounts::Stub& stub) {
  v1::CarrierRegistrationList list;
  const grpc::Status status =
      stub.ListCarrierRegistrations(context().get(), v1::ListCarrierRegistrationsRequest{}, &list);
  INFO(status.error_message());
  REQUIRE(status.ok());
  std::map<std::string, v1::RegistrationToKeep> by_carrier;
  for (const auto& registration : list.registrations()) by_carrier[registration.carrier_id()] = registration;
  return by_carrier;
}

grpc::Status report(v1::Accounts::Stub& stub, const std::string& tenant_id,
                    const std::string& carrier_id, const std::string& state) {
  v1::CarrierRegistrationReport request;
  request.set_tenant_id(tenant_id);
  request.set_carrier_id(carrier_id);
  request.set_state(state);
  request.set_reason(state == "failed" ? "403 Forbidden" : "");
  v1::Empty reply;
  return stub.ReportCarrierRegistration(context().get(), request, &reply);
}
}  // namespace

TEST_CASE(
    "ListCarrierRegistrations gives every tenant's registrations with their passwords opened and "
    "ReportCarrierRegistration shows the state on the tenant's carrier only") {
  auto stub = accounts();
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "carrier-reg-a");
  TestTenant b(platform, "carrier-reg-b");
  const std::string a_gateway = created(a.api->post(
      "/v1/carriers", {{"name", "GSM gateway"},
                       {"outbound_uri", "sip:192.0.2.10:5060"},
                       {"registration", {{"username", "+15550001111"}, {"password", "sim pass 1"}}}}));
  const std::string b_trunk = created(b.api->post(
      "/v1/carriers", {{"name", "Trunk"},
                       {"outbound_uri", "sip:trunk@192.0.2.20"},
                       {"registration",
                        {{"username", "b-line"},
                         {"password", "other pass"},
                         {"domain", "trunk.example.net"},
                         {"expires_seconds", 900}}}}));
  const std::string plain = created(
      a.api->post("/v1/carriers", {{"name", "Plain"}, {"outbound_uri", "sip:192.0.2.30"}}));

  auto kept = registrationsToKeep(*stub);
  REQUIRE(kept.contains(a_gateway));
  REQUIRE(kept.contains(b_trunk));
  CHECK_FALSE(kept.contains(plain));
  const v1::RegistrationToKeep gateway = kept.at(a_gateway);
  CHECK(gateway.tenant_id() == a.id);
  CHECK(gateway.registrar_uri() == "sip:192.0.2.10:5060");
  CHECK(gateway.username() == "+15550001111");
  CHECK(gateway.password() == "sim pass 1");
  CHECK(gateway.domain().empty());
  CHECK(gateway.expires_seconds() == 300);
  CHECK(gateway.contact_user().size() == 33);
  const v1::RegistrationToKeep trunk = kept.at(b_trunk);
  CHECK(trunk.tenant_id() == b.id);
  CHECK(trunk.password() == "other pass");
  CHECK(trunk.domain() == "trunk.example.net");
  CHECK(trunk.expires_seconds() == 900);
  CHECK(trunk.contact_user() != gateway.contact_user());

  // Changing the settings without a password keeps the password and the contact.
  REQUIRE(a.api->patch("/v1/carriers/" + a_gateway,
                       {{"registration", {{"username", "+15550001111"}, {"expires_seconds", 600}}}})
              .status == 200);
  kept = registrationsToKeep(*stub);
  CHECK(kept.at(a_gateway).password() == "sim pass 1");
  CHECK(kept.at(a_gateway).expires_seconds() == 600);
  CHECK(kept.at(a_gateway).contact_user() == gateway.contact_user());

  // The state sip-edge reports shows on the carrier, for its own tenant only.
  REQUIRE(report(*stub, a.id, a_gateway, "failed").ok());
  auto shown = a.api->get("/v1/carriers/" + a_gateway);
  CHECK(shown.json["registration"]["state"] == "failed");
  CHECK(shown.json["registration"]["reason"] == "403 Forbidden");
  CHECK(shown.body.find("sim pass 1") == std::string::npos);
  CHECK(report(*stub, b.id, a_gateway, "registered").error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(a.api->get("/v1/carriers/" + a_gateway).json["registration"]["state"] == "failed");
  CHECK(report(*stub, a.id, plain, "registered").error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(report(*stub, a.id, a_gateway, "up").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // A carrier id that cannot exist is not found, like any other id.
  CHECK(report(*stub, a.id, "not-a-carrier", "registered").error_code() ==
        grpc::StatusCode::NOT_FOUND);
  CHECK(report(*stub, "not-a-tenant", a_gateway, "registered").error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  // Removed: no longer kept, and a new registration gets a new contact.
  REQUIRE(a.api->patch("/v1/carriers/" + a_gateway, {{"registration", nullptr}}).status == 200);
  CHECK_FALSE(registrationsToKeep(*stub).contains(a_gateway));
  REQUIRE(a.api->patch("/v1/carriers/" + a_gateway,
                       {{"registration", {{"username", "again"}, {"password", "new pass"}}}})
              .status == 200);
  kept = registrationsToKeep(*stub);
  CHECK(kept.at(a_gateway).password() == "new pass");
  CHECK(kept.at(a_gateway).contact_user() != gateway.contact_user());
  // A deleted carrier's registration goes with it.
  REQUIRE(b.api->del("/v1/carriers/" + b_trunk).status == 204);
  CHECK_FALSE(registrationsToKeep(*stub).contains(b_trunk));
}
