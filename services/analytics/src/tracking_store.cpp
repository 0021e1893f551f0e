#include "tracking_store.h"

#include <google/protobuf/util/time_util.h>

#include <chrono>
#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "tel/crypto/crypto.h"
#include "tel/grpc/status.h"
#include "tel/pg/arrays.h"
#include "database_status.h"
#include "tracking_validation.h"

namespace tel::analytics {
namespace {

using grpc_util::invalidArgument;
using grpc_util::notFound;
using google::protobuf::util::TimeUtil;

constexpr const char* kSiteColumns =
    "id::text, name, site_key, default_number, hold_seconds,"
    " (extract(epoch FROM created_at) * 1000000)::bigint";

void mapSite(const pqxx::row& row, v1::Site* out) {
  out->set_id(row[0].as<std::string>());
  out->set_name(row[1].as<std::string>());
  out->set_site_key(row[2].as<std::string>());
  out->set_default_number(row[3].as<std::string>());
  out->set_hold_seconds(row[4].as<int>());
  *out->mutable_created_at() = TimeUtil::MicrosecondsToTimestamp(row[5].as<int64_t>());
}

// The site's numbers, pool first, then by number.
void loadNumbers(pqxx::work& txn, v1::Site* site) {
  const pqxx::result numbers = txn.exec_params(
      "SELECT e164, kind, utm_source, utm_medium, utm_campaign, kind = 'pool' AND held_until > now()"
      " FROM tracking_numbers WHERE site_id = $1 ORDER BY kind, e164",
      site->id());
  for (const auto& row : numbers) {
    auto* number = site->add_numbers();
    number->set_e164(row[0].as<std::string>());
    number->set_kind(row[1].as<std::string>());
    number->set_utm_source(row[2].as<std::string>());
    number->set_utm_medium(row[3].as<std::string>());
    number->set_utm_campaign(row[4].as<std::string>());
    number->set_held(row[5].as<bool>());
  }
}

bool tenantOwnsNumber(pqxx::work& txn, const std::string& e164) {
  return !txn.exec_params("SELECT 1 FROM numbers WHERE e164 = $1", e164).empty();
}

std::string newSiteKey() { return "trk_" + crypto::randomAlphanumeric(24); }

}  // namespace

grpc::Status TrackingStore::createSite(const v1::CreateSiteRequest& request, v1::Site* out) {
  if (auto status = checkCreateSite(request); !status.ok()) return status;
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      if (!request.default_number().empty() && !tenantOwnsNumber(txn, request.default_number())) {
        status = invalidArgument("default_number", "not one of the tenant's numbers");
        return;
      }
      const pqxx::result row = txn.exec_params(
          std::string("INSERT INTO tracking_sites (tenant_id, name, site_key, default_number, hold_seconds)"
                      " VALUES ($1, $2, $3, $4, $5) RETURNING ") + kSiteColumns,
          request.tenant_id(), request.name(), newSiteKey(), request.default_number(),
          request.hold_seconds() == 0 ? kDefaultHoldSeconds : request.hold_seconds());
      mapSite(row[0], out);
    });
    return status;
  });
}

grpc::Status TrackingStore::listSites(const std::string& tenant_id, v1::ListSitesResponse* out) {
  return guardedDatabaseWork([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      const pqxx::result rows = txn.exec_params(
          std::string("SELECT ") + kSiteColumns +
              " FROM tracking_sites WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC LIMIT 200",
          tenant_id);
      for (const auto& row : rows) {
        auto* site = out->add_sites();
        mapSite(row, site);
        loadNumbers(txn, site);
      }
    });
    return grpc::Status::OK;
  });
}

grpc::Status TrackingStore::getSite(const v1::SiteRef& ref, v1::Site* out) {
  if (!isUuid(ref.id())) return notFound("site");
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(ref.tenant_id(), [&](pqxx::work& txn) {
      const pqxx::result rows =
          txn.exec_params(std::string("SELECT ") + kSiteColumns + " FROM tracking_sites WHERE id = $1", ref.id());
      if (rows.empty()) {
        status = notFound("site");
        return;
      }
      mapSite(rows[0], out);
      loadNumbers(txn, out);
    });
    return status;
  });
}

grpc::Status TrackingStore::deleteSite(const v1::SiteRef& ref) {
  return deleteById(*pool_, ref.tenant_id(), "tracking_sites", ref.id(), "site");
}

