#include "bench/load.h"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <thread>

namespace kubes::bench {

double MillisSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

Summary Summarize(std::vector<double> samples) {
  Summary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  auto rank = [&](double q) {
    size_t r = static_cast<size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::clamp<size_t>(r, 1, samples.size()) - 1];
  };
  s.min = samples.front();
  s.p50 = rank(0.50);
  s.p99 = rank(0.99);
  s.max = samples.back();
  return s;
}

double Median(std::vector<double> samples) { return Summarize(std::move(samples)).p50; }

Status Expect(const Result<HttpResponse>& r, int code) {
  if (!r.ok()) return r.status();
  if (r->status == code) return Status::OK();
  return Internal("HTTP " + std::to_string(r->status) + " (want " + std::to_string(code) +
                  "): " + r->body.substr(0, 300));
}

LoadResult RunConcurrent(int clients, int ops, const Target& target, Clock::time_point deadline,
                         const std::function<Status(HttpClient&, int)>& op) {
  std::vector<std::vector<double>> per_thread(static_cast<size_t>(clients));
  LoadResult result;
  std::mutex mu;  // guards result's error fields
  auto worker = [&](int c) {
    HttpClient client(target);
    auto& samples = per_thread[static_cast<size_t>(c)];
    samples.reserve(static_cast<size_t>(ops / clients + 1));
    for (int i = c; i < ops; i += clients) {
      if (Clock::now() > deadline) {
        std::lock_guard<std::mutex> lock(mu);
        result.timed_out = true;
        return;
      }
      auto start = Clock::now();
      Status s = op(client, i);
      double ms = MillisSince(start);
      if (s.ok()) {
        samples.push_back(ms);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (result.errors++ == 0) result.first_error = s.message();
    }
  };
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) threads.emplace_back(worker, c);
  for (auto& t : threads) t.join();
  result.seconds = MillisSince(start) / 1000.0;
  std::vector<double> all;
  for (auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  result.latency = Summarize(std::move(all));
  return result;
}

}  // namespace kubes::bench
