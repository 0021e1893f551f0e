#pragma once

// The nua event as the SIP thread sees it. Only .cpp files that use sofia include this.
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>

#include <optional>
#include <string>

#include "sip_stack.h"

namespace tel::sip {

struct SipStack::Event {
  nua_event_t event;
  int status;
  const char* phrase;
  nua_handle_t* handle;
  const sip_t* sip;
  tagi_t* tags;
};

// The NUTAG_AUTH() answer to the digest challenge in `event` (a 401 or 407): scheme:"realm":user:
// password, the realm as the challenge quoted it. nullopt when the event carries no usable one.
std::optional<std::string> digestAnswerFor(const SipStack::Event& event, const std::string& username,
                                           const std::string& password);

}  // namespace tel::sip
