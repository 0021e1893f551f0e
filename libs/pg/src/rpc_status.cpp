#include "tel/pg/rpc_status.h"

#include <pqxx/pqxx>

namespace tel::pg {

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

}  // namespace tel::pg
