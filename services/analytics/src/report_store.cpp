#include "report_store.h"

#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "call_codes.h"
#include "custom_reports.h"
#include "database_status.h"
#include "report_filter.h"
#include "tracking_validation.h"
#include "tel/grpc/status.h"
#include "tel/pg/arrays.h"

namespace tel::analytics {
namespace {

// Times as RFC 3339 with the tenant's offset (the transaction runs in the tenant's time zone).
std::string localTime(const std::string& expression) {
  return "to_char(" + expression + R"(, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'))";
}

// The filters of the request on calls `c` (with `params` in scope).
const std::string kFilters = R"(
    (cardinality(params.numbers) = 0 OR c.called = ANY(params.numbers))
    AND (cardinality(params.sources) = 0 OR (c.attributed AND c.utm_source = ANY(params.sources)))
    AND (cardinality(params.extensions) = 0 OR EXISTS (
          SELECT 1 FROM call_legs l
          WHERE l.tenant_id = c.tenant_id AND l.call_id = c.call_id
            AND l.extension = ANY(params.extensions))))";

// Every report's statements start with these: the parameters, typed once ($1 tenant, $2 first
// day, $3 last day, $4 numbers, $5 extensions, $6 unprocessed only, $7 row limit, $8 sources),
// the complete calls that started within the period, and the inbound ones among them that pass the
// filters. Day boundaries are midnights in the session's time zone, which is the tenant's. The
// tenant and the period are written as parameters, not read from `params`, so that the planner
// sees them and scans the index range of the period only.
const std::string kPrelude = R"(
WITH params AS (
  SELECT $1::uuid AS tenant, $2::date AS first_day, $3::date AS last_day, $4::text[] AS numbers,
         $5::text[] AS extensions, $6::boolean AS unprocessed_only, $7::integer AS row_limit,
         $8::text[] AS sources),
period_calls AS (
  SELECT c.* FROM calls c
  WHERE c.tenant_id = $1::uuid AND c.complete
    AND c.started_at >= $2::date::timestamptz AND c.started_at < ($3::date + 1)::timestamptz),
inbound AS (
  SELECT c.* FROM params, period_calls c
  WHERE c.direction = 1 AND)" + kFilters + R"()
)";

// The CTEs every report may read, each from the rollups kept as records are written
// (0013_report_rollups.sql, 0014_tracked_calls.sql) when they answer the request exactly, else
// from the calls themselves.
// Unreferenced CTEs cost nothing: Postgres plans only what a report's query reads.
//   inbound_hours (hour, received, answered, answer_ring_seconds): the filtered inbound calls per
//     hour of their start; local hours, as the rollups' UTC hours are in a whole-hour time zone.
//   category_totals (category_id, calls, answered, talk_seconds): the filtered calls per category.
//   missed (call_id, started_at, caller, called, disposition, ring_seconds, processed_call_id,
//     processed_at, processed_how, processed_by): the filtered missed inbound calls and the call
//     that processed each, if any; `listed`: those the report shows.
const std::string kHourlyFromCalls = R"(,
inbound_hours AS (
  SELECT date_trunc('hour', c.started_at) AS hour, count(*) AS received,
         count(*) FILTER (WHERE c.disposition = 1) AS answered,
         coalesce(sum(c.ring_seconds) FILTER (WHERE c.disposition = 1), 0) AS answer_ring_seconds
  FROM inbound c GROUP BY 1))";

const std::string kRollupPeriod =
    "h.tenant_id = $1::uuid AND h.hour >= $2::date::timestamptz AND h.hour < ($3::date + 1)::timestamptz";

// inbound_hours from one of the hour tables, with the conditions that pick its inbound rows.
std::string hourlyFromRollup(const std::string& table, const std::string& conditions) {
  return R"(,
inbound_hours AS (
  SELECT h.hour, sum(h.calls) AS received, sum(h.answered) AS answered,
         sum(h.answer_ring_seconds) AS answer_ring_seconds
  FROM )" + table + " h WHERE " + kRollupPeriod + conditions + R"(
  GROUP BY h.hour))";
}

const std::string kHourlyFromTotals = hourlyFromRollup("call_hour_totals", " AND h.direction = 1");

const std::string kHourlyFromLines = hourlyFromRollup("inbound_hour_lines", R"(
    AND (cardinality($4::text[]) = 0 OR h.number = ANY($4::text[]))
    AND (cardinality($8::text[]) = 0 OR h.source = ANY($8::text[])))");

