#include "live_queues.h"

#include <absl/strings/str_split.h>

#include <ctime>
#include <random>

namespace tel::queue {
namespace {

// ARGV[1] is always the tenant's key prefix "tq:{<tenant>}:"; every key a script touches is the
// tenant's, so all live in one hash slot.
constexpr const char* kJoin = R"lua(
local P, q, call, now = ARGV[1], ARGV[2], ARGV[3], ARGV[6]
local ck, wk = P .. 'c:' .. call, P .. 'w:' .. q
if redis.call('EXISTS', ck) == 1 then
  redis.call('HSET', ck, 'owner', ARGV[5], 'seen', now)
  local rank = redis.call('ZRANK', wk, call)
  local c = redis.call('HMGET', ck, 'joined', 'state')
  return {'rejoined', rank and (rank + 1) or 0, c[1] or now, c[2] or 'waiting'}
end
local max = tonumber(ARGV[7])
if max > 0 and redis.call('ZCARD', wk) >= max then return {'full', 0, now, 'none'} end
local joined = ARGV[8] ~= '' and ARGV[8] or now
redis.call('SET', P .. 'epoch', ARGV[9], 'NX')
-- Each level of priority goes before every caller of the levels below, whatever their wait.
local score = tonumber(joined) - tonumber(ARGV[10]) * 1e13
redis.call('HSET', ck, 'q', q, 'joined', joined, 'score', score, 'caller', ARGV[4], 'owner', ARGV[5], 'seen', now,
           'state', 'waiting', 'agents', '', 'agent', '')
redis.call('ZADD', wk, score, call)
return {'joined', redis.call('ZRANK', wk, call) + 1, joined, 'waiting'}
)lua";

// ARGV: prefix, queue, owner, now, stale_ms, strategy, ring_at_once, day, then account, penalty...
constexpr const char* kClaim = R"lua(
local P, q, owner, now, stale = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local strategy, n, day = ARGV[6], tonumber(ARGV[7]), ARGV[8]
local wk = P .. 'w:' .. q
local head, ck
while true do
  local first = redis.call('ZRANGE', wk, 0, 0)
  if #first == 0 then return {} end
  head = first[1]
  ck = P .. 'c:' .. head
  if now - tonumber(redis.call('HGET', ck, 'seen') or '0') <= stale then break end
  redis.call('ZREM', wk, head)
  redis.call('DEL', ck)
end
if redis.call('HGET', ck, 'owner') ~= owner then return {} end
local members, free = {}, {}
for i = 9, #ARGV, 2 do
  local acc, pen = ARGV[i], tonumber(ARGV[i + 1])
  table.insert(members, acc)
  local a = redis.call('HMGET', P .. 'a:' .. acc, 'own', 'call', 'wrap_until', 'last_end', 'calls', 'day', 'rest_until')
  -- On a call the queue did not give it (its own, a direct one): not free.
  local elsewhere = redis.call('ZCOUNT', P .. 'x:' .. acc, now, '+inf') > 0
  if a[2] and a[2] ~= '' then
    -- The agent's caller is gone, or its instance has given no sign of life: the agent is free.
    local gk = P .. 'c:' .. a[2]
    local seen = tonumber(redis.call('HGET', gk, 'seen') or '0')
    if now - seen > stale then
      local gq = redis.call('HGET', gk, 'q')
      if gq then
        redis.call('ZREM', P .. 'w:' .. gq, a[2])
        redis.call('ZREM', P .. 'off:' .. gq, a[2])
        redis.call('DEL', gk)
      end
      redis.call('HSET', P .. 'a:' .. acc, 'call', '', 'activity', '', 'since', now)
      a[2] = false
    end
  end
  local own = a[1] or 'available'
  if own == 'available' and not elsewhere and (not a[2] or a[2] == '') and tonumber(a[3] or '0') <= now
     and tonumber(a[7] or '0') <= now then
    local calls = (a[6] == day) and tonumber(a[5] or '0') or 0
    table.insert(free, {acc = acc, pen = pen, idle = tonumber(a[4] or '0'), calls = calls, order = #members})
  end
end
if #free == 0 then return {} end
local best = free[1].pen
for _, f in ipairs(free) do if f.pen < best then best = f.pen end end
local tier = {}
for _, f in ipairs(free) do if f.pen == best then table.insert(tier, f) end end
if strategy == 'longest_idle' then
  table.sort(tier, function(a, b) if a.idle ~= b.idle then return a.idle < b.idle end return a.order < b.order end)
elseif strategy == 'fewest_calls' then
  table.sort(tier, function(a, b) if a.calls ~= b.calls then return a.calls < b.calls end return a.order < b.order end)
elseif strategy == 'round_robin' then
  local last = redis.call('GET', P .. 'rr:' .. q)
  local after = 0
  for i, acc in ipairs(members) do if acc == last then after = i end end
  local m = #members
  table.sort(tier, function(a, b) return (a.order - after - 1) % m < (b.order - after - 1) % m end)
end
local take = (strategy == 'ring_all') and #tier or math.min(n, #tier)
local result = {head}
for i = 1, take do
  redis.call('HSET', P .. 'a:' .. tier[i].acc, 'call', head, 'activity', 'ringing', 'since', now)
  table.insert(result, tier[i].acc)
end
if strategy == 'round_robin' then redis.call('SET', P .. 'rr:' .. q, result[#result]) end
redis.call('ZREM', wk, head)
redis.call('ZADD', P .. 'off:' .. q, redis.call('HGET', ck, 'score'), head)
redis.call('HSET', ck, 'state', 'offered', 'agents', table.concat(result, ',', 2))
return result
)lua";

// An account's part in any call of the platform, from the call events (AgentPresence): l:<call>
// maps the call's legs to their accounts ("leg"); x:<account> holds "<call>/<leg>" members
// ("engaged": the leg answered, or the account placed the call), scored by when they lapse (a lost
// end cannot keep an agent busy past a call's longest duration). An account is on a call while
// x:<account> has a member that has not lapsed.
// ARGV: prefix, kind ("leg", "engaged", "released", "ended"), call, leg, account (for "leg", and
// for "engaged" by the caller; else read from l:<call>), now, lapse_ms
constexpr const char* kPresence = R"lua(
local P, kind, call, leg, acc, now, lapse = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6]), tonumber(ARGV[7])
local lk = P .. 'l:' .. call
local freed = false
local function release(l, a)
  local xk = P .. 'x:' .. a
  redis.call('ZREM', xk, call .. '/' .. l)
  redis.call('ZREMRANGEBYSCORE', xk, '-inf', now)
  if redis.call('ZCARD', xk) == 0 then freed = true end
end
if kind == 'leg' or kind == 'engaged' then
  if acc == '' then acc = redis.call('HGET', lk, leg) or '' end
  if acc == '' then return 0 end  -- a leg to a number outside the platform
  redis.call('HSET', lk, leg, acc)
  redis.call('PEXPIRE', lk, lapse)
  if kind == 'engaged' then
    local xk = P .. 'x:' .. acc
    redis.call('ZADD', xk, now + lapse, call .. '/' .. leg)
    redis.call('PEXPIRE', xk, lapse)
  end
elseif kind == 'released' then
  local a = redis.call('HGET', lk, leg)
  if a then
    release(leg, a)
    redis.call('HDEL', lk, leg)
  end
else
  local legs = redis.call('HGETALL', lk)
  for i = 1, #legs, 2 do release(legs[i], legs[i + 1]) end
  redis.call('DEL', lk)
end
if freed then redis.call('PUBLISH', 'tq:wake', P) end
return freed and 1 or 0
)lua";

// ARGV: prefix, queue, call, agent, now, day, service_level_ms
constexpr const char* kAnswered = R"lua(
local P, q, call, agent, now, day = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local ck = P .. 'c:' .. call
if redis.call('EXISTS', ck) == 0 then return -1 end
local joined = tonumber(redis.call('HGET', ck, 'joined'))
for acc in string.gmatch(redis.call('HGET', ck, 'agents') or '', '[^,]+') do
  local ak = P .. 'a:' .. acc
  if redis.call('HGET', ak, 'call') == call and acc ~= agent then
    redis.call('HSET', ak, 'call', '', 'activity', '', 'since', now)
  end
end
local ak = P .. 'a:' .. agent
local a = redis.call('HMGET', ak, 'calls', 'day')
local calls = (a[2] == day) and tonumber(a[1] or '0') or 0
redis.call('HSET', ak, 'call', call, 'activity', 'on_call', 'since', now, 'calls', calls + 1, 'day', day, 'misses', 0)
redis.call('ZREM', P .. 'off:' .. q, call)
redis.call('ZREM', P .. 'w:' .. q, call)
redis.call('HSET', ck, 'state', 'connected', 'agent', agent, 'answered_at', now)
local wait = now - joined
local sk = P .. 's:' .. q .. ':' .. day
redis.call('HINCRBY', sk, 'answered', 1)
redis.call('HINCRBY', sk, 'wait_ms', wait)
if wait <= tonumber(ARGV[7]) then redis.call('HINCRBY', sk, 'within', 1) end
redis.call('EXPIRE', sk, 259200)
return wait
)lua";

