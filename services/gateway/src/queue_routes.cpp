// Call queues: /v1/queues (settings), /v1/queues/{id}/wallboard (the line and its agents now) and
// /v1/agents (agents' states), from the queue service.
#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <chrono>
#include <thread>

#include "gateway_forward.h"
#include "json_request.h"

namespace tel::gateway {
namespace {

using nlohmann::json;
namespace queue_v1 = ::tel::queue::v1;
using Stub = queue_v1::Queues::StubInterface;

const auto noBody = [](const auto&) { return json(); };

json queueJson(const queue_v1::Queue& queue) {
  json out = messageJson(queue.settings());
  out["id"] = queue.id();
  out["created_at"] = queue.created_at();
  out["updated_at"] = queue.updated_at();
  return out;
}

json wallboardJson(const queue_v1::Wallboard& board) {
  json out = messageJson(board);
  // Figures a wallboard shows without arithmetic of its own.
  const uint32_t answered = board.answered();
  const uint32_t offered = answered + board.abandoned();
  out["average_wait_seconds"] = answered == 0 ? 0.0 : static_cast<double>(board.total_wait_ms()) / answered / 1000.0;
  out["service_level"] = answered == 0 ? json(nullptr)
                                       : json(static_cast<double>(board.answered_within_service_level()) / answered);
  out["abandon_rate"] = offered == 0 ? json(nullptr) : json(static_cast<double>(board.abandoned()) / offered);
  // Times as numbers (proto JSON renders 64-bit integers as strings), and how long so far.
  for (int i = 0; i < board.callers_size(); ++i) {
    out["callers"][i]["joined_ms"] = board.callers(i).joined_ms();
    out["callers"][i]["waited_seconds"] = (board.now_ms() - board.callers(i).joined_ms()) / 1000;
  }
  for (int i = 0; i < board.agents_size(); ++i) {
    const int64_t since = board.agents(i).since_ms();
    out["agents"][i]["since_ms"] = since;
    out["agents"][i]["seconds_in_state"] = since == 0 ? json(nullptr) : json((board.now_ms() - since) / 1000);
  }
  out["average_abandoned_wait_seconds"] =
      board.abandoned() == 0 ? 0.0 : static_cast<double>(board.abandoned_wait_ms()) / board.abandoned() / 1000.0;
  out["now_ms"] = board.now_ms();
  out["total_wait_ms"] = board.total_wait_ms();
  out["abandoned_wait_ms"] = board.abandoned_wait_ms();
  return out;
}

// One Server-Sent Events stream of a queue's wallboard: the board is read every 250 ms and sent
// as an event `wallboard` whenever it changed (the seconds waited and in state aside, which a
// wallboard counts up itself), a comment every 15 s keeps proxies from closing the connection,
// and the stream ends after 10 minutes (EventSource reconnects) or when the client goes. It holds
// one of the gateway's HTTP threads, so their number is bounded (kMaxWallboardStreams).
struct WallboardStream {
  queue_v1::QueueRef request;
  std::string last;  // the board last sent, without the times that count up
  std::chrono::steady_clock::time_point next_keepalive;
  std::chrono::steady_clock::time_point ends;
};

std::string changingPart(json board) {
  board.erase("now_ms");
  for (auto& caller : board["callers"]) caller.erase("waited_seconds");
  for (auto& agent : board["agents"]) agent.erase("seconds_in_state");
  return board.dump(-1, ' ', false, json::error_handler_t::replace);
}

// A list answer: every item rendered, on one page.
template <typename Items, typename Render>
json listOf(const Items& items, Render render) {
  json rendered = json::array();
  for (const auto& item : items) rendered.push_back(render(item));
  return json{{"items", rendered}, {"next_page_token", ""}};
}

// The queue a route's path names, in the caller's tenant.
queue_v1::QueueRef queueRef(const std::string& tenant_id, const std::string& id) {
  queue_v1::QueueRef ref;
  ref.set_tenant_id(tenant_id);
  ref.set_id(id);
  return ref;
}

json agentJson(const queue_v1::Agent& agent) {
  json out = messageJson(agent);
  out["since_ms"] = agent.since_ms();
  return out;
}

// The body as QueueSettings (the field names of the API); a field it does not have is named.
std::optional<ApiError> parseSettings(const std::string& body, queue_v1::QueueSettings* out) {
  const json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) return ApiError::invalid("body", "a JSON object required");
  for (const auto& [key, value] : parsed.items()) {
    // Named here: protobuf's parser would say only that some field is unknown.
    if (queue_v1::QueueSettings::descriptor()->FindFieldByName(key) == nullptr) {
      return ApiError::invalid(key, "unknown field");
    }
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(body, out, options);
  if (!status.ok()) return ApiError::invalid("body", std::string(status.message()).substr(0, 200));
  return std::nullopt;
}

}  // namespace

bool GatewayServer::takeWallboardStream(const std::string& tenant_id) {
  std::lock_guard lock(wallboard_streams_mutex_);
  int& tenant_streams = wallboard_streams_by_tenant_[tenant_id];
  if (wallboard_streams_ >= kMaxWallboardStreams || tenant_streams >= kMaxWallboardStreamsPerTenant) {
    if (tenant_streams == 0) wallboard_streams_by_tenant_.erase(tenant_id);
    return false;
  }
  ++wallboard_streams_;
  ++tenant_streams;
  return true;
}

void GatewayServer::releaseWallboardStream(const std::string& tenant_id) {
  std::lock_guard lock(wallboard_streams_mutex_);
  --wallboard_streams_;
  if (--wallboard_streams_by_tenant_[tenant_id] <= 0) wallboard_streams_by_tenant_.erase(tenant_id);
}

void GatewayServer::registerQueueRoutes() {
  route("POST", "/v1/queues", "/v1/queues", Access::kTenant, [this](Call& call) {
    queue_v1::CreateQueueRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    if (auto error = parseSettings(call.request.body, request.mutable_settings())) return writeError(call.response, *error);
    forwardTo(call, *queues_, &Stub::CreateQueue, request, 201, queueJson);
  });
  route("GET", "/v1/queues", "/v1/queues", Access::kTenant, [this](Call& call) {
    queue_v1::ListQueuesRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *queues_, &Stub::ListQueues, request, 200,
              [](const queue_v1::ListQueuesResponse& reply) { return listOf(reply.queues(), queueJson); });
  });
  route("GET", R"(/v1/queues/([^/]+))", "/v1/queues/{id}", Access::kTenant, [this](Call& call) {
    const auto request = queueRef(call.principal.tenant_id, call.request.matches[1]);
    forwardTo(call, *queues_, &Stub::GetQueue, request, 200, queueJson);
  });
  route("PUT", R"(/v1/queues/([^/]+))", "/v1/queues/{id}", Access::kTenant, [this](Call& call) {
    queue_v1::UpdateQueueRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    if (auto error = parseSettings(call.request.body, request.mutable_settings())) return writeError(call.response, *error);
    forwardTo(call, *queues_, &Stub::UpdateQueue, request, 200, queueJson);
  });
  route("DELETE", R"(/v1/queues/([^/]+))", "/v1/queues/{id}", Access::kTenant, [this](Call& call) {
    const auto request = queueRef(call.principal.tenant_id, call.request.matches[1]);
    forwardTo(call, *queues_, &Stub::DeleteQueue, request, 204, noBody);
  });
  route("GET", R"(/v1/queues/([^/]+)/wallboard)", "/v1/queues/{id}/wallboard", Access::kTenant, [this](Call& call) {
    const auto request = queueRef(call.principal.tenant_id, call.request.matches[1]);
    forwardTo(call, *queues_, &Stub::GetWallboard, request, 200, wallboardJson);
  });
  route("GET", R"(/v1/queues/([^/]+)/wallboard/stream)", "/v1/queues/{id}/wallboard/stream", Access::kTenant,
        [this](Call& call) {
          auto stream = std::make_shared<WallboardStream>();
          stream->request = queueRef(call.principal.tenant_id, call.request.matches[1]);
          queue_v1::Wallboard first;
          const grpc::Status status = queues_->GetWallboard(backendContext().get(), stream->request, &first);
          if (!status.ok()) return writeError(call.response, fromGrpc(status));
          if (!takeWallboardStream(call.principal.tenant_id)) {
            return writeError(call.response, ApiError::unavailable("too many wallboard streams; try again later"));
          }
          const auto now = std::chrono::steady_clock::now();
          stream->next_keepalive = now + std::chrono::seconds(15);
          stream->ends = now + std::chrono::minutes(10);
          call.response.set_header("Cache-Control", "no-cache");
          call.response.set_header("X-Accel-Buffering", "no");
          call.response.set_chunked_content_provider(
              "text/event-stream",
              [this, stream, first = std::make_shared<queue_v1::Wallboard>(first)](size_t, httplib::DataSink& sink) {
                const auto now = std::chrono::steady_clock::now();
                if (now >= stream->ends) {
                  sink.done();
                  return true;
                }
                queue_v1::Wallboard board;
                if (first->queue_id().empty()) {
                  std::this_thread::sleep_for(std::chrono::milliseconds(250));
                  const grpc::Status read = queues_->GetWallboard(backendContext().get(), stream->request, &board);
                  if (!read.ok()) {
                    const std::string event = "event: error\ndata: " + json{{"message", read.error_message()}}.dump() + "\n\n";
                    sink.write(event.data(), event.size());
                    sink.done();
                    return true;
                  }
                } else {
                  board = std::move(*first);  // the board read when the stream was opened: sent at once
                  first->Clear();
                }
                const json rendered = wallboardJson(board);
                std::string changing = changingPart(rendered);
                if (changing != stream->last) {
                  stream->last = std::move(changing);
                  const std::string event = "event: wallboard\ndata: " +
                                            rendered.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
                  return sink.write(event.data(), event.size());
                }
                if (now >= stream->next_keepalive) {
                  stream->next_keepalive = now + std::chrono::seconds(15);
                  return sink.write(": keepalive\n\n", 13);
                }
                return true;
              },
              [this, tenant_id = call.principal.tenant_id](bool) { releaseWallboardStream(tenant_id); });
        });
  route("GET", "/v1/agents", "/v1/agents", Access::kTenant, [this](Call& call) {
    queue_v1::ListAgentsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *queues_, &Stub::ListAgents, request, 200,
              [](const queue_v1::ListAgentsResponse& reply) { return listOf(reply.agents(), agentJson); });
  });
  route("PUT", R"(/v1/agents/([^/]+)/state)", "/v1/agents/{account_id}/state", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body,
                                          {{"state", FieldType::kString, true}, {"reason", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    // An agent sets only the state of the SIP account its user is linked to.
    if (call.principal.role == "agent" && call.principal.sip_account_id != call.request.matches[1].str()) {
      return writeError(call.response,
                        ApiError::forbidden("a user with the role agent sets only its own SIP account's state"));
    }
    queue_v1::SetAgentStateRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_account_id(call.request.matches[1]);
    request.set_state(*body.string("state"));
    request.set_reason(body.string("reason").value_or(""));
    forwardTo(call, *queues_, &Stub::SetAgentState, request, 200,
              agentJson);
  });
}

}  // namespace tel::gateway
