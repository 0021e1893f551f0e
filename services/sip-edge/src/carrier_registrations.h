#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "call_backends.h"
#include "sip_stack.h"
#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"
#include "tel/redis/redis_client.h"

struct nua_handle_s;

namespace tel::sip {

// Where the registrations to keep come from, and where their state goes (the accounts service).
class RegistrationSource {
 public:
  virtual ~RegistrationSource() = default;
  virtual absl::StatusOr<std::vector<accounts::v1::RegistrationToKeep>> list() = 0;
  virtual absl::Status report(const accounts::v1::CarrierRegistrationReport& report) = 0;
};

class AccountsRegistrationSource final : public RegistrationSource {
 public:
  AccountsRegistrationSource(std::shared_ptr<accounts::v1::Accounts::StubInterface> stub,
                             std::chrono::milliseconds timeout)
      : stub_(std::move(stub)), timeout_(timeout) {}
  absl::StatusOr<std::vector<accounts::v1::RegistrationToKeep>> list() override;
  absl::Status report(const accounts::v1::CarrierRegistrationReport& report) override;

 private:
  std::shared_ptr<accounts::v1::Accounts::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
};

// Which instance keeps which registration: one lease per carrier, so that a carrier sees one
// binding however many sip-edge instances run. A lease lapses by itself when its holder dies.
class RegistrationLeases {
 public:
  virtual ~RegistrationLeases() = default;
  // Takes or renews the lease for `ttl`; false when another instance holds it.
  virtual absl::StatusOr<bool> hold(const std::string& carrier_id, std::chrono::milliseconds ttl) = 0;
  virtual void release(const std::string& carrier_id) = 0;
};

class RedisRegistrationLeases final : public RegistrationLeases {
 public:
  RedisRegistrationLeases(std::shared_ptr<redis::RedisClient> redis, std::string instance_id)
      : redis_(std::move(redis)), instance_id_(std::move(instance_id)) {}
  absl::StatusOr<bool> hold(const std::string& carrier_id, std::chrono::milliseconds ttl) override;
  void release(const std::string& carrier_id) override;

 private:
  std::shared_ptr<redis::RedisClient> redis_;
  const std::string instance_id_;
};

struct CarrierRegistrationOptions {
  // host[:port] in the Contact registered at the carriers: where they send calls (behind a load
  // balancer, the load balancer's public address).
  std::string contact_host = "127.0.0.1:17060";
  std::string outbound_proxy;  // as B2buaOptions::outbound_proxy
  // How often the list is read from accounts and the leases renewed; a lease lasts 3 of these, so
  // a survivor takes over a lost instance's registrations within that.
  std::chrono::milliseconds poll_interval{10000};
  // After a failure (refused, no answer, wrong password), the next attempt waits retry_min,
  // doubling up to retry_max.
  std::chrono::milliseconds retry_min{5000};
  std::chrono::milliseconds retry_max{300000};
};

// Registers the platform to the carriers that want it (SIP/GSM gateways, trunks with
// registration): REGISTER for the carrier's username to its outbound URI, with the tenant's
// unguessable contact user, answering digest challenges with the carrier's password; sofia
// refreshes the binding before it expires, and a failed one is tried again with backoff. The state
// (registering, registered, failed) goes to the accounts service, which shows it on the carrier.
//
// Threading: a thread of its own reads the list and holds the leases (both block), and another
// sends the state reports; every sofia
// handle and the per-registration state belong to the SIP thread (functions ...OnSipThread, fed by
// the SipStack as its SipClient). lineForContact() and credentialsFor() are
// thread-safe.
class CarrierRegistrations final : public RegisteredLines, public SipClient {
 public:
  CarrierRegistrations(CarrierRegistrationOptions options, SipStack& stack,
                       RegistrationSource& source, RegistrationLeases& leases, log::Logger logger,
                       prometheus::Registry& registry);
  ~CarrierRegistrations();
  CarrierRegistrations(const CarrierRegistrations&) = delete;
  CarrierRegistrations& operator=(const CarrierRegistrations&) = delete;

  void start();
  // Stops reading the list and gives the leases back: another instance takes the registrations
  // over at its next poll. (nua un-registers the bindings as the SIP stack shuts down, before
  // that instance registers them again.)
  void stop();

  // The line whose contact user is `user` (any instance's registrations, not only this one's).
  std::optional<RegisteredLine> lineForContact(const std::string& user) const override;
  std::optional<Credentials> credentialsFor(const std::string& carrier_id) const override;

  // SIP thread: a registration's response (false for any other event), retries, shutdown.
  bool handleOnSipThread(const SipStack::Event& event) override;
  void tickOnSipThread() override;
  void shutdownOnSipThread() override;

 private:
  using Clock = std::chrono::steady_clock;
  using Settings = accounts::v1::RegistrationToKeep;
  struct Registration {
    Settings settings;
    nua_handle_s* handle = nullptr;  // null while waiting to retry
    std::string state;               // registering, registered, failed
    bool answered_challenge = false;  // since the last success: a second challenge is a refusal
    int failures = 0;
    Clock::time_point retry_at;
    bool confirmed = false;         // the confirming REGISTER after the first success is planned
    Clock::time_point confirm_at;   // when it goes; {} once sent
  };

  void pollLoop();
  void pollOnce();
  // Starts what `kept` has that is not running (or changed), stops the rest; `existing` are the
  // carriers still registering anywhere (one missing from it is un-registered).
  void keepOnSipThread(std::vector<Settings> kept, std::set<std::string> existing);
  void registerOnSipThread(Registration& registration);
  void onResponseOnSipThread(Registration& registration, const SipStack::Event& event);
  void failOnSipThread(Registration& registration, const std::string& reason);
  void dropHandleOnSipThread(Registration& registration, bool unregister);
  void reportOnSipThread(Registration& registration, const std::string& state,
                         const std::string& reason, std::chrono::seconds expires);
  void countStatesOnSipThread();

  CarrierRegistrationOptions options_;
  SipStack& stack_;
  RegistrationSource& source_;
  RegistrationLeases& leases_;
  log::Logger log_;
  // One thread: a carrier's reports reach accounts in the order they were made ("failed" after
  // "registering", never before).
  grpc_util::BlockingExecutor reporter_{1};

  mutable std::mutex lines_mutex_;
  std::map<std::string, RegisteredLine> lines_by_contact_;  // guarded by lines_mutex_
  std::map<std::string, Credentials> credentials_by_carrier_;  // guarded by lines_mutex_

  std::mutex poll_mutex_;
  std::condition_variable poll_wake_;
  bool stopping_ = false;        // guarded by poll_mutex_
  std::set<std::string> held_;  // poll thread: carriers whose lease this instance holds
  std::vector<Settings> last_listed_;  // poll thread: the last list read from accounts
  bool listed_once_ = false;           // poll thread
  std::thread poll_thread_;

  std::map<std::string, Registration> registrations_;  // SIP thread, by carrier id
  std::map<nua_handle_s*, std::string> by_handle_;      // SIP thread
  // SIP thread: un-REGISTERs under way, destroyed when answered (a challenge is answered once).
  struct Unregistering {
    Settings settings;
    bool answered_challenge = false;
  };
  std::map<nua_handle_s*, Unregistering> unregistering_;

  prometheus::Family<prometheus::Gauge>& states_;
  prometheus::Family<prometheus::Counter>& attempts_;
};

}  // namespace tel::sip
