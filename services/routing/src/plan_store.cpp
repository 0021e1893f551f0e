#include "plan_store.h"

#include <google/protobuf/util/time_util.h>

#include <set>

#include "tel/events/call_events.h"
#include "tel/grpc/status.h"
#include "tel/pg/rpc_status.h"

namespace tel::routing {
namespace {

using google::protobuf::util::TimeUtil;

// A refused plan: the message names the node, schedule or number; the field is the body.
grpc::Status fromAbsl(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      status.code() == absl::StatusCode::kInvalidArgument ? "plan" : "");
}

// The number's own route, for numbers the plan does not name (the quick setup of /v1/numbers).
void describeSimpleRoute(const pqxx::row& number, v1::PreviewStep* step) {
  step->set_type("route");
  const std::string kind = number["route_kind"].as<std::string>();
  step->set_outcome(kind);
  if (kind == "none") {
    step->set_detail("the number has no route: callers hear 480");
    return;
  }
  auto* ring = step->add_steps();
  ring->set_ring_seconds(number["ring_timeout_seconds"].as<uint32_t>());
  if (kind == "extensions") {
    auto parser = number["route_extensions"].as_array();
    for (auto item = parser.get_next(); item.first != pqxx::array_parser::done; item = parser.get_next()) {
      if (item.first == pqxx::array_parser::string_value) ring->add_targets("extension " + item.second);
    }
  } else {
    ring->add_targets("external " + number["route_external"].as<std::string>());
  }
}

}  // namespace

PlanStore::PlanStore(std::shared_ptr<pg::ConnectionPool> pool, std::chrono::milliseconds cache_ttl)
    : pool_(std::move(pool)), cache_(cache_ttl, 10000) {}

PlanStore::Stored PlanStore::loadInTransaction(pqxx::work& txn, const std::string& tenant_id) {
  Stored stored;
  const auto tenant = txn.exec_params("SELECT timezone FROM tenants WHERE id = $1", tenant_id);
  stored.time_zone = tenant.empty() ? "UTC" : tenant[0][0].as<std::string>();
  const auto rows = txn.exec_params(
      "SELECT version, document::text, (extract(epoch FROM updated_at) * 1000000)::bigint "
      "FROM dial_plans WHERE tenant_id = $1",
      tenant_id);
  if (rows.empty()) return stored;
  // A stored plan was checked when saved; loading it again skips only the existence of extensions
  // and numbers, which may have been deleted since (a call skips a deleted extension).
  auto plan = parseDialPlan(rows[0][1].as<std::string>(), stored.time_zone, nullptr);
  if (!plan.ok()) throw std::runtime_error("stored dial plan does not parse: " + std::string(plan.status().message()));
  auto versioned = std::make_shared<DialPlan>(**plan);
  versioned->version = rows[0][0].as<int64_t>();
  stored.plan = std::move(versioned);
  stored.updated_at_micros = rows[0][2].as<int64_t>();
  return stored;
}

absl::StatusOr<std::shared_ptr<const DialPlan>> PlanStore::plan(const std::string& tenant_id) {
  if (auto cached = cache_.get(tenant_id)) return *cached;
  try {
    Stored stored;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) { stored = loadInTransaction(txn, tenant_id); });
    cache_.put(tenant_id, stored.plan);
    return stored.plan;
  } catch (const std::exception& e) {
    return absl::UnavailableError(std::string("dial plan: ") + e.what());
  }
}

grpc::Status PlanStore::get(const std::string& tenant_id, v1::DialPlan* out) {
  if (!events::isUuid(tenant_id)) return grpc_util::invalidArgument("tenant_id", "must be a UUID");
  return pg::guardedDatabaseWork([&] {
    Stored stored;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) { stored = loadInTransaction(txn, tenant_id); });
    out->set_version(stored.plan ? stored.plan->version : 0);
    out->set_document_json(stored.plan ? stored.plan->document : "{}");
    if (stored.updated_at_micros) *out->mutable_updated_at() = TimeUtil::MicrosecondsToTimestamp(*stored.updated_at_micros);
    return grpc::Status::OK;
  });
}

