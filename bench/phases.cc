// MeasureStartup and MeasureDisk; MeasureApi is in phases_api.cc.
#include <cstdarg>
#include <cstdio>
#include <thread>

#include "bench/phases.h"
#include "bench/process.h"
#include "bench/servers.h"

namespace kubes::bench {
namespace {

constexpr int kStarts = 5;
constexpr auto kIdleSettle = std::chrono::seconds(2);  // quiet time before reading idle RSS
constexpr int kChurnUpdates = 100000;
constexpr const char* kCompactionFlag = "--compaction-interval";
constexpr int kDefaultCompactionSeconds = 300;

double MiB(int64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::string ChurnBody(int i) {
  return Fmt(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"churn","namespace":"default"},)"
             R"("data":{"counter":"%d","note":"one object updated many times"}})",
             i);
}

// Polls the data-dir size until it has stopped changing for a few samples after
// `min_wait`, or `max_wait` has passed; returns the last size.
int64_t SettledSize(const std::string& dir, std::chrono::seconds min_wait, std::chrono::seconds max_wait) {
  auto start = Clock::now();
  int64_t last = DirBytes(dir);
  int stable = 0;
  while (Clock::now() - start < max_wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    int64_t now = DirBytes(dir);
    stable = now == last ? stable + 1 : 0;
    last = now;
    if (Clock::now() - start >= min_wait && stable >= 4) break;
  }
  return last;
}


// The data-dir size once the updates are compacted away, by whichever way this kubes
// allows: a restart with a short --compaction-interval, or waiting out the default.
Status MeasureCompaction(const Config& config, std::unique_ptr<KubesServer> server, int64_t before,
                         Clock::time_point started, std::vector<Row>& rows) {
  const std::string data = server->data_dir();
  const std::string what = "data dir after compaction";
  if (KubesHasFlag(config.kubes, kCompactionFlag)) {
    // The first tick compacts away everything older than the revision seen at start.
    server->Stop();
    auto restarted = KubesServer::Start(config.kubes, data, {kCompactionFlag, "2s"});
    if (!restarted.ok()) return restarted.status().Wrap("restart with " + std::string(kCompactionFlag));
    rows.push_back({"restart to /readyz 200 on that data", Fmt("%.0f ms", (*restarted)->startup_ms()), "", ""});
    int64_t after = SettledSize(data, std::chrono::seconds(5), std::chrono::seconds(30));
    rows.push_back({what + " (restart with --compaction-interval 2s)", Fmt("%.2f MiB", MiB(after)), "bounded",
                    after < before / 2 ? "ok" : "MISS"});
  } else if (config.wait_compaction) {
    // The first tick compacts to the revision at start, the second to the revision
    // the first saw, which is after the updates if they took under 5 minutes.
    std::fprintf(stderr, "  waiting for the second 5-minute compaction tick...\n");
    std::this_thread::sleep_until(started + std::chrono::seconds(2 * kDefaultCompactionSeconds + 5));
    int64_t after = SettledSize(data, std::chrono::seconds(2), std::chrono::seconds(30));
    rows.push_back({what + " (second 5-min tick)", Fmt("%.2f MiB", MiB(after)), "bounded",
                    after < before / 2 ? "ok" : "MISS"});
  } else {
    rows.push_back({what, "not measured: kubes compacts every 5 min and has no " + std::string(kCompactionFlag) +
                              " flag (run with --wait-compaction to wait ~10 min)",
                    "bounded", ""});
  }
  return Status::OK();
}

}  // namespace