grpc::Status TrackingStore::addNumber(const v1::AddNumberRequest& request, v1::TrackingNumber* out) {
  if (!isUuid(request.site_id())) return notFound("site");
  if (auto status = checkTrackingNumber(request.number()); !status.ok()) return status;
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      if (txn.exec_params("SELECT 1 FROM tracking_sites WHERE id = $1", request.site_id()).empty()) {
        status = notFound("site");
        return;
      }
      const auto& number = request.number();
      if (!tenantOwnsNumber(txn, number.e164())) {
        status = invalidArgument("e164", "not one of the tenant's numbers");
        return;
      }
      const pqxx::result inserted = txn.exec_params(
          "INSERT INTO tracking_numbers (tenant_id, e164, site_id, kind, utm_source, utm_medium, utm_campaign)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (e164) DO NOTHING RETURNING e164",
          request.tenant_id(), number.e164(), request.site_id(), number.kind(), number.utm_source(),
          number.utm_medium(), number.utm_campaign());
      if (inserted.empty()) {
        status = grpc_util::alreadyExists("e164", "the number already tracks for a site");
        return;
      }
      *out = number;
      out->set_held(false);
    });
    return status;
  });
}

grpc::Status TrackingStore::removeNumber(const v1::RemoveNumberRequest& request) {
  if (!isUuid(request.site_id())) return notFound("site");
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      if (txn.exec_params("DELETE FROM tracking_numbers WHERE site_id = $1 AND e164 = $2",
                          request.site_id(), request.e164())
              .affected_rows() == 0) {
        status = notFound("number");
      }
    });
    return status;
  });
}

grpc::Status TrackingStore::poolUsage(const v1::PoolUsageRequest& request, v1::PoolUsage* out) {
  if (!isUuid(request.site_id())) return notFound("site");
  // Not TimeUtil::GetCurrentTime(): protobuf 3.21's has whole seconds only.
  const int64_t now_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  const int64_t to = request.has_to() ? TimeUtil::TimestampToMicroseconds(request.to()) : now_micros;
  const int64_t from = request.has_from() ? TimeUtil::TimestampToMicroseconds(request.from())
                                          : to - int64_t{7} * 86400 * 1000000;
  if (from >= to) return invalidArgument("from", "must be before to");
  if (to - from > int64_t{366} * 86400 * 1000000) return invalidArgument("from", "at most 366 days");
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      const pqxx::result site = txn.exec_params(
          "SELECT hold_seconds, (SELECT count(*) FROM tracking_numbers n WHERE n.site_id = s.id AND kind = 'pool')"
          " FROM tracking_sites s WHERE id = $1",
          request.site_id());
      if (site.empty()) {
        status = notFound("site");
        return;
      }
      out->set_pool_size(site[0][1].as<int>());
      // Each session wants a number from its start to its last sign of life plus the hold;
      // the peak is the highest number of such intervals overlapping (ends before starts at the
      // same instant: the intervals are half-open).
      const pqxx::result usage = txn.exec_params(
          "WITH period AS (SELECT to_timestamp($2::bigint / 1e6) AS first, to_timestamp($3::bigint / 1e6) AS last),"
          " wanted AS ("
          "  SELECT greatest(s.created_at, period.first) AS starts,"
          "         s.last_seen_at + make_interval(secs => $4) AS ends, s.number = '' AS unserved"
          "  FROM tracking_sessions s, period"
          "  WHERE s.site_id = $1 AND s.created_at < period.last"
          "    AND s.last_seen_at + make_interval(secs => $4) > period.first),"
          " edges AS (SELECT starts AS at, 1 AS step FROM wanted UNION ALL SELECT ends, -1 FROM wanted),"
          " levels AS (SELECT at, sum(step) OVER (ORDER BY at, step ROWS UNBOUNDED PRECEDING) AS level FROM edges),"
          " peak AS (SELECT level, at FROM levels ORDER BY level DESC, at LIMIT 1)"
          " SELECT (SELECT count(*) FROM wanted), (SELECT count(*) FILTER (WHERE unserved) FROM wanted),"
          "        coalesce((SELECT level FROM peak), 0),"
          "        (SELECT (extract(epoch FROM at) * 1000000)::bigint FROM peak)",
          request.site_id(), from, to, site[0][0].as<int>());
      const int64_t sessions = usage[0][0].as<int64_t>();
      const int64_t unserved = usage[0][1].as<int64_t>();
      const int64_t peak = usage[0][2].as<int64_t>();
      out->set_sessions(static_cast<int32_t>(sessions));
      out->set_sessions_without_number(static_cast<int32_t>(unserved));
      out->set_exhausted_share(sessions == 0 ? 0.0 : static_cast<double>(unserved) / static_cast<double>(sessions));
      out->set_peak_concurrent_sessions(static_cast<int32_t>(peak));
      if (!usage[0][3].is_null()) {
        *out->mutable_peak_at() = TimeUtil::MicrosecondsToTimestamp(usage[0][3].as<int64_t>());
      }
      out->set_recommended_pool_size(static_cast<int32_t>(
          std::max<int64_t>(peak + 1, static_cast<int64_t>(std::ceil(static_cast<double>(peak) * 1.1)))));
    });
    return status;
  });
}

