// MeasureApi: request latency, lists, watch fan-out, and the etcd peer.
#include <openssl/evp.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "bench/phases.h"
#include "bench/process.h"
#include "bench/servers.h"
#include "bench/watch_load.h"

namespace kubes::bench {
namespace {

constexpr int kObjects = 10000;
constexpr int kListRepeats = 5;
constexpr int kWatchers = 1000;
constexpr int kWatchWrites = 100;
constexpr const char* kTableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io";

std::string ConfigMapBody(int i, const char* value) {
  return Fmt(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-%05d","namespace":"bench"},)"
             R"("data":{"key":"%s-%d","other":"a short configuration value"}})",
             i, value, i);
}

std::string PodBody(int i) {
  return Fmt(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-%05d","labels":{"app":"bench"}},)"
             R"("spec":{"containers":[{"name":"app","image":"registry.k8s.io/pause:3.9"}]}})",
             i);
}

Status CreateNamespace(const Target& target, const std::string& name) {
  HttpClient c(target);
  std::string body = R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + name + R"("}})";
  return Expect(c.Do("POST", "/api/v1/namespaces", body), 201);
}

// Runs one load and adds a row "label: p50 / p99".
Status LatencyRow(const std::string& label, const LoadResult& r, std::vector<Row>& rows, const char* target = "",
                  double p99_limit = 0) {
  std::fprintf(stderr, "  %s: %zu ok in %.1f s, p50 %.2f ms, p99 %.2f ms\n", label.c_str(), r.latency.count,
               r.seconds, r.latency.p50, r.latency.p99);
  if (r.errors > 0) return Internal(label + ": " + std::to_string(r.errors) + " errors, first: " + r.first_error);
  if (r.timed_out) return Internal(label + ": ran out of time");
  rows.push_back({label + ": p50 / p99",
                  Fmt("%.2f / %.2f ms (%.0f/s)", r.latency.p50, r.latency.p99, r.PerSecond()), target,
                  p99_limit > 0 ? Verdict(r.latency.p99, p99_limit) : ""});
  return Status::OK();
}

struct Crud {
  LoadResult create, get, update;
};

Status MeasureConfigMaps(const Config& config, const Target& target, Crud& out, std::vector<Row>& rows) {
  KUBES_RETURN_IF_ERROR(CreateNamespace(target, "bench"));
  int n = config.Scaled(kObjects);
  const std::string base = "/api/v1/namespaces/bench/configmaps";
  out.create = RunConcurrent(config.clients, n, target, config.deadline, [&](HttpClient& c, int i) {
    return Expect(c.Do("POST", base, ConfigMapBody(i, "value")), 201);
  });
  KUBES_RETURN_IF_ERROR(LatencyRow(Fmt("kubes create %d ConfigMaps, 4 clients", n), out.create, rows,
                                   "p99 < 5 ms", 5));
  out.get = RunConcurrent(config.clients, n, target, config.deadline, [&](HttpClient& c, int i) {
    return Expect(c.Do("GET", base + Fmt("/cm-%05d", i)), 200);
  });
  KUBES_RETURN_IF_ERROR(LatencyRow(Fmt("kubes get %d ConfigMaps, 4 clients", n), out.get, rows));
  out.update = RunConcurrent(config.clients, n, target, config.deadline, [&](HttpClient& c, int i) {
    return Expect(c.Do("PUT", base + Fmt("/cm-%05d", i), ConfigMapBody(i, "updated")), 200);
  });
  return LatencyRow(Fmt("kubes update %d ConfigMaps, 4 clients", n), out.update, rows);
}

// Lists every Pod kListRepeats times and checks the count of the first answer.
Status ListRow(const Target& target, const std::string& label, const char* accept, const char* items_field,
               int want, std::vector<Row>& rows) {
  HttpClient c(target);
  std::vector<double> ms;
  size_t bytes = 0;
  for (int i = 0; i < kListRepeats; ++i) {
    auto start = Clock::now();
    auto r = c.Do("GET", "/api/v1/namespaces/bench-pods/pods", "", accept);
    ms.push_back(MillisSince(start));
    KUBES_RETURN_IF_ERROR(Expect(r, 200));
    if (i > 0) continue;
    bytes = r->body.size();
    auto json = nlohmann::json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    size_t got = json.is_object() && json[items_field].is_array() ? json[items_field].size() : 0;
    if (got != static_cast<size_t>(want)) {
      return Internal(label + Fmt(": got %zu %s, want %d", got, items_field, want));
    }
  }
  Summary s = Summarize(ms);
  std::fprintf(stderr, "  %s: median %.0f ms, %zu bytes\n", label.c_str(), s.p50, bytes);
  rows.push_back({label, Fmt("%.0f ms (max %.0f, %.1f MiB)", s.p50, s.max, static_cast<double>(bytes) / 1048576.0),
                  "< 150 ms", Verdict(s.p50, 150)});
  return Status::OK();
}

Status MeasurePods(const Config& config, const Target& target, std::vector<Row>& rows) {
  KUBES_RETURN_IF_ERROR(CreateNamespace(target, "bench-pods"));
  int n = config.Scaled(kObjects);
  LoadResult create = RunConcurrent(config.clients, n, target, config.deadline, [&](HttpClient& c, int i) {
    return Expect(c.Do("POST", "/api/v1/namespaces/bench-pods/pods", PodBody(i)), 201);
  });
  KUBES_RETURN_IF_ERROR(LatencyRow(Fmt("kubes create %d Pods, 4 clients", n), create, rows));
  KUBES_RETURN_IF_ERROR(ListRow(target, Fmt("list %d Pods as JSON (median of 5)", n), "application/json", "items",
                                n, rows));
  return ListRow(target, Fmt("list %d Pods as Table (median of 5)", n), kTableAccept, "rows", n, rows);
}

