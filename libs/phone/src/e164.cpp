#include "tel/phone/e164.h"

#include <algorithm>

namespace tel::phone {

std::optional<std::string> toE164(const std::string& dialled) {
  std::string digits = dialled;
  if (digits.rfind("+", 0) == 0) {
    digits.erase(0, 1);
  } else if (digits.rfind("00", 0) == 0) {
    digits.erase(0, 2);
  }
  // E.164: a country code (never 0) and at most 15 digits; 7 keeps extensions out.
  if (digits.size() < 7 || digits.size() > 15 || digits.front() == '0') return std::nullopt;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return "+" + digits;
}

}  // namespace tel::phone
