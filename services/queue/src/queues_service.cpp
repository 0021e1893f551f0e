#include "queues_service.h"

#include <chrono>
#include <set>

#include "tel/grpc/run_logged.h"
#include "tel/grpc/status.h"

namespace tel::queue {

using grpc_util::runLogged;

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

grpc::Status fromAbsl(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace

grpc::ServerUnaryReactor* QueuesService::CreateQueue(grpc::CallbackServerContext* context,
                                                     const v1::CreateQueueRequest* request, v1::Queue* response) {
  return runLogged(executor_, log_, context, "CreateQueue", [=, this] {
    auto status = store_.create(request->tenant_id(), request->settings(), response);
    if (status.ok()) log_.info("queue created", {{"tenant_id", request->tenant_id()}, {"queue_id", response->id()}});
    return status;
  });
}

grpc::ServerUnaryReactor* QueuesService::UpdateQueue(grpc::CallbackServerContext* context,
                                                     const v1::UpdateQueueRequest* request, v1::Queue* response) {
  return runLogged(executor_, log_, context, "UpdateQueue", [=, this] {
    return store_.update(request->tenant_id(), request->id(), request->settings(), response);
  });
}

grpc::ServerUnaryReactor* QueuesService::GetQueue(grpc::CallbackServerContext* context, const v1::QueueRef* request,
                                                  v1::Queue* response) {
  return runLogged(executor_, log_, context, "GetQueue",
                   [=, this] { return store_.get(request->tenant_id(), request->id(), response); });
}

grpc::ServerUnaryReactor* QueuesService::ListQueues(grpc::CallbackServerContext* context,
                                                    const v1::ListQueuesRequest* request,
                                                    v1::ListQueuesResponse* response) {
  return runLogged(executor_, log_, context, "ListQueues",
                   [=, this] { return store_.list(request->tenant_id(), response); });
}

grpc::ServerUnaryReactor* QueuesService::DeleteQueue(grpc::CallbackServerContext* context,
                                                     const v1::QueueRef* request, v1::DeleteQueueResponse*) {
  return runLogged(executor_, log_, context, "DeleteQueue",
                   [=, this] { return store_.remove(request->tenant_id(), request->id()); });
}

grpc::ServerUnaryReactor* QueuesService::SetAgentState(grpc::CallbackServerContext* context,
                                                       const v1::SetAgentStateRequest* request, v1::Agent* response) {
  return runLogged(executor_, log_, context, "SetAgentState", [=, this] {
    static const std::set<std::string> kStates{"available", "paused", "logged_out"};
    if (!kStates.count(request->state())) {
      return grpc_util::invalidArgument("state", "one of available, paused, logged_out");
    }
    if (request->reason().size() > 100 || request->reason().find_first_of("\r\n") != std::string::npos) {
      return grpc_util::invalidArgument("reason", "at most 100 characters on one line");
    }
    if (!request->reason().empty() && request->state() != "paused") {
      return grpc_util::invalidArgument("reason", "only a pause has a reason");
    }
    auto status = store_.setAgentState(request->tenant_id(), request->account_id(), request->state(), request->reason());
    if (!status.ok()) return status;
    const int64_t now = nowMs();
    if (auto live = live_.setAgentState(request->tenant_id(), request->account_id(), request->state(),
                                        request->reason(), now);
        !live.ok()) {
      return fromAbsl(absl::UnavailableError(std::string("live state: ") + std::string(live.message())));
    }
    auto agent = live_.agent(request->tenant_id(), request->account_id(), now);
    if (!agent.ok()) return fromAbsl(agent.status());
    *response = *agent;
    log_.info("agent state set", {{"tenant_id", request->tenant_id()},
                                  {"account_id", request->account_id()},
                                  {"state", request->state()}});
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* QueuesService::ListAgents(grpc::CallbackServerContext* context,
                                                    const v1::ListAgentsRequest* request,
                                                    v1::ListAgentsResponse* response) {
  return runLogged(executor_, log_, context, "ListAgents", [=, this] {
    v1::ListQueuesResponse queues;
    if (auto status = store_.list(request->tenant_id(), &queues); !status.ok()) return status;
    std::set<std::string> members;
    for (const auto& queue : queues.queues())
      for (const auto& member : queue.settings().members()) members.insert(member.account_id());
    const int64_t now = nowMs();
    for (const auto& account_id : members) {
      auto agent = live_.agent(request->tenant_id(), account_id, now);
      if (!agent.ok()) return fromAbsl(agent.status());
      *response->add_agents() = *agent;
    }
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* QueuesService::GetWallboard(grpc::CallbackServerContext* context,
                                                      const v1::QueueRef* request, v1::Wallboard* response) {
  return runLogged(executor_, log_, context, "GetWallboard", [=, this] {
    v1::Queue queue;
    if (auto status = store_.get(request->tenant_id(), request->id(), &queue); !status.ok()) return status;
    auto board = live_.wallboard(request->tenant_id(), request->id(), queue.settings(), nowMs());
    if (!board.ok()) return fromAbsl(board.status());
    *response = *board;
    response->set_service_level_seconds(queue.settings().service_level_seconds());
    return grpc::Status::OK;
  });
}

}  // namespace tel::queue
