#include "tracking_validation.h"

#include <regex>

#include "tel/grpc/status.h"

namespace tel::analytics {
namespace {

using grpc_util::invalidArgument;

bool printable(const std::string& text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

grpc::Status checkText(const std::string& field, const std::string& value, size_t limit) {
  if (value.size() > limit) return invalidArgument(field, "at most " + std::to_string(limit) + " bytes");
  if (!printable(value)) return invalidArgument(field, "control characters are not allowed");
  return grpc::Status::OK;
}

}  // namespace

bool isUuid(const std::string& text) {
  static const std::regex kUuid(R"(^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)");
  return std::regex_match(text, kUuid);
}

bool isE164(const std::string& text) {
  static const std::regex kE164(R"(^\+[1-9][0-9]{6,14}$)");
  return std::regex_match(text, kE164);
}

grpc::Status checkCreateSite(const v1::CreateSiteRequest& request) {
  if (request.name().empty() || request.name().size() > 200 || !printable(request.name())) {
    return invalidArgument("name", "1 to 200 printable characters");
  }
  if (!request.default_number().empty() && !isE164(request.default_number())) {
    return invalidArgument("default_number", "an E.164 number such as +15550001000");
  }
  if (request.hold_seconds() != 0 && (request.hold_seconds() < 60 || request.hold_seconds() > 86400)) {
    return invalidArgument("hold_seconds", "from 60 to 86400");
  }
  return grpc::Status::OK;
}

grpc::Status checkTrackingNumber(const v1::TrackingNumber& number) {
  if (!isE164(number.e164())) return invalidArgument("e164", "an E.164 number such as +15550001000");
  if (number.kind() != "pool" && number.kind() != "static") return invalidArgument("kind", "pool or static");
  const bool has_source = !number.utm_source().empty() || !number.utm_medium().empty() ||
                          !number.utm_campaign().empty();
  if (number.kind() == "pool" && has_source) {
    return invalidArgument("utm_source", "a pool number takes its source from each visit; only static numbers have one");
  }
  if (number.kind() == "static" && number.utm_source().empty()) {
    return invalidArgument("utm_source", "a static number needs the source its calls come from");
  }
  for (const auto& [field, value] : {std::pair{"utm_source", &number.utm_source()},
                                     std::pair{"utm_medium", &number.utm_medium()},
                                     std::pair{"utm_campaign", &number.utm_campaign()}}) {
    if (auto status = checkText(field, *value, kMaxSourceField); !status.ok()) return status;
  }
  return grpc::Status::OK;
}

grpc::Status checkVisit(const v1::VisitRequest& request) {
  static const std::regex kSiteKey(R"(^trk_[A-Za-z0-9]{24}$)");
  if (!std::regex_match(request.site_key(), kSiteKey)) return invalidArgument("site_key", "not a site key");
  if (!request.session_id().empty() && !isUuid(request.session_id())) {
    return invalidArgument("session_id", "not a session id");
  }
  const auto& source = request.source();
  for (const auto& [field, value] : {std::pair{"utm_source", &source.utm_source()},
                                     std::pair{"utm_medium", &source.utm_medium()},
                                     std::pair{"utm_campaign", &source.utm_campaign()},
                                     std::pair{"utm_term", &source.utm_term()},
                                     std::pair{"utm_content", &source.utm_content()}}) {
    if (auto status = checkText(field, *value, kMaxSourceField); !status.ok()) return status;
  }
  for (const auto& [field, value] : {std::pair{"referrer", &source.referrer()},
                                     std::pair{"landing_page", &source.landing_page()}}) {
    if (auto status = checkText(field, *value, kMaxUrlField); !status.ok()) return status;
  }
  if (source.click_ids_size() > kMaxClickIds) {
    return invalidArgument("click_ids", "at most " + std::to_string(kMaxClickIds) + " click ids");
  }
  static const std::regex kClickName(R"(^[a-z][a-z0-9_]{0,31}$)");
  for (const auto& [name, value] : source.click_ids()) {
    if (!std::regex_match(name, kClickName)) return invalidArgument("click_ids", "names are lowercase words");
    if (auto status = checkText("click_ids", value, kMaxSourceField); !status.ok()) return status;
  }
  return grpc::Status::OK;
}

}  // namespace tel::analytics
