#include "database_status.h"

#include <pqxx/pqxx>

#include "tel/grpc/status.h"
#include "tracking_validation.h"

namespace tel::analytics {

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
