#include <catch2/catch.hpp>

#include "refused_field.h"
#include "tracking_validation.h"

namespace {

using namespace tel::analytics;


v1::VisitRequest visit() {
  v1::VisitRequest request;
  request.set_site_key("trk_abcdefghijklmnopqrstuvwx");
  return request;
}

}  // namespace

TEST_CASE("a visit is checked field by field") {
  CHECK(checkVisit(visit()).ok());
  auto bad_key = visit();
  bad_key.set_site_key("trk_short");
  CHECK(refusedField(checkVisit(bad_key)) == "site_key");
  auto bad_session = visit();
  bad_session.set_session_id("not-a-uuid");
  CHECK(refusedField(checkVisit(bad_session)) == "session_id");
  auto long_campaign = visit();
  long_campaign.mutable_source()->set_utm_campaign(std::string(kMaxSourceField + 1, 'a'));
  CHECK(refusedField(checkVisit(long_campaign)) == "utm_campaign");
  auto control = visit();
  control.mutable_source()->set_utm_term("shoes\nSet-Cookie: x");
  CHECK(refusedField(checkVisit(control)) == "utm_term");
  auto long_page = visit();
  long_page.mutable_source()->set_landing_page("https://example.com/" + std::string(kMaxUrlField, 'p'));
  CHECK(refusedField(checkVisit(long_page)) == "landing_page");
  auto clicks = visit();
  for (int i = 0; i <= kMaxClickIds; ++i) (*clicks.mutable_source()->mutable_click_ids())["id" + std::to_string(i)] = "x";
  CHECK(refusedField(checkVisit(clicks)) == "click_ids");
  auto click_name = visit();
  (*click_name.mutable_source()->mutable_click_ids())["GCLID!"] = "x";
  CHECK(refusedField(checkVisit(click_name)) == "click_ids");
}

TEST_CASE("tracking numbers: pool numbers take no source, static ones need one") {
  v1::TrackingNumber number;
  number.set_e164("+15550001000");
  number.set_kind("pool");
  CHECK(checkTrackingNumber(number).ok());
  number.set_utm_source("google");
  CHECK(refusedField(checkTrackingNumber(number)) == "utm_source");
  number.set_kind("static");
  CHECK(checkTrackingNumber(number).ok());
  number.set_utm_source("");
  CHECK(refusedField(checkTrackingNumber(number)) == "utm_source");
  number.set_kind("dynamic");
  CHECK(refusedField(checkTrackingNumber(number)) == "kind");
  number.set_e164("5550001000");
  CHECK(refusedField(checkTrackingNumber(number)) == "e164");
}

TEST_CASE("sites: a name, an optional default number, a hold from a minute to a day") {
  v1::CreateSiteRequest site;
  site.set_name("shop");
  CHECK(checkCreateSite(site).ok());
  site.set_hold_seconds(59);
  CHECK(refusedField(checkCreateSite(site)) == "hold_seconds");
  site.set_hold_seconds(86400);
  CHECK(checkCreateSite(site).ok());
  site.set_default_number("12345");
  CHECK(refusedField(checkCreateSite(site)) == "default_number");
  site.set_default_number("");
  site.set_name("");
  CHECK(refusedField(checkCreateSite(site)) == "name");
}
