#include "report_store.h"

#include <vector>

#include "report_filter.h"
#include "tel/grpc/status.h"

namespace tel::analytics {
namespace {

// Times as RFC 3339 with the tenant's offset (the transaction runs in the tenant's time zone).
std::string localTime(const std::string& expression) {
  return "to_char(" + expression + R"(, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'))";
}

// Every report's statements start with these: the parameters, typed once ($1 tenant, $2 first
// day, $3 last day, $4 numbers, $5 extensions, $6 unprocessed only, $7 row limit, $8 sources),
// the complete
// calls that started within the period, and the inbound ones among them that pass the filters.
// Day boundaries are midnights in the session's time zone, which is the tenant's.
const std::string kPrelude = R"(
WITH params AS (
  SELECT $1::uuid AS tenant, $2::date AS first_day, $3::date AS last_day, $4::text[] AS numbers,
         $5::text[] AS extensions, $6::boolean AS unprocessed_only, $7::integer AS row_limit,
         $8::text[] AS sources),
period_calls AS (
  SELECT c.* FROM params, calls c
  WHERE c.tenant_id = params.tenant AND c.complete
    AND c.started_at >= params.first_day::timestamptz
    AND c.started_at < (params.last_day + 1)::timestamptz),
inbound AS (
  SELECT c.* FROM params, period_calls c
  WHERE c.direction = 1
    AND (cardinality(params.numbers) = 0 OR c.called = ANY(params.numbers))
    AND (cardinality(params.sources) = 0 OR (c.attributed AND c.utm_source = ANY(params.sources)))
    AND (cardinality(params.extensions) = 0 OR EXISTS (
          SELECT 1 FROM call_legs l
          WHERE l.tenant_id = c.tenant_id AND l.call_id = c.call_id
            AND l.extension = ANY(params.extensions))))
)";

// Received / answered / missed counts of inbound calls `c` (disposition 1 is answered).
const std::string kInboundCounts = R"(
  count(c.call_id) AS received,
  count(c.call_id) FILTER (WHERE c.disposition = 1) AS answered,
  count(c.call_id) FILTER (WHERE c.disposition <> 1) AS missed)";

// Time to answer is the caller's wait: start of the call to its answer (ring_seconds).
const std::string kAnswerFigures = R"(,
  round(count(c.call_id) FILTER (WHERE c.disposition = 1)::numeric / NULLIF(count(c.call_id), 0), 4)
    AS answered_share,
  round(avg(c.ring_seconds) FILTER (WHERE c.disposition = 1), 1) AS average_time_to_answer_seconds)";

struct ReportQuery {
  std::vector<v1::Column> columns;
  std::string rows;  // after the prelude: more CTEs (", name AS (...)") and the SELECT
  std::vector<v1::Column> summary_columns;
  std::string summary;  // the same, one row; empty when the report has no summary
  bool listing = false;  // rows are cut at the row limit
};

v1::Column column(const char* name, v1::ColumnType type) {
  v1::Column out;
  out.set_name(name);
  out.set_type(type);
  return out;
}

constexpr auto kText = v1::COLUMN_TYPE_TEXT;
constexpr auto kInteger = v1::COLUMN_TYPE_INTEGER;
constexpr auto kDecimal = v1::COLUMN_TYPE_DECIMAL;
constexpr auto kBoolean = v1::COLUMN_TYPE_BOOLEAN;
constexpr auto kDate = v1::COLUMN_TYPE_DATE;
constexpr auto kTime = v1::COLUMN_TYPE_TIME;

std::vector<v1::Column> answerColumns() {
  return {column("received", kInteger), column("answered", kInteger), column("missed", kInteger),
          column("answered_share", kDecimal), column("average_time_to_answer_seconds", kDecimal)};
}

ReportQuery incomingReport() {
  ReportQuery report;
  report.columns = {column("day", kDate)};
  for (auto& c : answerColumns()) report.columns.push_back(c);
  report.rows = R"(
SELECT to_char(params.first_day + offset_days, 'YYYY-MM-DD') AS day,)" + kInboundCounts + kAnswerFigures + R"(
FROM params CROSS JOIN generate_series(0, params.last_day - params.first_day) AS offset_days
LEFT JOIN inbound c ON c.started_at::date = params.first_day + offset_days
GROUP BY params.first_day, offset_days
ORDER BY offset_days)";
  report.summary_columns = answerColumns();
  report.summary = "SELECT" + kInboundCounts + kAnswerFigures + " FROM inbound c";
  return report;
}

