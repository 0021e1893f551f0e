#include "cdr_store.h"

#include <charconv>
#include <map>
#include <optional>
#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "tel/crypto/crypto.h"
#include "tel/events/call_events.h"
#include "tel/grpc/status.h"

namespace tel::cdr {
namespace {

using grpc::Status;

// COPY rows are written as text; nullopt becomes NULL.
using Field = std::optional<std::string>;

// COPYs rows of exactly `Columns` fields into `table` (libpqxx 6 streams tuples only).
template <size_t Columns>
void copyRows(pqxx::work& txn, const std::string& table,
              const std::vector<std::vector<Field>>& rows) {
  pqxx::stream_to stream(txn, table);
  for (const auto& row : rows) {
    if (row.size() != Columns) throw std::logic_error("copyRows: wrong column count for " + table);
    auto pointer = [&](size_t i) { return row[i] ? row[i]->c_str() : nullptr; };
    stream << [&]<size_t... I>(std::index_sequence<I...>) { return std::make_tuple(pointer(I)...); }
    (std::make_index_sequence<Columns>{});
  }
  stream.complete();
}

int64_t toMicros(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000 + time.nanos() / 1000;
}
Field micros(const google::protobuf::Timestamp& time, bool present) {
  if (!present) return std::nullopt;
  return std::to_string(toMicros(time));
}
Field text(const std::string& value) { return value; }
Field number(uint64_t value) { return std::to_string(value); }

// SQL that turns a bigint of microseconds since the epoch into timestamptz.
std::string fromMicros(const std::string& column) {
  return "CASE WHEN " + column + " IS NULL THEN NULL ELSE 'epoch'::timestamptz + " + column +
         " * interval '1 microsecond' END";
}

// A FROM item with one row per call id, named touched(call_id). Joined LATERAL to a subquery that
// matches (tenant_id, call_id) by equality, each call becomes one probe of call_events' key.
// "tenant_id = t AND call_id IN (...)" does not do that: while the statistics still say a tenant
// is small (a new tenant, or any burst before autoanalyze catches up) the planner scans the
// tenant's whole index range and filters by call id, so each batch cost O(events of the tenant).
// (calls is not probed this way: with several indexes led by tenant_id and a tenant believed
// empty, the planner picks any of them and filters.) OFFSET 0 keeps the subquery from being
// flattened into a join the planner could hash instead.
std::string eachCall(pqxx::work& txn, const std::set<std::string>& call_ids) {
  std::string list;
  for (const auto& value : call_ids) list += (list.empty() ? "" : ",") + txn.quote(value);
  return "unnest(ARRAY[" + list + "]::text[]) AS touched(call_id)";
}

void setTimeFromMicros(int64_t value, google::protobuf::Timestamp* out) {
  out->set_seconds(value / 1000000);
  out->set_nanos(static_cast<int32_t>((value % 1000000) * 1000));
}

void setTimeFromColumn(const pqxx::field& field, google::protobuf::Timestamp* out) {
  setTimeFromMicros(field.as<int64_t>(), out);
}

constexpr const char* kCallColumns =
    "call_id, tenant_id::text, direction, caller, called, number_id, caller_account_id,"
    " (extract(epoch FROM started_at) * 1000000)::bigint,"
    " (extract(epoch FROM answered_at) * 1000000)::bigint,"
    " (extract(epoch FROM ended_at) * 1000000)::bigint,"
    " ring_seconds, talk_seconds, disposition, hangup_side, sip_status, cause, answered_leg_id,"
    " answered_by, caller_packets_in, caller_packets_out, caller_bytes_in, caller_bytes_out,"
    " events, complete, attributed, coalesce(tracking_session_id::text, ''), utm_source,"
    " utm_medium, utm_campaign, utm_term, utm_content, referrer, landing_page,"
    " coalesce(category_id::text, ''),"
    " coalesce((SELECT k.name FROM call_categories k WHERE k.id = calls.category_id), ''),"
    " category_set_by, route::text, coalesce(recording::text, ''), voicemail_box,"
    " (extract(epoch FROM voicemail_heard_at) * 1000000)::bigint";

// The call's route (its way through the dial plan) as the jsonb array stored in calls.route.
std::string routeJson(const v1::CallRecord& call) {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& step : call.route()) {
    steps.push_back({{"node", step.node()},
                     {"type", step.type()},
                     {"outcome", step.outcome()},
                     {"detail", step.detail()},
                     {"plan_version", step.plan_version()},
                     {"account_id", step.account_id()},
                     {"at_us", toMicros(step.at())}});
  }
  // Steps arrive in protobuf strings (UTF-8 checked on parse); a bad byte must still never fail a batch.
  return steps.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The call's recording as the jsonb object stored in calls.recording; empty (NULL) without one.
std::string recordingJson(const v1::CallRecord& call) {
  if (!call.has_recording()) return "";
  const auto& recording = call.recording();
  return nlohmann::json{{"file", recording.file()},
                        {"duration_ms", recording.duration_ms()},
                        {"bytes", recording.bytes()},
                        {"channels", recording.channels()},
                        {"voicemail", recording.voicemail()}}
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void readRecording(const std::string& text, v1::CallRecord* out) {
  if (text.empty()) return;
  const auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return;
  auto* recording = out->mutable_recording();
  recording->set_file(value.value("file", ""));
  recording->set_duration_ms(value.value("duration_ms", uint32_t{0}));
  recording->set_bytes(value.value("bytes", uint64_t{0}));
  recording->set_expired(value.contains("expired_at"));
  recording->set_channels(value.value("channels", uint32_t{2}));  // stored before mono files existed: stereo
  recording->set_voicemail(value.value("voicemail", false));
}

void readRoute(const std::string& text, v1::CallRecord* out) {
  const auto steps = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!steps.is_array()) return;
  for (const auto& item : steps) {
    auto* step = out->add_route();
    step->set_node(item.value("node", ""));
    step->set_type(item.value("type", ""));
    step->set_outcome(item.value("outcome", ""));
    step->set_detail(item.value("detail", ""));
    step->set_plan_version(item.value("plan_version", int64_t{0}));
    step->set_account_id(item.value("account_id", ""));
    // Steps stored before their times were kept have none.
    if (const int64_t at = item.value("at_us", int64_t{0}); at != 0) setTimeFromMicros(at, step->mutable_at());
  }
}

void mapCall(const pqxx::row& row, v1::CallRecord* out) {
  out->set_call_id(row[0].as<std::string>());
  out->set_tenant_id(row[1].as<std::string>());
  out->set_direction(static_cast<v1::Direction>(row[2].as<int>()));
  out->set_caller(row[3].as<std::string>());
  out->set_called(row[4].as<std::string>());
  out->set_number_id(row[5].as<std::string>());
  out->set_caller_account_id(row[6].as<std::string>());
  setTimeFromColumn(row[7], out->mutable_started_at());
  if (!row[8].is_null()) setTimeFromColumn(row[8], out->mutable_answered_at());
  if (!row[9].is_null()) setTimeFromColumn(row[9], out->mutable_ended_at());
  out->set_ring_seconds(row[10].as<uint32_t>());
  out->set_talk_seconds(row[11].as<uint32_t>());
  out->set_disposition(static_cast<v1::Disposition>(row[12].as<int>()));
  out->set_hangup_side(static_cast<v1::Side>(row[13].as<int>()));
  out->set_sip_status(row[14].as<uint32_t>());
  out->set_cause(row[15].as<std::string>());
  out->set_answered_leg_id(row[16].as<std::string>());
  out->set_answered_by(row[17].as<std::string>());
  out->mutable_caller_media()->set_packets_in(row[18].as<uint64_t>());
  out->mutable_caller_media()->set_packets_out(row[19].as<uint64_t>());
  out->mutable_caller_media()->set_bytes_in(row[20].as<uint64_t>());
  out->mutable_caller_media()->set_bytes_out(row[21].as<uint64_t>());
  out->set_events(row[22].as<uint64_t>());
  out->set_complete(row[23].as<bool>());
  if (row[24].as<bool>()) {
    auto* source = out->mutable_source();
    source->set_session_id(row[25].as<std::string>());
    source->set_utm_source(row[26].as<std::string>());
    source->set_utm_medium(row[27].as<std::string>());
    source->set_utm_campaign(row[28].as<std::string>());
    source->set_utm_term(row[29].as<std::string>());
    source->set_utm_content(row[30].as<std::string>());
    source->set_referrer(row[31].as<std::string>());
    source->set_landing_page(row[32].as<std::string>());
  }
  // A category deleted since leaves the call uncategorized.
  if (!row[34].as<std::string>().empty()) {
    out->set_category_id(row[33].as<std::string>());
    out->set_category(row[34].as<std::string>());
  }
  out->set_category_set_by(row[35].as<std::string>());
  readRoute(row[36].as<std::string>(), out);
  readRecording(row[37].as<std::string>(), out);
  out->set_voicemail_box(row[38].as<std::string>());
  if (!row[39].is_null()) setTimeFromColumn(row[39], out->mutable_voicemail_heard_at());
  setQueueVisits(out);
}

bool isUuid(const std::string& text) {
  static const std::regex kUuid(
      R"(^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)");
  return std::regex_match(text, kUuid);
}

Status guarded(const std::function<Status()>& body) {
  try {
    return body();
  } catch (const pqxx::broken_connection&) {
    return Status(grpc::StatusCode::UNAVAILABLE, "database unavailable");
  } catch (const pqxx::sql_error&) {
    return Status(grpc::StatusCode::INTERNAL, "database error");
  } catch (const std::runtime_error& e) {
    return Status(grpc::StatusCode::UNAVAILABLE, std::string("database: ") + e.what());
  }
}

}  // namespace

std::string storedEventsQuery(pqxx::work& txn, const std::string& tenant_id,
                              const std::set<std::string>& call_ids) {
  // Rows this transaction wrote carry its id in xmin and are left out (no savepoints are used, so
  // there is one such id); an overlap would be harmless anyway, since the projection counts each
  // event id once.
  return "SELECT e.call_id, e.event_id, e.sequence,"
         " (extract(epoch FROM e.occurred_at) * 1000000)::bigint, e.payload FROM " +
         eachCall(txn, call_ids) +
         " CROSS JOIN LATERAL (SELECT * FROM call_events WHERE tenant_id = " +
         txn.quote(tenant_id) +
         " AND call_id = touched.call_id"
         " AND xmin <> (pg_current_xact_id()::text::bigint % 4294967296)::text::xid OFFSET 0) e";
}

CdrStore::CdrStore(std::shared_ptr<pg::ConnectionPool> pool) : pool_(std::move(pool)) {}

BatchResult CdrStore::writeBatch(const std::vector<IncomingEvent>& events) {
  std::map<std::string, std::vector<const IncomingEvent*>> by_tenant;
  for (const auto& event : events) by_tenant[event.tenant_id].push_back(&event);
  BatchResult total;
  pool_->inTransaction([&](pqxx::work& txn) {
    // Short key-based statements: compiling them (JIT) costs more than it could ever save.
    txn.exec("SET LOCAL jit = off");
    txn.exec(
        "CREATE TEMP TABLE IF NOT EXISTS incoming_events (tenant_id uuid, event_id text,"
        " call_id text, sequence bigint, type text, occurred_micros bigint, payload bytea)"
        " ON COMMIT DELETE ROWS");
    // Staging tables carry times as microseconds since the epoch (bigint); the upserts convert.
    txn.exec(
        "CREATE TEMP TABLE IF NOT EXISTS incoming_call_rows (tenant_id uuid, call_id text,"
        " direction smallint, caller text, called text, number_id text, caller_account_id text,"
        " started bigint, answered bigint, ended bigint, ring_seconds integer, talk_seconds "
        "integer,"
        " disposition smallint, hangup_side smallint, sip_status integer, cause text,"
        " answered_leg_id text, answered_by text, caller_packets_in bigint, caller_packets_out "
        "bigint,"
        " caller_bytes_in bigint, caller_bytes_out bigint, events integer, complete boolean, route text,"
        " recording text, voicemail_box text)"
        " ON COMMIT DELETE ROWS");
    txn.exec(
        "CREATE TEMP TABLE IF NOT EXISTS incoming_leg_rows (tenant_id uuid, call_id text, leg_id "
        "text,"
        " position integer, target_kind smallint, target text, account_id text, extension text,"
        " created bigint, ringing bigint, answered bigint, ended bigint, sip_status integer,"
        " end_reason text, packets_in bigint, packets_out bigint, bytes_in bigint, bytes_out "
        "bigint)"
        " ON COMMIT DELETE ROWS");
    total = BatchResult{};  // the transaction may run again: count only the attempt that commits
    for (const auto& [tenant_id, tenant_events] : by_tenant) {
      BatchResult result = writeTenant(txn, tenant_id, tenant_events);
      total.new_events += result.new_events;
      total.calls_updated += result.calls_updated;
      for (auto& completed : result.completed) total.completed.push_back(std::move(completed));
    }
  });
  return total;
}

BatchResult CdrStore::writeTenant(pqxx::work& txn, const std::string& tenant_id,
                                  const std::vector<const IncomingEvent*>& events) {
  BatchResult result;
  txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant_id);
  txn.exec("DELETE FROM incoming_events");

