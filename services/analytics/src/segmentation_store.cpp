#include "segmentation_store.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <regex>

#include "call_codes.h"
#include "database_status.h"
#include "tel/grpc/status.h"
#include "tracking_validation.h"

namespace tel::analytics {
namespace {

using grpc_util::invalidArgument;
using grpc_util::notFound;

constexpr const char* kRuleColumns =
    "id::text, category_id::text, position, direction, number, utm_source, answered,"
    " min_talk_seconds, max_talk_seconds, menu_node, menu_key";

void mapRule(const pqxx::row& row, v1::CategoryRule* out) {
  out->set_id(row[0].as<std::string>());
  out->set_category_id(row[1].as<std::string>());
  out->set_position(row[2].as<int>());
  out->set_direction(nameOfCode(kDirectionNames, row[3].as<int>()));
  out->set_number(row[4].as<std::string>());
  out->set_utm_source(row[5].as<std::string>());
  if (!row[6].is_null()) out->set_answered(row[6].as<bool>());
  if (!row[7].is_null()) out->set_min_talk_seconds(row[7].as<int>());
  if (!row[8].is_null()) out->set_max_talk_seconds(row[8].as<int>());
  out->set_menu(row[9].as<std::string>());
  out->set_menu_key(row[10].as<std::string>());
}

bool categoryExists(pqxx::work& txn, const std::string& id) {
  return isUuid(id) && !txn.exec_params("SELECT 1 FROM call_categories WHERE id = $1", id).empty();
}

}  // namespace

grpc::Status checkCategory(const v1::CreateCategoryRequest& request) {
  if (request.name().empty() || request.name().size() > 100 ||
      std::any_of(request.name().begin(), request.name().end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    return invalidArgument("name", "1 to 100 printable characters");
  }
  if (!std::isfinite(request.value()) || request.value() < 0 || request.value() >= 1e10) {
    return invalidArgument("value", "from 0 to 9,999,999,999.99");
  }
  return grpc::Status::OK;
}

grpc::Status checkRule(const v1::CategoryRule& rule) {
  if (!isUuid(rule.category_id())) return invalidArgument("category_id", "not a category id");
  if (rule.position() < 0 || rule.position() > 100000) return invalidArgument("position", "from 0 to 100000");
  if (codeNamed(kDirectionNames, rule.direction()) < 0) {
    return invalidArgument("direction", "inbound, outbound, internal, or empty for any");
  }
  if (!rule.number().empty() && !isE164(rule.number())) {
    return invalidArgument("number", "an E.164 number such as +15550001000, or empty for any");
  }
  if (rule.utm_source().size() > 256) return invalidArgument("utm_source", "at most 256 bytes");
  if (rule.has_min_talk_seconds() && (rule.min_talk_seconds() < 0 || rule.min_talk_seconds() > 86400)) {
    return invalidArgument("min_talk_seconds", "from 0 to 86400");
  }
  if (rule.has_max_talk_seconds() && (rule.max_talk_seconds() < 0 || rule.max_talk_seconds() > 86400)) {
    return invalidArgument("max_talk_seconds", "from 0 to 86400");
  }
  // The menu's node id as the dial plan spells node ids; the key as routing records it.
  static const std::regex kNode("[A-Za-z0-9_-]{1,64}");
  static const std::regex kKey("[0-9*#]{1,8}");
  if (!rule.menu().empty() && !std::regex_match(rule.menu(), kNode)) {
    return invalidArgument("menu", "a dial plan node id: 1 to 64 of A-Z a-z 0-9 _ -");
  }
  if (!rule.menu_key().empty() && !std::regex_match(rule.menu_key(), kKey)) {
    return invalidArgument("menu_key", "1 to 8 of 0-9 * #");
  }
  if (rule.menu().empty() != rule.menu_key().empty()) {
    return invalidArgument(rule.menu().empty() ? "menu" : "menu_key", "menu and menu_key go together");
  }
  if (rule.has_min_talk_seconds() && rule.has_max_talk_seconds() &&
      rule.min_talk_seconds() > rule.max_talk_seconds()) {
    return invalidArgument("max_talk_seconds", "not less than min_talk_seconds");
  }
  return grpc::Status::OK;
}

grpc::Status SegmentationStore::createCategory(const v1::CreateCategoryRequest& request, v1::Category* out) {
  if (auto status = checkCategory(request); !status.ok()) return status;
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      const pqxx::result row = txn.exec_params(
          "INSERT INTO call_categories (tenant_id, name, value) VALUES ($1, $2, round($3::numeric, 2))"
          " ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id::text, name, value::float8",
          request.tenant_id(), request.name(), request.value());
      if (row.empty()) {
        status = grpc_util::alreadyExists("name", "a category with this name exists");
        return;
      }
      out->set_id(row[0][0].as<std::string>());
      out->set_name(row[0][1].as<std::string>());
      out->set_value(row[0][2].as<double>());
    });
    return status;
  });
}