const std::string kCategoriesFromCalls = R"(,
category_totals AS (
  SELECT c.category_id, count(*) AS calls, count(*) FILTER (WHERE c.disposition = 1) AS answered,
         coalesce(sum(c.talk_seconds), 0) AS talk_seconds
  FROM params, period_calls c
  WHERE)" + kFilters + R"(
  GROUP BY c.category_id))";

const std::string kCategoriesFromTotals = R"(,
category_totals AS (
  SELECT h.category_id, sum(h.calls) AS calls, sum(h.answered) AS answered,
         sum(h.talk_seconds) AS talk_seconds
  FROM call_hour_totals h WHERE )" + kRollupPeriod + R"(
  GROUP BY h.category_id HAVING sum(h.calls) <> 0))";

const std::string kMissedFromCalls = R"(,
missed AS (
  SELECT m.call_id, m.started_at, m.caller, m.called, m.disposition, m.ring_seconds,
         p.call_id AS processed_call_id, p.answered_at AS processed_at, p.how AS processed_how,
         p.who AS processed_by
  FROM inbound m
  LEFT JOIN LATERAL tel_first_processing(m.tenant_id, m.caller, m.started_at) p ON m.caller <> ''
  WHERE m.disposition <> 1))";

const std::string kMissedFromTable = R"(,
missed AS (
  SELECT m.call_id, m.started_at, m.caller, m.number AS called, m.disposition, m.ring_seconds,
         m.processed_call_id, m.processed_at, m.processed_how, m.processed_by
  FROM missed_calls m
  WHERE m.tenant_id = $1::uuid AND m.started_at >= $2::date::timestamptz
    AND m.started_at < ($3::date + 1)::timestamptz
    AND (cardinality($4::text[]) = 0 OR m.number = ANY($4::text[]))
    AND (cardinality($8::text[]) = 0 OR m.source = ANY($8::text[]))))";

//   received (account_id, extension, received, answered, missed, time_to_answer, talk) and
//   placed (account_id, outbound, outbound_answered, talk): per SIP account, the calls that rang
//   it and the external calls it placed.
const std::string kAccountsFromCalls = R"(,
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
  GROUP BY caller_account_id))";

const std::string kAccountsFromRollup = R"(,
account_totals AS (
  SELECT h.account_id, max(h.extension) AS extension, sum(h.received) AS received,
         sum(h.answered) AS answered, sum(h.missed) AS missed,
         sum(h.answer_ring_seconds) AS answer_ring_seconds, sum(h.talk_seconds) AS talk_seconds,
         sum(h.outbound) AS outbound, sum(h.outbound_answered) AS outbound_answered,
         sum(h.outbound_talk_seconds) AS outbound_talk_seconds
  FROM account_hours h WHERE )" + kRollupPeriod + R"(
  GROUP BY h.account_id),
received AS (
  SELECT account_id, extension, received, answered, missed,
         round(answer_ring_seconds::numeric / NULLIF(answered, 0), 1) AS time_to_answer,
         talk_seconds AS talk
  FROM account_totals WHERE received <> 0),
placed AS (
  SELECT account_id, outbound, outbound_answered, outbound_talk_seconds AS talk
  FROM account_totals WHERE outbound <> 0))";

//   tracked (call_id, caller, source, medium, campaign, term, answered, ring_seconds): the filtered
//   inbound calls that call tracking attributed.
const std::string kTrackedFromCalls = R"(,
tracked AS (
  SELECT c.call_id, c.caller, c.utm_source AS source, c.utm_medium AS medium,
         c.utm_campaign AS campaign, c.utm_term AS term, c.disposition = 1 AS answered, c.ring_seconds
  FROM inbound c WHERE c.attributed))";

const std::string kTrackedFromTable = R"(,
tracked AS (
  SELECT t.call_id, t.caller, t.source, t.medium, t.campaign, t.term, t.answered, t.ring_seconds
  FROM tracked_calls t
  WHERE t.tenant_id = $1::uuid AND t.started_at >= $2::date::timestamptz
    AND t.started_at < ($3::date + 1)::timestamptz
    AND (cardinality($4::text[]) = 0 OR t.number = ANY($4::text[]))
    AND (cardinality($8::text[]) = 0 OR t.source = ANY($8::text[]))))";

//   stored_targets: the target calls of the period that pass the filters (target_calls).
const std::string kStoredTargets = R"(,
stored_targets AS (
  SELECT t.* FROM target_calls t
  WHERE t.tenant_id = $1::uuid AND t.started_at >= $2::date::timestamptz
    AND t.started_at < ($3::date + 1)::timestamptz
    AND (cardinality($4::text[]) = 0 OR t.number = ANY($4::text[]))
    AND (cardinality($8::text[]) = 0 OR t.source = ANY($8::text[]))))";

