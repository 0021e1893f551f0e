#include "json_request.h"

#include <nlohmann/json.hpp>

namespace tel::gateway {

JsonRequest::JsonRequest() = default;
JsonRequest::~JsonRequest() = default;
JsonRequest::JsonRequest(JsonRequest&&) noexcept = default;

JsonRequest JsonRequest::parse(const std::string& body, std::initializer_list<FieldSpec> fields) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    JsonRequest request;
    request.error = ApiError::invalid("", "request body is not valid JSON");
    return request;
  }
  if (!parsed.is_object()) {
    JsonRequest request;
    request.error = ApiError::invalid("", "request body must be a JSON object");
    return request;
  }
  return validate(std::move(parsed), fields, "");
}

JsonRequest JsonRequest::validate(nlohmann::json parsed, std::initializer_list<FieldSpec> fields,
                                  const std::string& prefix) {
  JsonRequest request;
  for (const auto& [name, value] : parsed.items()) {
    const std::string field = prefix + name;
    const FieldSpec* spec = nullptr;
    for (const auto& candidate : fields) {
      if (name == candidate.name) spec = &candidate;
    }
    if (spec == nullptr) {
      request.error = ApiError::invalid(field, "unknown field '" + field + "'");
      return request;
    }
    if (value.is_null() && spec->nullable) continue;
    bool type_ok = false;
    switch (spec->type) {
      case FieldType::kString:
        type_ok = value.is_string();
        break;
      case FieldType::kInteger:
        type_ok = value.is_number_integer();
        break;
      case FieldType::kBoolean:
        type_ok = value.is_boolean();
        break;
      case FieldType::kObject:
        type_ok = value.is_object();
        break;
      case FieldType::kNumber:
        type_ok = value.is_number();
        break;
      case FieldType::kStringArray:
        type_ok = value.is_array();
        for (const auto& element : value) type_ok = type_ok && element.is_string();
        break;
    }
    if (!type_ok) {
      static constexpr const char* kTypeNames[] = {"a string", "an integer", "a boolean",
                                                   "an array of strings", "an object", "a number"};
      request.error =
          ApiError::invalid(field, field + ": must be " + kTypeNames[static_cast<int>(spec->type)]);
      return request;
    }
  }
  for (const auto& spec : fields) {
    if (spec.required && !parsed.contains(spec.name)) {
      const std::string field = prefix + spec.name;
      request.error = ApiError::invalid(field, field + ": is required");
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

std::optional<double> JsonRequest::number(const char* name) const {
  if (!object_ || !object_->contains(name)) return std::nullopt;
  return (*object_)[name].get<double>();
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

std::optional<std::vector<std::string>> JsonRequest::strings(const char* name) const {
  if (!object_ || !object_->contains(name)) return std::nullopt;
  return (*object_)[name].get<std::vector<std::string>>();
}

bool JsonRequest::isNull(const char* name) const {
  return object_ && object_->contains(name) && (*object_)[name].is_null();
}

std::optional<JsonRequest> JsonRequest::object(const char* name,
                                               std::initializer_list<FieldSpec> fields) const {
  if (!object_ || !object_->contains(name) || isNull(name)) return std::nullopt;
  return validate((*object_)[name], fields, std::string(name) + ".");
}

}  // namespace tel::gateway