ReportQuery distributionReport() {
  ReportQuery report;
  report.columns = {column("weekday", kInteger), column("hour", kInteger),
                    column("received", kInteger), column("answered", kInteger),
                    column("missed", kInteger)};
  // Every cell of the week is a row, empty ones too, so that a chart needs no gap filling.
  report.rows = R"(,
placed_in_week AS (
  SELECT c.*, extract(isodow FROM c.started_at)::integer AS weekday,
         extract(hour FROM c.started_at)::integer AS hour
  FROM inbound c)
SELECT weekday, hour,)" + kInboundCounts + R"(
FROM generate_series(1, 7) AS weekday CROSS JOIN generate_series(0, 23) AS hour
LEFT JOIN placed_in_week c USING (weekday, hour)
GROUP BY weekday, hour
ORDER BY weekday, hour)";
  report.summary_columns = {column("received", kInteger), column("answered", kInteger),
                            column("missed", kInteger)};
  report.summary = "SELECT" + kInboundCounts + " FROM inbound c";
  return report;
}

// A missed call is processed by the first later answered call with the same client: the client
// calling again and being answered, or an outbound call to the client that was answered. Later
// means any time after, not only within the period: processing often happens days after.
const std::string kMissedCalls = R"(,
missed AS (
  SELECT m.*, handled.call_id AS processed_call_id, handled.at AS processed_at,
         handled.how AS processed_how, handled.who AS processed_by
  FROM inbound m
  LEFT JOIN LATERAL (
    SELECT x.call_id, x.answered_at AS at,
           CASE WHEN x.direction = 1 THEN 'answered_again' ELSE 'called_back' END AS how,
           CASE WHEN x.direction = 1 THEN x.answered_by
                ELSE coalesce((SELECT a.extension FROM sip_accounts a
                               WHERE a.tenant_id = x.tenant_id AND a.id::text = x.caller_account_id),
                              x.caller) END AS who
    FROM calls x
    WHERE x.tenant_id = m.tenant_id AND x.complete AND x.disposition = 1
      AND x.started_at > m.started_at
      AND ((x.direction = 1 AND x.caller = m.caller) OR (x.direction = 2 AND x.called = m.caller))
    ORDER BY x.started_at
    LIMIT 1) handled ON m.caller <> ''
  WHERE m.disposition <> 1),
listed AS (
  SELECT m.* FROM params, missed m
  WHERE NOT params.unprocessed_only OR m.processed_call_id IS NULL)
)";

ReportQuery missedReport() {
  ReportQuery report;
  report.listing = true;
  report.columns = {column("call_id", kText),          column("started_at", kTime),
                    column("caller", kText),           column("number", kText),
                    column("disposition", kText),      column("ring_seconds", kInteger),
                    column("processed", kBoolean),     column("processed_at", kTime),
                    column("processed_how", kText),    column("processed_by", kText),
                    column("processed_call_id", kText)};
  report.rows = kMissedCalls + R"(
SELECT m.call_id, )" + localTime("m.started_at") + R"(, m.caller, m.called,
       CASE m.disposition WHEN 2 THEN 'busy' WHEN 3 THEN 'no_answer' WHEN 4 THEN 'failed'
                          WHEN 5 THEN 'cancelled' ELSE 'unknown' END,
       m.ring_seconds, m.processed_call_id IS NOT NULL, )" + localTime("m.processed_at") + R"(,
       m.processed_how, m.processed_by, m.processed_call_id
FROM params, listed m
ORDER BY m.started_at, m.call_id
LIMIT (SELECT row_limit + 1 FROM params))";
  report.summary_columns = {column("missed", kInteger), column("processed", kInteger),
                            column("unprocessed", kInteger), column("unprocessed_clients", kInteger)};
  report.summary = kMissedCalls + R"(
SELECT count(*), count(*) FILTER (WHERE processed_call_id IS NOT NULL),
       count(*) FILTER (WHERE processed_call_id IS NULL),
       count(DISTINCT caller) FILTER (WHERE processed_call_id IS NULL)
FROM listed)";
  return report;
}

