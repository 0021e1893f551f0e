#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <unordered_map>

#include "sip_stack.h"

struct nua_handle_s;

namespace tel::sip {

// Sends SIP OPTIONS to a target (a carrier) and reports its final answer: how routing finds out
// that a carrier it stopped using after failures is back (call-control's Probe).
//
// Threading: probe() may be called on any thread and hands the work to the SIP thread; the rest
// runs there (the B2BUA passes it its events and ticks). `done` runs on the SIP thread.
class TargetProber {
 public:
  using Done = std::function<void(int status, std::chrono::milliseconds round_trip)>;
  static constexpr size_t kMaxPending = 256;

  // `edge_host` names sip-edge in the From; `outbound_proxy` (may be empty) is the SIP load
  // balancer the probes pass, like every request sip-edge places.
  TargetProber(SipStack& stack, std::string edge_host, std::string outbound_proxy)
      : stack_(stack), edge_host_(std::move(edge_host)), outbound_proxy_(std::move(outbound_proxy)) {}

  // `done` gets the final status, 0 when none came within `timeout` (or the probe could not be
  // sent), and -1 when kMaxPending probes are already waiting.
  void probe(const std::string& uri, std::chrono::milliseconds timeout, Done done);
  // A probe's response; false for any other event.
  bool handleOnSipThread(const SipStack::Event& event);
  // Ends the probes whose time is up.
  void tickOnSipThread();
  // Ends every probe (nua is shutting down).
  void shutdownOnSipThread();

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    Done done;
    Clock::time_point sent;
    Clock::time_point deadline;
  };
  void finishOnSipThread(nua_handle_s* handle, int status);

  SipStack& stack_;
  const std::string edge_host_;
  const std::string outbound_proxy_;
  std::unordered_map<nua_handle_s*, Pending> pending_;  // SIP thread
};

}  // namespace tel::sip
