// GET /v1/calls and /v1/calls/{id}: the call log, from cdr-ingest's CallLog service;
// /v1/calls/{id}/recording, the call's recording from the recordings store; and /v1/voicemails,
// the calls that left a voicemail message.
#include <google/protobuf/util/time_util.h>

#include <array>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "csv.h"
#include "gateway_forward.h"
#include "json_request.h"
#include "tel/events/call_record_json.h"

namespace tel::gateway {
namespace {

// Streams a recording file in chunks (an hour of call is about 115 MB): the HTTP library asks for
// each range as it sends it, which also answers Range requests (seeking in a player).
void serveRecording(httplib::Response& response, const std::string& path) {
  auto file = std::make_shared<std::ifstream>(path, std::ios::binary);
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (!*file || error) return writeError(response, ApiError::notFound("the recording's file is gone"));
  response.status = 200;
  response.set_header("Content-Disposition", "inline; filename=\"recording.wav\"");
  response.set_content_provider(
      static_cast<size_t>(size), "audio/wav",
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        std::array<char, 64 * 1024> chunk{};
        file->clear();
        file->seekg(static_cast<std::streamoff>(offset));
        while (length > 0) {
          file->read(chunk.data(), static_cast<std::streamsize>(std::min(length, chunk.size())));
          const auto got = static_cast<size_t>(file->gcount());
          if (got == 0 || !sink.write(chunk.data(), got)) return false;
          length -= got;
        }
        return true;
      });
}


using nlohmann::json;
namespace calls_v1 = ::tel::calls::v1;

template <typename Enum>
std::optional<Enum> enumValue(const std::string& text, const google::protobuf::EnumDescriptor* descriptor,
                              const std::string& prefix) {
  std::string name = prefix;
  for (char c : text) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const auto* entry = descriptor->FindValueByName(name);
  if (entry == nullptr || entry->number() == 0) return std::nullopt;
  return static_cast<Enum>(entry->number());
}

// Fills the filters of the request from the query string; an error names the parameter.
std::optional<ApiError> readCallFilters(const httplib::Request& request,
                                        calls_v1::ListCallsRequest* out) {
  for (const char* name : {"from", "to"}) {
    if (!request.has_param(name)) continue;
    google::protobuf::Timestamp value;
    if (!google::protobuf::util::TimeUtil::FromString(request.get_param_value(name), &value)) {
      return ApiError::invalid(name, std::string(name) + ": must be an RFC 3339 time, e.g. 2026-11-27T00:00:00Z");
    }
    *(std::string(name) == "from" ? out->mutable_from() : out->mutable_to()) = value;
  }
  if (request.has_param("direction")) {
    auto value = enumValue<calls_v1::Direction>(request.get_param_value("direction"),
                                                calls_v1::Direction_descriptor(), "DIRECTION_");
    if (!value) return ApiError::invalid("direction", "direction: one of inbound, outbound, internal");
    out->set_direction(*value);
  }
  if (request.has_param("disposition")) {
    auto value = enumValue<calls_v1::Disposition>(request.get_param_value("disposition"),
                                                  calls_v1::Disposition_descriptor(), "DISPOSITION_");
    if (!value) {
      return ApiError::invalid("disposition", "disposition: one of answered, busy, no_answer, failed, cancelled");
    }
    out->set_disposition(*value);
  }
  for (const char* name : {"number", "extension"}) {
    if (!request.has_param(name)) continue;
    const std::string value = request.get_param_value(name);
    if (value.empty() || value.size() > 64) return ApiError::invalid(name, std::string(name) + ": 1 to 64 characters");
    std::string(name) == "number" ? out->set_number(value) : out->set_extension(value);
  }
  if (request.has_param("limit")) {
    const std::string text = request.get_param_value("limit");
    int limit = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 200) {
      return ApiError::invalid("limit", "limit: must be an integer from 1 to 200");
    }
    out->set_limit(limit);
  }
  if (request.has_param("page_token")) out->set_page_token(request.get_param_value("page_token"));
  return std::nullopt;
}

// The call log's CSV export: these columns, newest call first, at most kMaxCsvCalls rows.
constexpr size_t kMaxCsvCalls = 10000;
const char* kCsvColumns[] = {"id", "started_at", "answered_at", "ended_at", "direction", "caller",
                             "called", "disposition", "ring_seconds", "talk_seconds", "answered_by",
                             "hangup_side", "sip_status", "cause"};
const char* kCsvSourceColumns[] = {"utm_source", "utm_medium", "utm_campaign", "utm_term"};

void appendCsvRow(const json& call, std::string* out) {
  auto field = [](const json& value) {
    if (value.is_null()) return std::string();
    if (value.is_string()) return csvField(value.get<std::string>());
    return value.dump();
  };
  std::string line;
  for (const char* name : kCsvColumns) line += (line.empty() ? "" : ",") + field(call[name]);
  for (const char* name : kCsvSourceColumns) {
    line += "," + field(call["source"].is_null() ? json() : call["source"][name]);
  }
  *out += line + "\r\n";
}

}  // namespace

