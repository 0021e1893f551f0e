#include "prompt_store.h"

#include <google/protobuf/util/time_util.h>

#include <stdexcept>

#include "tel/crypto/crypto.h"
#include "tel/events/call_events.h"
#include "tel/grpc/status.h"
#include "tel/pg/rpc_status.h"

namespace tel::routing {
namespace {

using google::protobuf::util::TimeUtil;

constexpr const char* kColumns =
    "name, source, text, voice, duration_ms, bytes, sha256, "
    "(extract(epoch FROM created_at) * 1000000)::bigint, (extract(epoch FROM updated_at) * 1000000)::bigint";

// Thrown inside a transaction to roll it back when the file cannot be written or removed.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

void fill(const pqxx::row& row, v1::Prompt* out) {
  out->set_name(row[0].as<std::string>());
  out->set_source(row[1].as<std::string>());
  out->set_text(row[2].is_null() ? "" : row[2].as<std::string>());
  out->set_voice(row[3].is_null() ? "" : row[3].as<std::string>());
  out->set_duration_ms(row[4].as<int64_t>());
  out->set_bytes(row[5].as<int64_t>());
  out->set_sha256(row[6].as<std::string>());
  *out->mutable_created_at() = TimeUtil::MicrosecondsToTimestamp(row[7].as<int64_t>());
  *out->mutable_updated_at() = TimeUtil::MicrosecondsToTimestamp(row[8].as<int64_t>());
}

grpc::Status checkTenant(const std::string& tenant_id) {
  if (!events::isUuid(tenant_id)) return grpc_util::invalidArgument("tenant_id", "must be a UUID");
  return grpc::Status::OK;
}

// The tenant and the prompt's name of a request; the name checked before it is used in a path.
grpc::Status checkKey(const std::string& tenant_id, const std::string& name) {
  if (auto status = checkTenant(tenant_id); !status.ok()) return status;
  if (!validPromptName(name)) {
    return grpc_util::invalidArgument("name", "1 to 64 of a-z, 0-9, '_' and '-', starting with a letter or a digit");
  }
  return grpc::Status::OK;
}

grpc::Status promptNotFound(const std::string& name) { return grpc_util::notFound("prompt " + name); }

}  // namespace

PromptStore::PromptStore(std::shared_ptr<pg::ConnectionPool> pool, PromptFiles files, SpeechRenderer& speech,
                         log::Logger log)
    : pool_(std::move(pool)), files_(std::move(files)), speech_(speech), log_(std::move(log)) {}

absl::StatusOr<bool> PromptStore::exists(const std::string& tenant_id, const std::string& name) {
  if (!events::isUuid(tenant_id)) return absl::InvalidArgumentError("tenant_id must be a UUID");
  if (!validPromptName(name)) return false;
  try {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      found = !txn.exec_params("SELECT 1 FROM prompts WHERE tenant_id = $1 AND name = $2", tenant_id, name).empty();
    });
    return found;
  } catch (const std::exception& e) {
    return absl::UnavailableError(std::string("prompt catalog: ") + e.what());
  }
}

grpc::Status PromptStore::put(const v1::PutPromptRequest& request, v1::Prompt* out) {
  const std::string& tenant_id = request.tenant_id();
  const std::string& name = request.name();
  if (auto status = checkKey(tenant_id, name); !status.ok()) return status;
  RenderedPrompt rendered;
  if (auto status = renderPrompt(request, speech_, &rendered); !status.ok()) return status;
  const std::string sha256 = crypto::sha256Hex(rendered.wav);
  return pg::guardedDatabaseWork([&] {
    grpc::Status status = grpc::Status::OK;
    try {
      pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
        if (txn.exec_params("SELECT 1 FROM tenants WHERE id = $1", tenant_id).empty()) {
          status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no such tenant");
          return;
        }
        const auto row = txn.exec_params1(
            std::string("INSERT INTO prompts (tenant_id, name, source, text, voice, duration_ms, bytes, sha256) "
                        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                        "ON CONFLICT (tenant_id, name) DO UPDATE SET source = EXCLUDED.source, "
                        "  text = EXCLUDED.text, voice = EXCLUDED.voice, duration_ms = EXCLUDED.duration_ms, "
                        "  bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, updated_at = now() "
                        "RETURNING ") + kColumns,
            tenant_id, name, rendered.source, rendered.text, rendered.voice, rendered.duration_ms,
            static_cast<int64_t>(rendered.wav.size()), sha256);
        // Under the row's lock: a concurrent save of this prompt waits here until we commit.
        if (auto written = files_.write(tenant_id, name, rendered.wav); !written.ok()) {
          throw FileError(std::string(written.message()));
        }
        fill(row, out);
      });
    } catch (const FileError& e) {
      log_.error("prompt file not written", {{"tenant_id", tenant_id}, {"prompt", name}, {"error", e.what()}});
      return grpc::Status(grpc::StatusCode::INTERNAL, "the prompt's audio could not be stored");
    }
    if (status.ok()) {
      log_.info("prompt saved", {{"tenant_id", tenant_id},
                                 {"prompt", name},
                                 {"source", rendered.source},
                                 {"duration_ms", std::to_string(rendered.duration_ms)},
                                 {"bytes", std::to_string(rendered.wav.size())}});
    }
    return status;
  });
}

