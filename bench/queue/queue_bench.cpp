// Queue operations against the local stack's Redis (TEL_REDIS_URL), beside Redis's own round trip
// from the same client. 1,000 callers wait across 50 queues of 4 agents; one cycle serves the head
// of a queue: claim (the caller with the agent the strategy picks), answered, left (the call ends),
// and a new caller joins at the end. Prints operations per second and each operation's latency
// (p50/p99), beside EVAL of a one-line script and HSET, the floor any script-per-change design has.
// Also: how long after `left` frees an agent another instance is woken (its subscriber to the
// wake channel gets the message), the step an agent-free -> INVITE path takes across instances.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <random>
#include <string>
#include <vector>

#include "live_queues.h"
#include "tel/redis/redis_subscriber.h"

using Clock = std::chrono::steady_clock;

namespace {

struct Samples {
  std::vector<double> micros;
  void add(Clock::time_point start) {
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  double percentile(double p) {
    if (micros.empty()) return 0;
    std::sort(micros.begin(), micros.end());
    return micros[static_cast<size_t>(p * (micros.size() - 1))];
  }
};

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void must(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(status.message()).c_str());
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* url = std::getenv("TEL_REDIS_URL");
  if (url == nullptr) {
    std::fprintf(stderr, "TEL_REDIS_URL is not set: run through bench/run queue\n");
    return 2;
  }
  const int cycles = argc > 1 ? std::atoi(argv[1]) : 20000;
  auto options = tel::redis::parseRedisUrl(url);
  must(options.status(), "redis url");
  tel::redis::RedisClient redis(*options);
  tel::queue::LiveQueues live(redis);
  const std::string tenant = "bench-" + std::to_string(std::random_device()());
  constexpr int kQueues = 50;
  constexpr int kAgents = 4;
  constexpr int kWaiting = 20;

  std::vector<tel::queue::v1::QueueSettings> queues(kQueues);
  for (int q = 0; q < kQueues; ++q) {
    queues[q].set_name("q" + std::to_string(q));
    queues[q].set_strategy("longest_idle");
    queues[q].set_ring_at_once(1);
    for (int a = 0; a < kAgents; ++a) queues[q].add_members()->set_account_id("q" + std::to_string(q) + "a" + std::to_string(a));
  }
  int64_t next_call = 0;
  for (int q = 0; q < kQueues; ++q) {
    for (int c = 0; c < kWaiting; ++c) {
      must(live.join(tenant, "q" + std::to_string(q), "c" + std::to_string(next_call++), "+1555", "bench", nowMs(), 0)
               .status(),
           "join");
    }
  }

  // The anchor: Redis's own round trips from the same client.
  Samples eval_floor, hset_floor;
  const int floor_ops = std::min(cycles, 20000);
  auto started = Clock::now();
  for (int i = 0; i < floor_ops; ++i) {
    auto t = Clock::now();
    must(redis.eval("return 1", {}, {}).status(), "eval");
    eval_floor.add(t);
  }
  const double eval_per_second = floor_ops / std::chrono::duration<double>(Clock::now() - started).count();
  started = Clock::now();
  for (int i = 0; i < floor_ops; ++i) {
    auto t = Clock::now();
    must(redis.command({"HSET", "tq:{" + tenant + "}:floor", "f", std::to_string(i)}).status(), "hset");
    hset_floor.add(t);
  }
  const double hset_per_second = floor_ops / std::chrono::duration<double>(Clock::now() - started).count();

  // Another instance's wake-ups, as the queue service subscribes to them.
  std::mutex woken_mutex;
  std::vector<Clock::time_point> woken;
  tel::redis::RedisSubscriber other_instance(*options, tel::queue::kWakeChannel, [&](const std::string& prefix) {
    if (prefix != "tq:{" + tenant + "}:") return;
    std::lock_guard lock(woken_mutex);
    woken.push_back(Clock::now());
  });
  other_instance.start();
  for (int i = 0; i < 100 && !other_instance.subscribed(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::vector<Clock::time_point> freed;

  Samples claim, answered, left, join;
  started = Clock::now();
  for (int i = 0; i < cycles; ++i) {
    const int q = i % kQueues;
    const std::string queue = "q" + std::to_string(q);
    auto t = Clock::now();
    auto offer = live.claim(tenant, queue, queues[q], "bench", nowMs(), 60000);
    claim.add(t);
    must(offer.status(), "claim");
    if (!*offer) {
      std::fprintf(stderr, "no caller or agent free in %s\n", queue.c_str());
      return 1;
    }
    t = Clock::now();
    must(live.answered(tenant, queue, (*offer)->call_id, (*offer)->agents[0], nowMs(), 20000).status(), "answered");
    answered.add(t);
    t = Clock::now();
    freed.push_back(t);
    must(live.left(tenant, queue, (*offer)->call_id, "done", nowMs(), 0).status(), "left");
    left.add(t);
    t = Clock::now();
    must(live.join(tenant, queue, "c" + std::to_string(next_call++), "+1555", "bench", nowMs(), 0).status(), "join");
    join.add(t);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const double ops_per_second = 4.0 * cycles / seconds;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  other_instance.stop();
  Samples wake;
  {
    std::lock_guard lock(woken_mutex);
    for (size_t i = 0; i < std::min(freed.size(), woken.size()); ++i)
      wake.micros.push_back(std::chrono::duration<double, std::micro>(woken[i] - freed[i]).count());
  }

  std::printf("queue operations (1 client thread, %d queues, %d callers waiting, %d agents each)\n", kQueues,
              kQueues * kWaiting, kAgents);
  std::printf("  cycles (claim+answered+left+join): %d in %.2f s: %.0f cycles/s, %.0f ops/s\n", cycles, seconds,
              cycles / seconds, ops_per_second);
  std::printf("  claim    p50 %6.0f us  p99 %6.0f us\n", claim.percentile(0.5), claim.percentile(0.99));
  std::printf("  answered p50 %6.0f us  p99 %6.0f us\n", answered.percentile(0.5), answered.percentile(0.99));
  std::printf("  left     p50 %6.0f us  p99 %6.0f us\n", left.percentile(0.5), left.percentile(0.99));
  std::printf("  join     p50 %6.0f us  p99 %6.0f us\n", join.percentile(0.5), join.percentile(0.99));
  std::printf("  agent freed (left called) -> another instance woken: p50 %.0f us, p99 %.0f us (%zu of %d)\n",
              wake.percentile(0.5), wake.percentile(0.99), wake.micros.size(), cycles);
  std::printf("anchor (same client): EVAL 'return 1' %.0f/s (p50 %.0f us, p99 %.0f us), HSET %.0f/s\n",
              eval_per_second, eval_floor.percentile(0.5), eval_floor.percentile(0.99), hset_per_second);
  std::printf("ratio: queue ops/s / EVAL floor = %.2f\n", ops_per_second / eval_per_second);

  // Leave nothing behind in the stack's Redis.
  auto keys = redis.command({"KEYS", "tq:{" + tenant + "}:*"});
  if (keys.ok()) {
    for (const auto& key : keys->elements) (void)redis.command({"DEL", key.str});
  }
  return 0;
}
