#include "http.h"

#include <gtest/gtest.h>

namespace kubes::demo {
namespace {

using Kind = ParseResult::Kind;

TEST(ParseRequestTest, ProbeRequestFromTheKubelet) {
  std::string raw =
      "GET /readyz HTTP/1.1\r\nHost: 10.64.0.5:8080\r\nUser-Agent: kube-probe/1.32\r\n"
      "Accept: */*\r\nX-Custom: hello world  \r\nConnection: close\r\n\r\n";
  ParseResult r = ParseRequest(raw);
  ASSERT_EQ(r.kind, Kind::kComplete) << r.error;
  EXPECT_EQ(r.consumed, raw.size());
  EXPECT_EQ(r.request.method, "GET");
  EXPECT_EQ(r.request.path, "/readyz");
  EXPECT_EQ(r.request.version, "HTTP/1.1");
  ASSERT_EQ(r.request.headers.size(), 5u);
  EXPECT_EQ(r.request.headers[3], (std::pair<std::string, std::string>{"X-Custom", "hello world"}));
  EXPECT_EQ(r.request.Header("user-agent"), "kube-probe/1.32");
  EXPECT_EQ(r.request.Header("Missing"), std::nullopt);
  EXPECT_FALSE(r.request.KeepAlive());
}

TEST(ParseRequestTest, TargetIsSplitIntoPathAndDecodedQuery) {
  ParseResult r = ParseRequest("POST /control/read%79z?state=slow%3A2s&after=1m+5s&flag&=x HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.kind, Kind::kComplete) << r.error;
  EXPECT_EQ(r.request.target, "/control/read%79z?state=slow%3A2s&after=1m+5s&flag&=x");
  EXPECT_EQ(r.request.path, "/control/readyz");
  EXPECT_EQ(r.request.Query("state"), "slow:2s");
  EXPECT_EQ(r.request.Query("after"), "1m 5s");
  EXPECT_EQ(r.request.Query("flag"), "");
  EXPECT_EQ(r.request.Query(""), "x");
  EXPECT_EQ(r.request.Query("nope"), std::nullopt);
}

TEST(ParseRequestTest, BareLineFeedsAndLeadingEmptyLinesAreAccepted) {
  ParseResult r = ParseRequest("\r\n\nGET / HTTP/1.0\nHost: x\n\nGET /next");
  ASSERT_EQ(r.kind, Kind::kComplete) << r.error;
  EXPECT_EQ(r.request.path, "/");
  EXPECT_EQ(r.consumed, std::string("\r\n\nGET / HTTP/1.0\nHost: x\n\n").size());
}

TEST(ParseRequestTest, IncompleteUntilTheHeadAndBodyHaveArrived) {
  const std::string full = "POST /sleep?ms=1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  for (size_t n = 0; n < full.size(); n++) {
    EXPECT_EQ(ParseRequest(full.substr(0, n)).kind, Kind::kIncomplete) << "prefix of " << n << " bytes";
  }
  ParseResult r = ParseRequest(full + "GET / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(r.kind, Kind::kComplete) << r.error;
  EXPECT_EQ(r.request.body, "hello");
  EXPECT_EQ(r.consumed, full.size());
}

TEST(ParseRequestTest, KeepAliveFollowsVersionAndConnectionHeader) {
  struct Case {
    std::string raw;
    bool keep_alive;
  } cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", false},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
  };
  for (const Case& c : cases) {
    ParseResult r = ParseRequest(c.raw);
    ASSERT_EQ(r.kind, Kind::kComplete) << c.raw;
    EXPECT_EQ(r.request.KeepAlive(), c.keep_alive) << c.raw;
  }
}

TEST(ParseRequestTest, BadRequestsGetTheRightStatus) {
  struct Case {
    std::string raw;
    int status;
  } cases[] = {
      {"GET\r\n\r\n", 400},
      {"GET /\r\n\r\n", 400},
      {"GET  / HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1.1 extra\r\n\r\n", 400},
      {"G(T / HTTP/1.1\r\n\r\n", 400},
      {"GET http://example.com/ HTTP/1.1\r\n\r\n", 400},
      {"GET * HTTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/1\r\n\r\n", 400},
      {"GET / FTP/1.1\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\n\r\n", 505},
      {"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n: empty name\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400},
      {std::string("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 27), 400},
      {"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n", 413},
      {"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
      {"GET / HTTP/1.1\r\nX: " + std::string(kMaxHeadBytes, 'a'), 431},
  };
  for (const Case& c : cases) {
    ParseResult r = ParseRequest(c.raw);
    EXPECT_EQ(r.kind, Kind::kError) << c.raw.substr(0, 80);
    EXPECT_EQ(r.status, c.status) << c.raw.substr(0, 80) << ": " << r.error;
    EXPECT_FALSE(r.error.empty());
  }
}

TEST(ParseRequestTest, TooManyHeaders) {
  std::string raw = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; i++) raw += "X-" + std::to_string(i) + ": v\r\n";
  ParseResult r = ParseRequest(raw + "\r\n");
  EXPECT_EQ(r.kind, Kind::kError);
  EXPECT_EQ(r.status, 431);
}

TEST(ParseRequestTest, RepeatedEqualContentLengthsAreFine) {
  ParseResult r = ParseRequest("POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nhi");
  ASSERT_EQ(r.kind, Kind::kComplete) << r.error;
  EXPECT_EQ(r.request.body, "hi");
}

TEST(PercentDecodeTest, Table) {
  struct Case {
    std::string in;
    bool plus_is_space;
    std::string out;
  } cases[] = {
      {"", false, ""},
      {"abc", false, "abc"},
      {"%41%62c", false, "Abc"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"%2B", true, "+"},
      {"100%", false, "100%"},
      {"%4", false, "%4"},
      {"%zz", false, "%zz"},
      {"%00x", false, std::string("\0x", 2)},
  };
  for (const Case& c : cases) EXPECT_EQ(PercentDecode(c.in, c.plus_is_space), c.out) << c.in;
}

TEST(ParseQueryTest, Table) {
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ParseQuery(""), Pairs{});
  EXPECT_EQ(ParseQuery("&&"), Pairs{});
  EXPECT_EQ(ParseQuery("a=1&b=2&a=3"), (Pairs{{"a", "1"}, {"b", "2"}, {"a", "3"}}));
  EXPECT_EQ(ParseQuery("a==b"), (Pairs{{"a", "=b"}}));
  EXPECT_EQ(ParseQuery("x%3Dy=z%26"), (Pairs{{"x=y", "z&"}}));
}

TEST(SerializeResponseTest, StatusLineHeadersAndBody) {
  Response r;
  r.status = 503;
  r.body = "shutting down\n";
  EXPECT_EQ(SerializeResponse(r, false, false),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 14\r\nConnection: close\r\n\r\nshutting down\n");
  // HEAD: the same length, no body.
  EXPECT_EQ(SerializeResponse(r, true, true),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 14\r\nConnection: keep-alive\r\n\r\n");
}

TEST(SerializeResponseTest, EveryStatusTheDemoSendsHasAReason) {
  for (int status : {200, 400, 404, 405, 408, 413, 431, 500, 501, 503, 505}) {
    EXPECT_NE(ReasonPhrase(status), "Unknown") << status;
  }
}

}  // namespace
}  // namespace kubes::demo
