#include "bench/watch_load.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

namespace kubes::bench {
namespace {

// Every event for ConfigMap `watched` carries data.seq; this finds it in the JSON.
constexpr std::string_view kSeqMarker = "\"seq\":\"";

int64_t Nanos(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// When each watcher saw each sequence number. Written by the reader thread, waited on
// by the writer.
class Deliveries {
 public:
  Deliveries(int watchers, int writes)
      : watchers_(watchers), arrival_ns_(static_cast<size_t>(watchers) * (writes + 1), 0), count_(writes + 1, 0) {}

  void Record(int watcher, int seq, Clock::time_point t) {
    if (seq < 0 || seq >= static_cast<int>(count_.size())) return;
    std::lock_guard<std::mutex> lock(mu_);
    int64_t& slot = arrival_ns_[Index(seq, watcher)];
    if (slot != 0) return;  // a repeated event (e.g. after a relist) counts once
    slot = Nanos(t);
    if (++count_[static_cast<size_t>(seq)] >= expected_) cv_.notify_all();
  }

  // Waits until `expected` watchers have seen seq; false on timeout.
  bool WaitFor(int seq, int expected, Clock::time_point until) {
    std::unique_lock<std::mutex> lock(mu_);
    expected_ = expected;
    return cv_.wait_until(lock, until, [&] { return count_[static_cast<size_t>(seq)] >= expected; });
  }

  int Count(int seq) {
    std::lock_guard<std::mutex> lock(mu_);
    return count_[static_cast<size_t>(seq)];
  }

  // REQUIRES: the reader thread has stopped.
  int64_t ArrivalNs(int seq, int watcher) const { return arrival_ns_[Index(seq, watcher)]; }

 private:
  size_t Index(int seq, int watcher) const {
    return static_cast<size_t>(seq) * static_cast<size_t>(watchers_) + static_cast<size_t>(watcher);
  }
  int watchers_;
  std::mutex mu_;
  std::condition_variable cv_;
  int expected_ = 1 << 30;
  std::vector<int64_t> arrival_ns_;  // 0 = not yet
  std::vector<int> count_;
};

// One watch stream being read: response head, then chunked JSON lines.
struct Watcher {
  std::unique_ptr<Conn> conn;
  std::string head;
  bool in_body = false;
  ChunkedDecoder decoder;
  std::string payload;
  bool done = false;

  void Consume(int index, std::string_view bytes, Clock::time_point t, Deliveries& deliveries) {
    if (!in_body) {
      head.append(bytes);
      size_t end = head.find("\r\n\r\n");
      if (end == std::string::npos) return;
      if (head.compare(0, 12, "HTTP/1.1 200") != 0) {
        done = true;
        return;
      }
      in_body = true;
      std::string rest = head.substr(end + 4);
      head.clear();
      Feed(index, rest, t, deliveries);
      return;
    }
    Feed(index, bytes, t, deliveries);
  }

  void Feed(int index, std::string_view bytes, Clock::time_point t, Deliveries& deliveries) {
    decoder.Feed(bytes, &payload);
    if (decoder.failed() || decoder.done()) done = true;
    size_t nl;
    while ((nl = payload.find('\n')) != std::string::npos) {
      std::string_view line(payload.data(), nl);
      size_t at = line.find(kSeqMarker);
      if (at != std::string_view::npos) {
        deliveries.Record(index, std::atoi(payload.c_str() + at + kSeqMarker.size()), t);
      }
      payload.erase(0, nl + 1);
    }
  }
};

std::string ConfigMapBody(const std::string& ns, int seq) {
  return R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"watched","namespace":")" + ns +
         R"("},"data":{"seq":")" + std::to_string(seq) + R"("}})";
}

// Reads every ready watcher until stop is set.
void ReadLoop(int epfd, std::vector<std::unique_ptr<Watcher>>& watchers, Deliveries& deliveries,
              std::atomic<bool>& stop) {
  epoll_event events[256];
  char buf[64 * 1024];
  while (!stop.load()) {
    int n = ::epoll_wait(epfd, events, 256, 50);
    if (n < 0 && errno != EINTR) return;
    for (int e = 0; e < n; ++e) {
      int index = static_cast<int>(events[e].data.u32);
      Watcher& w = *watchers[static_cast<size_t>(index)];
      for (;;) {
        Conn::ReadResult r = w.conn->Read(buf, sizeof buf);
        if (r.kind == Conn::ReadKind::kWouldBlock) break;
        if (r.kind != Conn::ReadKind::kData) w.done = true;
        if (r.kind == Conn::ReadKind::kData) w.Consume(index, std::string_view(buf, r.n), Clock::now(), deliveries);
        if (w.done) {
          ::epoll_ctl(epfd, EPOLL_CTL_DEL, w.conn->fd(), nullptr);
          break;
        }
      }
    }
  }
}

