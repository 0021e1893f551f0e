#pragma once

#include <string>
#include <string_view>

namespace tel::gateway {

// One RFC 4180 field: quoted when it holds a comma, a quote or a line break, quotes doubled. A text
// that a spreadsheet would run as a formula (starting with =, @, a tab or carriage return, or +
// and - not followed by a digit, as in +15550001000) is prefixed with an apostrophe so that it
// stays text: callers, sources and names in our exports come from outside.
std::string csvField(std::string_view text);

inline constexpr const char* kCsvContentType = "text/csv; charset=utf-8";

}  // namespace tel::gateway