const std::string kListedMissed = R"(,
listed AS (
  SELECT m.* FROM params, missed m
  WHERE NOT params.unprocessed_only OR m.processed_call_id IS NULL)
)";

// Received / answered / missed counts and answer figures of `inbound_hours h` rows.
const std::string kHourCounts = R"(
  coalesce(sum(h.received), 0) AS received, coalesce(sum(h.answered), 0) AS answered,
  coalesce(sum(h.received) - sum(h.answered), 0) AS missed)";
// Time to answer is the caller's wait: start of the call to its answer (ring_seconds).
const std::string kHourAnswerFigures = R"(,
  round(sum(h.answered)::numeric / NULLIF(sum(h.received), 0), 4) AS answered_share,
  round(sum(h.answer_ring_seconds)::numeric / NULLIF(sum(h.answered), 0), 1)
    AS average_time_to_answer_seconds)";

// The CTEs for a request: the rollups where they answer it exactly. The hour tables
// need a whole-hour time zone; extensions are not in the rollups (the employees report filters
// its rows by extension, not its calls); numbers and sources are kept for inbound calls only
// (inbound_hour_lines, missed_calls, tracked_calls).
std::string derivedTables(const v1::ReportFilter& filter, bool whole_hour_zone) {
  const bool by_extension = !filter.extensions().empty();
  const bool narrowed = !filter.numbers().empty() || !filter.sources().empty();
  std::string tables;
  if (!whole_hour_zone || by_extension) {
    tables = kHourlyFromCalls + kCategoriesFromCalls;
  } else {
    tables = (narrowed ? kHourlyFromLines : kHourlyFromTotals) +
             (narrowed ? kCategoriesFromCalls : kCategoriesFromTotals);
  }
  tables += whole_hour_zone ? kAccountsFromRollup : kAccountsFromCalls;
  tables += by_extension ? kTrackedFromCalls : kTrackedFromTable;
  if (!by_extension) tables += kStoredTargets;
  return tables + (by_extension ? kMissedFromCalls : kMissedFromTable) + kListedMissed;
}

struct ReportQuery {
  std::vector<v1::Column> columns;
  std::string rows;  // after the prelude: more CTEs (", name AS (...)") and the SELECT
  std::vector<v1::Column> summary_columns;
  std::string summary;  // the same, one row; empty when the report has no summary
  bool listing = false;  // rows are cut at the row limit
  // >0: the rows query ends with the summary row, whose summary columns follow this many key
  // columns (the aggregation gives the totals in the same pass; `summary` is then empty).
  int summary_in_last_row = 0;
  // The rows are target-call candidates for pickTargetCalls, which makes the rows and summary.
  bool picks_deals = false;
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
  // One pass over the calls: per day and, as the last row, over the whole period.
  report.rows = R"(,
per_day AS (
  SELECT h.hour::date AS day, GROUPING(h.hour::date) = 1 AS total,)" + kHourCounts +
                kHourAnswerFigures + R"(
  FROM inbound_hours h
  GROUP BY GROUPING SETS ((h.hour::date), ()))
SELECT to_char(days.day, 'YYYY-MM-DD'), coalesce(d.received, 0), coalesce(d.answered, 0),
       coalesce(d.missed, 0), d.answered_share, d.average_time_to_answer_seconds
FROM params CROSS JOIN LATERAL (
  SELECT params.first_day + offset_days AS day
  FROM generate_series(0, params.last_day - params.first_day) AS offset_days) days
LEFT JOIN per_day d ON d.day = days.day AND NOT d.total
UNION ALL
SELECT NULL, received, answered, missed, answered_share, average_time_to_answer_seconds
FROM per_day WHERE total
ORDER BY 1 NULLS LAST)";
  report.summary_columns = answerColumns();
  report.summary_in_last_row = 1;
  return report;
}

