#include "util/heap.h"

#include <malloc.h>
#include <pthread.h>

#include <algorithm>

namespace kubes {

void LimitHeapArenas() {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  mallopt(M_ARENA_MAX, std::max(2, cores));
}

HeapScavenger::HeapScavenger(std::chrono::milliseconds interval) : interval_(interval) {
  thread_ = std::thread([this] { Loop(); });
}

HeapScavenger::~HeapScavenger() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void HeapScavenger::Loop() {
  pthread_setname_np(pthread_self(), "heap-scavenger");
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) malloc_trim(0);
}

}  // namespace kubes
