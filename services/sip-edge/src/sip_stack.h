#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tel/net/address_blocks.h"
#include "registrar.h"
#include "tel/log/log.h"
#include "tel/loop/wakeup_queue.h"

struct nua_s;
struct sip_s;

namespace tel::sip {

class CallHandler;
class SipClient;
class SourceGuard;

struct SipStackOptions {
  std::string listen_host = "127.0.0.1";
  int listen_port = 17060;  // UDP and TCP
  std::string server_name = "tel-sip-edge";
  size_t max_message_bytes = 32768;
  // Addresses or CIDR blocks of the SIP load balancers in front (sip.trusted_proxies), e.g. the
  // pod network when only the load balancer's pods may reach sip-edge. A request whose transport
  // peer is one of them is taken to come from the address in its X-Tel-Source header, which the
  // load balancer sets (having removed any the client sent); from anyone else the header is
  // ignored.
  std::vector<std::string> trusted_proxies;
};

// Where a request came from: its transport peer, or for one forwarded by a trusted proxy, the
// address that proxy received it from.
struct RequestSource {
  std::string ip;
  std::string port;  // empty when unknown
};

// The SIP side of sip-edge: sofia-sip's nua on its own thread (the SIP thread), which owns the
// su_root, the nua object and every handle. Nothing else touches them; other threads hand work
// over with post(), which queues a closure and wakes the SIP thread through an eventfd that the
// su_root watches. Functions named ...OnSipThread run only there.
//
// Requests that need blocking work (a REGISTER needs the accounts service and Redis) are saved
// with nua_save_event, handed to `RegisterHandler` (which runs the work elsewhere), and answered
// later on the SIP thread through the `respond` callback it is given.
class SipStack {
 public:
  using Respond = std::function<void(SipResponse)>;
  using RegisterHandler = std::function<void(RegisterRequest, Respond)>;

  SipStack(SipStackOptions options, RegisterHandler on_register, log::Logger logger);
  // Everything that is not a REGISTER goes to `calls` (set before start(); may stay null, and then
  // INVITEs are refused with 405).
  void setCallHandler(CallHandler* calls) { calls_ = calls; }
  // The events of the handles `client` made (set before start(); may stay null).
  void setClient(SipClient* client) { client_ = client; }
  // Screens every new request's source (flood, bans, scanners) when set before start(); banned
  // IPv4 sources are then dropped in the kernel (see kernel_source_filter.h).
  void setSourceGuard(SourceGuard* guard) { guard_ = guard; }
  // A failed authentication from `ip` (any thread).
  void reportAuthenticationFailure(const std::string& ip);
  ~SipStack();
  SipStack(const SipStack&) = delete;
  SipStack& operator=(const SipStack&) = delete;

  // Starts the SIP thread; throws if the transports cannot be bound.
  void start();
  // Shuts nua down (answering what it still holds) and joins the SIP thread.
  void stop();
  // Runs `task` on the SIP thread. Thread-safe.
  void post(std::function<void()> task);
  // Stops taking new calls: new INVITEs and OPTIONS get 503 (a load balancer probing with OPTIONS
  // takes this instance out and fails new calls over); calls in progress and REGISTER go on.
  // Thread-safe; stop() still ends whatever is left.
  void drain() { draining_ = true; }
  bool draining() const { return draining_; }

  // The source of a request (see RequestSource). SIP thread.
  RequestSource sourceOf(const ::sip_s* sip) const;

  // Called by the nua callback trampoline; public only for it. Defined in sofia_event.h.
  struct Event;
  void dispatchOnSipThread(const Event& event);
  ::nua_s* nuaOnSipThread() const;

 private:
  void runOnSipThread(std::promise<void> started);
  void handleRegisterOnSipThread(const Event& event);
  // False when the request's source is banned (the request has then been answered or dropped).
  bool screenOnSipThread(const Event& event);
  void tickOnSipThread();
  void respondOnSipThread(void* handle, void* saved, const SipResponse& response);

  SipStackOptions options_;
  net::AddressBlocks trusted_proxies_;
  RegisterHandler on_register_;
  CallHandler* calls_ = nullptr;
  SipClient* client_ = nullptr;
  SourceGuard* guard_ = nullptr;
  log::Logger log_;
  std::thread thread_;
  loop::WakeupQueue tasks_;  // drained on the SIP thread (its fd is watched by the su_root)
  std::atomic<bool> running_{false};
  std::atomic<bool> draining_{false};

  // SIP thread state (opaque here to keep sofia headers out of this header).
  struct SofiaState;
  std::unique_ptr<SofiaState> sofia_;
};

// The B2BUA side of the SIP thread (see b2bua.h).
class CallHandler {
 public:
  virtual ~CallHandler() = default;
  // Handles a nua event that concerns calls; false when it is not one.
  virtual bool handleOnSipThread(const SipStack::Event& event) = 0;
  // Called every kTickMillis milliseconds, for timeouts.
  virtual void tickOnSipThread() = 0;
  // Ends every call (nua is about to shut down).
  virtual void shutdownOnSipThread() = 0;
  static constexpr int kTickMillis = 200;
};

// What sip-edge does as a SIP client outside calls (registering to carriers): the events of its
// own handles, the same ticks, and the shutdown, all on the SIP thread.
class SipClient {
 public:
  virtual ~SipClient() = default;
  // Handles a nua event of one of its handles; false when it is not one.
  virtual bool handleOnSipThread(const SipStack::Event& event) = 0;
  virtual void tickOnSipThread() = 0;
  // Lets go of every handle (nua is about to shut down).
  virtual void shutdownOnSipThread() = 0;
};

}  // namespace tel::sip
