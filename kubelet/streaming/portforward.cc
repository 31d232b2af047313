#include "kubelet/streaming/portforward.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <vector>

#include "kubelet/streaming/fd.h"
#include "kubelet/streaming/spdy.h"
#include "kubelet/streaming/websocket.h"
#include "util/strings.h"

namespace kubes::kubelet::streaming {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 32 * 1024;
// Stop reading the client while this much waits for one pod connection to take it.
constexpr size_t kMaxPendingToPod = 4 << 20;

std::vector<std::string> CommaList(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view one = s.substr(0, comma);
    while (!one.empty() && one.front() == ' ') one.remove_prefix(1);
    while (!one.empty() && one.back() == ' ') one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

std::string Header(const spdy::Headers& h, const std::string& name) {
  auto it = h.find(name);
  return it == h.end() ? "" : it->second;
}

// The two streams of one forwarded connection, while the second is awaited.
struct Pair {
  uint32_t error_stream = 0;
  uint32_t data_stream = 0;
  uint16_t port = 0;
  Clock::time_point deadline;
  std::string early_data;  // data-stream bytes that came before the pair was whole
  bool early_fin = false;
};

// A forwarded connection: the client's data stream spliced to a socket in the pod.
struct Forward {
  uint32_t error_stream = 0;
  int fd = -1;
  std::string to_pod;  // bytes from the client not yet written; to_pod_at of them are
  size_t to_pod_at = 0;
  bool client_fin = false;  // the client half-closed the data stream
  bool shut_wr = false;     // ...and the pod socket has been told (SHUT_WR)
  bool pod_eof = false;     // the pod's side ended; FIN sent on the data stream

  size_t pending() const { return to_pod.size() - to_pod_at; }
};

class Session {
 public:
  Session(ByteStream& stream, const PortForwarder& forwarder) : stream_(stream), fw_(forwarder) {}
  void Run();

 private:
  bool Send(const spdy::Frame& f);
  void DecodeFrames();
  void HandleFrame(spdy::Frame& f);
  void OnSynStream(spdy::Frame& f);
  void OnData(spdy::Frame& f);
  void OnRstStream(uint32_t id);
  void StartForward(Pair p);
  void FlushToPod(uint32_t data_stream, Forward& fwd);
  void ReadFromPod(uint32_t data_stream, Forward& fwd);
  void EndForward(uint32_t data_stream, bool send_data_fin);
  void ExpirePairs();
  int PollTimeoutMs() const;
  bool Backlogged() const;

  ByteStream& stream_;
  const PortForwarder& fw_;
  spdy::Framer framer_;
  std::string in_;
  uint32_t last_stream_id_ = 0;  // the newest stream the client opened
  bool done_ = false;
  bool broken_ = false;  // the byte stream failed: nothing more can be sent
  std::map<std::string, Pair> pairs_;       // by request id
  std::map<uint32_t, Forward> forwards_;    // by data stream id
};

bool Session::Send(const spdy::Frame& f) {
  if (broken_) return false;
  if (!stream_.Write(framer_.Encode(f))) {
    broken_ = true;
    done_ = true;
  }
  return !broken_;
}

bool Session::Backlogged() const {
  return std::any_of(forwards_.begin(), forwards_.end(),
                     [](const auto& kv) { return kv.second.pending() >= kMaxPendingToPod; });
}

int Session::PollTimeoutMs() const {
  if (pairs_.empty()) return -1;
  Clock::time_point first = Clock::time_point::max();
  for (const auto& [id, p] : pairs_) first = std::min(first, p.deadline);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(first - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(ms + 1, 0, 60'000));
}

void Session::Run() {
  while (!done_) {
    const bool backlog = Backlogged();
    const bool buffered = !backlog && stream_.Buffered();
    std::vector<pollfd> fds;
    std::vector<uint32_t> owners;  // data stream of each pod descriptor
    fds.push_back(pollfd{stream_.PollFd(), static_cast<short>(backlog ? 0 : POLLIN), 0});
    for (const auto& [id, fwd] : forwards_) {
      short events = static_cast<short>((fwd.pod_eof ? 0 : POLLIN) | (fwd.pending() > 0 ? POLLOUT : 0));
      if (events == 0) continue;
      fds.push_back(pollfd{fwd.fd, events, 0});
      owners.push_back(id);
    }
    if (poll(fds.data(), fds.size(), buffered ? 0 : PollTimeoutMs()) < 0 && errno != EINTR) break;

    if (buffered || fds[0].revents != 0) {
      if (!stream_.Read(&in_)) break;  // the client is gone
      DecodeFrames();
    }
    for (size_t i = 1; i < fds.size() && !done_; ++i) {
      if (fds[i].revents == 0) continue;
      auto it = forwards_.find(owners[i - 1]);
      if (it == forwards_.end() || it->second.fd != fds[i].fd) continue;  // ended meanwhile
      if (fds[i].revents & (POLLOUT | POLLERR)) FlushToPod(it->first, it->second);
      it = forwards_.find(owners[i - 1]);
      if (it != forwards_.end() && !it->second.pod_eof && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
        ReadFromPod(it->first, it->second);
      }
    }
    ExpirePairs();
  }

  for (auto& [id, fwd] : forwards_) close(fwd.fd);
  forwards_.clear();
  if (!broken_) {
    Send(spdy::GoAway(last_stream_id_, spdy::kGoAwayOk));
    stream_.Finish();
  }
}

void Session::DecodeFrames() {
  size_t used = 0;
  while (!done_) {
    spdy::Frame f;
    Result<size_t> r = framer_.Decode(std::string_view(in_).substr(used), &f);
    if (!r.ok()) {
      Send(spdy::GoAway(last_stream_id_, spdy::kGoAwayProtocolError));
      done_ = true;
      break;
    }
    if (*r == 0) break;
    used += *r;
    HandleFrame(f);
  }
  in_.erase(0, used);
}

void Session::HandleFrame(spdy::Frame& f) {
  switch (f.type) {
    case spdy::FrameType::kSynStream:
      OnSynStream(f);
      break;
    case spdy::FrameType::kData:
      OnData(f);
      break;
    case spdy::FrameType::kRstStream:
      OnRstStream(f.stream_id);
      break;
    case spdy::FrameType::kPing:
      if (f.value & 1) Send(spdy::Ping(f.value));  // the client's (odd) pings come back; ours would be even
      break;
    case spdy::FrameType::kGoAway:
      done_ = true;
      break;
    default:
      break;  // SETTINGS, WINDOW_UPDATE, HEADERS, unknown: nothing to do
  }
}

void Session::OnSynStream(spdy::Frame& f) {
  const uint32_t id = f.stream_id;
  if (id % 2 == 0 || id <= last_stream_id_) {  // client streams are odd and increasing
    Send(spdy::RstStream(id, spdy::kProtocolError));
    return;
  }
  last_stream_id_ = id;

  // The checks of the kubelet's httpStreamReceived; a stream failing them is reset.
  const std::string type = Header(f.headers, "streamtype");
  const std::string port_text = Header(f.headers, "port");
  char* end = nullptr;
  errno = 0;
  unsigned long port = port_text.empty() ? 0 : std::strtoul(port_text.c_str(), &end, 10);
  bool port_ok = !port_text.empty() && std::isdigit(static_cast<unsigned char>(port_text[0])) && end && *end == '\0' &&
                 errno == 0 && port >= 1 && port <= 65535;
  if (!port_ok || (type != "error" && type != "data")) {
    Send(spdy::RstStream(id, spdy::kCancel));
    return;
  }
  Send(spdy::SynReply(id));

  std::string request_id = Header(f.headers, "requestid");
  if (request_id.empty()) {
    // Clients older than request ids open error then data streams back to back.
    request_id = std::to_string(type == "error" ? id : id - 2);
  }
  auto [it, created] = pairs_.try_emplace(request_id);
  Pair& p = it->second;
  if (created) {
    p.deadline = Clock::now() + fw_.stream_creation_timeout;
    p.port = static_cast<uint16_t>(port);
  }
  uint32_t& slot = type == "error" ? p.error_stream : p.data_stream;
  if (slot != 0) {
    std::string msg = "error processing stream for request " + request_id + ": " + type + " stream already assigned";
    if (p.error_stream != 0) Send(spdy::Data(p.error_stream, msg));
    Send(spdy::RstStream(id, spdy::kCancel));
    return;
  }
  slot = id;
  if (p.error_stream != 0 && p.data_stream != 0) {
    Pair whole = std::move(p);
    pairs_.erase(it);
    StartForward(std::move(whole));
  }
}

void Session::StartForward(Pair p) {
  const uint32_t data_stream = p.data_stream;
  Result<int> fd = fw_.dial(p.port);
  if (!fd.ok()) {
    // As the kubelet: the message on the error stream, then both streams closed.
    Send(spdy::Data(p.error_stream, "error forwarding port " + std::to_string(p.port) + " to pod " + fw_.pod +
                                        ", uid " + fw_.uid + ": " + fd.status().message()));
    Send(spdy::Data(p.error_stream, "", /*fin=*/true));
    Send(spdy::Data(data_stream, "", /*fin=*/true));
    return;
  }
  SetNonBlocking(*fd);
  Forward& fwd = forwards_[data_stream];
  fwd.error_stream = p.error_stream;
  fwd.fd = *fd;
  fwd.to_pod = std::move(p.early_data);
  fwd.client_fin = p.early_fin;
  FlushToPod(data_stream, fwd);
}

void Session::OnData(spdy::Frame& f) {
  auto it = forwards_.find(f.stream_id);
  if (it != forwards_.end()) {
    Forward& fwd = it->second;
    if (fwd.client_fin) return;  // nothing may follow a FIN
    fwd.to_pod += f.data;
    if (f.fin()) fwd.client_fin = true;
    FlushToPod(it->first, fwd);
    return;
  }
  for (auto& [request_id, p] : pairs_) {
    if (p.data_stream == f.stream_id) {
      p.early_data += f.data;
      p.early_fin = p.early_fin || f.fin();
      return;
    }
  }
  // Data on an error stream, or on a stream already finished: nothing to do.
}

void Session::OnRstStream(uint32_t id) {
  if (forwards_.count(id)) {
    EndForward(id, /*send_data_fin=*/false);
    return;
  }
  for (auto& [data_id, fwd] : forwards_) {
    if (fwd.error_stream == id) fwd.error_stream = 0;  // gone: don't close it again
  }
  for (auto it = pairs_.begin(); it != pairs_.end(); ++it) {
    Pair& p = it->second;
    if (p.error_stream == id || p.data_stream == id) {
      uint32_t other = p.error_stream == id ? p.data_stream : p.error_stream;
      if (other != 0) Send(spdy::Data(other, "", /*fin=*/true));
      pairs_.erase(it);
      return;
    }
  }
}

void Session::FlushToPod(uint32_t data_stream, Forward& fwd) {
  while (fwd.pending() > 0) {
    ssize_t w = WriteNoSigpipe(fwd.fd, fwd.to_pod.data() + fwd.to_pod_at, fwd.pending());
    if (w > 0) {
      fwd.to_pod_at += static_cast<size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && errno == EAGAIN) {
      return;
    } else {
      EndForward(data_stream, /*send_data_fin=*/!fwd.pod_eof);  // the pod reset the connection
      return;
    }
  }
  fwd.to_pod.clear();
  fwd.to_pod_at = 0;
  if (fwd.client_fin && !fwd.shut_wr) {
    shutdown(fwd.fd, SHUT_WR);
    fwd.shut_wr = true;
  }
  if (fwd.shut_wr && fwd.pod_eof) EndForward(data_stream, /*send_data_fin=*/false);
}

void Session::ReadFromPod(uint32_t data_stream, Forward& fwd) {
  char buf[kReadChunk];
  ssize_t n = read(fwd.fd, buf, sizeof buf);
  if (n > 0) {
    Send(spdy::Data(data_stream, std::string(buf, static_cast<size_t>(n))));
    return;
  }
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  // EOF or a reset: the pod has nothing more to say.
  fwd.pod_eof = true;
  Send(spdy::Data(data_stream, "", /*fin=*/true));
  if (fwd.shut_wr) EndForward(data_stream, /*send_data_fin=*/false);
}

void Session::EndForward(uint32_t data_stream, bool send_data_fin) {
  auto it = forwards_.find(data_stream);
  if (it == forwards_.end()) return;
  close(it->second.fd);
  if (send_data_fin) Send(spdy::Data(data_stream, "", /*fin=*/true));
  if (it->second.error_stream != 0) Send(spdy::Data(it->second.error_stream, "", /*fin=*/true));
  forwards_.erase(it);
}

void Session::ExpirePairs() {
  const Clock::time_point now = Clock::now();
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    Pair& p = it->second;
    if (p.deadline > now) {
      ++it;
      continue;
    }
    if (p.error_stream != 0) {
      Send(spdy::Data(p.error_stream, "(request=" + it->first + ") timed out waiting for streams"));
      Send(spdy::Data(p.error_stream, "", /*fin=*/true));
    }
    if (p.data_stream != 0) Send(spdy::Data(p.data_stream, "", /*fin=*/true));
    it = pairs_.erase(it);
  }
}

}  // namespace

bool IsSpdyUpgradeRequest(const apiserver::Request& req) {
  return LowerASCII(req.Header("connection")).find("upgrade") != std::string::npos &&
         LowerASCII(req.Header("upgrade")).find("spdy/3.1") != std::string::npos;
}

void ServePortForward(ByteStream& stream, const PortForwarder& forwarder) {
  Session session(stream, forwarder);
  session.Run();
}

apiserver::Response UpgradePortForward(const apiserver::Request& req, PortForwarder forwarder) {
  const std::string tunnel = std::string(kSpdyTunnelPrefix) + kPortForwardProtocolV1;
  if (IsWebSocketRequest(req)) {
    std::vector<std::string> offered = RequestedSubprotocols(req);
    bool any_tunnel = std::any_of(offered.begin(), offered.end(), [](const std::string& p) {
      return p.rfind(kSpdyTunnelPrefix, 0) == 0 && p.size() > 7 && p.compare(p.size() - 7, 7, ".k8s.io") == 0;
    });
    if (!any_tunnel) return RefuseUpgrade(BadRequest("unable to upgrade: no tunneling spdy protocols provided"));
    Result<WebSocketHandshake> handshake = NegotiateWebSocket(req, {tunnel});
    if (!handshake.ok()) return RefuseUpgrade(handshake.status());
    return handshake->Accept([forwarder = std::move(forwarder)](apiserver::UpgradedConnection& conn) {
      WebSocket ws(conn);
      WebSocketByteStream stream(ws);
      ServePortForward(stream, forwarder);
    });
  }

  if (!IsSpdyUpgradeRequest(req)) {
    return RefuseUpgrade(BadRequest(
        "unable to upgrade: missing upgrade headers in request (Connection: Upgrade with Upgrade: SPDY/3.1, or a "
        "WebSocket upgrade with subprotocol " + tunnel + ")"));
  }
  std::vector<std::string> offered = CommaList(req.Header("x-stream-protocol-version"));
  if (offered.empty()) return RefuseUpgrade(BadRequest("unable to upgrade: X-Stream-Protocol-Version is required"));
  if (std::find(offered.begin(), offered.end(), kPortForwardProtocolV1) == offered.end()) {
    apiserver::Response r = RefuseUpgrade(
        Forbidden("unable to upgrade: unable to negotiate protocol: client supports [" + Join(offered, " ") +
                  "], server accepts [" + std::string(kPortForwardProtocolV1) + "]"));
    r.headers.emplace_back("X-Accepted-Stream-Protocol-Versions", kPortForwardProtocolV1);
    return r;
  }
  apiserver::Response r;
  r.code = 101;
  r.content_type.clear();
  r.headers = {{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}, {"X-Stream-Protocol-Version", kPortForwardProtocolV1}};
  r.upgrade = [forwarder = std::move(forwarder)](apiserver::UpgradedConnection& conn) {
    ConnectionByteStream stream(conn);
    ServePortForward(stream, forwarder);
  };
  return r;
}

}  // namespace kubes::kubelet::streaming
