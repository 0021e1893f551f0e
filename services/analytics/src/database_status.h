#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "tel/pg/connection_pool.h"
#include "tel/pg/rpc_status.h"

namespace tel::analytics {

using pg::guardedDatabaseWork;

// Deletes row `id` of `table` (a table name the caller writes, never input) in the tenant's
// transaction. NOT_FOUND(what) when there is none: another tenant's ids are invisible under
// row-level security, so they answer exactly like ids that never existed.
grpc::Status deleteById(pg::ConnectionPool& pool, const std::string& tenant_id, const char* table,
                        const std::string& id, const std::string& what);

}  // namespace tel::analytics
