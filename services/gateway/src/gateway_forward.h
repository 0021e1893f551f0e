#pragma once

// The definition of GatewayServer::forwardTo, shared by the translation units that register routes.
#include <nlohmann/json.hpp>

#include "gateway_server.h"

namespace tel::gateway {

// Calls a backend method with the request's deadline and answers with its result rendered by
// `render` (204 answers carry no body), or with the API error its status maps to.
template <typename Stub, typename Request, typename Response, typename Render>
void GatewayServer::forwardTo(Call& call, Stub& stub, MethodOf<Stub, Request, Response> method,
                              const Request& request, int success_status, Render render) {
  Response reply;
  auto context = backendContext();
  const grpc::Status status = (stub.*method)(context.get(), request, &reply);
  if (!status.ok()) return writeError(call.response, fromGrpc(status));
  if (success_status == 204) {
    call.response.status = 204;
    return;
  }
  writeJson(call.response, success_status, render(reply));
}

}  // namespace tel::gateway