// ARGV: prefix, queue, call, now, pause_after, counted ('1': the agents missed; '0': the offer was
// never made, so they are only freed), retry_ms (a missing agent rests this long)
constexpr const char* kMissed = R"lua(
local P, q, call, now, pause_after = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local counted, retry = ARGV[6] == '1', tonumber(ARGV[7])
local ck = P .. 'c:' .. call
local result = {}
for acc in string.gmatch(redis.call('HGET', ck, 'agents') or '', '[^,]+') do
  local ak = P .. 'a:' .. acc
  if redis.call('HGET', ak, 'call') == call then
    local misses = counted and redis.call('HINCRBY', ak, 'misses', 1) or 0
    redis.call('HSET', ak, 'call', '', 'activity', '', 'since', now)
    if counted then redis.call('HSET', ak, 'rest_until', now + retry) end
    local paused = 0
    if counted and pause_after > 0 and misses >= pause_after then
      redis.call('HSET', ak, 'own', 'paused', 'reason', 'missed offers')
      paused = 1
    end
    table.insert(result, acc)
    table.insert(result, paused)
  end
end
if redis.call('EXISTS', ck) == 1 then
  redis.call('ZREM', P .. 'off:' .. q, call)
  redis.call('ZADD', P .. 'w:' .. q, redis.call('HGET', ck, 'score'), call)
  redis.call('HSET', ck, 'state', 'waiting', 'agents', '')
