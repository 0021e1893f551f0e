#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "tel/pg/connection_pool.h"

namespace tel::analytics {

// Runs `work`, which talks to Postgres; an unreachable database becomes UNAVAILABLE instead of an
// exception (SQL errors still throw: they are bugs, logged and answered INTERNAL by the service).
grpc::Status guardedDatabaseWork(const std::function<grpc::Status()>& work);

// Deletes row `id` of `table` (a table name the caller writes, never input) in the tenant's
// transaction. NOT_FOUND(what) when there is none: another tenant's ids are invisible under
// row-level security, so they answer exactly like ids that never existed.
grpc::Status deleteById(pg::ConnectionPool& pool, const std::string& tenant_id, const char* table,
                        const std::string& id, const std::string& what);

}  // namespace tel::analytics