std::string Fmt(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

std::string Verdict(double value, double limit) { return value < limit ? "ok" : "MISS"; }

Status MeasureStartup(const Config& config, std::vector<Row>& rows) {
  // Each round: a first start (which also creates the CA, certificates and keys), then
  // a restart on the data it left, which is what every later start of a node costs.
  std::vector<double> first_ms, restart_ms, rss_mib;
  for (int i = 0; i < kStarts; ++i) {
    auto dir = TempDir::Make(config.work_dir, "start-");
    if (!dir.ok()) return dir.status();
    std::string data = (*dir)->path() + "/data";
    auto server = KubesServer::Start(config.kubes, data);
    if (!server.ok()) return server.status().Wrap("start " + std::to_string(i + 1));
    first_ms.push_back((*server)->startup_ms());
    std::this_thread::sleep_for(kIdleSettle);
    rss_mib.push_back(static_cast<double>((*server)->RssKb()) / 1024.0);
    (*server)->Stop();
    server = KubesServer::Start(config.kubes, data);
    if (!server.ok()) return server.status().Wrap("restart " + std::to_string(i + 1));
    restart_ms.push_back((*server)->startup_ms());
    (*server)->Stop();
    std::fprintf(stderr, "  round %d: first start %.0f ms, restart %.0f ms to /readyz; idle RSS %.1f MiB\n", i + 1,
                 first_ms.back(), restart_ms.back(), rss_mib.back());
  }
  double rss = Median(rss_mib);
  Summary first = Summarize(first_ms), restart = Summarize(restart_ms);
  rows.push_back({"start to /readyz 200, fresh data dir (median of 5)",
                  Fmt("%.0f ms (min %.0f, max %.0f)", first.p50, first.min, first.max),
                  "< 300 ms", Verdict(first.p50, 300)});
  rows.push_back({"restart to /readyz 200, same data dir (median of 5)",
                  Fmt("%.0f ms (min %.0f, max %.0f)", restart.p50, restart.min, restart.max),
                  "< 300 ms", Verdict(restart.p50, 300)});
  rows.push_back({"idle RSS after start (median of 5)", Fmt("%.1f MiB", rss), "< 40 MB", Verdict(rss, 40)});
  return Status::OK();
}

Status MeasureDisk(const Config& config, std::vector<Row>& rows) {
  auto dir = TempDir::Make(config.work_dir, "disk-");
  if (!dir.ok()) return dir.status();
  std::string data = (*dir)->path() + "/data";
  auto server = KubesServer::Start(config.kubes, data);
  if (!server.ok()) return server.status();
  auto started = Clock::now();
  const Target& target = (*server)->target();
  HttpClient setup(target);
  KUBES_RETURN_IF_ERROR(Expect(setup.Do("POST", "/api/v1/namespaces/default/configmaps", ChurnBody(0)), 201));
  int64_t fresh = SettledSize(data, std::chrono::seconds(0), std::chrono::seconds(5));

  // One client: kubes answers concurrent unconditional PUTs of one object with 409
  // Conflict, where kube-apiserver retries them inside GuaranteedUpdate.
  int updates = config.Scaled(kChurnUpdates);
  LoadResult churn = RunConcurrent(1, updates, target, config.deadline, [](HttpClient& c, int i) {
    return Expect(c.Do("PUT", "/api/v1/namespaces/default/configmaps/churn", ChurnBody(i + 1)), 200);
  });
  if (churn.errors > 0) return Internal("churn updates: " + churn.first_error);
  int64_t before = DirBytes(data);
  int64_t rss_after = (*server)->RssKb();
  std::fprintf(stderr, "  %zu updates in %.1f s; data dir %.1f MiB\n", churn.latency.count, churn.seconds,
               MiB(before));
  rows.push_back({Fmt("update one object %zux, 1 client: p50 / p99", churn.latency.count),
                  Fmt("%.2f / %.2f ms (%.0f/s)", churn.latency.p50, churn.latency.p99, churn.PerSecond()), "", ""});
  rows.push_back({"data dir, fresh + 1 object", Fmt("%.2f MiB", MiB(fresh)), "", ""});
  rows.push_back({Fmt("data dir after %zu updates, before compaction", churn.latency.count),
                  Fmt("%.1f MiB", MiB(before)), "bounded", ""});
  rows.push_back({"RSS after the updates", Fmt("%.1f MiB", static_cast<double>(rss_after) / 1024.0), "", ""});

  return MeasureCompaction(config, std::move(*server), before, started, rows);
}

}  // namespace kubes::bench