Status MeasureWatch(const Config& config, const Target& target, std::vector<Row>& rows) {
  KUBES_RETURN_IF_ERROR(CreateNamespace(target, "bench-watch"));
  int watchers = config.Scaled(kWatchers), writes = config.Scaled(kWatchWrites);
  auto r = RunWatchLoad(target, "bench-watch", watchers, writes, config.deadline);
  if (!r.ok()) return r.status().Wrap("watch");
  std::fprintf(stderr, "  %d watchers registered in %.1f s; %d writes; %zu deliveries missing\n", r->watchers,
               r->connect_seconds, r->writes, r->missing);
  rows.push_back({Fmt("%d watchers, %d writes: PUT return to delivery at the last watcher, p50 / p99", watchers,
                      r->writes),
                  Fmt("%.1f / %.1f ms (max %.1f)", r->until_all.p50, r->until_all.p99, r->until_all.max),
                  "p99 < 50 ms", r->missing == 0 ? Verdict(r->until_all.p99, 50) : "MISS"});
  rows.push_back({"  same, from the PUT being sent, p50 / p99",
                  Fmt("%.1f / %.1f ms (%zu deliveries, %zu missing)", r->until_all_from_send.p50,
                      r->until_all_from_send.p99, r->per_delivery.count, r->missing),
                  "", ""});
  return Status::OK();
}

std::string Base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// The same create / get / update through etcd's v3 JSON gateway: keys named like
// kube-apiserver's, values the size of the stored ConfigMaps.
Status MeasureEtcd(const Config& config, const std::string& kubes_pki, const Crud& kubes, std::vector<Row>& rows) {
  auto dir = TempDir::Make(config.work_dir, "etcd-");
  if (!dir.ok()) return dir.status();
  std::string d = (*dir)->path();
  for (const char* f : {"apiserver.crt", "apiserver.key", "ca.crt"}) {
    KUBES_RETURN_IF_ERROR(CopyFile(kubes_pki + "/" + f, d + "/" + f));
  }
  auto etcd = EtcdServer::Start(config.etcd, d, d + "/apiserver.crt", d + "/apiserver.key", d + "/ca.crt");
  if (!etcd.ok()) return etcd.status();
  const Target& target = (*etcd)->target();
  int n = config.Scaled(kObjects);
  auto key = [](int i) { return Base64(Fmt("/registry/configmaps/bench/cm-%05d", i)); };
  auto put = [&](const char* value) {
    return [&, value](HttpClient& c, int i) {
      std::string body = R"({"key":")" + key(i) + R"(","value":")" + Base64(ConfigMapBody(i, value)) + R"("})";
      return Expect(c.Do("POST", "/v3/kv/put", body), 200);
    };
  };
  Crud e;
  e.create = RunConcurrent(config.clients, n, target, config.deadline, put("value"));
  KUBES_RETURN_IF_ERROR(LatencyRow(Fmt("etcd put %d new keys, 4 clients", n), e.create, rows));
  e.get = RunConcurrent(config.clients, n, target, config.deadline, [&](HttpClient& c, int i) {
    return Expect(c.Do("POST", "/v3/kv/range", R"({"key":")" + key(i) + R"("})"), 200);
  });
  KUBES_RETURN_IF_ERROR(LatencyRow(Fmt("etcd range %d keys, 4 clients", n), e.get, rows));
  e.update = RunConcurrent(config.clients, n, target, config.deadline, put("updated"));
  KUBES_RETURN_IF_ERROR(LatencyRow(Fmt("etcd put %d existing keys, 4 clients", n), e.update, rows));

  auto ratio = [&](const char* what, const LoadResult& k, const LoadResult& et) {
    rows.push_back({Fmt("ratio kubes / etcd, %s: p50, p99", what),
                    Fmt("%.2fx, %.2fx", k.latency.p50 / et.latency.p50, k.latency.p99 / et.latency.p99), "", ""});
  };
  ratio("create", kubes.create, e.create);
  ratio("get", kubes.get, e.get);
  ratio("update", kubes.update, e.update);
  return Status::OK();
}

}  // namespace

Status MeasureApi(const Config& config, std::vector<Row>& rows) {
  auto dir = TempDir::Make(config.work_dir, "api-");
  if (!dir.ok()) return dir.status();
  std::string data = (*dir)->path() + "/data";
  Crud crud;
  {
    auto server = KubesServer::Start(config.kubes, data);
    if (!server.ok()) return server.status();
    const Target& target = (*server)->target();
    std::fprintf(stderr, "kubes on 127.0.0.1:%d, data in %s\n", target.port, data.c_str());
    auto rss = [&] { return static_cast<double>((*server)->RssKb()) / 1024.0; };
    double idle = rss();
    KUBES_RETURN_IF_ERROR(MeasureConfigMaps(config, target, crud, rows));
    double with_configmaps = rss();
    KUBES_RETURN_IF_ERROR(MeasurePods(config, target, rows));
    double with_pods = rss();
    KUBES_RETURN_IF_ERROR(MeasureWatch(config, target, rows));
    rows.push_back({"RSS: idle → after the ConfigMaps → + Pods and lists → + watchers",
                    Fmt("%.0f → %.0f → %.0f → %.0f MiB", idle, with_configmaps, with_pods, rss()), "", ""});
  }
  if (config.etcd.empty()) {
    rows.push_back({"etcd peer", "skipped: no etcd binary (apt-get install etcd-server)", "", ""});
    return Status::OK();
  }
  std::fprintf(stderr, "etcd peer (%s)\n", config.etcd.c_str());
  return MeasureEtcd(config, data + "/pki", crud, rows);
}

}  // namespace kubes::bench
