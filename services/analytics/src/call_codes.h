#pragma once

#include <string>

namespace tel::analytics {

// How calls store directions and dispositions (tel.calls.v1.Direction, Disposition) and how the
// API names them: "" is 0 (any, or not set).
inline constexpr const char* kDirectionNames[] = {"", "inbound", "outbound", "internal"};
inline constexpr const char* kDispositionNames[] = {"", "answered", "busy", "no_answer", "failed", "cancelled"};

// The stored number of a name; -1 for names that are neither.
template <size_t N>
int codeNamed(const char* const (&names)[N], const std::string& name) {
  for (size_t i = 0; i < N; ++i) {
    if (name == names[i]) return static_cast<int>(i);
  }
  return -1;
}

// The name of a stored number; "" for numbers out of range.
template <size_t N>
std::string nameOfCode(const char* const (&names)[N], int code) {
  return code >= 0 && static_cast<size_t>(code) < N ? names[code] : "";
}

}  // namespace tel::analytics
