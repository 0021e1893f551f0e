#include "prompts_service.h"

#include "tel/grpc/run_logged.h"

namespace tel::routing {

using grpc_util::runLogged;

grpc::ServerUnaryReactor* PromptsService::PutPrompt(grpc::CallbackServerContext* context,
                                                    const v1::PutPromptRequest* request, v1::Prompt* response) {
  return runLogged(executor_, log_, context, "PutPrompt", [=, this] { return store_.put(*request, response); });
}

grpc::ServerUnaryReactor* PromptsService::GetPrompt(grpc::CallbackServerContext* context,
                                                    const v1::GetPromptRequest* request, v1::Prompt* response) {
  return runLogged(executor_, log_, context, "GetPrompt", [=, this] { return store_.get(*request, response); });
}

grpc::ServerUnaryReactor* PromptsService::ListPrompts(grpc::CallbackServerContext* context,
                                                      const v1::ListPromptsRequest* request,
                                                      v1::ListPromptsResponse* response) {
  return runLogged(executor_, log_, context, "ListPrompts", [=, this] { return store_.list(*request, response); });
}

grpc::ServerUnaryReactor* PromptsService::DeletePrompt(grpc::CallbackServerContext* context,
                                                       const v1::GetPromptRequest* request,
                                                       v1::DeletePromptResponse*) {
  return runLogged(executor_, log_, context, "DeletePrompt", [=, this] { return store_.remove(*request); });
}

grpc::ServerUnaryReactor* PromptsService::GetPromptAudio(grpc::CallbackServerContext* context,
                                                         const v1::GetPromptRequest* request,
                                                         v1::PromptAudio* response) {
  return runLogged(executor_, log_, context, "GetPromptAudio",
                   [=, this] { return store_.audio(*request, response); });
}

}  // namespace tel::routing
