#pragma once

#include <absl/status/statusor.h>
#include <librdkafka/rdkafkacpp.h>

#include <memory>

#include "tel/kafka/kafka.h"

namespace tel::kafka {

// A librdkafka global configuration from properties; an unknown property or bad value is an
// InvalidArgument naming it.
absl::StatusOr<std::unique_ptr<RdKafka::Conf>> makeConf(const Properties& properties);

}  // namespace tel::kafka
