#include "tel/log/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace tel::log {
namespace {

spdlog::level::level_enum toSpdlog(Level level) {
  switch (level) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

const char* levelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::string utcTimestamp() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

void appendField(std::string& out, std::string_view key, std::string_view value) {
  out += ',';
  appendJsonString(out, key);
  out += ':';
  appendJsonString(out, value);
}

}  // namespace

Level parseLevel(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return Level::kInfo;
}

void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

Logger::Logger(std::shared_ptr<spdlog::logger> sink, std::string service,
               std::vector<Field> context)
    : sink_(std::move(sink)), service_(std::move(service)), context_(std::move(context)) {}

Logger Logger::create(std::string service, Level level) {
  return createWithSink(std::move(service), std::make_shared<spdlog::sinks::stderr_sink_mt>(),
                        level);
}

Logger Logger::createWithSink(std::string service, std::shared_ptr<spdlog::sinks::sink> sink,
                              Level level) {
  auto logger = std::make_shared<spdlog::logger>(service, std::move(sink));
  // The line is fully formatted by us as JSON; spdlog only moves it to the sink.
  logger->set_pattern("%v");
  logger->set_level(toSpdlog(level));
  logger->flush_on(spdlog::level::warn);
  return Logger(std::move(logger), std::move(service), {});
}

Logger Logger::withFields(std::initializer_list<Field> fields) const {
  std::vector<Field> context = context_;
  context.insert(context.end(), fields.begin(), fields.end());
  return Logger(sink_, service_, std::move(context));
}

std::string Logger::format(Level level, std::string_view msg,
                           std::initializer_list<Field> fields) const {
  std::string line = "{\"level\":";
  appendJsonString(line, levelName(level));
  appendField(line, "service", service_);
  appendField(line, "msg", msg);
  for (const auto& field : context_) appendField(line, field.key, field.value);
  for (const auto& field : fields) appendField(line, field.key, field.value);
  line += '}';
  return line;
}

void Logger::write(Level level, std::string_view msg, std::initializer_list<Field> fields) const {
  if (!sink_->should_log(toSpdlog(level))) return;
  std::string line = "{\"ts\":";
  appendJsonString(line, utcTimestamp());
  line += ',';
  line += format(level, msg, fields).substr(1);
  sink_->log(toSpdlog(level), "{}", line);
}

void Logger::debug(std::string_view msg, std::initializer_list<Field> fields) const {
  write(Level::kDebug, msg, fields);
}
void Logger::info(std::string_view msg, std::initializer_list<Field> fields) const {
  write(Level::kInfo, msg, fields);
}
void Logger::warn(std::string_view msg, std::initializer_list<Field> fields) const {
  write(Level::kWarn, msg, fields);
}
void Logger::error(std::string_view msg, std::initializer_list<Field> fields) const {
  write(Level::kError, msg, fields);
}

}  // namespace tel::log