end
redis.call('PUBLISH', 'tq:wake', P)
return result
)lua";

// ARGV: prefix, queue, call, outcome, now, day, wrapup_ms
constexpr const char* kLeft = R"lua(
local P, q, call, outcome, now, day = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), ARGV[6]
local ck = P .. 'c:' .. call
if redis.call('EXISTS', ck) == 0 then
  if outcome == 'overflowed' then  -- turned away by a full queue: it never joined
    local sk = P .. 's:' .. q .. ':' .. day
    redis.call('HINCRBY', sk, outcome, 1)
    redis.call('EXPIRE', sk, 259200)
  end
  return {0, 0}
end
local c = redis.call('HMGET', ck, 'state', 'agents', 'agent', 'joined', 'answered_at')
local connected = c[1] == 'connected'
if connected and c[5] then
  -- The average handle time (exponentially weighted) that estimated waits are computed from.
  local hk = P .. 'h:' .. q
  local talk = now - tonumber(c[5])
  local old = tonumber(redis.call('HGET', hk, 'aht_ms') or '')
  redis.call('HSET', hk, 'aht_ms', old and math.floor(0.8 * old + 0.2 * talk) or talk)
end
for acc in string.gmatch(c[2] or '', '[^,]+') do
  local ak = P .. 'a:' .. acc
  if acc ~= c[3] and redis.call('HGET', ak, 'call') == call then
    redis.call('HSET', ak, 'call', '', 'activity', '', 'since', now)
  end
end
if connected and c[3] and c[3] ~= '' and redis.call('HGET', P .. 'a:' .. c[3], 'call') == call then
  redis.call('HSET', P .. 'a:' .. c[3], 'call', '', 'activity', '', 'since', now, 'last_end', now,
             'wrap_until', now + tonumber(ARGV[7]))
