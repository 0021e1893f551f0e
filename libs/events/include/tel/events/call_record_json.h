#pragma once

// The call record as JSON, exactly as the REST API (GET /v1/calls/{id}) and the webhooks
// (call.ended, call.missed) show it: one rendering, so a CRM sees the same fields in both.
#include <google/protobuf/descriptor.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tel/calls/v1/calls.pb.h"

namespace tel::events {

// An enum value as the API spells it: DIRECTION_INBOUND with prefix "DIRECTION_" -> "inbound";
// "" for the unspecified value (0) and unknown numbers.
std::string apiEnumName(int value, const google::protobuf::EnumDescriptor* descriptor,
                        const std::string& prefix);

// The record's fields; its legs and route (its way through the dial plan) too when `with_legs` (the
// call log's list leaves them out).
nlohmann::json callRecordJson(const calls::v1::CallRecord& call, bool with_legs);

}  // namespace tel::events
