#include "carrier_registrations.h"

#include <sofia-sip/msg_header.h>

#include <algorithm>

#include "sofia_event.h"
#include "tel/grpc/status.h"

namespace tel::sip {

using AccountsStub = accounts::v1::Accounts::StubInterface;

absl::StatusOr<std::vector<accounts::v1::RegistrationToKeep>> AccountsRegistrationSource::list() {
  accounts::v1::CarrierRegistrationList reply;
  const grpc::Status status = grpc_util::callUnary(
      *stub_, &AccountsStub::ListCarrierRegistrations,
      accounts::v1::ListCarrierRegistrationsRequest{}, &reply, timeout_);
  if (!status.ok()) return grpc_util::toAbsl("accounts", status);
  return std::vector<accounts::v1::RegistrationToKeep>(reply.registrations().begin(),
                                                       reply.registrations().end());
}

absl::Status AccountsRegistrationSource::report(
    const accounts::v1::CarrierRegistrationReport& report) {
  accounts::v1::Empty reply;
  const grpc::Status status = grpc_util::callUnary(
      *stub_, &AccountsStub::ReportCarrierRegistration, report, &reply, timeout_);
  return status.ok() ? absl::OkStatus() : grpc_util::toAbsl("accounts", status);
}

namespace {

std::string leaseKey(const std::string& carrier_id) {
  return "tel:carrier-registration:" + carrier_id;
}

// KEYS[1] = the lease; ARGV = this instance, ttl in ms. Takes a free lease or renews our own.
constexpr char kHoldScript[] = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua";

constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
)lua";

// "host[:port]" of "sip:[user@]host[:port]" (outbound URIs are checked to have that shape).
std::string hostPortOfUri(const std::string& uri) {
  std::string rest = uri.substr(uri.find(':') + 1);
  if (auto at = rest.find('@'); at != std::string::npos) rest = rest.substr(at + 1);
  return rest;
}

// The host of "host[:port]" (IPv6 literals keep their brackets).
std::string hostOf(const std::string& host_port) {
  if (host_port.starts_with('[')) return host_port.substr(0, host_port.find(']') + 1);
  return host_port.substr(0, host_port.find(':'));
}

// A domain as a SIP URI host: an IPv6 literal goes in brackets.
std::string uriHost(const std::string& domain) {
  if (domain.find(':') != std::string::npos && !domain.starts_with('[')) return "[" + domain + "]";
  return domain;
}

bool sameBinding(const accounts::v1::RegistrationToKeep& a,
                 const accounts::v1::RegistrationToKeep& b) {
  return a.registrar_uri() == b.registrar_uri() && a.username() == b.username() &&
         a.domain() == b.domain() && a.contact_user() == b.contact_user();
}

bool sameSettings(const accounts::v1::RegistrationToKeep& a,
                  const accounts::v1::RegistrationToKeep& b) {
  return sameBinding(a, b) && a.password() == b.password() &&
         a.expires_seconds() == b.expires_seconds();
}

std::string statusText(int status, const char* phrase) {
  return std::to_string(status) + " " + (phrase ? phrase : "");
}

}  // namespace

std::optional<std::string> digestAnswerFor(const SipStack::Event& event, const std::string& username,
                                           const std::string& password) {
  if (event.sip == nullptr) return std::nullopt;
  const msg_auth_t* challenge =
      event.status == 401 ? event.sip->sip_www_authenticate : event.sip->sip_proxy_authenticate;
  if (challenge == nullptr || challenge->au_scheme == nullptr) return std::nullopt;
  const char* realm = msg_params_find(challenge->au_params, "realm=");
  if (realm == nullptr) return std::nullopt;
  // sofia ends the password at a colon; accounts refuses passwords with one.
  return std::string(challenge->au_scheme) + ":" + realm + ":" + username + ":" + password;
}