  std::vector<std::vector<Field>> rows;
  rows.reserve(events.size());
  for (const auto* event : events) {
    rows.push_back({text(event->tenant_id), text(event->record.event_id), text(event->call_id),
                    number(event->record.sequence), text(event->type),
                    std::to_string(event->record.occurred_micros),
                    "\\x" + crypto::toHex(event->payload)});
  }
  copyRows<7>(txn, "incoming_events", rows);

  // New events only; the calls they belong to are the ones to recompute.
  std::set<std::string> touched;
  std::set<std::string> ended_now;  // calls whose end is among the new events
  for (const auto& row :
       txn.exec("INSERT INTO call_events (tenant_id, event_id, call_id, sequence, type, "
                "occurred_at, payload)"
                " SELECT DISTINCT ON (call_id, event_id) tenant_id, event_id, call_id, sequence, "
                "type, " +
                fromMicros("occurred_micros") +
                ", payload FROM incoming_events"
                " ON CONFLICT (tenant_id, call_id, event_id) DO NOTHING RETURNING call_id, type")) {
    touched.insert(row[0].as<std::string>());
    if (row[1].as<std::string>() == events::kCallEndedType)
      ended_now.insert(row[0].as<std::string>());
    ++result.new_events;
  }
  if (touched.empty()) return result;

