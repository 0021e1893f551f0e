#pragma once

#include "b2bua.h"
#include "call_admission.h"
#include "carrier_registrations.h"
#include "lost_instance_reaper.h"
#include "registrar.h"
#include "sip_stack.h"
#include "source_guard.h"
#include "tel/config/config.h"
#include "tel/redis/redis_client.h"

namespace tel::sip {

// Everything sip-edge reads at start; environment prefix TEL_SIP_EDGE.
struct SipEdgeConfig {
  SipStackOptions sip;
  config::HostPort admin_listen;
  std::string accounts_address;
  config::HostPort control_listen;  // the call-control gRPC API
  std::vector<std::string>
      media_relay_addresses;  // media_relay.address: "host:port[,host:port...]"
  std::string kafka_brokers;
  // How long call events wait to be batched: fewer, fuller produce requests (the broker's CPU) for
  // at most this much added delay between an event and its record.
  std::chrono::milliseconds kafka_linger{20};
  CallAdmissionOptions admission;
  B2buaOptions b2bua;
  // Answered calls are ended this long after the answer; a number's channel is held at most 10 min
  // longer (the hold lapses by itself when an instance dies mid-call).
  std::chrono::seconds max_call_duration{4 * 3600};
  std::chrono::milliseconds lookup_cache_ttl{5000};  // numbers and carrier matches; 0 disables
  // On SIGTERM: how long calls in progress may go on while new ones are refused (503).
  std::chrono::milliseconds drain_grace{30000};
  // Heartbeats in Redis, and when an instance that stopped beating is lost (its calls are closed).
  ReaperOptions cluster;
  redis::RedisOptions redis;  // from redis.url (secret)
  std::string nonce_secret;   // secret; shared by all instances behind one load balancer
  std::chrono::seconds nonce_lifetime{300};
  std::vector<std::string> algorithms;
  RegistrarOptions registrar;
  CarrierRegistrationOptions registrations;
  bool protection_enabled = true;
  SourceGuardOptions protection;
  int workers = 8;
  log::Level log_level = log::Level::kInfo;

  static SipEdgeConfig load(config::Config& source);
};

}  // namespace tel::sip
