// The floor of the SIP benchmark: the least a back-to-back user agent built on sofia-sip's nua (the
// SIP stack sip-edge uses) costs per call on this machine. Each INVITE becomes a second call to
// one fixed target; the offer and the answer pass through unchanged; provisional and final
// responses, CANCEL and BYE are relayed to the other side. No media relay, no lookups, no events,
// no state outside the two nua handles.
//
// What sip-edge costs above this floor is what our own design costs; what this floor costs above
// Kamailio (a transaction-stateful proxy) is what running two full user agents per call costs.
//
// Usage: bench_nua_b2bua_floor PORT TARGET_URI [threaded]
//   Listens on 127.0.0.1:PORT (UDP and TCP). nua runs its SIP stack in the application's thread
//   (as sip-edge does) unless "threaded" is given, in which case the stack gets a thread of its
//   own (nua's default). Runs until SIGTERM or SIGINT.
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

// One bridged call: the caller's handle (a) and the callee's (b). Owned by the handles' magic;
// freed when both handles are gone.
struct Call {
  nua_handle_t* a = nullptr;
  nua_handle_t* b = nullptr;
};

struct Floor {
  nua_t* nua = nullptr;
  su_root_t* root = nullptr;
  std::string target;
};

std::string payloadOf(const sip_t* sip) {
  if (sip == nullptr || sip->sip_payload == nullptr) return {};
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

void forget(Call* call, nua_handle_t* handle) {
  if (call->a == handle) call->a = nullptr;
  if (call->b == handle) call->b = nullptr;
  nua_handle_destroy(handle);
  if (call->a == nullptr && call->b == nullptr) delete call;
}

void onEvent(nua_event_t event, int status, char const* phrase, nua_t* nua, nua_magic_t* magic,
             nua_handle_t* handle, nua_hmagic_t* hmagic, sip_t const* sip, tagi_t tags[]) {
  auto* floor = reinterpret_cast<Floor*>(magic);
  auto* call = reinterpret_cast<Call*>(hmagic);
  switch (event) {
    case nua_i_invite: {
      if (call != nullptr) {  // a re-INVITE: not part of this benchmark's calls
        nua_respond(handle, 488, "Not Acceptable Here", TAG_END());
        return;
      }
      call = new Call{handle, nullptr};
      nua_handle_bind(handle, reinterpret_cast<nua_hmagic_t*>(call));
      call->b = nua_handle(nua, reinterpret_cast<nua_hmagic_t*>(call),
                           SIPTAG_TO_STR(floor->target.c_str()), TAG_END());
      const std::string offer = payloadOf(sip);
      nua_invite(call->b, NUTAG_URL(floor->target.c_str()),
                 SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer.c_str()),
                 TAG_END());
      return;
    }
    case nua_r_invite:
      if (call == nullptr || handle != call->b || call->a == nullptr || status <= 100) return;
      if (status < 200) {
        nua_respond(call->a, status, phrase, TAG_END());
      } else if (status < 300) {
        const std::string answer = payloadOf(sip);
        nua_respond(call->a, 200, "OK", SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                    SIPTAG_PAYLOAD_STR(answer.c_str()), TAG_END());
      } else {
        nua_respond(call->a, status, phrase, TAG_END());
      }
      return;
    case nua_i_cancel:
      if (call != nullptr && call->b != nullptr) nua_cancel(call->b, TAG_END());
      return;
    case nua_i_bye:
      if (call == nullptr) return;
      if (handle == call->a && call->b != nullptr) nua_bye(call->b, TAG_END());
      if (handle == call->b && call->a != nullptr) nua_bye(call->a, TAG_END());
      return;
    case nua_i_state: {
      int state = nua_callstate_init;
      tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
      if (state != nua_callstate_terminated) return;
      if (call == nullptr) {
        nua_handle_destroy(handle);
      } else {
        forget(call, handle);
      }
      return;
    }
    case nua_r_shutdown:
      if (status >= 200) su_root_break(floor->root);
      return;
    default:
      return;
  }
}

su_root_t* running_root = nullptr;

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PORT TARGET_URI [threaded]\n", argv[0]);
    return 2;
  }
  const bool threaded = argc > 3 && std::strcmp(argv[3], "threaded") == 0;
  su_init();
  Floor floor;
  floor.target = argv[2];
  floor.root = su_root_create(nullptr);
  if (!threaded) su_root_threading(floor.root, 0);
  const std::string url = std::string("sip:127.0.0.1:") + argv[1];
  floor.nua = nua_create(floor.root, onEvent, reinterpret_cast<nua_magic_t*>(&floor),
                         NUTAG_URL(url.c_str()), NUTAG_AUTOACK(1), NUTAG_AUTOALERT(0),
                         NUTAG_AUTOANSWER(0), NUTAG_MEDIA_ENABLE(0), TAG_END());
  if (floor.nua == nullptr) {
    std::fprintf(stderr, "cannot listen on %s\n", url.c_str());
    return 1;
  }
  running_root = floor.root;
  auto stop = [](int) {
    // su_root_break is safe here: it only sets a flag the loop checks after epoll_wait returns.
    if (running_root != nullptr) su_root_break(running_root);
  };
  std::signal(SIGTERM, stop);
  std::signal(SIGINT, stop);
  std::printf("listening on %s, calling %s, %s\n", url.c_str(), floor.target.c_str(),
              threaded ? "stack in its own thread" : "one thread");
  std::fflush(stdout);
  su_root_run(floor.root);
  running_root = nullptr;
  nua_shutdown(floor.nua);
  for (int i = 0; i < 40; ++i) su_root_step(floor.root, 50);
  nua_destroy(floor.nua);
  su_root_destroy(floor.root);
  su_deinit();
  return 0;
}