  // A touched call's events: this batch's (in memory) and those stored by earlier transactions.
  std::map<std::string, std::vector<CallEventRecord>> by_call;
  for (const auto* event : events) {
    if (touched.contains(event->call_id)) by_call[event->call_id].push_back(event->record);
  }
  const pqxx::result stored = txn.exec(storedEventsQuery(txn, tenant_id, touched));
  for (const auto& row : stored) {
    CallEventRecord record;
    record.event_id = row[1].as<std::string>();
    record.sequence = row[2].as<uint64_t>();
    record.occurred_micros = row[3].as<int64_t>();
    const pqxx::binarystring payload(row[4]);
    record.event.ParseFromString(payload.str());
    by_call[row[0].as<std::string>()].push_back(std::move(record));
  }

  std::vector<std::vector<Field>> call_rows;
  std::vector<std::vector<Field>> leg_rows;
  for (auto& [call_id, call_events] : by_call) {
    const v1::CallRecord call = projectCall(tenant_id, call_id, std::move(call_events));
    if (ended_now.contains(call_id)) {
      CompletedCall completed{tenant_id, call.disposition(), std::nullopt};
      if (call.has_answered_at() && call.has_started_at()) {
        completed.ring_seconds =
            static_cast<double>(call.answered_at().seconds() - call.started_at().seconds()) +
            (call.answered_at().nanos() - call.started_at().nanos()) / 1e9;
      }
      result.completed.push_back(std::move(completed));
    }
    const auto& media = call.caller_media();
    call_rows.push_back({text(tenant_id),
                         text(call_id),
                         number(call.direction()),
                         text(call.caller()),
                         text(call.called()),
                         text(call.number_id()),
                         text(call.caller_account_id()),
                         micros(call.started_at(), true),
                         micros(call.answered_at(), call.has_answered_at()),
                         micros(call.ended_at(), call.has_ended_at()),
                         number(call.ring_seconds()),
                         number(call.talk_seconds()),
                         number(call.disposition()),
                         number(call.hangup_side()),
                         number(call.sip_status()),
                         text(call.cause()),
                         text(call.answered_leg_id()),
                         text(call.answered_by()),
                         number(media.packets_in()),
                         number(media.packets_out()),
                         number(media.bytes_in()),
                         number(media.bytes_out()),
                         number(call.events()),
                         text(call.complete() ? "t" : "f"),
                         routeJson(call),
                         recordingJson(call),
                         text(call.voicemail_box())});
    for (int i = 0; i < call.legs_size(); ++i) {
      const auto& leg = call.legs(i);
      leg_rows.push_back({text(tenant_id), text(call_id), text(leg.leg_id()), number(i),
                          number(leg.target_kind()), text(leg.target()), text(leg.account_id()),
                          text(leg.extension()), micros(leg.created_at(), leg.has_created_at()),
                          micros(leg.ringing_at(), leg.has_ringing_at()),
                          micros(leg.answered_at(), leg.has_answered_at()),
                          micros(leg.ended_at(), leg.has_ended_at()), number(leg.sip_status()),
                          text(leg.end_reason()), number(leg.media().packets_in()),
                          number(leg.media().packets_out()), number(leg.media().bytes_in()),
                          number(leg.media().bytes_out())});
    }
  }
  result.calls_updated = call_rows.size();