absl::StatusOr<bool> RedisRegistrationLeases::hold(const std::string& carrier_id,
                                                   std::chrono::milliseconds ttl) {
  auto reply = redis_->eval(kHoldScript, {leaseKey(carrier_id)},
                            {instance_id_, std::to_string(ttl.count())});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

void RedisRegistrationLeases::release(const std::string& carrier_id) {
  // A lease not given back lapses by itself; nothing more to do about a failure here.
  (void)redis_->eval(kReleaseScript, {leaseKey(carrier_id)}, {instance_id_});
}

CarrierRegistrations::CarrierRegistrations(CarrierRegistrationOptions options, SipStack& stack,
                                           RegistrationSource& source, RegistrationLeases& leases,
                                           log::Logger logger, prometheus::Registry& registry)
    : options_(std::move(options)),
      stack_(stack),
      source_(source),
      leases_(leases),
      log_(std::move(logger)),
      states_(prometheus::BuildGauge()
                  .Name("tel_sip_carrier_registrations")
                  .Help("Registrations to carriers this instance keeps, by state")
                  .Register(registry)),
      attempts_(prometheus::BuildCounter()
                    .Name("tel_sip_carrier_registration_responses_total")
                    .Help("Final responses to this instance's REGISTERs to carriers, by result "
                          "(registered, challenged, refused, no_response)")
                    .Register(registry)) {
  for (const char* state : {"registering", "registered", "failed"}) states_.Add({{"state", state}});
}

CarrierRegistrations::~CarrierRegistrations() { stop(); }

void CarrierRegistrations::start() {
  poll_thread_ = std::thread([this] { pollLoop(); });
}

void CarrierRegistrations::stop() {
  {
    std::lock_guard lock(poll_mutex_);
    stopping_ = true;
  }
  poll_wake_.notify_all();
  if (poll_thread_.joinable()) poll_thread_.join();
  for (const auto& carrier_id : held_) leases_.release(carrier_id);
  held_.clear();
}

std::optional<RegisteredLine> CarrierRegistrations::lineForContact(const std::string& user) const {
  std::lock_guard lock(lines_mutex_);
  auto found = lines_by_contact_.find(user);
  if (found == lines_by_contact_.end()) return std::nullopt;
  return found->second;
}

std::optional<RegisteredLines::Credentials> CarrierRegistrations::credentialsFor(
    const std::string& carrier_id) const {
  std::lock_guard lock(lines_mutex_);
  auto found = credentials_by_carrier_.find(carrier_id);
  if (found == credentials_by_carrier_.end()) return std::nullopt;
  return found->second;
}

void CarrierRegistrations::pollLoop() {
  std::unique_lock lock(poll_mutex_);
  while (!stopping_) {
    lock.unlock();
    pollOnce();
    lock.lock();
    poll_wake_.wait_for(lock, options_.poll_interval, [this] { return stopping_; });
  }
}

void CarrierRegistrations::pollOnce() {
  auto listed = source_.list();
  if (listed.ok()) {
    last_listed_ = std::move(*listed);
    listed_once_ = true;
  } else {
    // The carriers have not changed because accounts cannot be asked: the last list stands, and
    // its leases are renewed as usual (else another instance would take them while this one
    // still registers).
    log_.warn("carrier registrations not read; keeping the last list",
              {{"error", std::string(listed.status().message())}});
    if (!listed_once_) return;
  }
  std::map<std::string, RegisteredLine> lines;
  std::map<std::string, Credentials> credentials;
  std::set<std::string> existing;
  std::vector<Settings> kept;
  const auto lease = options_.poll_interval * 3;
  for (const auto& settings : last_listed_) {
    lines[settings.contact_user()] =
        RegisteredLine{settings.tenant_id(), settings.carrier_id(), settings.username()};
    credentials[settings.carrier_id()] =
        Credentials{settings.tenant_id(), settings.username(), settings.password()};
    existing.insert(settings.carrier_id());
    auto held = leases_.hold(settings.carrier_id(), lease);
    if (!held.ok()) {
      log_.warn("carrier registration lease not renewed",
                {{"tenant_id", settings.tenant_id()},
                 {"carrier_id", settings.carrier_id()},
                 {"error", std::string(held.status().message())}});
    }
    // A lease that could not be renewed is still ours until it lapses.
    if ((held.ok() && *held) || (!held.ok() && held_.contains(settings.carrier_id()))) {
      kept.push_back(settings);
    }
  }
  std::set<std::string> now_held;
  for (const auto& settings : kept) now_held.insert(settings.carrier_id());
  for (const auto& carrier_id : held_) {
    if (!now_held.contains(carrier_id) && !existing.contains(carrier_id)) leases_.release(carrier_id);
  }
  held_ = std::move(now_held);
  {
    std::lock_guard guard(lines_mutex_);
    lines_by_contact_ = std::move(lines);
    credentials_by_carrier_ = std::move(credentials);
  }
  stack_.post([this, kept = std::move(kept), existing = std::move(existing)]() mutable {
    keepOnSipThread(std::move(kept), std::move(existing));
  });
}

void CarrierRegistrations::keepOnSipThread(std::vector<Settings> kept,
                                           std::set<std::string> existing) {
  std::set<std::string> wanted;
  for (auto& settings : kept) {
    wanted.insert(settings.carrier_id());
    auto found = registrations_.find(settings.carrier_id());
    if (found != registrations_.end() && sameSettings(found->second.settings, settings)) continue;
    if (found != registrations_.end() && sameBinding(found->second.settings, settings) &&
        found->second.handle != nullptr) {
      // The same binding with a new password or expiry: registered again on its own handle. A new
      // handle would not do: destroying the old one un-registers the very same contact, racing
      // the new REGISTER at the carrier.
      found->second.settings = std::move(settings);
      registerOnSipThread(found->second);
      continue;
    }
    if (found != registrations_.end()) {
      dropHandleOnSipThread(found->second, /*unregister=*/true);
      registrations_.erase(found);
    }
    Registration& registration = registrations_[settings.carrier_id()];
    registration.settings = std::move(settings);
    registerOnSipThread(registration);
  }
  for (auto it = registrations_.begin(); it != registrations_.end();) {
    if (wanted.contains(it->first)) {
      ++it;
      continue;
    }
    // Removed from the carrier: un-registered (challenge answered). Kept by another instance now:
    // the handle goes, and sofia's own un-REGISTER with it; the new keeper re-registers once more
    // after taking over (see confirm_at) in case that un-REGISTER came after its REGISTER.
    dropHandleOnSipThread(it->second, /*unregister=*/!existing.contains(it->first));
    log_.info("carrier registration no longer kept here",
              {{"tenant_id", it->second.settings.tenant_id()}, {"carrier_id", it->first}});
    it = registrations_.erase(it);
  }
  countStatesOnSipThread();
}

void CarrierRegistrations::registerOnSipThread(Registration& registration) {
  const Settings& settings = registration.settings;
  const std::string registrar_host_port = hostPortOfUri(settings.registrar_uri());
  const std::string domain =
      settings.domain().empty() ? hostOf(registrar_host_port) : uriHost(settings.domain());
  // The Request-URI of a REGISTER names the registrar's domain, no user (RFC 3261 10.2).
  const std::string registrar = "sip:" + registrar_host_port;
  const std::string aor = "<sip:" + settings.username() + "@" + domain + ">";
  const std::string contact = "<sip:" + settings.contact_user() + "@" + options_.contact_host + ">";
  const std::string expires = std::to_string(settings.expires_seconds());
  const bool fresh = registration.handle == nullptr;
  if (fresh) {
    nua_handle_t* handle = nua_handle(
        stack_.nuaOnSipThread(), nullptr, SIPTAG_TO_STR(aor.c_str()), SIPTAG_FROM_STR(aor.c_str()),
        TAG_IF(!options_.outbound_proxy.empty(),
               NUTAG_INITIAL_ROUTE_STR(options_.outbound_proxy.c_str())),
        TAG_END());
    if (handle == nullptr) {
      failOnSipThread(registration, "cannot create a SIP handle");
      return;
    }
    registration.handle = handle;
    by_handle_[handle] = settings.carrier_id();
  }
  nua_handle_t* handle = registration.handle;
  registration.answered_challenge = false;
  // The registrar is the carrier's outbound URI (also the Request-URI). No outbound-style
  // keep-alives or NAT probing: the carrier sees plain REGISTERs, refreshed by sofia before the
  // binding expires.
  nua_register(handle, NUTAG_REGISTRAR(registrar.c_str()),
               SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_EXPIRES_STR(expires.c_str()),
               NUTAG_OUTBOUND("no-options-keepalive no-validate no-natify"), NUTAG_KEEPALIVE(0),
               TAG_END());
  // Again on a registered handle (new settings, the confirmation) it stays registered meanwhile.
  if (fresh && registration.state != "registering") {
    reportOnSipThread(registration, "registering", "", std::chrono::seconds(0));
    countStatesOnSipThread();
  }
}

bool CarrierRegistrations::handleOnSipThread(const SipStack::Event& event) {
  if (auto removal = unregistering_.find(event.handle); removal != unregistering_.end()) {
    if (event.event != nua_r_unregister || event.status < 200) return true;
    if ((event.status == 401 || event.status == 407) && !removal->second.answered_challenge) {
      const Settings& settings = removal->second.settings;
      if (auto auth = digestAnswerFor(event, settings.username(), settings.password())) {
        removal->second.answered_challenge = true;
        nua_authenticate(event.handle, NUTAG_AUTH(auth->c_str()), TAG_END());
        return true;
      }
    }
    unregistering_.erase(removal);
    nua_handle_destroy(event.handle);
    return true;
  }
  auto owner = by_handle_.find(event.handle);
  if (owner == by_handle_.end()) return false;
  auto found = registrations_.find(owner->second);
  if (found == registrations_.end()) return true;
  if (event.event == nua_r_register) onResponseOnSipThread(found->second, event);
  return true;  // nua_i_outbound and the like: nothing to do
}

void CarrierRegistrations::onResponseOnSipThread(Registration& registration,
                                                 const SipStack::Event& event) {
  if (event.status < 200) return;
  const Settings& settings = registration.settings;
  if (event.status == 401 || event.status == 407) {
    attempts_.Add({{"result", "challenged"}}).Increment();
    // Challenged again after answering: the carrier does not take these credentials.
    auto auth = registration.answered_challenge
                    ? std::nullopt
                    : digestAnswerFor(event, settings.username(), settings.password());
    if (!auth) {
      failOnSipThread(registration, statusText(event.status, event.phrase) +
                                        (registration.answered_challenge ? " (wrong credentials)"
                                                                         : " (no usable challenge)"));
      return;
    }
    registration.answered_challenge = true;
    nua_authenticate(event.handle, NUTAG_AUTH(auth->c_str()), TAG_END());
    return;
  }
  if (event.status >= 300) {
    attempts_.Add({{"result", event.status == 408 ? "no_response" : "refused"}}).Increment();
    failOnSipThread(registration, event.status == 408 ? std::string("no response")
                                                      : statusText(event.status, event.phrase));
    return;
  }
  attempts_.Add({{"result", "registered"}}).Increment();
  // How long the carrier keeps it: our contact's expires in the answer, else its Expires.
  long expires = settings.expires_seconds();
  bool from_contact = false;
  for (const sip_contact_t* contact = event.sip ? event.sip->sip_contact : nullptr; contact;
       contact = contact->m_next) {
    if (contact->m_url->url_user && settings.contact_user() == contact->m_url->url_user &&
        contact->m_expires) {
      expires = std::strtol(contact->m_expires, nullptr, 10);
      from_contact = true;
    }
  }
  if (!from_contact && event.sip && event.sip->sip_expires) {
    expires = static_cast<long>(event.sip->sip_expires->ex_delta);
  }
  registration.answered_challenge = false;
  const bool first = registration.state != "registered";
  registration.failures = 0;
  if (!registration.confirmed) {
    // Once more after two polls: a previous keeper notices it lost the lease within a poll and
    // its handle's un-REGISTER (same contact behind a load balancer) may come after this one.
    registration.confirmed = true;
    registration.confirm_at = Clock::now() + 2 * options_.poll_interval;
  } else {
    registration.confirm_at = {};  // a later success (a refresh) confirms it as well
  }
  if (first) {
    log_.info("registered to carrier", {{"tenant_id", settings.tenant_id()},
                                        {"carrier_id", settings.carrier_id()},
                                        {"registrar", settings.registrar_uri()},
                                        {"expires", std::to_string(expires)}});
  }
  reportOnSipThread(registration, "registered", "", std::chrono::seconds(std::max(expires, 0L)));
  countStatesOnSipThread();
}

void CarrierRegistrations::failOnSipThread(Registration& registration, const std::string& reason) {
  dropHandleOnSipThread(registration, /*unregister=*/false);
  ++registration.failures;
  auto wait = options_.retry_min;
  for (int i = 1; i < registration.failures && wait < options_.retry_max; ++i) wait *= 2;
  wait = std::min(wait, options_.retry_max);
  registration.retry_at = Clock::now() + wait;
  log_.warn("carrier registration failed", {{"tenant_id", registration.settings.tenant_id()},
                                            {"carrier_id", registration.settings.carrier_id()},
                                            {"reason", reason},
                                            {"retry_in_ms", std::to_string(wait.count())}});
  reportOnSipThread(registration, "failed", reason.substr(0, 200), std::chrono::seconds(0));
  countStatesOnSipThread();
}

void CarrierRegistrations::dropHandleOnSipThread(Registration& registration, bool unregister) {
  nua_handle_t* handle = registration.handle;
  if (handle == nullptr) return;
  registration.handle = nullptr;
  by_handle_.erase(handle);
  if (unregister && registration.state == "registered") {
    // Expires: 0 for our contact; the handle goes once the carrier has answered.
    unregistering_[handle] = Unregistering{registration.settings};
    nua_unregister(handle, TAG_END());
    return;
  }
  nua_handle_destroy(handle);
}

void CarrierRegistrations::tickOnSipThread() {
  const auto now = Clock::now();
  for (auto& [carrier_id, registration] : registrations_) {
    if (registration.handle == nullptr && registration.retry_at <= now) {
      registerOnSipThread(registration);
    } else if (registration.handle != nullptr && registration.confirm_at != Clock::time_point{} &&
               registration.confirm_at <= now) {
      registration.confirm_at = {};
      registerOnSipThread(registration);
    }
  }
}

void CarrierRegistrations::shutdownOnSipThread() {
  // Destroying a handle has sofia un-register it; another instance takes over (see stop()).
  for (auto& [carrier_id, registration] : registrations_) {
    dropHandleOnSipThread(registration, /*unregister=*/false);
  }
  registrations_.clear();
  for (const auto& [handle, removal] : unregistering_) nua_handle_destroy(handle);
  unregistering_.clear();
}

void CarrierRegistrations::reportOnSipThread(Registration& registration, const std::string& state,
                                             const std::string& reason,
                                             std::chrono::seconds expires) {
  registration.state = state;
  accounts::v1::CarrierRegistrationReport report;
  report.set_tenant_id(registration.settings.tenant_id());
  report.set_carrier_id(registration.settings.carrier_id());
  report.set_state(state);
  report.set_reason(reason);
  if (state == "registered") {
    const auto until = std::chrono::system_clock::now() + expires;
    report.mutable_registered_until()->set_seconds(
        std::chrono::duration_cast<std::chrono::seconds>(until.time_since_epoch()).count());
  }
  reporter_.post([this, report = std::move(report)] {
    if (auto status = source_.report(report); !status.ok()) {
      log_.warn("carrier registration state not reported",
                {{"tenant_id", report.tenant_id()},
                 {"carrier_id", report.carrier_id()},
                 {"error", std::string(status.message())}});
    }
  });
}

void CarrierRegistrations::countStatesOnSipThread() {
  std::map<std::string, int> counts{{"registering", 0}, {"registered", 0}, {"failed", 0}};
  for (const auto& [carrier_id, registration] : registrations_) ++counts[registration.state];
  for (const auto& [state, count] : counts) states_.Add({{"state", state}}).Set(count);
}

}  // namespace tel::sip
