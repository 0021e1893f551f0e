#include "database_status.h"

#include <pqxx/pqxx>

#include "tel/grpc/status.h"
#include "tracking_validation.h"

namespace tel::analytics {

grpc::Status guardedDatabaseWork(const std::function<grpc::Status()>& work) {
  try {
    return work();
  } catch (const pqxx::broken_connection&) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "database unavailable");
  } catch (const std::runtime_error& e) {
    // ConnectionPool::acquire times out with runtime_error; sql_error derives from it too.
    if (dynamic_cast<const pqxx::sql_error*>(&e) != nullptr) throw;
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, std::string("database: ") + e.what());
  }
}

grpc::Status deleteById(pg::ConnectionPool& pool, const std::string& tenant_id, const char* table,
                        const std::string& id, const std::string& what) {
  if (!isUuid(id)) return grpc_util::notFound(what);
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool.inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      if (txn.exec_params(std::string("DELETE FROM ") + table + " WHERE id = $1", id).affected_rows() == 0) {
        status = grpc_util::notFound(what);
      }
    });
    return status;
  });
}

}  // namespace tel::analytics
