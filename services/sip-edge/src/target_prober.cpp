#include "target_prober.h"

#include "sofia_event.h"

namespace tel::sip {

void TargetProber::probe(const std::string& uri, std::chrono::milliseconds timeout, Done done) {
  stack_.post([this, uri, timeout, done = std::move(done)] {
    if (pending_.size() >= kMaxPending) return done(-1, {});
    const std::string from = "<sip:probe@" + edge_host_ + ">";
    const std::string to = "<" + uri + ">";
    nua_handle_t* handle =
        nua_handle(stack_.nuaOnSipThread(), nullptr, SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()),
                   TAG_IF(!outbound_proxy_.empty(), NUTAG_INITIAL_ROUTE_STR(outbound_proxy_.c_str())), TAG_END());
    if (handle == nullptr) return done(0, {});
    const auto now = Clock::now();
    pending_[handle] = Pending{std::move(done), now, now + timeout};
    nua_options(handle, NUTAG_URL(uri.c_str()), TAG_END());
  });
}

bool TargetProber::handleOnSipThread(const SipStack::Event& event) {
  if (event.event != nua_r_options || !pending_.contains(event.handle)) return false;
  // A provisional answer says nothing yet; an authentication challenge (401/407) is an answer: the
  // carrier is there.
  if (event.status >= 200) finishOnSipThread(event.handle, event.status);
  return true;
}

void TargetProber::tickOnSipThread() {
  const auto now = Clock::now();
  std::vector<nua_handle_t*> due;
  for (const auto& [handle, pending] : pending_) {
    if (pending.deadline <= now) due.push_back(handle);
  }
  for (nua_handle_t* handle : due) finishOnSipThread(handle, 0);
}

void TargetProber::shutdownOnSipThread() {
  while (!pending_.empty()) finishOnSipThread(pending_.begin()->first, 0);
}

void TargetProber::finishOnSipThread(nua_handle_t* handle, int status) {
  auto found = pending_.find(handle);
  Pending pending = std::move(found->second);
  pending_.erase(found);
  // Destroying the handle also ends a transaction still waiting (sofia stops its retransmissions).
  nua_handle_destroy(handle);
  pending.done(status, std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - pending.sent));
}

}  // namespace tel::sip
