// accounts: tenants, users, SIP accounts, numbers and API keys (tel.accounts.v1 over gRPC).
#include <cstring>
#include <iostream>

#include "accounts_config.h"
#include "accounts_service.h"
#include "pg_account_store.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/metrics/admin_server.h"

int main(int argc, char** argv) {
  // Prints a fresh operator key in the one format the service accepts (used by ./tel and Helm).
  if (argc == 2 && std::strcmp(argv[1], "--new-admin-key") == 0) {
    std::cout << tel::accounts::generateApiKey(tel::accounts::kAdminKeyKind).key << "\n";
    return 0;
  }
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::accounts::AccountsConfig>(argc, argv, "accounts", "TEL_ACCOUNTS");
  auto log = tel::log::Logger::create("accounts", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "accounts", TEL_VERSION);
    auto pool = std::make_shared<tel::pg::ConnectionPool>(config.database_url,
                                                          config.database_pool_size);
    auto store = std::make_shared<tel::accounts::PgAccountStore>(pool);
    tel::accounts::AccountsService service(store, config.service, log, *registry);
    if (!config.admin_key.empty()) {
      if (auto status = service.installAdminKey(config.admin_key); !status.ok()) {
        log.error("cannot install the admin key", {{"error", status.error_message()}});
        return 1;
      }
    }
    tel::metrics::AdminServer admin("accounts", registry, [&] {
      return store->healthy() ? tel::metrics::HealthReport{}
                              : tel::metrics::HealthReport{false, "database unreachable"};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    tel::grpc_util::GrpcServer server(config.grpc_listen.str(), {&service});
    const int grpc_port = server.start();
    log.info("accounts serving", {{"grpc_port", std::to_string(grpc_port)},
                                  {"admin_port", std::to_string(admin_port)}});

    const int signal = shutdown_signal.wait();
    log.info("shutting down", {{"signal", std::to_string(signal)}});
    server.shutdown(config.shutdown_grace);
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
