#pragma once

// The nua event as the SIP thread sees it. Only .cpp files that use sofia include this.
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_header.h>

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

}  // namespace tel::sip
