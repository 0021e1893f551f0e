#include "queue_store.h"

#include <google/protobuf/util/json_util.h>

#include "queue_settings.h"
#include "tel/events/call_events.h"
#include "tel/grpc/status.h"
#include "tel/pg/arrays.h"
#include "tel/pg/rpc_status.h"

namespace tel::queue {
namespace {

constexpr const char* kColumns =
    "id::text, name, settings::text, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')";

std::string settingsJson(const v1::QueueSettings& settings) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(settings, &json, options);
  return json;
}

void queueOf(const pqxx::row& row, const std::string& tenant_id, v1::Queue* out) {
  out->set_id(row[0].c_str());
  out->set_tenant_id(tenant_id);
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  (void)google::protobuf::util::JsonStringToMessage(row[2].c_str(), out->mutable_settings(), options);
  out->mutable_settings()->set_name(row[1].c_str());
  out->set_created_at(row[3].c_str());
  out->set_updated_at(row[4].c_str());
}

grpc::Status checkIds(const std::string& tenant_id, const std::string& id) {
  if (!events::isUuid(tenant_id)) return grpc_util::invalidArgument("tenant_id", "must be a UUID");
  if (!events::isUuid(id)) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such queue");
  return grpc::Status::OK;
}

grpc::Status nameTaken() {
  return grpc::Status(grpc::StatusCode::ALREADY_EXISTS, "name: a queue of that name exists", "name");
}

}  // namespace

grpc::Status QueueStore::checkReferences(pqxx::work& txn, const v1::QueueSettings& settings) {
  std::vector<std::string> ids;
  for (const auto& member : settings.members()) ids.push_back(member.account_id());
  std::set<std::string> known;
  for (const auto& row : txn.exec_params("SELECT id::text FROM sip_accounts WHERE id = ANY($1::uuid[])",
                                         pg::arrayLiteral(ids))) {
    known.insert(row[0].c_str());
  }
  for (int i = 0; i < settings.members_size(); ++i) {
    if (!known.count(settings.members(i).account_id())) {
      return grpc_util::invalidArgument("members[" + std::to_string(i) + "].account_id", "no such SIP account");
    }
  }
  if (!settings.music_prompt().empty() &&
      txn.exec_params("SELECT 1 FROM prompts WHERE name = $1", settings.music_prompt()).empty()) {
    return grpc_util::invalidArgument("music_prompt", "no such prompt");
  }
  return grpc::Status::OK;
}

grpc::Status QueueStore::create(const std::string& tenant_id, v1::QueueSettings settings, v1::Queue* out) {
  if (!events::isUuid(tenant_id)) return grpc_util::invalidArgument("tenant_id", "must be a UUID");
  if (auto invalid = normalizeSettings(settings); !invalid.ok()) {
    return settingsRefusal(invalid);
  }
  return pg::guardedDatabaseWork([&] {
    grpc::Status status = grpc::Status::OK;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      if (status = checkReferences(txn, settings); !status.ok()) return;
      if (!txn.exec_params("SELECT 1 FROM queues WHERE name = $1", settings.name()).empty()) {
        status = nameTaken();
        return;
      }
      auto row = txn.exec_params1(std::string("INSERT INTO queues (tenant_id, name, settings) VALUES ($1, $2, $3::jsonb) "
                                              "RETURNING ") + kColumns,
                                  tenant_id, settings.name(), settingsJson(settings));
      queueOf(row, tenant_id, out);
    });
    return status;
  });
}

grpc::Status QueueStore::update(const std::string& tenant_id, const std::string& id, v1::QueueSettings settings,
                                v1::Queue* out) {
  if (auto bad = checkIds(tenant_id, id); !bad.ok()) return bad;
  if (auto invalid = normalizeSettings(settings); !invalid.ok()) {
    return settingsRefusal(invalid);
  }
  return pg::guardedDatabaseWork([&] {
    grpc::Status status = grpc::Status::OK;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      if (status = checkReferences(txn, settings); !status.ok()) return;
      if (!txn.exec_params("SELECT 1 FROM queues WHERE name = $1 AND id <> $2", settings.name(), id).empty()) {
        status = nameTaken();
        return;
      }
      auto rows = txn.exec_params(std::string("UPDATE queues SET name = $2, settings = $3::jsonb, updated_at = now() "
                                              "WHERE id = $1 RETURNING ") + kColumns,
                                  id, settings.name(), settingsJson(settings));
      if (rows.empty()) {
        status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no such queue");
        return;
      }
      queueOf(rows[0], tenant_id, out);
    });
    if (status.ok()) settings_.put(tenant_id + "/" + id, out->settings());
    return status;
  });
}

