#pragma once

#include "prompt_store.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"
#include "tel/routing/v1/prompts.grpc.pb.h"

namespace tel::routing {

// tel.routing.v1.Prompts for the gateway. Rendering (espeak-ng, resampling) and database work run
// on a BlockingExecutor of its own, so that a burst of prompt saves, each up to seconds of work,
// queues behind itself and never delays the dial plan's requests.
class PromptsService final : public v1::Prompts::CallbackService {
 public:
  PromptsService(PromptStore& store, int workers, log::Logger log)
      : store_(store), log_(std::move(log)), executor_(workers) {}

  grpc::ServerUnaryReactor* PutPrompt(grpc::CallbackServerContext* context, const v1::PutPromptRequest* request,
                                      v1::Prompt* response) override;
  grpc::ServerUnaryReactor* GetPrompt(grpc::CallbackServerContext* context, const v1::GetPromptRequest* request,
                                      v1::Prompt* response) override;
  grpc::ServerUnaryReactor* ListPrompts(grpc::CallbackServerContext* context,
                                        const v1::ListPromptsRequest* request,
                                        v1::ListPromptsResponse* response) override;
  grpc::ServerUnaryReactor* DeletePrompt(grpc::CallbackServerContext* context, const v1::GetPromptRequest* request,
                                         v1::DeletePromptResponse* response) override;
  grpc::ServerUnaryReactor* GetPromptAudio(grpc::CallbackServerContext* context,
                                           const v1::GetPromptRequest* request,
                                           v1::PromptAudio* response) override;

 private:
  PromptStore& store_;
  log::Logger log_;
  grpc_util::BlockingExecutor executor_;
};

}  // namespace tel::routing
