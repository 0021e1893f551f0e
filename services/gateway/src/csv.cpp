#include "csv.h"

#include <cctype>

namespace tel::gateway {

std::string csvField(std::string_view text) {
  std::string out(text);
  const bool formula =
      !out.empty() && (out[0] == '=' || out[0] == '@' || out[0] == '\t' || out[0] == '\r' ||
                       ((out[0] == '+' || out[0] == '-') &&
                        (out.size() == 1 || !std::isdigit(static_cast<unsigned char>(out[1])))));
  if (formula) out.insert(0, 1, '\'');
  if (out.find_first_of(",\"\r\n") == std::string::npos) return out;
  std::string quoted = "\"";
  for (char c : out) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace tel::gateway