grpc::Status QueueStore::get(const std::string& tenant_id, const std::string& id, v1::Queue* out) {
  if (auto bad = checkIds(tenant_id, id); !bad.ok()) return bad;
  return pg::guardedDatabaseWork([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec_params(std::string("SELECT ") + kColumns + " FROM queues WHERE id = $1", id);
      if ((found = !rows.empty())) queueOf(rows[0], tenant_id, out);
    });
    return found ? grpc::Status::OK : grpc::Status(grpc::StatusCode::NOT_FOUND, "no such queue");
  });
}

grpc::Status QueueStore::list(const std::string& tenant_id, v1::ListQueuesResponse* out) {
  if (!events::isUuid(tenant_id)) return grpc_util::invalidArgument("tenant_id", "must be a UUID");
  return pg::guardedDatabaseWork([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      for (const auto& row : txn.exec(std::string("SELECT ") + kColumns + " FROM queues ORDER BY name"))
        queueOf(row, tenant_id, out->add_queues());
    });
    return grpc::Status::OK;
  });
}

grpc::Status QueueStore::remove(const std::string& tenant_id, const std::string& id) {
  if (auto bad = checkIds(tenant_id, id); !bad.ok()) return bad;
  return pg::guardedDatabaseWork([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      found = !txn.exec_params("DELETE FROM queues WHERE id = $1 RETURNING 1", id).empty();
    });
    return found ? grpc::Status::OK : grpc::Status(grpc::StatusCode::NOT_FOUND, "no such queue");
  });
}

grpc::Status QueueStore::setAgentState(const std::string& tenant_id, const std::string& account_id,
                                       const std::string& state, const std::string& reason) {
  if (!events::isUuid(tenant_id)) return grpc_util::invalidArgument("tenant_id", "must be a UUID");
  if (!events::isUuid(account_id)) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such SIP account");
  return pg::guardedDatabaseWork([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      // The account must be visible to the tenant (row-level security hides another's).
      if (txn.exec_params("SELECT 1 FROM sip_accounts WHERE id = $1", account_id).empty()) return;
      found = true;
      txn.exec_params(
          "INSERT INTO queue_agents (tenant_id, account_id, state, reason) VALUES ($1, $2, $3, $4) "
          "ON CONFLICT (tenant_id, account_id) DO UPDATE SET state = $3, reason = $4, changed_at = now()",
          tenant_id, account_id, state, reason);
    });
    return found ? grpc::Status::OK : grpc::Status(grpc::StatusCode::NOT_FOUND, "no such SIP account");
  });
}

grpc::Status QueueStore::agentStates(const std::string& tenant_id, std::vector<std::array<std::string, 3>>* out) {
  return pg::guardedDatabaseWork([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      for (const auto& row : txn.exec("SELECT account_id::text, state, reason FROM queue_agents"))
        out->push_back({row[0].c_str(), row[1].c_str(), row[2].c_str()});
    });
    return grpc::Status::OK;
  });
}

absl::StatusOr<v1::QueueSettings> QueueStore::settingsFor(const std::string& tenant_id, const std::string& id) {
  const std::string key = tenant_id + "/" + id;
  if (auto cached = settings_.get(key)) return *cached;
  v1::Queue queue;
  const grpc::Status status = get(tenant_id, id, &queue);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND || status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
    return absl::NotFoundError("no such queue");
  if (!status.ok()) return absl::UnavailableError(status.error_message());
  settings_.put(key, queue.settings());
  return queue.settings();
}

}  // namespace tel::queue