end
redis.call('ZREM', P .. 'w:' .. q, call)
redis.call('ZREM', P .. 'off:' .. q, call)
redis.call('DEL', ck)
local waited = now - tonumber(c[4] or now)
if not connected and (outcome == 'abandoned' or outcome == 'overflowed') then
  local sk = P .. 's:' .. q .. ':' .. day
  redis.call('HINCRBY', sk, outcome, 1)
  if outcome == 'abandoned' then redis.call('HINCRBY', sk, 'abandoned_wait_ms', waited) end
  redis.call('EXPIRE', sk, 259200)
end
redis.call('PUBLISH', 'tq:wake', P)
return {connected and 1 or 0, waited}
)lua";

// ARGV: prefix, queue, call, then the members' account ids
constexpr const char* kEstimate = R"lua(
local P, q, call = ARGV[1], ARGV[2], ARGV[3]
local rank = redis.call('ZRANK', P .. 'w:' .. q, call)
local working = 0
for i = 4, #ARGV do
  local own = redis.call('HGET', P .. 'a:' .. ARGV[i], 'own')
  if not own or own == 'available' then working = working + 1 end
end
return {rank and (rank + 1) or 0, tonumber(redis.call('HGET', P .. 'h:' .. q, 'aht_ms') or '-1'), working}
)lua";

// ARGV: prefix, now, an epoch to set should there be none, then call ids. The tenant's epoch first,
// then the calls Redis does not have.
constexpr const char* kTouch = R"lua(
local P, now = ARGV[1], ARGV[2]
redis.call('SET', P .. 'epoch', ARGV[3], 'NX')
local result = {redis.call('GET', P .. 'epoch')}
for i = 4, #ARGV do
  local ck = P .. 'c:' .. ARGV[i]
  if redis.call('EXISTS', ck) == 1 then redis.call('HSET', ck, 'seen', now) else table.insert(result, ARGV[i]) end
end
return result
)lua";

// ARGV: prefix, queue, call, caller, owner, now, joined, state, agent (connected), priority, then
// the agents offered. Puts back a caller Redis lost, as its instance knows it: waiting at its place, offered
// with its agents ringing, or connected with its agent on the call.
constexpr const char* kRestore = R"lua(
local P, q, call, now, state, agent = ARGV[1], ARGV[2], ARGV[3], ARGV[6], ARGV[8], ARGV[9]
local ck = P .. 'c:' .. call
if redis.call('EXISTS', ck) == 1 then return 0 end
local offered = {}
for i = 11, #ARGV do table.insert(offered, ARGV[i]) end
local score = tonumber(ARGV[7]) - tonumber(ARGV[10]) * 1e13
redis.call('HSET', ck, 'q', q, 'joined', ARGV[7], 'score', score, 'caller', ARGV[4], 'owner', ARGV[5], 'seen', now,
           'state', state, 'agents', table.concat(offered, ','), 'agent', agent)
if state == 'connected' then
  redis.call('HSET', ck, 'answered_at', now)
  redis.call('HSET', P .. 'a:' .. agent, 'call', call, 'activity', 'on_call', 'since', now)
elseif state == 'offered' then
  redis.call('ZADD', P .. 'off:' .. q, score, call)
  for _, acc in ipairs(offered) do
    redis.call('HSET', P .. 'a:' .. acc, 'call', call, 'activity', 'ringing', 'since', now)
  end
else
  redis.call('ZADD', P .. 'w:' .. q, score, call)
end
return 1
)lua";

std::string prefixOf(const std::string& tenant) { return "tq:{" + tenant + "}:"; }

constexpr int kWallboardCallers = 200;

// A value no earlier epoch had: 64 random bits.
std::string newEpoch() {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return std::to_string(random());
}

int64_t integerOf(const redis::Reply& reply) {
  if (reply.type == redis::Reply::Type::kInteger) return reply.integer;
  if (reply.type == redis::Reply::Type::kString) {
    try {
      return std::stoll(reply.str);
    } catch (const std::exception&) {
      return 0;
    }
  }
  return 0;
}

// HGETALL's flat reply as field -> value.
std::map<std::string, std::string> hashOf(const redis::Reply& reply) {
  std::map<std::string, std::string> fields;
  for (size_t i = 0; i + 1 < reply.elements.size(); i += 2) fields[reply.elements[i].str] = reply.elements[i + 1].str;
  return fields;
}

