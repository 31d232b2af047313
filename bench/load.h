// Closed-loop load: N client threads, each with its own keep-alive HttpClient, split a
// numbered list of operations between them and time each one. Also the percentile
// summary every measurement in the benchmark is reported with.
//
// Thread-safety: RunConcurrent starts and joins its own threads; the op callback is
// called from all of them at once and must be thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/http/http_client.h"
#include "util/status.h"

namespace kubes::bench {

// The connections and HTTP client every load generator uses (client/http).
using client::http::ChunkedDecoder;
using client::http::Conn;
using client::http::HttpClient;
using client::http::HttpResponse;
using client::http::Target;
using client::http::TlsContext;
using client::http::TlsOptions;

using Clock = std::chrono::steady_clock;

double MillisSince(Clock::time_point start);

struct Summary {
  size_t count = 0;
  double min = 0, p50 = 0, p99 = 0, max = 0;  // milliseconds
};
// Nearest-rank percentiles (p99 of 100 samples is the 99th smallest).
Summary Summarize(std::vector<double> samples);
double Median(std::vector<double> samples);

struct LoadResult {
  Summary latency;
  size_t errors = 0;
  std::string first_error;
  double seconds = 0;    // wall time of the whole run
  bool timed_out = false;
  double PerSecond() const { return seconds > 0 ? static_cast<double>(latency.count) / seconds : 0; }
};

// Runs op(client, i) for i in [0, ops) on `clients` threads (thread c takes i = c,
// c+clients, ...). An op that returns an error is counted, not timed. Stops early at
// `deadline`.
LoadResult RunConcurrent(int clients, int ops, const Target& target, Clock::time_point deadline,
                         const std::function<Status(HttpClient&, int)>& op);

// Checks the response of one request: the expected status code, else an error that
// carries the start of the body.
Status Expect(const Result<HttpResponse>& r, int code);

}  // namespace kubes::bench
