#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace tel::cache {

// A small thread-safe map whose entries expire `ttl` after they were stored: for configuration
// read on every call (a number's route, a carrier match) that may be a few seconds stale. When
// full, expired entries are dropped, and if none had expired, everything is (cheap to refill).
template <typename Value>
class TtlCache {
 public:
  using Clock = std::chrono::steady_clock;

  TtlCache(std::chrono::milliseconds ttl, size_t capacity) : ttl_(ttl), capacity_(capacity) {}

  std::optional<Value> get(const std::string& key, Clock::time_point now = Clock::now()) const {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
    return it->second.value;
  }

  void put(const std::string& key, Value value, Clock::time_point now = Clock::now()) {
    if (ttl_.count() <= 0) return;
    std::lock_guard lock(mutex_);
    if (entries_.size() >= capacity_ && !entries_.count(key)) evictLocked(now);
    entries_[key] = Entry{std::move(value), now + ttl_};
  }

  size_t size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    Value value;
    Clock::time_point expires;
  };

  void evictLocked(Clock::time_point now) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = it->second.expires <= now ? entries_.erase(it) : std::next(it);
    }
    if (entries_.size() >= capacity_) entries_.clear();
  }

  const std::chrono::milliseconds ttl_;
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // guarded by mutex_
};

}  // namespace tel::cache