// Per SIP account. Received: inbound and internal calls that rang one of its devices; answered:
// those it answered; missed: those nobody answered (a call a colleague took is neither);
// outbound: calls it placed to external numbers. Accounts deleted since still appear, by id and
// the extension their calls carried.
ReportQuery employeesReport() {
  ReportQuery report;
  report.columns = {column("account_id", kText),        column("extension", kText),
                    column("name", kText),              column("received", kInteger),
                    column("answered", kInteger),       column("missed", kInteger),
                    column("outbound", kInteger),       column("outbound_answered", kInteger),
                    column("average_time_to_answer_seconds", kDecimal),
                    column("talk_seconds", kInteger)};
  report.rows = R"(,
offered AS (
  SELECT l.account_id, max(l.extension) AS extension, c.call_id,
         bool_or(c.answered_leg_id = l.leg_id) AS took, min(c.disposition) AS disposition,
         min(c.ring_seconds) AS ring_seconds, min(c.talk_seconds) AS talk_seconds
  FROM period_calls c
  JOIN call_legs l ON l.tenant_id = c.tenant_id AND l.call_id = c.call_id
  WHERE c.direction IN (1, 3) AND l.account_id <> ''
  GROUP BY l.account_id, c.call_id),
received AS (
  SELECT account_id, max(extension) AS extension, count(*) AS received,
         count(*) FILTER (WHERE took) AS answered,
         count(*) FILTER (WHERE disposition <> 1) AS missed,
         round(avg(ring_seconds) FILTER (WHERE took), 1) AS time_to_answer,
         coalesce(sum(talk_seconds) FILTER (WHERE took), 0) AS talk
  FROM offered GROUP BY account_id),
placed AS (
  SELECT caller_account_id AS account_id, count(*) AS outbound,
         count(*) FILTER (WHERE disposition = 1) AS outbound_answered,
         sum(talk_seconds) AS talk
  FROM period_calls
  WHERE direction = 2 AND caller_account_id <> ''
  GROUP BY caller_account_id),
people AS (
  SELECT a.id::text AS account_id, a.extension,
         coalesce(nullif(a.display_name, ''), a.username) AS name
  FROM params, sip_accounts a WHERE a.tenant_id = params.tenant
  UNION ALL
  SELECT seen.account_id, coalesce(r.extension, ''), ''
  FROM (SELECT account_id FROM received UNION SELECT account_id FROM placed) seen
  LEFT JOIN received r USING (account_id)
  WHERE NOT EXISTS (SELECT 1 FROM sip_accounts a WHERE a.id::text = seen.account_id))
SELECT pe.account_id, pe.extension, pe.name, coalesce(r.received, 0), coalesce(r.answered, 0),
       coalesce(r.missed, 0), coalesce(pl.outbound, 0), coalesce(pl.outbound_answered, 0),
       r.time_to_answer, coalesce(r.talk, 0) + coalesce(pl.talk, 0)
FROM params, people pe
LEFT JOIN received r USING (account_id)
LEFT JOIN placed pl USING (account_id)
WHERE cardinality(params.extensions) = 0 OR pe.extension = ANY(params.extensions)
ORDER BY pe.extension, pe.account_id)";
  return report;
}

// Inbound calls that call tracking attributed, grouped by where they came from.
ReportQuery adsReport() {
  ReportQuery report;
  report.columns = {column("utm_source", kText),   column("utm_medium", kText),
                    column("utm_campaign", kText), column("keyword", kText)};
  for (auto& c : answerColumns()) report.columns.push_back(c);
  report.columns.push_back(column("callers", kInteger));
  report.rows = R"(
SELECT c.utm_source, c.utm_medium, c.utm_campaign, c.utm_term,)" + kInboundCounts + kAnswerFigures + R"(,
  count(DISTINCT c.caller) AS callers
FROM inbound c
WHERE c.attributed
GROUP BY c.utm_source, c.utm_medium, c.utm_campaign, c.utm_term
ORDER BY received DESC, c.utm_source, c.utm_medium, c.utm_campaign, c.utm_term)";
  report.summary_columns = {column("tracked_calls", kInteger), column("inbound_calls", kInteger),
                            column("tracked_share", kDecimal)};
  report.summary = R"(
SELECT count(*) FILTER (WHERE c.attributed), count(*),
       round(count(*) FILTER (WHERE c.attributed)::numeric / NULLIF(count(*), 0), 4)
