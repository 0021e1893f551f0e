#include "tel/log/log.h"

#include <spdlog/sinks/ostream_sink.h>

#include <catch2/catch.hpp>
#include <iostream>
#include <sstream>

using tel::log::Level;
using tel::log::Logger;

TEST_CASE("lines are JSON objects carrying the bound context") {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  auto log = Logger::createWithSink("accounts", sink);
  auto call_log = log.withFields({{"tenant_id", "t-1"}, {"call_id", "c-9"}});
  call_log.info("leg answered", {{"leg", "b1"}});
  const std::string line = out.str();
  CHECK(line.rfind("{\"ts\":\"", 0) == 0);
  CHECK(line.find("\"level\":\"info\",\"service\":\"accounts\",\"msg\":\"leg answered\","
                  "\"tenant_id\":\"t-1\",\"call_id\":\"c-9\",\"leg\":\"b1\"}") !=
        std::string::npos);
}

TEST_CASE("special characters are escaped so a line stays one JSON object") {
  auto log = Logger::createWithSink("x", std::make_shared<spdlog::sinks::ostream_sink_mt>(std::cout));
  CHECK(log.format(Level::kWarn, "a \"quote\"\n\x01", {}) ==
        "{\"level\":\"warn\",\"service\":\"x\",\"msg\":\"a \\\"quote\\\"\\n\\u0001\"}");
}

TEST_CASE("lines below the level are not written") {
  std::ostringstream out;
  auto log = Logger::createWithSink("x", std::make_shared<spdlog::sinks::ostream_sink_mt>(out),
                                    Level::kWarn);
  log.info("hidden");
  log.error("shown");
  CHECK(out.str().find("hidden") == std::string::npos);
  CHECK(out.str().find("shown") != std::string::npos);
}