  // Staging tables carry times as microseconds since the epoch (bigint); the upserts convert.
  txn.exec("DELETE FROM incoming_call_rows");
  txn.exec("DELETE FROM incoming_leg_rows");
  copyRows<27>(txn, "incoming_call_rows", call_rows);
  copyRows<18>(txn, "incoming_leg_rows", leg_rows);
  // A call's legs only ever grow with its events (a leg id, once seen, stays), so an upsert keeps
  // them exact without deleting the old rows first. Legs go first: when a record completes, the
  // report rollups count it per SIP account from its legs (0013_report_rollups.sql).
  txn.exec(
      "INSERT INTO call_legs (tenant_id, call_id, leg_id, position, target_kind, target, "
      "account_id,"
      " extension, created_at, ringing_at, answered_at, ended_at, sip_status, end_reason,"
      " packets_in, packets_out, bytes_in, bytes_out)"
      " SELECT tenant_id, call_id, leg_id, position, target_kind, target, account_id, extension, " +
      fromMicros("created") + ", " + fromMicros("ringing") + ", " + fromMicros("answered") + ", " +
      fromMicros("ended") +
      ", sip_status, end_reason, packets_in, packets_out, bytes_in, bytes_out"
      " FROM incoming_leg_rows"
      " ON CONFLICT (tenant_id, call_id, leg_id) DO UPDATE SET position = EXCLUDED.position,"
      " target_kind = EXCLUDED.target_kind, target = EXCLUDED.target,"
      " account_id = EXCLUDED.account_id, extension = EXCLUDED.extension,"
      " created_at = EXCLUDED.created_at, ringing_at = EXCLUDED.ringing_at,"
      " answered_at = EXCLUDED.answered_at, ended_at = EXCLUDED.ended_at,"
      " sip_status = EXCLUDED.sip_status, end_reason = EXCLUDED.end_reason,"
      " packets_in = EXCLUDED.packets_in, packets_out = EXCLUDED.packets_out,"
      " bytes_in = EXCLUDED.bytes_in, bytes_out = EXCLUDED.bytes_out");
  txn.exec(
      "INSERT INTO calls (tenant_id, call_id, direction, caller, called, number_id, "
      "caller_account_id,"
      " started_at, answered_at, ended_at, ring_seconds, talk_seconds, disposition, hangup_side,"
      " sip_status, cause, answered_leg_id, answered_by, caller_packets_in, caller_packets_out,"
      " caller_bytes_in, caller_bytes_out, events, complete, route, recording, voicemail_box, updated_at)"
      " SELECT tenant_id, call_id, direction, caller, called, number_id, caller_account_id, " +
      fromMicros("started") + ", " + fromMicros("answered") + ", " + fromMicros("ended") +
      ", ring_seconds, talk_seconds, disposition, hangup_side, sip_status, cause, answered_leg_id,"
      " answered_by, caller_packets_in, caller_packets_out, caller_bytes_in, caller_bytes_out,"
      " events, complete, route::jsonb, NULLIF(recording, '')::jsonb, voicemail_box, now() FROM incoming_call_rows"
      " ON CONFLICT (tenant_id, call_id) DO UPDATE SET direction = EXCLUDED.direction,"
      " caller = EXCLUDED.caller, called = EXCLUDED.called, number_id = EXCLUDED.number_id,"
      " caller_account_id = EXCLUDED.caller_account_id, started_at = EXCLUDED.started_at,"
      " answered_at = EXCLUDED.answered_at, ended_at = EXCLUDED.ended_at,"
      " ring_seconds = EXCLUDED.ring_seconds, talk_seconds = EXCLUDED.talk_seconds,"
      " disposition = EXCLUDED.disposition, hangup_side = EXCLUDED.hangup_side,"
      " sip_status = EXCLUDED.sip_status, cause = EXCLUDED.cause,"
      " answered_leg_id = EXCLUDED.answered_leg_id, answered_by = EXCLUDED.answered_by,"
      " caller_packets_in = EXCLUDED.caller_packets_in, caller_packets_out = "
      "EXCLUDED.caller_packets_out,"
      " caller_bytes_in = EXCLUDED.caller_bytes_in, caller_bytes_out = EXCLUDED.caller_bytes_out,"
      " events = EXCLUDED.events, complete = EXCLUDED.complete, route = EXCLUDED.route,"
      // A recording the retention sweep deleted stays marked so, whatever late event comes.
      " recording = CASE WHEN calls.recording ? 'expired_at' THEN calls.recording ELSE EXCLUDED.recording END,"
      " voicemail_box = EXCLUDED.voicemail_box,"
      " updated_at = now()");
  return result;
}