grpc::Status PromptStore::get(const v1::GetPromptRequest& request, v1::Prompt* out) {
  if (auto status = checkKey(request.tenant_id(), request.name()); !status.ok()) return status;
  return pg::guardedDatabaseWork([&] {
    bool found = false;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      const auto rows = txn.exec_params(std::string("SELECT ") + kColumns +
                                            " FROM prompts WHERE tenant_id = $1 AND name = $2",
                                        request.tenant_id(), request.name());
      found = !rows.empty();
      if (found) fill(rows[0], out);
    });
    return found ? grpc::Status::OK : promptNotFound(request.name());
  });
}

grpc::Status PromptStore::list(const v1::ListPromptsRequest& request, v1::ListPromptsResponse* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  return pg::guardedDatabaseWork([&] {
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      out->clear_prompts();  // a retried transaction starts over
      for (const auto& row : txn.exec_params(std::string("SELECT ") + kColumns +
                                                 " FROM prompts WHERE tenant_id = $1 ORDER BY name",
                                             request.tenant_id())) {
        fill(row, out->add_prompts());
      }
    });
    return grpc::Status::OK;
  });
}

grpc::Status PromptStore::remove(const v1::GetPromptRequest& request) {
  const std::string& tenant_id = request.tenant_id();
  const std::string& name = request.name();
  if (auto status = checkKey(tenant_id, name); !status.ok()) return status;
  return pg::guardedDatabaseWork([&] {
    bool found = false;
    try {
      pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
        found = !txn.exec_params("DELETE FROM prompts WHERE tenant_id = $1 AND name = $2 RETURNING 1", tenant_id,
                                 name)
                     .empty();
        // Also without a row: a file left by a save whose commit failed goes with it.
        if (auto removed = files_.remove(tenant_id, name); !removed.ok()) {
          throw FileError(std::string(removed.message()));
        }
      });
    } catch (const FileError& e) {
      log_.error("prompt file not removed", {{"tenant_id", tenant_id}, {"prompt", name}, {"error", e.what()}});
      return grpc::Status(grpc::StatusCode::INTERNAL, "the prompt's audio could not be removed");
    }
    if (!found) return promptNotFound(name);
    log_.info("prompt deleted", {{"tenant_id", tenant_id}, {"prompt", name}});
    return grpc::Status::OK;
  });
}

grpc::Status PromptStore::audio(const v1::GetPromptRequest& request, v1::PromptAudio* out) {
  const std::string& tenant_id = request.tenant_id();
  const std::string& name = request.name();
  if (auto status = checkKey(tenant_id, name); !status.ok()) return status;
  // The catalog decides what exists: a file without its row is not a prompt.
  v1::Prompt prompt;
  if (auto status = get(request, &prompt); !status.ok()) return status;
  auto wav = files_.read(tenant_id, name);
  if (!wav.ok() || crypto::sha256Hex(*wav) != prompt.sha256()) {
    log_.error("prompt file missing or not the one the catalog describes",
               {{"tenant_id", tenant_id},
                {"prompt", name},
                {"error", wav.ok() ? "sha256 differs" : std::string(wav.status().message())}});
    return grpc::Status(grpc::StatusCode::DATA_LOSS, "the prompt's audio is missing or damaged; save it again");
  }
  out->set_wav(std::move(*wav));
  out->set_sha256(prompt.sha256());
  return grpc::Status::OK;
}

}  // namespace tel::routing
