#pragma once

#include <initializer_list>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api_error.h"

namespace tel::gateway {

enum class FieldType { kString, kInteger, kBoolean, kStringArray, kObject, kNumber };

struct FieldSpec {
  const char* name;
  FieldType type;
  bool required = false;
  // JSON null is accepted too (isNull() tells), e.g. to remove an optional part in a PATCH.
  bool nullable = false;
};

// A request body that passed validation: a JSON object with only known fields, each of its
// declared type. Accessors return nullopt for absent fields.
class JsonRequest {
 public:
  // Parses and validates; on failure `error` tells what to answer (400 naming the field).
  static JsonRequest parse(const std::string& body, std::initializer_list<FieldSpec> fields);

  bool ok() const { return !error.has_value(); }
  std::optional<ApiError> error;

  std::optional<std::string> string(const char* name) const;
  std::optional<int64_t> integer(const char* name) const;
  // A kNumber field: any JSON number (integer or not).
  std::optional<double> number(const char* name) const;
  std::optional<bool> boolean(const char* name) const;
  std::optional<std::vector<std::string>> strings(const char* name) const;
  // The kObject field `name`, validated like a body against `fields`; its errors name nested
  // fields as "<name>.<field>". Nullopt when the field is absent (or null, if nullable).
  // True when the (nullable) field is present and null.
  bool isNull(const char* name) const;
  std::optional<JsonRequest> object(const char* name,
                                    std::initializer_list<FieldSpec> fields) const;

  JsonRequest();
  ~JsonRequest();
  JsonRequest(JsonRequest&&) noexcept;

 private:
  static JsonRequest validate(nlohmann::json parsed, std::initializer_list<FieldSpec> fields,
                              const std::string& prefix);

  std::unique_ptr<nlohmann::json> object_;
};

}  // namespace tel::gateway
