#pragma once

#include <spdlog/logger.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tel::log {

// One key/value of a structured log line.
struct Field {
  std::string key;
  std::string value;
};

enum class Level { kDebug, kInfo, kWarn, kError };
Level parseLevel(std::string_view name);  // unknown names give kInfo

// A structured logger: every line is one JSON object with ts, level, service, msg and the fields
// bound to this logger (tenant_id and call_id where there is a call) plus the line's own fields.
//
// Copies are cheap and share the sink; withFields() returns a child that adds context, e.g.
//   auto call_log = log.withFields({{"tenant_id", t}, {"call_id", c}});
//   call_log.info("leg answered", {{"leg", "b1"}});
// Thread-safe: the sink serialises writes.
class Logger {
 public:
  // Writes to stderr (what containers and the local stack collect).
  static Logger create(std::string service, Level level = Level::kInfo);
  // Writes to the given spdlog sink; for tests.
  static Logger createWithSink(std::string service, std::shared_ptr<spdlog::sinks::sink> sink,
                               Level level = Level::kInfo);

  Logger withFields(std::initializer_list<Field> fields) const;

  void debug(std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void info(std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void warn(std::string_view msg, std::initializer_list<Field> fields = {}) const;
  void error(std::string_view msg, std::initializer_list<Field> fields = {}) const;

  // The JSON line that info(msg, fields) would write, without the timestamp; for tests.
  std::string format(Level level, std::string_view msg, std::initializer_list<Field> fields) const;

 private:
  Logger(std::shared_ptr<spdlog::logger> sink, std::string service, std::vector<Field> context);
  void write(Level level, std::string_view msg, std::initializer_list<Field> fields) const;

  std::shared_ptr<spdlog::logger> sink_;
  std::string service_;
  std::vector<Field> context_;
};

// Appends `text` to `out` as a JSON string literal (quoted, escaped).
void appendJsonString(std::string& out, std::string_view text);

}  // namespace tel::log