int64_t numberIn(const std::map<std::string, std::string>& fields, const std::string& name) {
  auto it = fields.find(name);
  if (it == fields.end() || it->second.empty()) return 0;
  try {
    return std::stoll(it->second);
  } catch (const std::exception&) {
    return 0;
  }
}

std::string textIn(const std::map<std::string, std::string>& fields, const std::string& name) {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

// The agent as shown: its activity while it has a caller, wrap-up until it ends, else its own state.
// `elsewhere`: the agent is on a call the queue did not give it (shown as on a call, no call id).
v1::Agent agentOf(const std::string& account_id, const std::map<std::string, std::string>& fields, bool elsewhere,
                  int64_t now_ms, const std::string& day) {
  v1::Agent agent;
  agent.set_account_id(account_id);
  const std::string own = textIn(fields, "own");
  const std::string call = textIn(fields, "call");
  if (!call.empty()) {
    agent.set_state(textIn(fields, "activity"));
    agent.set_call_id(call);
  } else if (numberIn(fields, "wrap_until") > now_ms && (own.empty() || own == "available")) {
    agent.set_state("wrap_up");
  } else if (elsewhere && (own.empty() || own == "available")) {
    agent.set_state("on_call");
  } else {
    agent.set_state(own.empty() ? "available" : own);
    if (own == "paused") agent.set_reason(textIn(fields, "reason"));
  }
  agent.set_since_ms(numberIn(fields, "since"));
  agent.set_calls_taken(textIn(fields, "day") == day ? static_cast<uint32_t>(numberIn(fields, "calls")) : 0);
  agent.set_misses(static_cast<uint32_t>(numberIn(fields, "misses")));
  return agent;
}

}  // namespace

std::string dayOf(int64_t now_ms) {
  const std::time_t seconds = static_cast<std::time_t>(now_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m-%d", &utc);
  return text;
}

absl::StatusOr<Joined> LiveQueues::join(const std::string& tenant, const std::string& queue,
                                        const std::string& call_id, const std::string& caller,
                                        const std::string& owner, int64_t now_ms, uint32_t max_callers,
                                        std::optional<int64_t> joined_ms, uint32_t priority) {
  auto reply = redis_.eval(kJoin, {},
                           {prefixOf(tenant), queue, call_id, caller, owner, std::to_string(now_ms),
                            std::to_string(max_callers), joined_ms ? std::to_string(*joined_ms) : "", newEpoch(),
                            std::to_string(priority)});
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() != 4) {
    return absl::InternalError("join: unexpected reply");
  }
  Joined joined;
  const std::string& kind = reply->elements[0].str;
  joined.kind = kind == "full" ? Joined::Kind::kFull : kind == "rejoined" ? Joined::Kind::kRejoined : Joined::Kind::kJoined;
  joined.position = static_cast<uint32_t>(integerOf(reply->elements[1]));
  joined.joined_ms = integerOf(reply->elements[2]);
  joined.state = reply->elements[3].str;
  return joined;
}

absl::StatusOr<std::optional<Offer>> LiveQueues::claim(const std::string& tenant, const std::string& queue,
                                                       const v1::QueueSettings& settings, const std::string& owner,
                                                       int64_t now_ms, int64_t stale_ms) {
  std::vector<std::string> args{prefixOf(tenant),
                                queue,
                                owner,
                                std::to_string(now_ms),
                                std::to_string(stale_ms),
                                settings.strategy(),
                                std::to_string(settings.ring_at_once()),
                                dayOf(now_ms)};
  for (const auto& member : settings.members()) {
    args.push_back(member.account_id());
    args.push_back(std::to_string(member.penalty()));
  }
  auto reply = redis_.eval(kClaim, {}, args);
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() < 2) return std::nullopt;
  Offer offer;
  offer.call_id = reply->elements[0].str;
  for (size_t i = 1; i < reply->elements.size(); ++i) offer.agents.push_back(reply->elements[i].str);
  return offer;
}

