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

TEST(WorkQueueTest, AKeyWaitsForOneDelayedAddAtItsSoonestTime) {
  WorkQueue q;
  auto start = std::chrono::steady_clock::now();
  q.AddAfter("k", std::chrono::milliseconds(5000));
  q.AddAfter("k", std::chrono::milliseconds(20));    // sooner: moves it
  q.AddAfter("k", std::chrono::milliseconds(10000));  // later: ignored
  q.AddAfter("other", std::chrono::milliseconds(40));
  auto k = q.Get();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "k");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(4000));
  q.Done("k");
  k = q.Get();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "other") << "k was delivered once, no timer of it is left";
  q.Done("other");
  // Once delivered, the key can wait again.
  q.AddAfter("k", std::chrono::milliseconds(10));
  k = q.Get();
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, "k");
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
