#include "sip_edge_config.h"

#include "tel/crypto/crypto.h"

namespace tel::sip {

SipEdgeConfig SipEdgeConfig::load(config::Config& source) {
  SipEdgeConfig config;
  const auto listen = source.getHostPort("sip.listen", "127.0.0.1:17060", /*allow_zero=*/false);
  config.sip.listen_host = listen.host;
  config.sip.listen_port = listen.port;
  config.sip.trusted_proxies = source.getList("sip.trusted_proxies", "");
  if (auto bad = net::AddressBlocks::invalidEntry(config.sip.trusted_proxies)) {
    throw config::ConfigError("sip.trusted_proxies",
                              "'" + *bad + "' is not an IP address or CIDR block");
  }
  config.sip.max_message_bytes =
      static_cast<size_t>(source.getInt("sip.max_message_bytes", 2048, 1 << 20, 32768));
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17141");
  config.accounts_address = source.getString("accounts.address", "127.0.0.1:17110");
  config.control_listen = source.getHostPort("control.listen", "127.0.0.1:17142");
  config.media_relay_addresses =
      source.getList("media_relay.address", "127.0.0.1:17120");
  if (config.media_relay_addresses.empty()) {
    throw config::ConfigError("media_relay.address",
                              "names no media-relay (host:port[,host:port...])");
  }
  config.drain_grace = source.getDuration("drain.grace_period", std::chrono::seconds(30));
  config.cluster.heartbeat_interval =
      source.getDuration("cluster.heartbeat_interval", std::chrono::seconds(1));
  config.cluster.lost_after = source.getDuration("cluster.lost_after", std::chrono::seconds(10));
  if (config.cluster.heartbeat_interval < std::chrono::milliseconds(100))
    throw config::ConfigError("cluster.heartbeat_interval", "must be at least 100ms");
  if (config.cluster.lost_after < 3 * config.cluster.heartbeat_interval) {
    throw config::ConfigError("cluster.lost_after",
                              "must be at least 3 cluster.heartbeat_interval (a late heartbeat is "
                              "not a death)");
  }
  config.kafka_brokers = source.getString("kafka.brokers");
  config.kafka_linger = source.getDuration("kafka.linger", std::chrono::milliseconds(20));
  // Request-URI hosts that carriers use for our numbers, besides IP addresses: the public names of
  // the SIP service. Any other host is a tenant's SIP domain.
  config.admission.carrier_hosts = source.getList("calls.carrier_hosts", "localhost");
  config.b2bua.decision_timeout =
      source.getDuration("calls.decision_timeout", std::chrono::seconds(5));
  if (config.b2bua.decision_timeout < std::chrono::milliseconds(100)) {
    throw config::ConfigError("calls.decision_timeout", "must be at least 100ms");
  }
  config.b2bua.max_admitting =
      static_cast<size_t>(source.getInt("calls.max_admitting", 1, 100000, 64));
  config.lookup_cache_ttl = source.getDuration("calls.lookup_cache_ttl", std::chrono::seconds(5));
  config.b2bua.edge_host = source.getString("calls.edge_host", config.sip.listen_host);
  config.b2bua.outbound_proxy = source.getString("calls.outbound_proxy", "");
  if (!config.b2bua.outbound_proxy.empty()) {
    auto& proxy = config.b2bua.outbound_proxy;
    if (proxy.rfind("sip:", 0) != 0 || proxy.size() < 5 ||
        proxy.find_first_of(" \t\r\n<>\"") != std::string::npos)
      throw config::ConfigError("calls.outbound_proxy", "must be a SIP URI (sip:host[:port])");
    if (proxy.find(";lr") == std::string::npos) proxy += ";lr";  // a loose route (RFC 3261 16.12)
  }
  config.max_call_duration = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("calls.max_duration", std::chrono::hours(4)));
  if (config.max_call_duration < std::chrono::seconds(5)) {
    throw config::ConfigError("calls.max_duration", "must be at least 5s");
  }
  config.b2bua.max_call_duration = config.max_call_duration;
  auto redis = redis::parseRedisUrl(source.getSecret("redis.url"));
  if (!redis.ok()) throw config::ConfigError("redis.url", std::string(redis.status().message()));
  config.redis = *redis;
  // Without a configured secret every process makes its own: fine for one instance, but nonces
  // issued by one instance then fail on another, so a cluster must set it.
  config.nonce_secret =
      source.getSecret("auth.nonce_secret", crypto::toHex(crypto::randomBytes(32)));
  if (config.nonce_secret.size() < 16)
    throw config::ConfigError("auth.nonce_secret", "must be at least 16 characters");
  config.nonce_lifetime = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("auth.nonce_lifetime", std::chrono::seconds(300)));
  for (const auto& item : source.getList("auth.algorithms", "MD5,SHA-256")) {
    if (item != "MD5" && item != "SHA-256") {
      throw config::ConfigError("auth.algorithms", "'" + item + "' is not MD5 or SHA-256");
    }
    config.algorithms.push_back(item);
  }
  if (config.algorithms.empty())
    throw config::ConfigError("auth.algorithms", "must name at least one algorithm");
  config.registrar.min_expires = source.getInt("registrar.min_expires", 1, 86400, 60);
  config.registrar.max_expires = source.getInt("registrar.max_expires", 1, 604800, 3600);
  config.registrar.default_expires = source.getInt("registrar.default_expires", 1, 604800, 600);
  if (config.registrar.max_expires < config.registrar.min_expires) {
    throw config::ConfigError("registrar.max_expires", "must not be below registrar.min_expires");
  }
  auto& guard = config.protection;
  config.protection_enabled = source.getBool("protection.enabled", true);
  guard.flood_requests =
      static_cast<int>(source.getInt("protection.flood_requests", 1, 100000, 16));
  guard.flood_window = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("protection.flood_window", std::chrono::seconds(2)));
  guard.auth_failures = static_cast<int>(source.getInt("protection.auth_failures", 1, 1000, 3));
  guard.auth_window = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("protection.auth_window", std::chrono::minutes(10)));
  guard.ban_time = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("protection.ban_time", std::chrono::minutes(10)));
  if (guard.flood_window.count() < 1)
    throw config::ConfigError("protection.flood_window", "must be at least 1s");
  if (guard.ban_time.count() < 1)
    throw config::ConfigError("protection.ban_time", "must be at least 1s");
  guard.allow = source.getList("protection.allow", "");
  if (auto bad = net::AddressBlocks::invalidEntry(guard.allow)) {
    throw config::ConfigError("protection.allow",
                              "'" + *bad + "' is not an IP address or CIDR block");
  }
  // What the load balancers forward is counted per real source (X-Tel-Source); what is left under
  // their own address (their OPTIONS probes) must never get them banned.
  guard.allow.insert(guard.allow.end(), config.sip.trusted_proxies.begin(),
                     config.sip.trusted_proxies.end());
  const std::string scanners = source.getString("protection.scanner_user_agents", "");
  if (!scanners.empty()) guard.scanner_user_agents = config::splitCommaList(scanners);
  auto& registrations = config.registrations;
  registrations.contact_host = source.getString(
      "registrations.contact_host",
      config.b2bua.edge_host + ":" + std::to_string(config.sip.listen_port));
  if (registrations.contact_host.empty() ||
      registrations.contact_host.find_first_of(" \t\r\n<>\"@;,") != std::string::npos) {
    throw config::ConfigError("registrations.contact_host", "must be host[:port]");
  }
  registrations.outbound_proxy = config.b2bua.outbound_proxy;
  registrations.poll_interval =
      source.getDuration("registrations.poll_interval", std::chrono::seconds(10));
  registrations.retry_min = source.getDuration("registrations.retry_min", std::chrono::seconds(5));
  registrations.retry_max =
      source.getDuration("registrations.retry_max", std::chrono::minutes(5));
  if (registrations.poll_interval < std::chrono::milliseconds(200))
    throw config::ConfigError("registrations.poll_interval", "must be at least 200ms");
  if (registrations.retry_min < std::chrono::milliseconds(100))
    throw config::ConfigError("registrations.retry_min", "must be at least 100ms");
  if (registrations.retry_max < registrations.retry_min)
    throw config::ConfigError("registrations.retry_max", "must not be below registrations.retry_min");
  config.workers = static_cast<int>(source.getInt("workers", 1, 256, 8));
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::sip