grpc::Status PlanStore::put(const v1::PutDialPlanRequest& request, v1::DialPlan* out) {
  if (!events::isUuid(request.tenant_id())) return grpc_util::invalidArgument("tenant_id", "must be a UUID");
  if (request.document_json().size() > 1024 * 1024) return grpc_util::invalidArgument("plan", "larger than 1 MiB");
  return pg::guardedDatabaseWork([&] {
    grpc::Status status = grpc::Status::OK;
    std::shared_ptr<DialPlan> saved;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      // The row lock orders concurrent saves: each checks expected_version against the last one.
      const auto current =
          txn.exec_params("SELECT version FROM dial_plans WHERE tenant_id = $1 FOR UPDATE", request.tenant_id());
      const int64_t current_version = current.empty() ? 0 : current[0][0].as<int64_t>();
      if (request.has_expected_version() && request.expected_version() != current_version) {
        status = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                              "the plan is at version " + std::to_string(current_version) + ", not " +
                                  std::to_string(request.expected_version()));
        return;
      }
      PlanFacts facts;
      for (const auto& row : txn.exec("SELECT extension FROM sip_accounts")) facts.extensions.insert(row[0].c_str());
      for (const auto& row : txn.exec("SELECT e164 FROM numbers")) facts.numbers.insert(row[0].c_str());
      // Locked until the plan is saved, so that no prompt it names is deleted meanwhile.
      std::set<std::string> prompts;
      for (const auto& row : txn.exec("SELECT name FROM prompts FOR SHARE")) prompts.insert(row[0].c_str());
      facts.prompt_exists = [&prompts](const std::string& name) { return prompts.count(name) > 0; };
      const auto tenant = txn.exec_params("SELECT timezone FROM tenants WHERE id = $1", request.tenant_id());
      if (tenant.empty()) {
        status = grpc::Status(grpc::StatusCode::NOT_FOUND, "no such tenant");
        return;
      }
      auto parsed = parseDialPlan(request.document_json(), tenant[0][0].as<std::string>(), &facts);
      if (!parsed.ok()) {
        status = fromAbsl(parsed.status());
        return;
      }
      saved = std::make_shared<DialPlan>(**parsed);
      const auto row = txn.exec_params(
          "INSERT INTO dial_plans (tenant_id, version, document) VALUES ($1, 1, $2::jsonb) "
          "ON CONFLICT (tenant_id) DO UPDATE SET version = dial_plans.version + 1, "
          "  document = EXCLUDED.document, updated_at = now() "
          "RETURNING version, (extract(epoch FROM updated_at) * 1000000)::bigint",
          request.tenant_id(), saved->document);
      saved->version = row[0][0].as<int64_t>();
      out->set_version(saved->version);
      out->set_document_json(saved->document);
      *out->mutable_updated_at() = TimeUtil::MicrosecondsToTimestamp(row[0][1].as<int64_t>());
    });
    // Calls that start from now on at this instance follow the new version.
    if (saved) cache_.put(request.tenant_id(), std::shared_ptr<const DialPlan>(saved));
    return status;
  });
}

grpc::Status PlanStore::preview(const v1::PreviewCallRequest& request, absl::Time now, v1::CallPreview* out) {
  if (!events::isUuid(request.tenant_id())) return grpc_util::invalidArgument("tenant_id", "must be a UUID");
  const absl::Time at =
      request.has_at() ? absl::FromUnixMicros(TimeUtil::TimestampToMicroseconds(request.at())) : now;
  return pg::guardedDatabaseWork([&] {
    grpc::Status status = grpc::Status::OK;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      const auto number = txn.exec_params(
          "SELECT route_kind, route_extensions, route_external, ring_timeout_seconds FROM numbers WHERE e164 = $1",
          request.number());
      if (number.empty()) {
        status = grpc_util::notFound("number " + request.number());
        return;
      }
      const Stored stored = loadInTransaction(txn, request.tenant_id());
      out->set_plan_version(stored.plan ? stored.plan->version : 0);
      out->set_time_zone(stored.time_zone);
      *out->mutable_at() = TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(at));
      const auto entry = stored.plan ? stored.plan->numbers.find(request.number())
                                     : std::map<std::string, std::string>::const_iterator{};
      if (!stored.plan || entry == stored.plan->numbers.end()) {
        describeSimpleRoute(number[0], out->add_path());
        return;
      }
      std::vector<v1::PreviewStep> path;
      auto walked = walkPlan(*stored.plan, entry->second, at, &path);
      if (!walked.ok()) {
        status = fromAbsl(walked.status());
        return;
      }
      for (auto& step : path) *out->add_path() = std::move(step);
    });
    return status;
  });
}

}  // namespace tel::routing
