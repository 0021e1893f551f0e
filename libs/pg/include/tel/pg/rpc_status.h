#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>

namespace tel::pg {

// Runs `work`, which talks to Postgres, for an RPC: an unreachable database (a lost connection,
// no free pooled connection in time) becomes UNAVAILABLE instead of an exception. SQL errors still
// throw: they are bugs, logged and answered INTERNAL by grpc_util::runLogged.
grpc::Status guardedDatabaseWork(const std::function<grpc::Status()>& work);

}  // namespace tel::pg