grpc::Status CdrStore::listCalls(const v1::ListCallsRequest& request, v1::ListCallsResponse* out) {
  if (!isUuid(request.tenant_id()))
    return grpc_util::invalidArgument("tenant_id", "must be a tenant id");
  const int limit = request.limit() == 0 ? 50 : request.limit();
  if (limit < 1 || limit > 200)
    return grpc_util::invalidArgument("limit", "must be between 1 and 200");
  // Cursor: "<started micros>.<call id>" of the last call of the previous page.
  std::optional<std::pair<int64_t, std::string>> after;
  if (!request.page_token().empty()) {
    const auto dot = request.page_token().find('.');
    int64_t micros_value = 0;
    const auto& token = request.page_token();
    if (dot == std::string::npos ||
        std::from_chars(token.data(), token.data() + dot, micros_value).ec != std::errc()) {
      return grpc_util::invalidArgument("page_token", "is not a token from a previous page");
    }
    after.emplace(micros_value, token.substr(dot + 1));
  }
  return guarded([&] {
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      std::string where = "true";
      if (request.has_from())
        where += " AND started_at >= 'epoch'::timestamptz + " +
                 txn.quote(toMicros(request.from())) + " * interval '1 microsecond'";
      if (request.has_to())
        where += " AND started_at < 'epoch'::timestamptz + " + txn.quote(toMicros(request.to())) +
                 " * interval '1 microsecond'";
      if (request.direction() != v1::DIRECTION_UNSPECIFIED)
        where += " AND direction = " + txn.quote(static_cast<int>(request.direction()));
      if (request.disposition() != v1::DISPOSITION_UNSPECIFIED)
        where += " AND disposition = " + txn.quote(static_cast<int>(request.disposition()));
      if (!request.number().empty()) {
        where += " AND (caller = " + txn.quote(request.number()) +
                 " OR called = " + txn.quote(request.number()) + ")";
      }
      if (!request.extension().empty()) {
        where +=
            " AND EXISTS (SELECT 1 FROM call_legs l WHERE l.tenant_id = calls.tenant_id"
            " AND l.call_id = calls.call_id AND l.extension = " +
            txn.quote(request.extension()) + ")";
      }
      if (request.voicemails() || !request.voicemail_box().empty()) where += " AND voicemail_box <> ''";
      if (!request.voicemail_box().empty()) where += " AND voicemail_box = " + txn.quote(request.voicemail_box());
      if (request.unheard()) where += " AND voicemail_box <> '' AND voicemail_heard_at IS NULL";
      if (after) {
        where += " AND (started_at, call_id) < ('epoch'::timestamptz + " + txn.quote(after->first) +
                 " * interval '1 microsecond', " + txn.quote(after->second) + ")";
      }
      auto rows =
          txn.exec(std::string("SELECT ") + kCallColumns + " FROM calls WHERE " + where +
                   " ORDER BY started_at DESC, call_id DESC LIMIT " + std::to_string(limit + 1));
      const size_t shown = std::min(rows.size(), static_cast<size_t>(limit));
      for (size_t i = 0; i < shown; ++i) mapCall(rows[i], out->add_calls());
      if (rows.size() > shown) {
        const auto& last = out->calls(static_cast<int>(shown) - 1);
        out->set_next_page_token(std::to_string(toMicros(last.started_at())) + "." +
                                 last.call_id());
      }
    });
    return Status::OK;
  });
}