ReportQuery distributionReport() {
  ReportQuery report;
  report.columns = {column("weekday", kInteger), column("hour", kInteger),
                    column("received", kInteger), column("answered", kInteger),
                    column("missed", kInteger)};
  // Every cell of the week is a row, empty ones too, so that a chart needs no gap filling.
  // One pass over the calls: per cell and, as the last row, over the whole period.
  report.rows = R"(,
placed_in_week AS (
  SELECT h.*, extract(isodow FROM h.hour)::integer AS weekday,
         extract(hour FROM h.hour)::integer AS hour_of_day
  FROM inbound_hours h),
per_cell AS (
  SELECT h.weekday, h.hour_of_day AS hour, GROUPING(h.weekday) = 1 AS total,)" + kHourCounts + R"(
  FROM placed_in_week h
  GROUP BY GROUPING SETS ((h.weekday, h.hour_of_day), ()))
SELECT weekday, hour, coalesce(p.received, 0), coalesce(p.answered, 0), coalesce(p.missed, 0)
FROM generate_series(1, 7) AS weekday CROSS JOIN generate_series(0, 23) AS hour
LEFT JOIN per_cell p USING (weekday, hour)
UNION ALL
SELECT NULL, NULL, received, answered, missed FROM per_cell WHERE total
ORDER BY 1 NULLS LAST, 2)";
  report.summary_columns = {column("received", kInteger), column("answered", kInteger),
                            column("missed", kInteger)};
  report.summary_in_last_row = 2;
  return report;
}

// A missed call is processed by the first later answered call with the same client: the client
// calling again and being answered, or an outbound call to the client that was answered. Later
// means any time after, not only within the period: processing often happens days after.
ReportQuery missedReport() {
  ReportQuery report;
  report.listing = true;
  report.columns = {column("call_id", kText),          column("started_at", kTime),
                    column("caller", kText),           column("number", kText),
                    column("disposition", kText),      column("ring_seconds", kInteger),
                    column("processed", kBoolean),     column("processed_at", kTime),
                    column("processed_how", kText),    column("processed_by", kText),
                    column("processed_call_id", kText)};
  report.rows = R"(
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
  report.summary = R"(
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
  // Distinct callers are counted by grouping per caller first (two hash aggregations rather than
  // a sort of every call).
  report.rows = R"(,
per_caller AS (
  SELECT t.source, t.medium, t.campaign, t.term, t.caller, count(*) AS received,
         count(*) FILTER (WHERE t.answered) AS answered,
         coalesce(sum(t.ring_seconds) FILTER (WHERE t.answered), 0) AS answer_ring_seconds
  FROM tracked t GROUP BY t.source, t.medium, t.campaign, t.term, t.caller)
SELECT h.source, h.medium, h.campaign, h.term,)" + kHourCounts + kHourAnswerFigures + R"(,
  count(*) AS callers
FROM per_caller h
GROUP BY h.source, h.medium, h.campaign, h.term
ORDER BY received DESC, h.source, h.medium, h.campaign, h.term)";
  report.summary_columns = {column("tracked_calls", kInteger), column("inbound_calls", kInteger),
                            column("tracked_share", kDecimal)};
  report.summary = R"(
SELECT t.calls, i.calls, round(t.calls::numeric / NULLIF(i.calls, 0), 4)
FROM (SELECT count(*) AS calls FROM tracked) t,
     (SELECT coalesce(sum(received), 0) AS calls FROM inbound_hours) i)";
  return report;
}

// Target calls, as 0014's trigger keeps them (target_calls): each client's first call of a deal,
// the deals chained through the client's whole history. In the period and passing the filters
// (a deal begun on another number still covers the client's calls to this one).
ReportQuery targetReport() {
  ReportQuery report;
  report.listing = true;
  report.columns = {column("call_id", kText),      column("started_at", kTime),
                    column("caller", kText),       column("number", kText),
                    column("talk_seconds", kInteger), column("answered_by", kText),
                    column("utm_source", kText),   column("utm_medium", kText),
                    column("utm_campaign", kText), column("keyword", kText)};
  report.rows = R"(
SELECT t.call_id, )" + localTime("t.started_at") + R"(, t.caller, t.number, t.talk_seconds, t.answered_by,
       t.utm_source, t.utm_medium, t.utm_campaign, t.utm_term
FROM stored_targets t
ORDER BY t.started_at, t.call_id
LIMIT (SELECT row_limit + 1 FROM params))";
  report.summary_columns = {column("target_calls", kInteger), column("clients", kInteger),
                            column("tracked_target_calls", kInteger)};
  report.summary = R"(
SELECT count(*), count(DISTINCT caller), count(*) FILTER (WHERE utm_source <> '') FROM stored_targets)";
  return report;
}

