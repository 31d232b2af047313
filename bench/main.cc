// kubes_bench — measures a kubes server (and an etcd peer when one is installed) on
// this machine and prints a Markdown table. bench/run.sh builds and runs it; see
// bench/README.md for what each row means.
//
// Usage: kubes_bench --kubes PATH [--etcd PATH] [--work-dir DIR] [--scale F]
//                    [--wait-compaction] [--out FILE] [--label TEXT]
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "bench/phases.h"

namespace {

using kubes::bench::Row;

constexpr auto kRunLimit = std::chrono::minutes(40);  // no phase starts new work after this

std::string Now() {
  char buf[64];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M %Z", std::localtime(&t));
  return buf;
}

std::string FirstLineOf(const std::string& command) {
  FILE* p = ::popen((command + " 2>/dev/null").c_str(), "r");
  if (!p) return "?";
  char buf[256] = {0};
  if (!std::fgets(buf, sizeof buf, p)) buf[0] = 0;
  ::pclose(p);
  std::string s = buf;
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.empty() ? "?" : s;
}

std::string Table(const std::vector<Row>& rows) {
  std::string out = "| measurement | result | target | |\n|---|---|---|---|\n";
  for (const Row& r : rows) out += "| " + r.what + " | " + r.result + " | " + r.target + " | " + r.verdict + " |\n";
  return out;
}

// A thousand watch connections need more descriptors than the usual soft limit of
// 1024, in this process and in the servers it starts (they inherit it).
void RaiseFileLimit() {
  rlimit lim;
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int Usage() {
  std::fputs(
      "usage: kubes_bench --kubes PATH [--etcd PATH] [--work-dir DIR] [--scale F] [--wait-compaction] [--out FILE]\n"
      "                   [--label TEXT]\n",
      stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  kubes::bench::Config config;
  config.work_dir = "/tmp";
  std::string out_file, label;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--kubes") config.kubes = value();
    else if (a == "--etcd") config.etcd = value();
    else if (a == "--work-dir") config.work_dir = value();
    else if (a == "--scale") config.scale = std::atof(value().c_str());
    else if (a == "--wait-compaction") config.wait_compaction = true;
    else if (a == "--out") out_file = value();
    else if (a == "--label") label = value();
    else return Usage();
  }
  if (config.kubes.empty() || config.scale <= 0) return Usage();
  RaiseFileLimit();
  config.deadline = kubes::bench::Clock::now() + kRunLimit;

  const std::string load_before = FirstLineOf("cut -d' ' -f1-3 /proc/loadavg");
  std::string header = "Run " + Now() + " on " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) +
                       " cores, load average before: " + load_before + "; " +
                       FirstLineOf("'" + config.kubes + "' version") + (label.empty() ? "" : " (" + label + ")") +
                       (config.etcd.empty() ? "" : "; " + FirstLineOf("'" + config.etcd + "' --version")) +
                       (config.scale != 1 ? "; counts scaled by " + std::to_string(config.scale) : "") + "\n";
  std::fputs(header.c_str(), stderr);

  std::vector<Row> rows;
  bool failed = false;
  struct Phase {
    const char* name;
    kubes::Status (*run)(const kubes::bench::Config&, std::vector<Row>&);
  };
  for (const Phase& phase : {Phase{"startup", kubes::bench::MeasureStartup}, Phase{"api", kubes::bench::MeasureApi},
                             Phase{"disk", kubes::bench::MeasureDisk}}) {
    std::fprintf(stderr, "== %s\n", phase.name);
    kubes::Status s = phase.run(config, rows);
    if (!s.ok()) {
      failed = true;
      std::fprintf(stderr, "phase %s failed: %s\n", phase.name, s.message().c_str());
      rows.push_back({std::string("phase ") + phase.name, "FAILED: " + s.message(), "", "MISS"});
    }
  }
  // The machine is shared: say how busy it was, since every latency depends on it.
  std::string table = header + "Load average after: " + FirstLineOf("cut -d' ' -f1-3 /proc/loadavg") + "\n\n" +
                      Table(rows);
  std::fputs(("\n" + table).c_str(), stdout);
  if (!out_file.empty()) std::ofstream(out_file) << table;
  return failed ? 1 : 0;
}