WatchResult Tally(const Deliveries& deliveries, const std::vector<int64_t>& put_sent_ns,
                  const std::vector<int64_t>& put_returned_ns, int watchers, int writes) {
  WatchResult result;
  std::vector<double> per_delivery, until_all, until_all_from_send;
  for (int seq = 1; seq <= writes; ++seq) {
    double last = 0;
    int64_t last_ns = 0;
    bool all = true;
    for (int w = 0; w < watchers; ++w) {
      int64_t at = deliveries.ArrivalNs(seq, w);
      if (at == 0) {
        ++result.missing;
        all = false;
        continue;
      }
      double ms = std::max<double>(0, static_cast<double>(at - put_returned_ns[static_cast<size_t>(seq)]) / 1e6);
      per_delivery.push_back(ms);
      last = std::max(last, ms);
      last_ns = std::max(last_ns, at);
    }
    if (!all) continue;
    until_all.push_back(last);
    until_all_from_send.push_back(static_cast<double>(last_ns - put_sent_ns[static_cast<size_t>(seq)]) / 1e6);
  }
  result.per_delivery = Summarize(std::move(per_delivery));
  result.until_all = Summarize(std::move(until_all));
  result.until_all_from_send = Summarize(std::move(until_all_from_send));
  return result;
}

// The watch streams and the thread that reads them; closing is tied to scope.
class WatchStreams {
 public:
  WatchStreams(int watchers, int writes) : deliveries_(watchers, writes), conns_(static_cast<size_t>(watchers)) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    reader_ = std::thread([this] { ReadLoop(epfd_, conns_, deliveries_, stop_); });
  }
  ~WatchStreams() { Close(); }

  // Stops the reader and closes every stream; the deliveries stay readable.
  void Close() {
    if (!reader_.joinable()) return;
    stop_ = true;
    reader_.join();
    conns_.clear();
    if (epfd_ >= 0) ::close(epfd_);
  }
  Deliveries& deliveries() { return deliveries_; }

  // Opens every stream, then waits until each has had its synthetic ADDED (seq 0).
  Status Open(const Target& target, const std::string& path, Clock::time_point deadline) {
    if (epfd_ < 0) return Internal("epoll_create1 failed");
    std::string request =
        HttpClient::FormatRequest(target, "GET", path + "?watch=1&timeoutSeconds=600", "", "application/json");
    for (size_t i = 0; i < conns_.size(); ++i) {
      auto conn = Conn::Dial(target.host, target.port, target.tls);
      Status s = conn.ok() ? (*conn)->WriteAll(request) : conn.status();
      if (s.ok()) s = (*conn)->SetNonBlocking();
      if (!s.ok()) return std::move(s).Wrap("opening watcher " + std::to_string(i));
      int fd = (*conn)->fd();
      conns_[i] = std::make_unique<Watcher>();
      conns_[i]->conn = std::move(*conn);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(i);
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);  // from here on only the reader touches conns_[i]
    }
    int n = static_cast<int>(conns_.size());
    if (deliveries_.WaitFor(0, n, std::min(deadline, Clock::now() + std::chrono::seconds(60)))) return Status::OK();
    return Internal("only " + std::to_string(deliveries_.Count(0)) + " of " + std::to_string(n) +
                    " watchers received the initial ADDED event");
  }

 private:
  Deliveries deliveries_;
  std::vector<std::unique_ptr<Watcher>> conns_;
  int epfd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

}  // namespace

Result<WatchResult> RunWatchLoad(const Target& target, const std::string& ns, int watchers, int writes,
                                 Clock::time_point deadline) {
  HttpClient writer(target);
  std::string path = "/api/v1/namespaces/" + ns + "/configmaps";
  KUBES_RETURN_IF_ERROR(Expect(writer.Do("POST", path, ConfigMapBody(ns, 0)), 201));

  WatchStreams streams(watchers, writes);
  auto start = Clock::now();
  KUBES_RETURN_IF_ERROR(streams.Open(target, path, deadline));
  double connect_seconds = MillisSince(start) / 1000;

  std::vector<int64_t> put_sent_ns(static_cast<size_t>(writes) + 1, 0);
  std::vector<int64_t> put_returned_ns(static_cast<size_t>(writes) + 1, 0);
  int done = 0;
  for (int seq = 1; seq <= writes && Clock::now() < deadline; ++seq) {
    put_sent_ns[static_cast<size_t>(seq)] = Nanos(Clock::now());
    Status s = Expect(writer.Do("PUT", path + "/watched", ConfigMapBody(ns, seq)), 200);
    put_returned_ns[static_cast<size_t>(seq)] = Nanos(Clock::now());
    if (!s.ok()) return std::move(s).Wrap("write " + std::to_string(seq));
    streams.deliveries().WaitFor(seq, watchers, Clock::now() + std::chrono::seconds(10));
    done = seq;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the fan-out settle between writes
  }
  streams.Close();  // the arrival table is final once the reader has stopped
  WatchResult result = Tally(streams.deliveries(), put_sent_ns, put_returned_ns, watchers, done);
  result.watchers = watchers;
  result.writes = done;
  result.connect_seconds = connect_seconds;
  return result;
}

}  // namespace kubes::bench