// Target calls from the calls themselves, for a request filtered by extension (which
// target_calls does not keep) or while the tenant's stored ones are stale: the same chain, picked
// by ReportStore (pickTargetCalls) from every candidate up to the period's end, by client and
// time: the answered inbound calls with a talk time within the bounds.
ReportQuery targetFromCallsReport() {
  ReportQuery report = targetReport();
  report.summary.clear();
  report.picks_deals = true;
  report.rows = R"(
SELECT c.call_id, )" + localTime("c.started_at") + R"(, c.caller, c.called, c.talk_seconds, c.answered_by,
       c.utm_source, c.utm_medium, c.utm_campaign, c.utm_term,
       c.started_at >= $2::date::timestamptz AND)" + kFilters + R"( AS listed,
       (extract(epoch FROM c.started_at) * 1000000)::bigint AS started_us
FROM params, calls c
WHERE c.tenant_id = $1::uuid AND c.complete AND c.direction = 1 AND c.disposition = 1 AND c.caller <> ''
  AND c.talk_seconds > {min_talk} AND c.talk_seconds < {max_talk}
  AND c.started_at < ($3::date + 1)::timestamptz
ORDER BY c.caller, c.started_at, c.call_id)";
  return report;
}

// Calls per category of the tenant (all directions), with what they are worth: the category's
// value per call. A category deleted since counts as uncategorized.
ReportQuery categoriesReport() {
  ReportQuery report;
  report.columns = {column("category_id", kText), column("category", kText),
                    column("value_per_call", kDecimal), column("calls", kInteger),
                    column("answered", kInteger), column("talk_seconds", kInteger),
                    column("value", kDecimal)};
  report.rows = R"(,
per_category AS (
  SELECT k.id AS category, k.name AS category_name, k.value AS category_value,
         GROUPING(k.id) = 1 AS total, coalesce(sum(t.calls), 0) AS calls,
         coalesce(sum(t.answered), 0) AS answered, coalesce(sum(t.talk_seconds), 0) AS talk_seconds,
         coalesce(sum(t.calls * k.value), 0) AS value,
         coalesce(sum(t.calls) FILTER (WHERE k.id IS NOT NULL), 0) AS categorized
  FROM category_totals t LEFT JOIN call_categories k ON k.id = t.category_id
  GROUP BY GROUPING SETS ((k.id, k.name, k.value), ()))
SELECT category::text, coalesce(category_name, ''), coalesce(category_value, 0)::float8, calls,
       answered, talk_seconds, value::float8, total
FROM per_category WHERE NOT total
UNION ALL
SELECT NULL, NULL, NULL, calls, categorized, value::float8, NULL, total FROM per_category WHERE total
ORDER BY 8, 2)";
  report.summary_columns = {column("calls", kInteger), column("categorized_calls", kInteger),
                            column("value", kDecimal)};
  report.summary_in_last_row = 3;
  return report;
}

const ReportQuery& targetFromCalls() {
  static const ReportQuery kTargetFromCalls = targetFromCallsReport();
  return kTargetFromCalls;
}

