#pragma once

#include <pqxx/pqxx>

#include <string>
#include <utility>

namespace tel::pg {

// A Postgres array literal ({"a","b"}) of text values, for text[] (or cidr[]) parameters: libpqxx 6
// passes arrays as their literal. Every element is quoted, so empty strings, commas and braces are
// plain values.
template <typename Strings>
std::string arrayLiteral(const Strings& items) {
  std::string literal = "{";
  for (const auto& item : items) {
    if (literal.size() > 1) literal += ',';
    literal += '"';
    for (char c : item) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  return literal + "}";
}

// Appends the elements of a text[] field (NULL elements left out) to `out`, anything with
// Add(std::string) such as a repeated protobuf field.
template <typename Repeated>
void appendTextArray(const pqxx::field& field, Repeated* out) {
  auto parser = field.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done; item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out->Add(std::move(item.second));
  }
}

}  // namespace tel::pg
