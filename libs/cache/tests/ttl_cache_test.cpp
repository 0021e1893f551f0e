#include "tel/cache/ttl_cache.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using Cache = tel::cache::TtlCache<int>;

TEST_CASE("entries live for their ttl") {
  Cache cache(5s, 10);
  const auto now = Cache::Clock::now();
  cache.put("a", 1, now);
  CHECK(cache.get("a", now + 4s) == 1);
  CHECK_FALSE(cache.get("a", now + 5s));
  CHECK_FALSE(cache.get("b", now));
}

TEST_CASE("a full cache drops expired entries first, then everything") {
  Cache cache(5s, 2);
  const auto now = Cache::Clock::now();
  cache.put("a", 1, now);
  cache.put("b", 2, now + 3s);
  cache.put("c", 3, now + 6s);  // "a" has expired and goes
  CHECK(cache.size() == 2);
  CHECK(cache.get("b", now + 6s) == 2);
  cache.put("d", 4, now + 7s);  // nothing expired: all go
  CHECK(cache.size() == 1);
  CHECK(cache.get("d", now + 7s) == 4);
}

TEST_CASE("a zero ttl disables caching") {
  Cache cache(0ms, 10);
  cache.put("a", 1);
  CHECK_FALSE(cache.get("a"));
}