const ReportQuery* queryFor(v1::ReportKind kind) {
  static const ReportQuery kIncoming = incomingReport();
  static const ReportQuery kDistribution = distributionReport();
  static const ReportQuery kMissed = missedReport();
  static const ReportQuery kEmployees = employeesReport();
  static const ReportQuery kAds = adsReport();
  static const ReportQuery kTarget = targetReport();
  static const ReportQuery kCategories = categoriesReport();
  switch (kind) {
    case v1::REPORT_KIND_INCOMING: return &kIncoming;
    case v1::REPORT_KIND_DISTRIBUTION: return &kDistribution;
    case v1::REPORT_KIND_MISSED: return &kMissed;
    case v1::REPORT_KIND_EMPLOYEES: return &kEmployees;
    case v1::REPORT_KIND_ADS: return &kAds;
    case v1::REPORT_KIND_TARGET: return &kTarget;
    case v1::REPORT_KIND_CATEGORIES: return &kCategories;
    default: return nullptr;
  }
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

v1::ReportSettings loadSettings(pqxx::work& txn, const std::string& tenant_id) {
  v1::ReportSettings settings;
  settings.set_target_min_talk_seconds(kDefaultTargetMinTalk);
  settings.set_target_max_talk_seconds(kDefaultTargetMaxTalk);
  settings.set_deal_window_days(kDefaultDealWindowDays);
  const pqxx::result row = txn.exec_params(
      "SELECT target_min_talk_seconds, target_max_talk_seconds, deal_window_days"
      " FROM report_settings WHERE tenant_id = $1",
      tenant_id);
  if (!row.empty()) {
    settings.set_target_min_talk_seconds(row[0][0].as<int>());
    settings.set_target_max_talk_seconds(row[0][1].as<int>());
    settings.set_deal_window_days(row[0][2].as<int>());
  }
  return settings;
}

// The settings written into the target report's query (integers from the database, checked).
std::string withSettings(std::string sql, const v1::ReportSettings& settings) {
  for (const auto& [name, value] :
       {std::pair{"{min_talk}", settings.target_min_talk_seconds()},
        std::pair{"{max_talk}", settings.target_max_talk_seconds()}}) {
    sql.replace(sql.find(name), std::string_view(name).size(), std::to_string(value));
  }
  return sql;
}

// Each client's deals, in time order: a deal begins with a candidate call at least a deal window
// after the previous deal's beginning, and that call is the deal's target call. Listed ones (in the
// period, passing the filters) become rows, in time order; the summary counts them all, past the
// row limit too.
void pickTargetCalls(const pqxx::result& candidates, const v1::ReportSettings& settings,
                     const ReportQuery& query, int max_rows, v1::ReportTable* out) {
  const int listed_column = static_cast<int>(query.columns.size());
  const int64_t window_us = int64_t{settings.deal_window_days()} * 86400 * 1000000;
  std::string client;
  std::optional<int64_t> deal_began;
  int64_t tracked = 0;
  std::set<std::string> clients;
  std::vector<std::pair<int64_t, int>> listed;  // (start, row) of the target calls to show
  for (const auto& row : candidates) {
    const std::string caller = row[2].as<std::string>();
    const int64_t started_us = row[listed_column + 1].as<int64_t>();
    if (caller != client) {
      client = caller;
      deal_began.reset();
    }
    if (deal_began && started_us < *deal_began + window_us) continue;
    deal_began = started_us;
    if (!row[listed_column].as<bool>()) continue;
    clients.insert(caller);
    if (!row[6].as<std::string>().empty()) ++tracked;
    listed.emplace_back(started_us, static_cast<int>(row.rownumber()));
  }
  std::sort(listed.begin(), listed.end());
  for (const auto& [started_us, index] : listed) {
    if (out->rows_size() == max_rows) {
      out->set_truncated(true);
      break;
    }
    auto* target = out->add_rows();
    for (size_t i = 0; i < query.columns.size(); ++i) {
      *target->add_values() = cell(candidates[index][static_cast<int>(i)], query.columns[i].type());
    }
  }
  const auto targets = static_cast<int64_t>(listed.size());
  for (const auto& [c, value] : {std::pair{0, targets}, std::pair{1, static_cast<int64_t>(clients.size())},
                                 std::pair{2, tracked}}) {
    auto* field = out->add_summary();
    *field->mutable_column() = query.summary_columns[static_cast<size_t>(c)];
    field->mutable_value()->set_integer(value);
  }
}

constexpr const char* kCustomReportColumns =
    "id::text, name, direction, disposition, numbers, extensions, sources,"
    " coalesce(category_id::text, ''), columns";


void mapCustomReport(const pqxx::row& row, v1::CustomReport* out) {
  out->set_id(row[0].as<std::string>());
  out->set_name(row[1].as<std::string>());
  out->set_direction(nameOfCode(kDirectionNames, row[2].as<int>()));
  out->set_disposition(nameOfCode(kDispositionNames, row[3].as<int>()));
  pg::appendTextArray(row[4], out->mutable_numbers());
  pg::appendTextArray(row[5], out->mutable_extensions());
  pg::appendTextArray(row[6], out->mutable_sources());
  out->set_category_id(row[7].as<std::string>());
  pg::appendTextArray(row[8], out->mutable_columns());
}

// The query of a saved report: its columns of the period's calls that pass its filters (the list
// filters through `params`, filled from the report), newest first, one row past the limit to tell
// that more matched.
ReportQuery customQuery(pqxx::work& txn, const v1::CustomReport& report) {
  ReportQuery query;
  query.listing = true;
  std::string select;
  for (const auto& name : report.columns()) {
    const CustomColumn* column = customColumnNamed(name);
    if (column == nullptr) continue;  // checked when saved; a column dropped since is left out
    v1::Column out;
    out.set_name(column->name);
    out.set_type(column->type);
    query.columns.push_back(out);
    select += (select.empty() ? "" : ", ") + column->sql;
  }
  std::string where = kFilters;
  if (!report.direction().empty()) {
    where += " AND c.direction = " + std::to_string(codeNamed(kDirectionNames, report.direction()));
  }
  if (!report.disposition().empty()) {
    where += " AND c.disposition = " + std::to_string(codeNamed(kDispositionNames, report.disposition()));
  }
  if (!report.category_id().empty()) where += " AND c.category_id = " + txn.quote(report.category_id()) + "::uuid";
  query.rows = "\nSELECT " + select +
               "\nFROM params, period_calls c LEFT JOIN call_categories k ON k.id = c.category_id"
               "\nWHERE " + where +
               "\nORDER BY c.started_at DESC, c.call_id DESC"
               "\nLIMIT (SELECT row_limit + 1 FROM params)";
  return query;
}

}  // namespace

