#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "deliverer.h"

using tel::integrations::LeasedDelivery;
using tel::integrations::printableUtf8;
using tel::integrations::webhookBody;

TEST_CASE("the body carries id type created_at tenant call sequence and data in a fixed order") {
  LeasedDelivery delivery;
  delivery.event_id = "0b7f8c1e-4a0e-4d5c-9a43-0d8e3f0a1b2c";
  delivery.event_type = "call.answered";
  delivery.created_at = "2026-11-28T01:02:03.456Z";
  delivery.tenant_id = "6c88e952-2781-4929-8504-8c8245a94593";
  delivery.call_id = "1b1fbcc1-6d09-4ec4-9222-8aa775911094";
  delivery.sequence = 4;
  delivery.data = R"({"leg":{"id":"b1.1","extension":"101"}})";
  const std::string body = webhookBody(delivery);
  CHECK(body ==
        R"({"id":"0b7f8c1e-4a0e-4d5c-9a43-0d8e3f0a1b2c","type":"call.answered","created_at":"2026-11-28T01:02:03.456Z",)"
        R"("tenant_id":"6c88e952-2781-4929-8504-8c8245a94593","call_id":"1b1fbcc1-6d09-4ec4-9222-8aa775911094",)"
        R"("sequence":4,"data":{"leg":{"id":"b1.1","extension":"101"}}})");
  CHECK(webhookBody(delivery) == body);  // the same bytes on every attempt
}

TEST_CASE("an event not about a call has a null call_id") {
  LeasedDelivery delivery;
  delivery.event_id = "e";
  delivery.event_type = "webhook.ping";
  delivery.data = "{}";
  CHECK(nlohmann::json::parse(webhookBody(delivery))["call_id"].is_null());
}

TEST_CASE("data that is not JSON is refused rather than sent") {
  LeasedDelivery delivery;
  delivery.data = "{not json";
  CHECK_THROWS(webhookBody(delivery));
}

TEST_CASE("answers go into the delivery log as valid UTF-8") {
  CHECK(printableUtf8("OK") == "OK");
  CHECK(printableUtf8("\xd0\x9e\xd1\x88\xd0\xb8\xd0\xb1\xd0\xba\xd0\xb0") == "\xd0\x9e\xd1\x88\xd0\xb8\xd0\xb1\xd0\xba\xd0\xb0");
  CHECK(printableUtf8("ab\xd0") == "ab\xef\xbf\xbd");              // a character cut at the end
  CHECK(printableUtf8("\xff\xfe") == "\xef\xbf\xbd\xef\xbf\xbd");  // not UTF-8 at all
  CHECK(printableUtf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");  // an overlong slash
  CHECK(printableUtf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // a surrogate
  CHECK(printableUtf8(std::string("a\0b\x1b[31m\tc\n", 11)) == "a b [31m\tc\n");
}