void GatewayServer::registerCallLogRoutes() {
  route("GET", "/v1/calls", "/v1/calls", Access::kTenant, [this](Call& call) {
    calls_v1::ListCallsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    if (auto error = readCallFilters(call.request, &request)) return writeError(call.response, *error);
    const std::string format = call.request.has_param("format") ? call.request.get_param_value("format") : "json";
    if (format != "json" && format != "csv") {
      return writeError(call.response, ApiError::invalid("format", "format: json or csv"));
    }
    if (format == "csv") {
      // Every page the filters select, from page_token on, up to kMaxCsvCalls calls; more are
      // cut and the answer says so (X-Tel-Truncated), so that the client narrows the period.
      std::string csv;
      for (const char* name : kCsvColumns) csv += (csv.empty() ? "" : ",") + std::string(name);
      for (const char* name : kCsvSourceColumns) csv += "," + std::string(name);
      csv += "\r\n";
      request.set_limit(200);
      size_t rows = 0;
      bool truncated = false;
      while (true) {
        calls_v1::ListCallsResponse page;
        auto context = backendContext();
        const grpc::Status status = call_log_->ListCalls(context.get(), request, &page);
        if (!status.ok()) return writeError(call.response, fromGrpc(status));
        for (const auto& item : page.calls()) {
          if (rows == kMaxCsvCalls) {
            truncated = true;
            break;
          }
          appendCsvRow(tel::events::callRecordJson(item, false), &csv);
          ++rows;
        }
        if (truncated || page.next_page_token().empty()) break;
        request.set_page_token(page.next_page_token());
      }
      call.response.status = 200;
      call.response.set_header("Content-Disposition", "attachment; filename=\"calls.csv\"");
      if (truncated) call.response.set_header("X-Tel-Truncated", "true");
      call.response.set_content(csv, kCsvContentType);
      return;
    }
    forwardTo(call, *call_log_, &calls_v1::CallLog::StubInterface::ListCalls, request, 200,
              [](const calls_v1::ListCallsResponse& reply) {
                json page = {{"items", json::array()}, {"next_page_token", reply.next_page_token()}};
                for (const auto& item : reply.calls()) page["items"].push_back(tel::events::callRecordJson(item, false));
                return page;
              });
  });
  route("GET", R"(/v1/calls/([^/]+))", "/v1/calls/{id}", Access::kTenant, [this](Call& call) {
    calls_v1::GetCallRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_call_id(call.request.matches[1]);
    forwardTo(call, *call_log_, &calls_v1::CallLog::StubInterface::GetCall, request, 200,
              [](const calls_v1::CallRecord& record) { return tel::events::callRecordJson(record, true); });
  });
  route("GET", "/v1/voicemails", "/v1/voicemails", Access::kTenant, [this](Call& call) {
    calls_v1::ListCallsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    if (auto error = readCallFilters(call.request, &request)) return writeError(call.response, *error);
    request.set_voicemails(true);
    if (call.request.has_param("box")) {
      const std::string box = call.request.get_param_value("box");
      if (box.empty() || box.size() > 64) return writeError(call.response, ApiError::invalid("box", "box: 1 to 64 characters"));
      request.set_voicemail_box(box);
    }
    if (call.request.has_param("unheard")) {
      const std::string unheard = call.request.get_param_value("unheard");
      if (unheard != "true" && unheard != "false") {
        return writeError(call.response, ApiError::invalid("unheard", "unheard: true or false"));
      }
      request.set_unheard(unheard == "true");
    }
    forwardTo(call, *call_log_, &calls_v1::CallLog::StubInterface::ListCalls, request, 200,
              [](const calls_v1::ListCallsResponse& reply) {
                json page = {{"items", json::array()}, {"next_page_token", reply.next_page_token()}};
                for (const auto& item : reply.calls()) page["items"].push_back(tel::events::callRecordJson(item, false));
                return page;
              });
  });
  route("PATCH", R"(/v1/voicemails/([^/]+))", "/v1/voicemails/{id}", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"heard", FieldType::kBoolean, true}});
    if (!body.ok()) return writeError(call.response, *body.error);
    calls_v1::MarkVoicemailRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_call_id(call.request.matches[1]);
    request.set_heard(*body.boolean("heard"));
    forwardTo(call, *call_log_, &calls_v1::CallLog::StubInterface::MarkVoicemail, request, 200,
              [](const calls_v1::CallRecord& record) { return tel::events::callRecordJson(record, false); });
  });
  route("GET", R"(/v1/calls/([^/]+)/recording)", "/v1/calls/{id}/recording", Access::kTenant,
        [this](Call& call) {
          // The record says whether the call was recorded and where: reading it through the
          // tenant's own call log is what keeps one tenant from another's recordings.
          calls_v1::GetCallRequest request;
          request.set_tenant_id(call.principal.tenant_id);
          request.set_call_id(call.request.matches[1]);
          calls_v1::CallRecord record;
          auto context = backendContext();
          const grpc::Status status = call_log_->GetCall(context.get(), request, &record);
          if (!status.ok()) return writeError(call.response, fromGrpc(status));
          if (!record.has_recording()) return writeError(call.response, ApiError::notFound("the call has no recording"));
          if (record.recording().expired()) {
            return writeError(call.response,
                              ApiError::notFound("the recording was deleted after the tenant's retention period"));
          }
          if (options_.recordings_dir.empty()) {
            return writeError(call.response, ApiError::unavailable("recordings are not served by this gateway (recordings.dir)"));
          }
          serveRecording(call.response, options_.recordings_dir + "/" + record.recording().file());
        });
}

}  // namespace tel::gateway