std::vector<grpc::Status> TrackingStore::visitBatch(const std::vector<const v1::VisitRequest*>& requests,
                                                    const std::vector<v1::VisitResponse*>& responses) {
  // The batch's visits as parallel arrays, one element per visit.
  std::vector<std::vector<std::string>> columns(10);
  for (const v1::VisitRequest* request : requests) {
    const auto& source = request->source();
    nlohmann::json click_ids = nlohmann::json::object();
    for (const auto& [name, value] : source.click_ids()) click_ids[name] = value;
    for (auto [column, value] :
         {std::pair{0, &request->site_key()}, std::pair{1, &request->session_id()},
          std::pair{2, &source.utm_source()}, std::pair{3, &source.utm_medium()},
          std::pair{4, &source.utm_campaign()}, std::pair{5, &source.utm_term()},
          std::pair{6, &source.utm_content()}, std::pair{7, &source.referrer()},
          std::pair{8, &source.landing_page()}}) {
      columns[static_cast<size_t>(column)].push_back(*value);
    }
    columns[9].push_back(click_ids.dump());
  }
  std::vector<grpc::Status> statuses(requests.size(), notFound("site"));
  const grpc::Status outcome = guardedDatabaseWork([&] {
    // One statement, committed on its own: tel_tracking_visit (deploy/migrations/0009) once per
    // visit, in order (a later visit sees the numbers an earlier one took), each finding its
    // site's tenant and working under that tenant's row-level security.
    auto lease = pool_->acquire();
    pqxx::result rows;
    try {
      pqxx::nontransaction txn(lease.connection());
      rows = txn.exec_params(
          "SELECT r.i, v.session_id::text, v.number, v.tracked, v.hold_seconds"
          " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
          "             $7::text[], $8::text[], $9::text[], $10::text[])"
          "      WITH ORDINALITY AS r(site_key, session_id, utm_source, utm_medium, utm_campaign,"
          "                           utm_term, utm_content, referrer, landing_page, click_ids, i)"
          " CROSS JOIN LATERAL tel_tracking_visit(r.site_key, NULLIF(r.session_id, '')::uuid,"
          "   r.utm_source, r.utm_medium, r.utm_campaign, r.utm_term, r.utm_content, r.referrer,"
          "   r.landing_page, r.click_ids::jsonb) v"
          " ORDER BY r.i",
          pg::arrayLiteral(columns[0]), pg::arrayLiteral(columns[1]), pg::arrayLiteral(columns[2]),
          pg::arrayLiteral(columns[3]), pg::arrayLiteral(columns[4]), pg::arrayLiteral(columns[5]),
          pg::arrayLiteral(columns[6]), pg::arrayLiteral(columns[7]), pg::arrayLiteral(columns[8]),
          pg::arrayLiteral(columns[9]));
    } catch (const pqxx::broken_connection&) {
      lease.discard();
      throw;
    }
    for (const auto& row : rows) {
      const auto index = row[0].as<size_t>() - 1;  // ordinality counts from 1
      v1::VisitResponse* out = responses[index];
      out->set_session_id(row[1].as<std::string>());
      out->set_number(row[2].as<std::string>());
      out->set_tracked(row[3].as<bool>());
      out->set_hold_seconds(row[4].as<int>());
      statuses[index] = grpc::Status::OK;  // a visit without a row named an unknown site
    }
    return grpc::Status::OK;
  });
  if (!outcome.ok()) std::fill(statuses.begin(), statuses.end(), outcome);
  return statuses;
}

}  // namespace tel::analytics