absl::StatusOr<int64_t> LiveQueues::answered(const std::string& tenant, const std::string& queue,
                                             const std::string& call_id, const std::string& account_id,
                                             int64_t now_ms, int64_t service_level_ms) {
  auto reply = redis_.eval(kAnswered, {},
                           {prefixOf(tenant), queue, call_id, account_id, std::to_string(now_ms), dayOf(now_ms),
                            std::to_string(service_level_ms)});
  if (!reply.ok()) return reply.status();
  return integerOf(*reply);
}

absl::StatusOr<std::vector<Miss>> LiveQueues::missed(const std::string& tenant, const std::string& queue,
                                                     const std::string& call_id, int64_t now_ms,
                                                     uint32_t pause_after, int64_t retry_ms, bool counted) {
  auto reply = redis_.eval(kMissed, {},
                           {prefixOf(tenant), queue, call_id, std::to_string(now_ms), std::to_string(pause_after),
                            counted ? "1" : "0", std::to_string(retry_ms)});
  if (!reply.ok()) return reply.status();
  std::vector<Miss> misses;
  for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    misses.push_back({reply->elements[i].str, integerOf(reply->elements[i + 1]) == 1});
  }
  return misses;
}

absl::StatusOr<Left> LiveQueues::left(const std::string& tenant, const std::string& queue, const std::string& call_id,
                                      const std::string& outcome, int64_t now_ms, int64_t wrapup_ms) {
  auto reply = redis_.eval(kLeft, {},
                           {prefixOf(tenant), queue, call_id, outcome, std::to_string(now_ms), dayOf(now_ms),
                            std::to_string(wrapup_ms)});
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() != 2) return absl::InternalError("left: unexpected reply");
  return Left{integerOf(reply->elements[0]) == 1, integerOf(reply->elements[1])};
}

absl::Status LiveQueues::setAgentState(const std::string& tenant, const std::string& account_id,
                                       const std::string& state, const std::string& reason, int64_t now_ms) {
  auto reply = redis_.command({"HSET", prefixOf(tenant) + "a:" + account_id, "own", state, "reason", reason, "since",
                               std::to_string(now_ms), "misses", "0"});
  if (!reply.ok()) return reply.status();
  return redis_.command({"PUBLISH", kWakeChannel, prefixOf(tenant)}).status();
}

absl::StatusOr<Touched> LiveQueues::touch(const std::string& tenant, const std::vector<std::string>& call_ids,
                                          int64_t now_ms) {
  std::vector<std::string> args{prefixOf(tenant), std::to_string(now_ms), newEpoch()};
  args.insert(args.end(), call_ids.begin(), call_ids.end());
  auto reply = redis_.eval(kTouch, {}, args);
  if (!reply.ok()) return reply.status();
  if (reply->elements.empty()) return absl::InternalError("touch: unexpected reply");
  Touched touched;
  touched.epoch = reply->elements[0].str;
  for (size_t i = 1; i < reply->elements.size(); ++i) touched.lost.push_back(reply->elements[i].str);
  return touched;
}

absl::Status LiveQueues::restore(const std::string& tenant, const std::string& queue, const std::string& call_id,
                                 const Restored& caller, int64_t now_ms) {
  std::vector<std::string> args{prefixOf(tenant), queue, call_id, caller.caller, caller.owner, std::to_string(now_ms),
                                std::to_string(caller.joined_ms), caller.state, caller.agent,
                                std::to_string(caller.priority)};
  args.insert(args.end(), caller.offered.begin(), caller.offered.end());
  return redis_.eval(kRestore, {}, args).status();
}

absl::StatusOr<Estimate> LiveQueues::estimate(const std::string& tenant, const std::string& queue,
                                               const std::string& call_id, const v1::QueueSettings& settings) {
  std::vector<std::string> args{prefixOf(tenant), queue, call_id};
  for (const auto& member : settings.members()) args.push_back(member.account_id());
  auto reply = redis_.eval(kEstimate, {}, args);
  if (!reply.ok()) return reply.status();
  if (reply->elements.size() != 3) return absl::InternalError("estimate: unexpected reply");
  Estimate estimate;
  estimate.position = static_cast<uint32_t>(integerOf(reply->elements[0]));
  const int64_t handle_ms = integerOf(reply->elements[1]);
  const int64_t working = integerOf(reply->elements[2]);
  // Callers ahead are served `working` at a time, each taking the average handle time.
  if (handle_ms >= 0 && working > 0 && estimate.position > 0) {
    estimate.wait_ms = ((estimate.position + working - 1) / working) * handle_ms;
  }
  return estimate;
}