grpc::Status ReportStore::createCustomReport(const v1::CreateCustomReportRequest& request,
                                             v1::CustomReport* out) {
  if (auto status = checkCustomReport(request.report()); !status.ok()) return status;
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      const auto& report = request.report();
      const pqxx::result row = txn.exec_params(
          std::string("INSERT INTO custom_reports (tenant_id, name, direction, disposition, numbers,"
                      " extensions, sources, category_id, columns)"
                      " VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7::text[], NULLIF($8, '')::uuid, $9::text[])"
                      " ON CONFLICT (tenant_id, name) DO NOTHING RETURNING ") + kCustomReportColumns,
          request.tenant_id(), report.name(), codeNamed(kDirectionNames, report.direction()),
          codeNamed(kDispositionNames, report.disposition()), pg::arrayLiteral(report.numbers()),
          pg::arrayLiteral(report.extensions()), pg::arrayLiteral(report.sources()), report.category_id(), pg::arrayLiteral(report.columns()));
      if (row.empty()) {
        status = grpc_util::alreadyExists("name", "a custom report with this name exists");
        return;
      }
      mapCustomReport(row[0], out);
    });
    return status;
  });
}

grpc::Status ReportStore::listCustomReports(const std::string& tenant_id, v1::ListCustomReportsResponse* out) {
  return guardedDatabaseWork([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      for (const auto& row : txn.exec(std::string("SELECT ") + kCustomReportColumns +
                                       " FROM custom_reports ORDER BY name LIMIT 500")) {
        mapCustomReport(row, out->add_reports());
      }
    });
    return grpc::Status::OK;
  });
}

grpc::Status ReportStore::getCustomReport(const v1::CustomReportRef& ref, v1::CustomReport* out) {
  if (!isUuid(ref.id())) return grpc_util::notFound("custom report");
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(ref.tenant_id(), [&](pqxx::work& txn) {
      const pqxx::result row = txn.exec_params(
          std::string("SELECT ") + kCustomReportColumns + " FROM custom_reports WHERE id = $1", ref.id());
      if (row.empty()) {
        status = grpc_util::notFound("custom report");
        return;
      }
      mapCustomReport(row[0], out);
    });
    return status;
  });
}

grpc::Status ReportStore::deleteCustomReport(const v1::CustomReportRef& ref) {
  return deleteById(*pool_, ref.tenant_id(), "custom_reports", ref.id(), "custom report");
}

grpc::Status ReportStore::settings(const std::string& tenant_id, v1::ReportSettings* out) {
  pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) { *out = loadSettings(txn, tenant_id); });
  return grpc::Status::OK;
}

grpc::Status ReportStore::updateSettings(const v1::UpdateReportSettingsRequest& request,
                                         v1::ReportSettings* out) {
  grpc::Status status;
  pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
    const v1::ReportSettings before = loadSettings(txn, request.tenant_id());
    v1::ReportSettings settings = before;
    if (request.has_target_min_talk_seconds()) settings.set_target_min_talk_seconds(request.target_min_talk_seconds());
    if (request.has_target_max_talk_seconds()) settings.set_target_max_talk_seconds(request.target_max_talk_seconds());
    if (request.has_deal_window_days()) settings.set_deal_window_days(request.deal_window_days());
    status = checkSettings(settings);
    if (!status.ok()) return;
    txn.exec_params(
        "INSERT INTO report_settings (tenant_id, target_min_talk_seconds, target_max_talk_seconds,"
        " deal_window_days) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id) DO UPDATE SET"
        " target_min_talk_seconds = EXCLUDED.target_min_talk_seconds,"
        " target_max_talk_seconds = EXCLUDED.target_max_talk_seconds,"
        " deal_window_days = EXCLUDED.deal_window_days, updated_at = now()",
        request.tenant_id(), settings.target_min_talk_seconds(), settings.target_max_talk_seconds(),
        settings.deal_window_days());
    // Target calls follow the settings: a change makes the stored ones stale until the rollup
    // maintainer has recomputed them; reports read the calls meanwhile.
    if (settings.SerializeAsString() != before.SerializeAsString()) {
      txn.exec_params("UPDATE report_settings SET settings_version = settings_version + 1 WHERE tenant_id = $1",
                      request.tenant_id());
    }
    *out = settings;
  });
  return status;
}

