#include "cmd/kubes/node_flags.h"

#include "apimachinery/resource/quantity.h"

#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace kubes::cmd {

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos) j = s.size();
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string InstanceID(const std::string& data_dir) {
  char resolved[PATH_MAX];
  std::string path = realpath(data_dir.c_str(), resolved) ? resolved : data_dir;
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : path) {
    h ^= c;
    h *= 16777619u;
  }
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return buf;
}

bool ApplyMemoryFlag(const std::string& flag, const std::string& value, kubelet::KubeletOptions& node,
                     std::string* error) {
  if (flag == "--eviction-hard") {
    auto t = kubelet::ParseEvictionHard(value);
    if (!t.ok()) *error = "--eviction-hard: " + t.status().message();
    else node.eviction_memory = *t;
    return true;
  }
  if (flag == "--system-reserved") {
    for (const auto& item : SplitComma(value)) {
      size_t eq = item.find('=');
      std::string key = item.substr(0, eq);
      int64_t q = eq == std::string::npos ? -1 : resource::QuantityValue(std::string_view(item).substr(eq + 1)).value_or(-1);
      if (key != "memory" || q < 0) {
        *error = "--system-reserved wants memory=QUANTITY (kubes reserves memory only), not \"" + item + "\"";
        return true;
      }
      node.system_reserved_memory = q;
    }
    return true;
  }
  return false;
}

std::string HostName() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  std::string name = buf;
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name.empty() ? "kubes" : name;
}

namespace {
sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}
}  // namespace

void BlockStopSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForStopSignal() {
  sigset_t set = StopSignals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace kubes::cmd
