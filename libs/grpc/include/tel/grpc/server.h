#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace tel::grpc_util {

// A gRPC server with the standard health service (grpc.health.v1) and server reflection, and a
// graceful shutdown: health turns NOT_SERVING first so that load balancers stop sending, then
// in-flight calls get `grace` to finish before they are cancelled.
// The registered services must outlive the server.
class GrpcServer {
 public:
  // max_receive_message_bytes: the largest request taken; 0 keeps gRPC's default (4 MiB).
  GrpcServer(std::string address, std::vector<grpc::Service*> services, int max_receive_message_bytes = 0);
  ~GrpcServer();

  // Binds and starts; returns the bound port (useful with ":0"). Throws on bind failure.
  int start();
  void shutdown(std::chrono::milliseconds grace);
  void setServing(bool serving);

 private:
  std::string address_;
  std::vector<grpc::Service*> services_;
  int max_receive_message_bytes_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace tel::grpc_util
