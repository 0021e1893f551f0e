#pragma once

#include <grpcpp/grpcpp.h>

#include "tel/analytics/v1/tracking.pb.h"

namespace tel::analytics {

namespace v1 = ::tel::analytics::v1;

inline constexpr int kDefaultHoldSeconds = 900;
// Longest accepted text of a visit's source fields (URLs for referrer and landing page).
inline constexpr size_t kMaxSourceField = 256;
inline constexpr size_t kMaxUrlField = 2048;
inline constexpr int kMaxClickIds = 8;

// Each returns OK or INVALID_ARGUMENT naming the field; they change nothing.
grpc::Status checkCreateSite(const v1::CreateSiteRequest& request);
grpc::Status checkTrackingNumber(const v1::TrackingNumber& number);
grpc::Status checkVisit(const v1::VisitRequest& request);

bool isUuid(const std::string& text);
bool isE164(const std::string& text);

}  // namespace tel::analytics
