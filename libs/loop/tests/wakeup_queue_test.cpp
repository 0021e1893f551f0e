#include <poll.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "tel/loop/wakeup_queue.h"

using tel::loop::WakeupQueue;

TEST_CASE("posted tasks wake the loop and run on it, in order") {
  WakeupQueue queue;
  std::atomic<bool> stop{false};
  std::vector<int> ran;
  std::thread::id loop_thread;
  std::thread loop([&] {
    loop_thread = std::this_thread::get_id();
    while (!stop) {
      pollfd ready{queue.fd(), POLLIN, 0};
      if (poll(&ready, 1, 1000) > 0) queue.drain();
    }
  });
  std::vector<std::thread::id> where;
  for (int i = 0; i < 100; ++i) {
    queue.post([&, i] {
      ran.push_back(i);
      where.push_back(std::this_thread::get_id());
    });
  }
  queue.post([&] { stop = true; });
  loop.join();
  REQUIRE(ran.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(ran[i] == i);
  for (const auto& id : where) CHECK(id == loop_thread);
}

TEST_CASE("draining with nothing queued is harmless") {
  WakeupQueue queue;
  queue.drain();
  int runs = 0;
  queue.post([&] { ++runs; });
  queue.drain();
  queue.drain();
  CHECK(runs == 1);
}
