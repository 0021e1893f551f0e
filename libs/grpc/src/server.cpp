#include "tel/grpc/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include <stdexcept>

namespace tel::grpc_util {

GrpcServer::GrpcServer(std::string address, std::vector<grpc::Service*> services, int max_receive_message_bytes)
    : address_(std::move(address)), services_(std::move(services)), max_receive_message_bytes_(max_receive_message_bytes) {}

GrpcServer::~GrpcServer() { shutdown(std::chrono::milliseconds(0)); }

int GrpcServer::start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address_, grpc::InsecureServerCredentials(), &port);
  for (auto* service : services_) builder.RegisterService(service);
  if (max_receive_message_bytes_ > 0) builder.SetMaxReceiveMessageSize(max_receive_message_bytes_);
  server_ = builder.BuildAndStart();
  if (!server_ || port == 0) throw std::runtime_error("gRPC: cannot listen on " + address_);
  setServing(true);
  return port;
}

void GrpcServer::setServing(bool serving) {
  if (!server_) return;
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(serving);
}

void GrpcServer::shutdown(std::chrono::milliseconds grace) {
  if (!server_) return;
  setServing(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
  server_.reset();
}

}  // namespace tel::grpc_util