grpc::Status SegmentationStore::listCategories(const std::string& tenant_id, v1::ListCategoriesResponse* out) {
  return guardedDatabaseWork([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      for (const auto& row :
           txn.exec("SELECT id::text, name, value::float8 FROM call_categories ORDER BY name LIMIT 1000")) {
        auto* category = out->add_categories();
        category->set_id(row[0].as<std::string>());
        category->set_name(row[1].as<std::string>());
        category->set_value(row[2].as<double>());
      }
    });
    return grpc::Status::OK;
  });
}

grpc::Status SegmentationStore::deleteCategory(const v1::CategoryRef& ref) {
  return deleteById(*pool_, ref.tenant_id(), "call_categories", ref.id(), "category");
}

grpc::Status SegmentationStore::createRule(const v1::CreateRuleRequest& request, v1::CategoryRule* out) {
  if (auto status = checkRule(request.rule()); !status.ok()) return status;
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      const auto& rule = request.rule();
      if (!categoryExists(txn, rule.category_id())) {
        status = invalidArgument("category_id", "no such category");
        return;
      }
      auto optionalInt = [](bool has, int value) { return has ? std::optional<int>(value) : std::nullopt; };
      const pqxx::result row = txn.exec_params(
          std::string("INSERT INTO category_rules (tenant_id, category_id, position, direction, number,"
                      " utm_source, answered, min_talk_seconds, max_talk_seconds, menu_node, menu_key)"
                      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ") + kRuleColumns,
          request.tenant_id(), rule.category_id(), rule.position(), codeNamed(kDirectionNames, rule.direction()),
          rule.number(), rule.utm_source(),
          rule.has_answered() ? std::optional<bool>(rule.answered()) : std::nullopt,
          optionalInt(rule.has_min_talk_seconds(), rule.min_talk_seconds()),
          optionalInt(rule.has_max_talk_seconds(), rule.max_talk_seconds()), rule.menu(), rule.menu_key());
      mapRule(row[0], out);
    });
    return status;
  });
}

grpc::Status SegmentationStore::listRules(const std::string& tenant_id, v1::ListRulesResponse* out) {
  return guardedDatabaseWork([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      for (const auto& row : txn.exec(std::string("SELECT ") + kRuleColumns +
                                       " FROM category_rules ORDER BY position, created_at LIMIT 1000")) {
        mapRule(row, out->add_rules());
      }
    });
    return grpc::Status::OK;
  });
}

grpc::Status SegmentationStore::deleteRule(const v1::CategoryRef& ref) {
  return deleteById(*pool_, ref.tenant_id(), "category_rules", ref.id(), "rule");
}

grpc::Status SegmentationStore::setCallCategory(const v1::SetCallCategoryRequest& request) {
  if (request.call_id().empty() || request.call_id().size() > 128) return notFound("call");
  if (!request.category_id().empty() && !isUuid(request.category_id())) {
    return invalidArgument("category_id", "not a category id");
  }
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      if (!request.category_id().empty() && !categoryExists(txn, request.category_id())) {
        status = invalidArgument("category_id", "no such category");
        return;
      }
      // 'manual' with no category too: the tenant said this call has none, rules keep out.
      if (txn.exec_params("UPDATE calls SET category_id = NULLIF($2, '')::uuid, category_set_by = 'manual'"
                          " WHERE tenant_id = $3 AND call_id = $1",
                          request.call_id(), request.category_id(), request.tenant_id())
              .affected_rows() == 0) {
        status = notFound("call");
      }
    });
    return status;
  });
}

}  // namespace tel::analytics
