#include "client/shared_informers.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace kubes::client {

SharedInformers::SharedInformers(Client* client) : client_(client) {}

SharedInformers::~SharedInformers() { Join(); }

Informer* SharedInformers::For(const Resource& r) {
  if (started_) {
    // A programming error: the informer would never run, its handlers never fire.
    std::fprintf(stderr, "SharedInformers::For(%s) after Start\n", r.resource.c_str());
    std::abort();
  }
  auto& slot = informers_[r];
  if (!slot) {
    slot = std::make_unique<Informer>(client_, r);
    slot->SetTransform(StripManagedFields);
  }
  return slot.get();
}

void SharedInformers::Start(const std::atomic<bool>& stop) {
  if (started_) return;
  started_ = true;
  for (auto& [r, inf] : informers_) {
    Informer* raw = inf.get();
    threads_.emplace_back([raw, &stop] { raw->Run(stop); });
  }
}

bool SharedInformers::WaitForSync(const std::atomic<bool>& stop) const {
  while (!stop) {
    bool synced = true;
    for (const auto& [r, inf] : informers_) synced = synced && inf->HasSynced();
    if (synced) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void SharedInformers::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace kubes::client
