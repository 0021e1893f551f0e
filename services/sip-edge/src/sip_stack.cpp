#include "sip_stack.h"

#include <arpa/inet.h>
#include <sofia-sip/auth_digest.h>
#include <sofia-sip/nta_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/url.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kernel_source_filter.h"
#include "sofia_event.h"
#include "source_guard.h"

namespace tel::sip {

struct SipStack::SofiaState {
  su_home_t home[1] = {SU_HOME_INIT(home)};
  su_root_t* root = nullptr;
  nua_t* nua = nullptr;
  su_timer_t* tick = nullptr;
  KernelSourceFilter filter;
  bool shutdown_done = false;
};

namespace {

void nuaCallback(nua_event_t event, int status, char const* phrase, nua_t*, nua_magic_t* magic,
                 nua_handle_t* nh, nua_hmagic_t*, sip_t const* sip, tagi_t tags[]) {
  auto* stack = reinterpret_cast<SipStack*>(magic);
  stack->dispatchOnSipThread(SipStack::Event{event, status, phrase, nh, sip, tags});
}

int onWake(su_root_magic_t* magic, su_wait_t*, su_wakeup_arg_t*) {
  reinterpret_cast<std::function<void()>*>(magic)->operator()();
  return 0;
}

std::string text(const char* value) { return value ? value : ""; }

std::optional<int64_t> parseSeconds(const char* value) {
  if (value == nullptr) return std::nullopt;
  try {
    size_t used = 0;
    const long long parsed = std::stoll(value, &used);
    if (used != std::strlen(value) || parsed < 0) return std::nullopt;
    return parsed;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

SipStack::SipStack(SipStackOptions options, RegisterHandler on_register, log::Logger logger)
    : options_(std::move(options)),
      trusted_proxies_(options_.trusted_proxies),
      on_register_(std::move(on_register)),
      log_(std::move(logger)),
      sofia_(std::make_unique<SofiaState>()) {}

SipStack::~SipStack() { stop(); }

void SipStack::start() {
  std::promise<void> started;
  auto ready = started.get_future();
  thread_ = std::thread(
      [this, started = std::move(started)]() mutable { runOnSipThread(std::move(started)); });
  ready.get();  // rethrows a bind failure
  running_ = true;
}

void SipStack::stop() {
  if (!thread_.joinable()) return;
  post([this] { su_root_break(sofia_->root); });
  thread_.join();
  running_ = false;
}

void SipStack::post(std::function<void()> task) { tasks_.post(std::move(task)); }

void SipStack::runOnSipThread(std::promise<void> started) {
  su_init();
  auto& sofia = *sofia_;
  std::function<void()> drain = [this] { tasks_.drain(); };
  sofia.root = su_root_create(reinterpret_cast<su_root_magic_t*>(&drain));
  su_wait_t wait[1];
  su_wait_create(wait, tasks_.fd(), SU_WAIT_IN);
  su_root_register(sofia.root, wait, onWake, nullptr, 0);
  // nua runs its stack as a clone task; by default in a thread of its own, so every message and
  // every nua_* call would cross threads twice (a futex wake-up each way). One thread does both.
  su_root_threading(sofia.root, 0);

  const std::string url =
      "sip:" + options_.listen_host + ":" + std::to_string(options_.listen_port);
  sofia.nua = nua_create(
      sofia.root, nuaCallback, reinterpret_cast<nua_magic_t*>(this), NUTAG_URL(url.c_str()),
      // OPTIONS is answered here rather than by nua so that banned sources
      // and scanners can be screened before anything is sent back; INFO by the B2BUA (keys
      // sent as SIP INFO, the fallback to RFC 4733 telephone-events).
      NUTAG_APPL_METHOD(calls_ ? "REGISTER, OPTIONS, INFO" : "REGISTER, OPTIONS"),
      NUTAG_ALLOW(calls_ ? "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER" : "REGISTER"),
      NUTAG_AUTOACK(1), NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0), NUTAG_MEDIA_ENABLE(0),
      // Nothing legitimate comes near this; larger messages are refused before
      // they are parsed into memory.
      NTATAG_MAXSIZE(options_.max_message_bytes), SIPTAG_SERVER_STR(options_.server_name.c_str()),
      // 100 Trying is passed up too: it is how the B2BUA knows that a target (a carrier) is there
      // before it rings (ExternalTarget.response_timeout_ms).
      NTATAG_PASS_100(1),
      TAG_END());
  if (sofia.nua == nullptr) {
    su_root_destroy(sofia.root);
    su_deinit();
    started.set_exception(std::make_exception_ptr(
        std::runtime_error("sip-edge: cannot listen on " + url + " (UDP and TCP)")));
    return;
  }
  sofia.filter = KernelSourceFilter::forListeningPort(options_.listen_port);
  sofia.tick = su_timer_create(su_root_task(sofia.root), CallHandler::kTickMillis);
  su_timer_set_for_ever(
      sofia.tick,
      [](su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
        reinterpret_cast<SipStack*>(arg)->tickOnSipThread();
      },
      reinterpret_cast<su_timer_arg_t*>(this));
  started.set_value();
  su_root_run(sofia.root);

  // Shutting down: calls are ended (BYE, CANCEL, 503), nua answers what it still holds, then
  // reports nua_r_shutdown.
  su_timer_destroy(sofia.tick);
  if (client_ != nullptr) client_->shutdownOnSipThread();
  if (calls_ != nullptr) {
    calls_->shutdownOnSipThread();
    for (int i = 0; i < 20; ++i) su_root_step(sofia.root, 50);
  }
  nua_shutdown(sofia.nua);
  for (int i = 0; i < 100 && !sofia.shutdown_done; ++i) su_root_step(sofia.root, 50);
  if (!sofia.shutdown_done) log_.warn("SIP stack shutdown did not complete within 5s");
  nua_destroy(sofia.nua);
  su_root_destroy(sofia.root);
  su_home_deinit(sofia.home);
  su_deinit();
}

namespace {
// A request within a dialog (its To has our tag): it continues something, it starts nothing.
bool inDialog(const sip_t* sip) {
  return sip != nullptr && sip->sip_to != nullptr && sip->sip_to->a_tag != nullptr;
}
}  // namespace

void SipStack::dispatchOnSipThread(const Event& event) {
  if (!screenOnSipThread(event)) return;
  switch (event.event) {
    case nua_i_register:
      handleRegisterOnSipThread(event);
      break;
    case nua_i_options:
      if (inDialog(event.sip)) {
        // A keep-alive within a call (a load balancer checking that the call's sip-edge is still
        // there): the B2BUA answers for its calls.
        if (calls_ == nullptr || !calls_->handleOnSipThread(event)) {
          nua_respond(event.handle, 481, "Call/Transaction Does Not Exist",
                      NUTAG_WITH_THIS(sofia_->nua), TAG_END());
          nua_handle_destroy(event.handle);
        }
        break;
      }
      if (draining_)
        nua_respond(event.handle, 503, "Service Unavailable", NUTAG_WITH_THIS(sofia_->nua),
                    SIPTAG_RETRY_AFTER_STR("60"), TAG_END());
      else
        nua_respond(event.handle, 200, "OK", NUTAG_WITH_THIS(sofia_->nua), TAG_END());
      nua_handle_destroy(event.handle);
      break;
    case nua_i_info:
      // Only within a call's dialog (keys the caller sends as SIP INFO): the B2BUA answers those.
      if (calls_ == nullptr || !calls_->handleOnSipThread(event)) {
        nua_respond(event.handle, 481, "Call/Transaction Does Not Exist", NUTAG_WITH_THIS(sofia_->nua),
                    TAG_END());
        if (!inDialog(event.sip)) nua_handle_destroy(event.handle);
      }
      break;
    case nua_r_shutdown:
      if (event.status >= 200) sofia_->shutdown_done = true;
      break;
    default:
      if (client_ != nullptr && client_->handleOnSipThread(event)) break;
      if (calls_ != nullptr && calls_->handleOnSipThread(event)) break;
      if (event.event == nua_i_invite) {
        // Without a call handler this sip-edge is a registrar only: calls are refused as RFC 3261
        // section 8.2.1 says for a method the server does not accept, naming what it accepts.
        nua_respond(event.handle, 405, "Method Not Allowed", NUTAG_WITH_THIS(sofia_->nua),
                    SIPTAG_ALLOW_STR("REGISTER, OPTIONS"), TAG_END());
        nua_handle_destroy(event.handle);
      }
      break;
  }
}

nua_t* SipStack::nuaOnSipThread() const { return sofia_->nua; }

RequestSource SipStack::sourceOf(const sip_t* sip) const {
  RequestSource source;
  if (sip == nullptr || sip->sip_via == nullptr) return source;
  // The transport peer: where the top Via says it sent from, corrected by received/rport (which
  // sofia adds when they differ from the packet's source).
  const sip_via_t* via = sip->sip_via;
  source.ip = text(via->v_received ? via->v_received : via->v_host);
  source.port =
      text(via->v_rport && *via->v_rport ? via->v_rport : (via->v_port ? via->v_port : "5060"));
  if (!trusted_proxies_.contains(source.ip)) return source;
  for (const sip_unknown_t* header = sip->sip_unknown; header != nullptr;
       header = header->un_next) {
    if (header->un_name == nullptr || header->un_value == nullptr ||
        strcasecmp(header->un_name, "X-Tel-Source") != 0)
      continue;
    // "ip:port", "[v6]:port" or a bare ip
    std::string value = header->un_value;
    std::string port;
    const auto colon = value.rfind(':');
    const bool bracketed = !value.empty() && value.front() == '[';
    if (colon != std::string::npos && (bracketed || value.find(':') == colon)) {
      port = value.substr(colon + 1);
      value = value.substr(0, colon);
    }
    if (bracketed && value.size() > 2 && value.back() == ']')
      value = value.substr(1, value.size() - 2);
    in6_addr parsed{};
    if (inet_pton(value.find(':') == std::string::npos ? AF_INET : AF_INET6, value.c_str(),
                  &parsed) != 1)
      return source;  // a proxy we trust sent nonsense: keep the proxy as the source
    source.ip = value;
    source.port = port.empty() ? "5060" : port;
    return source;
  }
  return source;
}

void SipStack::reportAuthenticationFailure(const std::string& ip) {
  if (guard_ != nullptr && !ip.empty())
    guard_->onAuthenticationFailure(ip, SourceGuard::Clock::now());
}

void SipStack::tickOnSipThread() {
  if (guard_ != nullptr && guard_->sweep(SourceGuard::Clock::now())) {
    if (auto status = sofia_->filter.install(guard_->bannedIpv4()); !status.ok()) {
      log_.error("cannot update the kernel source filter",
                 {{"error", std::string(status.message())}});
    }
  }
  if (client_ != nullptr) client_->tickOnSipThread();
  if (calls_ != nullptr) calls_->tickOnSipThread();
}

bool SipStack::screenOnSipThread(const Event& event) {
  if (guard_ == nullptr) return true;
  // Requests that continue a dialog or transaction are not counted: only what starts something.
  switch (event.event) {
    case nua_i_invite:
    case nua_i_options:
    case nua_i_info:
      if (inDialog(event.sip)) return true;
      break;
    case nua_i_register:
    case nua_i_message:
    case nua_i_subscribe:
    case nua_i_publish:
    case nua_i_refer:
    case nua_i_notify:
      break;
    default:
      return true;
  }
  const std::string ip = sourceOf(event.sip).ip;
  const std::string agent =
      event.sip && event.sip->sip_user_agent && event.sip->sip_user_agent->g_string
          ? event.sip->sip_user_agent->g_string
          : "";
  if (guard_->onRequest(ip, agent, SourceGuard::Clock::now()) == SourceGuard::Verdict::kAllow)
    return true;
  // Banned: the kernel filter drops what comes next; this request gets a cheap refusal, without any
  // lookup, so that sofia frees its transaction.
  if (event.event == nua_i_invite || event.event == nua_i_register ||
      event.event == nua_i_options) {
    nua_respond(event.handle, 403, "Forbidden", NUTAG_WITH_THIS(sofia_->nua), TAG_END());
    nua_handle_destroy(event.handle);
  }
  return false;
}

void SipStack::handleRegisterOnSipThread(const Event& event) {
  const sip_t* sip = event.sip;
  if (sip == nullptr || sip->sip_to == nullptr || sip->sip_to->a_url->url_host == nullptr) {
    nua_respond(event.handle, 400, "Bad Request", NUTAG_WITH_THIS(sofia_->nua), TAG_END());
    nua_handle_destroy(event.handle);
    return;
  }
  RegisterRequest request;
  request.aor_user = text(sip->sip_to->a_url->url_user);
  request.aor_domain = text(sip->sip_to->a_url->url_host);
  for (auto* c = request.aor_domain.data(); *c; ++c)
    *c = static_cast<char>(std::tolower(static_cast<unsigned char>(*c)));
  if (sip->sip_authorization != nullptr) {
    auth_response_t parsed[1];
    std::memset(parsed, 0, sizeof parsed);
    parsed->ar_size = sizeof(auth_response_t);
    if (auth_digest_response_get(sofia_->home, parsed, sip->sip_authorization->au_params) >= 0) {
      request.digest = DigestResponse{
          text(parsed->ar_username), text(parsed->ar_realm),    text(parsed->ar_nonce),
          text(parsed->ar_uri),      text(parsed->ar_response), text(parsed->ar_algorithm),
          text(parsed->ar_qop),      text(parsed->ar_nc),       text(parsed->ar_cnonce)};
    }
  }
  for (const sip_contact_t* contact = sip->sip_contact; contact; contact = contact->m_next) {
    if (contact->m_url->url_type == url_any) {
      request.wildcard = true;
      continue;
    }
    char* uri = url_as_string(sofia_->home, contact->m_url);
    request.contacts.push_back({text(uri), parseSeconds(contact->m_expires)});
    su_free(sofia_->home, uri);
  }
  if (sip->sip_expires) request.expires_header = static_cast<int64_t>(sip->sip_expires->ex_delta);
  const RequestSource source = sourceOf(sip);
  request.source_ip = source.ip;
  if (!source.ip.empty()) {
    request.source =
        (source.ip.find(':') != std::string::npos ? "[" + source.ip + "]" : source.ip) + ":" +
        source.port;
  }
  for (const sip_path_t* path = sip->sip_path; path != nullptr; path = path->r_next) {
    char* uri = url_as_string(sofia_->home, path->r_url);
    request.path += (request.path.empty() ? "<" : ",<") + text(uri) + ">";
    su_free(sofia_->home, uri);
  }
  if (sip->sip_user_agent) request.user_agent = text(sip->sip_user_agent->g_string);
  if (sip->sip_call_id) request.call_id = text(sip->sip_call_id->i_id);
  if (sip->sip_cseq) request.cseq = sip->sip_cseq->cs_seq;

  auto* saved = new nua_saved_event_t[1];
  nua_save_event(sofia_->nua, saved);
  nua_handle_t* handle = event.handle;
  on_register_(std::move(request), [this, handle, saved](SipResponse response) {
    post([this, handle, saved, response = std::move(response)] {
      respondOnSipThread(handle, saved, response);
    });
  });
}

void SipStack::respondOnSipThread(void* handle, void* saved_event, const SipResponse& response) {
  auto* saved = static_cast<nua_saved_event_t*>(saved_event);
  std::string headers;
  for (const auto& [name, value] : response.headers) headers += name + ": " + value + "\r\n";
  if (!headers.empty()) headers.resize(headers.size() - 2);
  nua_respond(static_cast<nua_handle_t*>(handle), response.status, response.phrase,
              NUTAG_WITH_SAVED(saved), TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())),
              TAG_END());
  nua_destroy_event(saved);
  delete[] saved;
  nua_handle_destroy(static_cast<nua_handle_t*>(handle));
}

}  // namespace tel::sip