absl::StatusOr<uint32_t> LiveQueues::position(const std::string& tenant, const std::string& queue,
                                              const std::string& call_id) {
  auto reply = redis_.command({"ZRANK", prefixOf(tenant) + "w:" + queue, call_id});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kInteger) return 0u;
  return static_cast<uint32_t>(reply->integer + 1);
}

absl::StatusOr<v1::Agent> LiveQueues::agent(const std::string& tenant, const std::string& account_id, int64_t now_ms) {
  const std::string prefix = prefixOf(tenant);
  auto reply = redis_.command({"HGETALL", prefix + "a:" + account_id});
  if (!reply.ok()) return reply.status();
  auto elsewhere = redis_.command({"ZCOUNT", prefix + "x:" + account_id, std::to_string(now_ms), "+inf"});
  if (!elsewhere.ok()) return elsewhere.status();
  return agentOf(account_id, hashOf(*reply), integerOf(*elsewhere) > 0, now_ms, dayOf(now_ms));
}

absl::StatusOr<bool> LiveQueues::presence(const std::string& tenant, const std::string& kind,
                                          const std::string& call_id, const std::string& leg,
                                          const std::string& account_id, int64_t now_ms, int64_t lapse_ms) {
  auto reply = redis_.eval(kPresence, {},
                           {prefixOf(tenant), kind, call_id, leg, account_id, std::to_string(now_ms),
                            std::to_string(lapse_ms)});
  if (!reply.ok()) return reply.status();
  return integerOf(*reply) == 1;
}

absl::StatusOr<v1::Wallboard> LiveQueues::wallboard(const std::string& tenant, const std::string& queue,
                                                    const v1::QueueSettings& settings, int64_t now_ms) {
  const std::string prefix = prefixOf(tenant);
  v1::Wallboard board;
  board.set_queue_id(queue);
  board.set_name(settings.name());
  board.set_now_ms(now_ms);
  // Offered callers first (they are next), then those waiting, each in order of arrival.
  for (const char* set : {"off:", "w:"}) {
    // The first kWallboardCallers of each: a board shows the head of a long line, not all of it.
    auto ids = redis_.command({"ZRANGE", prefix + set + queue, "0", std::to_string(kWallboardCallers - 1)});
    if (!ids.ok()) return ids.status();
    uint32_t position = 0;
    for (const auto& id : ids->elements) {
      auto caller = redis_.command({"HGETALL", prefix + "c:" + id.str});
      if (!caller.ok()) return caller.status();
      const auto fields = hashOf(*caller);
      if (fields.empty()) continue;
      auto* entry = board.add_callers();
      entry->set_call_id(id.str);
      entry->set_caller(textIn(fields, "caller"));
      entry->set_joined_ms(numberIn(fields, "joined"));
      entry->set_state(textIn(fields, "state"));
      if (std::string(set) == "w:") entry->set_position(++position);
    }
  }
  for (const auto& member : settings.members()) {
    auto agent = this->agent(tenant, member.account_id(), now_ms);
    if (!agent.ok()) return agent.status();
    agent->set_penalty(member.penalty());
    *board.add_agents() = std::move(*agent);
  }
  auto stats = redis_.command({"HGETALL", prefix + "s:" + queue + ":" + dayOf(now_ms)});
  if (!stats.ok()) return stats.status();
  const auto figures = hashOf(*stats);
  board.set_answered(static_cast<uint32_t>(numberIn(figures, "answered")));
  board.set_answered_within_service_level(static_cast<uint32_t>(numberIn(figures, "within")));
  board.set_abandoned(static_cast<uint32_t>(numberIn(figures, "abandoned")));
  board.set_overflowed(static_cast<uint32_t>(numberIn(figures, "overflowed")));
  board.set_total_wait_ms(static_cast<uint64_t>(numberIn(figures, "wait_ms")));
  board.set_abandoned_wait_ms(static_cast<uint64_t>(numberIn(figures, "abandoned_wait_ms")));
  return board;
}

}  // namespace tel::queue
