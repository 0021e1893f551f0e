// Voice prompts: /v1/prompts (the tenant's prompts), /v1/prompts/{name} (made from text with a
// voice, or uploaded as a WAV file; read; deleted) and /v1/prompts/{name}/audio (the stored 8 kHz
// WAV file), from the routing service, which renders and stores them.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "gateway_forward.h"
#include "json_request.h"

namespace tel::gateway {
namespace {

using google::protobuf::util::TimeUtil;
using nlohmann::json;
namespace routing_v1 = ::tel::routing::v1;
using Stub = routing_v1::Prompts::StubInterface;

const auto noBody = [](const auto&) { return json(); };

bool isJsonBody(const httplib::Request& request) {
  return request.get_header_value("Content-Type").rfind("application/json", 0) == 0;
}

// Rendering runs espeak-ng for up to 10 s and resamples; the backend timeout (5 s by default)
// suits lookups, not that.
constexpr std::chrono::seconds kRenderTimeout{30};

json promptJson(const routing_v1::Prompt& prompt) {
  const bool text = prompt.source() == "text";
  return {{"name", prompt.name()},
          {"source", prompt.source()},
          {"text", text ? json(prompt.text()) : json(nullptr)},
          {"voice", text ? json(prompt.voice()) : json(nullptr)},
          {"duration_ms", prompt.duration_ms()},
          {"bytes", prompt.bytes()},
          {"sha256", prompt.sha256()},
          {"audio_url", "/v1/prompts/" + prompt.name() + "/audio"},
          {"created_at", TimeUtil::ToString(prompt.created_at())},
          {"updated_at", TimeUtil::ToString(prompt.updated_at())}};
}

constexpr const char* kOne = R"(/v1/prompts/([^/]+))";
constexpr const char* kAudio = R"(/v1/prompts/([^/]+)/audio)";

}  // namespace

void GatewayServer::registerPromptRoutes() {
  route("GET", "/v1/prompts", "/v1/prompts", Access::kTenant, [this](Call& call) {
    routing_v1::ListPromptsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *prompts_, &Stub::ListPrompts, request, 200, [](const routing_v1::ListPromptsResponse& reply) {
      json items = json::array();
      for (const auto& prompt : reply.prompts()) items.push_back(promptJson(prompt));
      return json{{"items", items}};
    });
  });
  route(
      "PUT", kOne, "/v1/prompts/{name}", Access::kTenant,
      [this](Call& call) {
        routing_v1::PutPromptRequest request;
        request.set_tenant_id(call.principal.tenant_id);
        // The routing service checks the name and the content, naming the field at fault.
        request.set_name(call.request.matches[1]);
        if (isJsonBody(call.request)) {
          JsonRequest body = JsonRequest::parse(call.request.body,
                                                {{"text", FieldType::kString, true}, {"voice", FieldType::kString}});
          if (!body.ok()) return writeError(call.response, *body.error);
          request.mutable_text()->set_text(*body.string("text"));
          request.mutable_text()->set_voice(body.string("voice").value_or(""));
        } else {
          request.set_wav(call.request.body);  // serve() let only audio/wav through besides JSON
        }
        routing_v1::Prompt reply;
        auto context = backendContext();
        context->set_deadline(std::chrono::system_clock::now() +
                              std::max<std::chrono::milliseconds>(options_.backend_timeout, kRenderTimeout));
        const grpc::Status status = prompts_->PutPrompt(context.get(), request, &reply);
        if (!status.ok()) return writeError(call.response, fromGrpc(status));
        writeJson(call.response, 200, promptJson(reply));
      },
      Body::kJsonOrWav);
  route("GET", kOne, "/v1/prompts/{name}", Access::kTenant, [this](Call& call) {
    routing_v1::GetPromptRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_name(call.request.matches[1]);
    forwardTo(call, *prompts_, &Stub::GetPrompt, request, 200, promptJson);
  });
  route("DELETE", kOne, "/v1/prompts/{name}", Access::kTenant, [this](Call& call) {
    routing_v1::GetPromptRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_name(call.request.matches[1]);
    forwardTo(call, *prompts_, &Stub::DeletePrompt, request, 204, noBody);
  });
  route("GET", kAudio, "/v1/prompts/{name}/audio", Access::kTenant, [this](Call& call) {
    routing_v1::GetPromptRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_name(call.request.matches[1]);
    routing_v1::PromptAudio reply;
    auto context = backendContext();
    const grpc::Status status = prompts_->GetPromptAudio(context.get(), request, &reply);
    if (!status.ok()) return writeError(call.response, fromGrpc(status));
    call.response.status = 200;
    // The file changes only when the prompt is saved again: its digest is a strong validator.
    call.response.set_header("ETag", "\"" + reply.sha256() + "\"");
    call.response.set_content(reply.wav(), "audio/wav");
  });
}

}  // namespace tel::gateway
