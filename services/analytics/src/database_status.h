#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>

namespace tel::analytics {

// Runs `work`, which talks to Postgres; an unreachable database becomes UNAVAILABLE instead of an
// exception (SQL errors still throw: they are bugs, logged and answered INTERNAL by the service).
grpc::Status guardedDatabaseWork(const std::function<grpc::Status()>& work);

}  // namespace tel::analytics