grpc::Status ReportStore::run(const v1::ReportRequest& request, v1::ReportTable* out) {
  const bool custom = request.kind() == v1::REPORT_KIND_CUSTOM;
  const ReportQuery* query = custom ? nullptr : queryFor(request.kind());
  if (!custom && query == nullptr) return grpc_util::invalidArgument("report", "unknown report");
  if (custom) {
    if (!isUuid(request.custom_report_id())) return grpc_util::notFound("custom report");
    const auto& asked = request.filter();
    if (!asked.numbers().empty() || !asked.extensions().empty() || !asked.sources().empty() ||
        asked.unprocessed_only()) {
      return grpc_util::invalidArgument("report", "a custom report's filters are saved with it; give the period only");
    }
  } else if (auto status = checkFilter(request.kind(), request.filter()); !status.ok()) {
    return status;
  }

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
      // Reports aggregate many rows once: sorts and hashes in memory, and no JIT compilation,
      // which costs more (hundreds of milliseconds) than it saves on these queries.
      txn.exec("SET LOCAL TIME ZONE " + txn.quote(timezone) + "; SET LOCAL statement_timeout = " +
               std::to_string(limits_.statement_timeout.count()) +
               "; SET LOCAL work_mem = '64MB'; SET LOCAL jit = off");

      // A custom report brings its own columns and filters.
      v1::ReportFilter filter = request.filter();
      ReportQuery custom_query;
      if (custom) {
        const pqxx::result saved = txn.exec_params(
            std::string("SELECT ") + kCustomReportColumns + " FROM custom_reports WHERE id = $1",
            request.custom_report_id());
        if (saved.empty()) {
          status = grpc_util::notFound("custom report");
          return;
        }
        v1::CustomReport report;
        mapCustomReport(saved[0], &report);
        *filter.mutable_numbers() = report.numbers();
        *filter.mutable_extensions() = report.extensions();
        *filter.mutable_sources() = report.sources();
        custom_query = customQuery(txn, report);
        query = &custom_query;
      }
      if (request.kind() == v1::REPORT_KIND_TARGET) {
        const bool stale = txn.exec_params(
            "SELECT coalesce((SELECT settings_version <> target_calls_version FROM report_settings"
            " WHERE tenant_id = $1), false)", request.tenant_id())[0][0].as<bool>();
        if (stale || !filter.extensions().empty()) query = &targetFromCalls();
      }
      // Local days and hours are whole UTC hours when every offset of the period is.
      const bool whole_hour_zone =
          txn.exec_params("SELECT bool_and(extract(timezone FROM d)::integer % 3600 = 0)"
                          " FROM generate_series($1::date::timestamptz, ($2::date + 1)::timestamptz,"
                          " interval '1 day') d",
                          formatDay(period.first_day), formatDay(period.last_day))[0][0]
              .as<bool>();
      const std::string prelude = kPrelude + derivedTables(filter, whole_hour_zone);
      const auto execute = [&](const std::string& body) {
        return txn.exec_params(prelude + body, request.tenant_id(), formatDay(period.first_day),
                               formatDay(period.last_day), pg::arrayLiteral(filter.numbers()),
                               pg::arrayLiteral(filter.extensions()), filter.unprocessed_only(),
                               limits_.max_rows, pg::arrayLiteral(filter.sources()));
      };
      out->set_timezone(timezone);
      out->set_from_date(formatDay(period.first_day));
      out->set_to_date(formatDay(period.last_day));
      for (const auto& c : query->columns) *out->add_columns() = c;
      if (query->picks_deals) {
        const v1::ReportSettings settings = loadSettings(txn, request.tenant_id());
        pickTargetCalls(execute(withSettings(query->rows, settings)), settings, *query, limits_.max_rows, out);
        return;
      }
      const pqxx::result rows = execute(query->rows);
      const size_t summary_row =
          query->summary_in_last_row > 0 && !rows.empty() ? rows.size() - 1 : rows.size();
      for (size_t i = 0; summary_row < rows.size() && i < query->summary_columns.size(); ++i) {
        auto* field = out->add_summary();
        *field->mutable_column() = query->summary_columns[i];
        *field->mutable_value() =
            cell(rows[static_cast<int>(summary_row)][static_cast<int>(i) + query->summary_in_last_row],
                 query->summary_columns[i].type());
      }
      for (size_t r = 0; r < summary_row; ++r) {
        const auto& row = rows[static_cast<int>(r)];
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
