// Watch fan-out load: many watchers on the ConfigMaps of one namespace, one writer.
//
// Flow: create ConfigMap `watched` with data.seq="0"; open `watchers` TLS connections,
// each streaming GET .../configmaps?watch=1 (one epoll thread reads them all, so the
// client side costs one core at most, not a thousand threads); wait until every
// watcher has seen the synthetic ADDED event (seq 0), which proves it is registered;
// then `writes` times: PUT data.seq=N, note when the PUT returned, and wait until
// every watcher has seen seq N (at most 10 s) before a short pause and the next write.
//
// Delivery latency = time the event for seq N was read at a watcher minus the time
// the PUT for N returned; an event read before the PUT's response counts as 0.
//
// Thread-safety: Run is called from one thread and starts/joins its own reader.
#pragma once

#include "bench/load.h"

namespace kubes::bench {

struct WatchResult {
  int watchers = 0;           // connected and registered
  int writes = 0;             // PUTs done
  Summary per_delivery;       // one sample per (write, watcher), from the PUT returning
  Summary until_all;          // one sample per write: PUT returning to the last watcher having it
  Summary until_all_from_send;  // the same from the PUT being sent
  size_t missing = 0;         // deliveries not seen within 10 s
  double connect_seconds = 0; // to open and register every watcher
};

Result<WatchResult> RunWatchLoad(const Target& target, const std::string& ns, int watchers, int writes,
                                 Clock::time_point deadline);

}  // namespace kubes::bench
