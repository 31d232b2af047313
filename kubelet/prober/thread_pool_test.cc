#include "kubelet/prober/thread_pool.h"

#include <gtest/gtest.h>

namespace kubes::kubelet::prober {
namespace {

using namespace std::chrono_literals;

TEST(ThreadPoolTest, RunsTasksAndGrowsWhileTheyBlock) {
  ThreadPool pool("test-pool", 2, 8, 100ms);
  std::atomic<int> done{0};
  std::atomic<bool> release{false};
  // Six tasks that wait: the pool grows past its two threads to run them all at once.
  for (int i = 0; i < 6; ++i) {
    pool.Submit([&] {
      while (!release) std::this_thread::sleep_for(1ms);
      ++done;
    });
  }
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (pool.threads() < 6 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_GE(pool.threads(), 6);
  EXPECT_LE(pool.threads(), 8);
  release = true;
  while (done < 6 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(done, 6);
  // Idle extra threads end; the two stay.
  deadline = std::chrono::steady_clock::now() + 2s;
  while (pool.threads() > 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(pool.threads(), 2);
  pool.Submit([&] { ++done; });
  while (done < 7 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(done, 7);
}

TEST(ThreadPoolTest, NeverMoreThanTheMaximum) {
  ThreadPool pool("test-pool", 1, 3, 1s);
  std::atomic<bool> release{false};
  std::atomic<int> running{0}, most{0};
  for (int i = 0; i < 10; ++i) {
    pool.Submit([&] {
      int now = ++running;
      int seen = most;
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      while (!release) std::this_thread::sleep_for(1ms);
      --running;
    });
  }
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(most, 3);
  release = true;
}

}  // namespace
}  // namespace kubes::kubelet::prober