FROM inbound c)";
  return report;
}

const ReportQuery* queryFor(v1::ReportKind kind) {
  static const ReportQuery kIncoming = incomingReport();
  static const ReportQuery kDistribution = distributionReport();
  static const ReportQuery kMissed = missedReport();
  static const ReportQuery kEmployees = employeesReport();
  static const ReportQuery kAds = adsReport();
  switch (kind) {
    case v1::REPORT_KIND_INCOMING: return &kIncoming;
    case v1::REPORT_KIND_DISTRIBUTION: return &kDistribution;
    case v1::REPORT_KIND_MISSED: return &kMissed;
    case v1::REPORT_KIND_EMPLOYEES: return &kEmployees;
    case v1::REPORT_KIND_ADS: return &kAds;
    default: return nullptr;
  }
}

// A Postgres array literal of validated values ({"+1555...","101"}).
std::string arrayLiteral(const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::string out = "{";
  for (const auto& value : values) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

v1::Value cell(const pqxx::field& field, v1::ColumnType type) {
  v1::Value value;
  if (field.is_null()) return value;
  switch (type) {
    case v1::COLUMN_TYPE_INTEGER: value.set_integer(field.as<int64_t>()); break;
    case v1::COLUMN_TYPE_DECIMAL: value.set_decimal(field.as<double>()); break;
    case v1::COLUMN_TYPE_BOOLEAN: value.set_boolean(field.as<bool>()); break;
    default: value.set_text(field.as<std::string>()); break;
  }
  return value;
}

}  // namespace

grpc::Status ReportStore::run(const v1::ReportRequest& request, v1::ReportTable* out) {
  const ReportQuery* query = queryFor(request.kind());
  if (query == nullptr) return grpc_util::invalidArgument("report", "unknown report");
  if (auto status = checkFilter(request.kind(), request.filter()); !status.ok()) return status;

  grpc::Status status;
  try {
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      const pqxx::result tenant = txn.exec_params(
          "SELECT timezone, to_char((now() AT TIME ZONE timezone)::date, 'YYYY-MM-DD')"
          " FROM tenants WHERE id = $1",
          request.tenant_id());
      if (tenant.empty()) {
        status = grpc_util::notFound("tenant");
        return;
      }
      const std::string timezone = tenant[0][0].as<std::string>();
      ReportPeriod period;
      status = resolvePeriod(request.filter(), *parseDay(tenant[0][1].as<std::string>()), &period);
      if (!status.ok()) return;
      txn.exec("SET LOCAL TIME ZONE " + txn.quote(timezone));
      txn.exec("SET LOCAL statement_timeout = " + std::to_string(limits_.statement_timeout.count()));

      const auto execute = [&](const std::string& body) {
        return txn.exec_params(kPrelude + body, request.tenant_id(), formatDay(period.first_day),
                               formatDay(period.last_day), arrayLiteral(request.filter().numbers()),
                               arrayLiteral(request.filter().extensions()),
                               request.filter().unprocessed_only(), limits_.max_rows,
                               arrayLiteral(request.filter().sources()));
      };
      out->set_timezone(timezone);
      out->set_from_date(formatDay(period.first_day));
      out->set_to_date(formatDay(period.last_day));
      for (const auto& c : query->columns) *out->add_columns() = c;
      const pqxx::result rows = execute(query->rows);
      for (const auto& row : rows) {
        if (query->listing && out->rows_size() == limits_.max_rows) {
          out->set_truncated(true);
          break;
        }
        auto* target = out->add_rows();
        for (size_t i = 0; i < query->columns.size(); ++i) {
          *target->add_values() = cell(row[static_cast<int>(i)], query->columns[i].type());
        }
      }
      if (query->summary.empty()) return;
      const pqxx::result summary = execute(query->summary);
      for (size_t i = 0; i < query->summary_columns.size(); ++i) {
        auto* field = out->add_summary();
        *field->mutable_column() = query->summary_columns[i];
        *field->mutable_value() = cell(summary[0][static_cast<int>(i)], query->summary_columns[i].type());
      }
    });
  } catch (const pqxx::sql_error& e) {
    if (e.sqlstate() != "57014") throw;  // query_canceled: the statement timeout
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        "the report took too long; choose a shorter period or narrower filters");
  }
  if (!status.ok()) out->Clear();
  return status;
}

}  // namespace tel::analytics
