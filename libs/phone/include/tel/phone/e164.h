#pragma once

#include <optional>
#include <string>

namespace tel::phone {

// "+15550001000" from "+15550001000", "15550001000" or "0015550001000"; nullopt when `dialled` is
// not a phone number (an extension, a name, too short or too long for E.164).
std::optional<std::string> toE164(const std::string& dialled);

}  // namespace tel::phone
