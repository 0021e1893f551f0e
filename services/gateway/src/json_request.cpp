#include "json_request.h"

#include <nlohmann/json.hpp>

namespace tel::gateway {

JsonRequest::JsonRequest() = default;
JsonRequest::~JsonRequest() = default;
JsonRequest::JsonRequest(JsonRequest&&) noexcept = default;

JsonRequest JsonRequest::parse(const std::string& body, std::initializer_list<FieldSpec> fields) {
  JsonRequest request;
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    request.error = ApiError::invalid("", "request body is not valid JSON");
    return request;
  }
  if (!parsed.is_object()) {
    request.error = ApiError::invalid("", "request body must be a JSON object");
    return request;
  }
  for (const auto& [name, value] : parsed.items()) {
    const FieldSpec* spec = nullptr;
    for (const auto& candidate : fields) {
      if (name == candidate.name) spec = &candidate;
    }
    if (spec == nullptr) {
      request.error = ApiError::invalid(name, "unknown field '" + name + "'");
      return request;
    }
    const bool type_ok = (spec->type == FieldType::kString && value.is_string()) ||
                         (spec->type == FieldType::kInteger && value.is_number_integer()) ||
                         (spec->type == FieldType::kBoolean && value.is_boolean());
    if (!type_ok) {
      static constexpr const char* kTypeNames[] = {"a string", "an integer", "a boolean"};
      request.error = ApiError::invalid(
          name, name + ": must be " + kTypeNames[static_cast<int>(spec->type)]);
      return request;
    }
  }
  for (const auto& spec : fields) {
    if (spec.required && !parsed.contains(spec.name)) {
      request.error = ApiError::invalid(spec.name, std::string(spec.name) + ": is required");
      return request;
    }
  }
  request.object_ = std::make_unique<nlohmann::json>(std::move(parsed));
  return request;
}

std::optional<std::string> JsonRequest::string(const char* name) const {
  if (!object_ || !object_->contains(name)) return std::nullopt;
  return (*object_)[name].get<std::string>();
}

std::optional<int64_t> JsonRequest::integer(const char* name) const {
  if (!object_ || !object_->contains(name)) return std::nullopt;
  const auto& value = (*object_)[name];
  // Integers beyond int64 are clamped so that range checks downstream reject them.
  if (value.is_number_unsigned() && value.get<uint64_t>() > INT64_MAX) return INT64_MAX;
  return value.get<int64_t>();
}

std::optional<bool> JsonRequest::boolean(const char* name) const {
  if (!object_ || !object_->contains(name)) return std::nullopt;
  return (*object_)[name].get<bool>();
}

}  // namespace tel::gateway
