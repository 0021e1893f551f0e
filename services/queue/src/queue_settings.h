#pragma once

#include <absl/status/status.h>
#include <grpcpp/support/status.h>

#include "tel/queue/v1/queues.pb.h"

namespace tel::queue {

// Checks a queue's settings and fills in the defaults of those left 0 or empty: strategy
// longest_idle, ring timeout 15 s, one agent at a time, service level 20 s.
// INVALID_ARGUMENT names the field ("members[2].account_id").
absl::Status normalizeSettings(v1::QueueSettings& settings);

// How long an agent who missed an offer rests (retry_seconds, 5 when unset, as in queues saved
// before the setting existed).
int64_t retryMs(const v1::QueueSettings& settings);

// A refusal of normalizeSettings as the API answers it: INVALID_ARGUMENT with the field in its
// details (the gateway's `error.field`).
grpc::Status settingsRefusal(const absl::Status& refusal);

}  // namespace tel::queue
