#pragma once

#include "live_queues.h"
#include "queue_store.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"
#include "tel/queue/v1/queues.grpc.pb.h"

namespace tel::queue {

// tel.queue.v1.Queues for the gateway: settings in Postgres, states and the wallboard from Redis.
// Database and Redis work runs on a BlockingExecutor.
class QueuesService final : public v1::Queues::CallbackService {
 public:
  QueuesService(QueueStore& store, LiveQueues& live, int workers, log::Logger log)
      : store_(store), live_(live), log_(std::move(log)), executor_(workers) {}

  grpc::ServerUnaryReactor* CreateQueue(grpc::CallbackServerContext* context, const v1::CreateQueueRequest* request,
                                        v1::Queue* response) override;
  grpc::ServerUnaryReactor* UpdateQueue(grpc::CallbackServerContext* context, const v1::UpdateQueueRequest* request,
                                        v1::Queue* response) override;
  grpc::ServerUnaryReactor* GetQueue(grpc::CallbackServerContext* context, const v1::QueueRef* request,
                                     v1::Queue* response) override;
  grpc::ServerUnaryReactor* ListQueues(grpc::CallbackServerContext* context, const v1::ListQueuesRequest* request,
                                       v1::ListQueuesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteQueue(grpc::CallbackServerContext* context, const v1::QueueRef* request,
                                        v1::DeleteQueueResponse* response) override;
  grpc::ServerUnaryReactor* SetAgentState(grpc::CallbackServerContext* context,
                                          const v1::SetAgentStateRequest* request, v1::Agent* response) override;
  grpc::ServerUnaryReactor* ListAgents(grpc::CallbackServerContext* context, const v1::ListAgentsRequest* request,
                                       v1::ListAgentsResponse* response) override;
  grpc::ServerUnaryReactor* GetWallboard(grpc::CallbackServerContext* context, const v1::QueueRef* request,
                                         v1::Wallboard* response) override;

 private:
  QueueStore& store_;
  LiveQueues& live_;
  log::Logger log_;
  grpc_util::BlockingExecutor executor_;
};

}  // namespace tel::queue