grpc::Status CdrStore::getCall(const std::string& tenant_id, const std::string& call_id,
                               v1::CallRecord* out) {
  if (!isUuid(tenant_id)) return grpc_util::invalidArgument("tenant_id", "must be a tenant id");
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          std::string("SELECT ") + kCallColumns + " FROM calls WHERE call_id = $1", call_id);
      if (rows.empty()) return;
      found = true;
      mapCall(rows[0], out);
      for (const auto& row :
           txn.exec_params("SELECT leg_id, target_kind, target, account_id, extension,"
                           " (extract(epoch FROM created_at) * 1000000)::bigint,"
                           " (extract(epoch FROM ringing_at) * 1000000)::bigint,"
                           " (extract(epoch FROM answered_at) * 1000000)::bigint,"
                           " (extract(epoch FROM ended_at) * 1000000)::bigint,"
                           " sip_status, end_reason, packets_in, packets_out, bytes_in, bytes_out"
                           " FROM call_legs WHERE call_id = $1 ORDER BY position",
                           call_id)) {
        auto* leg = out->add_legs();
        leg->set_leg_id(row[0].as<std::string>());
        leg->set_target_kind(static_cast<v1::LegTargetKind>(row[1].as<int>()));
        leg->set_target(row[2].as<std::string>());
        leg->set_account_id(row[3].as<std::string>());
        leg->set_extension(row[4].as<std::string>());
        if (!row[5].is_null()) setTimeFromColumn(row[5], leg->mutable_created_at());
        if (!row[6].is_null()) setTimeFromColumn(row[6], leg->mutable_ringing_at());
        if (!row[7].is_null()) setTimeFromColumn(row[7], leg->mutable_answered_at());
        if (!row[8].is_null()) setTimeFromColumn(row[8], leg->mutable_ended_at());
        leg->set_sip_status(row[9].as<uint32_t>());
        leg->set_end_reason(row[10].as<std::string>());
        leg->mutable_media()->set_packets_in(row[11].as<uint64_t>());
        leg->mutable_media()->set_packets_out(row[12].as<uint64_t>());
        leg->mutable_media()->set_bytes_in(row[13].as<uint64_t>());
        leg->mutable_media()->set_bytes_out(row[14].as<uint64_t>());
      }
      setQueueVisits(out);  // again, with the legs: an answering agent's account comes from them
    });
    return found ? Status::OK : grpc_util::notFound("call");
  });
}

grpc::Status CdrStore::markVoicemail(const v1::MarkVoicemailRequest& request, v1::CallRecord* out) {
  if (!isUuid(request.tenant_id())) return grpc_util::invalidArgument("tenant_id", "must be a tenant id");
  auto marked = guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      // Marking heard twice keeps the first time: "heard at" is when someone first listened.
      found = !txn.exec_params("UPDATE calls SET voicemail_heard_at = CASE WHEN $2"
                               " THEN coalesce(voicemail_heard_at, now()) END"
                               " WHERE call_id = $1 AND voicemail_box <> '' RETURNING call_id",
                               request.call_id(), request.heard())
                   .empty();
    });
    return found ? Status::OK : grpc_util::notFound("voicemail");
  });
  if (!marked.ok()) return marked;
  return getCall(request.tenant_id(), request.call_id(), out);
}

}  // namespace tel::cdr
