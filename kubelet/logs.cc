#include "kubelet/logs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "kubelet/kubelet.h"

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace kubes::kubelet {
namespace {

struct LogLine {
  std::string time;  // as written
  TimePoint when;
  std::string text;  // with its newline when the line is complete
};

// Parses complete lines of `data`; *used gets the bytes consumed.
std::vector<LogLine> ParseLines(const std::string& data, size_t* used) {
  std::vector<LogLine> lines;
  size_t pos = 0;
  std::string pending;  // partial chunks waiting for their final part
  size_t committed = 0;
  while (pos < data.size()) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) break;
    std::string line = data.substr(pos, nl - pos);
    pos = nl + 1;
    size_t a = line.find(' ');
    size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
    size_t c = b == std::string::npos ? b : line.find(' ', b + 1);
    if (c == std::string::npos && b != std::string::npos && b + 2 == line.size()) c = line.size();
    if (c == std::string::npos) continue;
    std::string tag = line.substr(b + 1, 1);
    std::string text = c < line.size() ? line.substr(c + 1) : "";
    if (tag == "P") {
      pending += text;
      continue;
    }
    LogLine l;
    l.time = line.substr(0, a);
    l.when = ParseRFC3339(l.time).value_or(TimePoint{});
    l.text = pending + text + "\n";
    pending.clear();
    lines.push_back(std::move(l));
    committed = pos;
  }
  *used = committed;
  return lines;
}

std::string Format(const LogLine& l, bool timestamps) {
  if (!timestamps) return l.text;
  // RFC 3339 with nanoseconds in UTC, as the kubelet prints it.
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(l.when.time_since_epoch()).count();
  std::string base = FormatRFC3339(l.when);  // …Z, seconds
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(ns % 1000000000));
  return base.substr(0, base.size() - 1) + frac + "Z " + l.text;
}

std::string ReadFrom(const std::string& path, size_t offset) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(static_cast<std::streamoff>(offset));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string ReadLog(const std::string& path, const LogOptions& o, size_t* offset) {
  size_t used = 0;
  auto lines = ParseLines(ReadFrom(path, 0), &used);
  if (offset) *offset = used;
  size_t first = 0;
  if (o.since) {
    while (first < lines.size() && lines[first].when < *o.since) ++first;
  }
  if (o.tail_lines >= 0 && lines.size() - first > static_cast<size_t>(o.tail_lines)) {
    first = lines.size() - static_cast<size_t>(o.tail_lines);
  }
  std::string out;
  for (size_t i = first; i < lines.size(); ++i) out += Format(lines[i], o.timestamps);
  if (o.limit_bytes > 0 && out.size() > static_cast<size_t>(o.limit_bytes)) out.resize(o.limit_bytes);
  return out;
}

void FollowLog(const std::string& path, const LogOptions& o, apiserver::ResponseStream& out,
               const std::function<bool()>& running) {
  size_t offset = 0;
  std::string first = ReadLog(path, o, &offset);
  int64_t sent = static_cast<int64_t>(first.size());
  if (!first.empty() && !out.Write(first)) return;
  auto limit_reached = [&] { return o.limit_bytes > 0 && sent >= o.limit_bytes; };
  bool last_round = false;
  while (!limit_reached()) {
    bool alive = running();
    std::string data = ReadFrom(path, offset);
    size_t used = 0;
    auto lines = ParseLines(data, &used);
    offset += used;
    for (const auto& l : lines) {
      std::string text = Format(l, o.timestamps);
      if (o.limit_bytes > 0 && sent + static_cast<int64_t>(text.size()) > o.limit_bytes) {
        text.resize(o.limit_bytes - sent);
      }
      sent += static_cast<int64_t>(text.size());
      if (!out.Write(text)) return;
      if (limit_reached()) return;
    }
    if (!alive) {
      // One more read after the container is gone picks up its final lines.
      if (last_round) return;
      last_round = true;
      continue;
    }
    if (out.PeerClosed()) return;
    if (lines.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Upstream's container log manager: a log past containerLogMaxSize is renamed to
// <name>.<timestamp> and the container's monitor is told to reopen its file (message 2
// on its control FIFO); of the rotated files only the newest containerLogMaxFiles-1 are kept.
// `kubectl logs` reads the current file, as upstream.
void Kubelet::RotateLogs() {
  namespace fs = std::filesystem;
  for (const auto& c : runtime_->List()) {
    if (c.state != runtime::ContainerState::kRunning || c.log_path.empty()) continue;
    std::error_code ec;
    auto size = fs::file_size(c.log_path, ec);
    if (ec || static_cast<int64_t>(size) < options_.container_log_max_size) continue;
    auto now = std::chrono::system_clock::now();
    std::time_t t = std::chrono::system_clock::to_time_t(now);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&t));
    std::string rotated = c.log_path + "." + stamp;
    if (fs::exists(rotated, ec)) continue;  // one rotation per second is plenty
    fs::rename(c.log_path, rotated, ec);
    if (ec) continue;
    int fd = open(runtime_->ControlFifo(c.id).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) {
      (void)!write(fd, "2 0 0\n", 6);
      close(fd);
    }
    std::vector<std::string> old;
    std::string prefix = fs::path(c.log_path).filename().string() + ".";
    for (const auto& e : fs::directory_iterator(fs::path(c.log_path).parent_path(), ec)) {
      if (e.path().filename().string().rfind(prefix, 0) == 0) old.push_back(e.path().string());
    }
    std::sort(old.begin(), old.end());
    while (static_cast<int>(old.size()) > std::max(0, options_.container_log_max_files - 1)) {
      fs::remove(old.front(), ec);
      old.erase(old.begin());
    }
  }
}

}  // namespace kubes::kubelet
