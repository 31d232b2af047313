#include "client/workqueue.h"

#include <gtest/gtest.h>

#include <thread>

namespace kubes::client {
namespace {

TEST(WorkQueueTest, DeduplicatesAndRequeuesWhileProcessing) {
  WorkQueue q;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(q.Len(), 2u);
  auto k = q.Get();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "a");
  q.Add("a");  // added while processing: not handed out twice
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(*q.Get(), "b");
  q.Done("b");
  q.Done("a");  // now "a" comes back
  EXPECT_EQ(*q.Get(), "a");
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, AddAfterWaitsThenDelivers) {
  WorkQueue q;
  auto start = std::chrono::steady_clock::now();
  q.AddAfter("later", std::chrono::milliseconds(30));
  auto k = q.Get();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "later");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
}

TEST(WorkQueueTest, RateLimitingBacksOffAndForgetResets) {
  WorkQueue q;
  q.AddRateLimited("x");
  q.AddRateLimited("x");
  EXPECT_EQ(q.NumRequeues("x"), 2);
  q.Forget("x");
  EXPECT_EQ(q.NumRequeues("x"), 0);
}

TEST(WorkQueueTest, ShutDownWakesWaiters) {
  WorkQueue q;
  std::thread t([&] { EXPECT_FALSE(q.Get()); });
  q.ShutDown();
  t.join();
}

}  // namespace
}  // namespace kubes::client
