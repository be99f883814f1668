#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/json/parse.hpp>
#include <thread>

#include "http/client.h"
#include "http/metrics.h"

namespace comity::http {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options = {}) {
    Router router;
    router.Add("GET", "/healthz", [](const Request&) { return TextResponse(200, "ok\n"); });
    router.Add("GET", "/api/v1/items/{id}", [](const Request& req) {
      boost::json::object o;
      o["id"] = req.param("id");
      o["route"] = req.route;
      auto q = req.query_param("q");
      if (q) o["q"] = *q;
      return JsonResponse(200, o);
    });
    router.Add("POST", "/api/v1/items", [](const Request& req) {
      boost::json::object o;
      o["size"] = req.body.size();
      return JsonResponse(201, o);
    });
    router.Add("GET", "/tile/{path...}", [](const Request& req) {
      return TextResponse(200, std::string(req.param("path")));
    });
    router.Add("GET", "/slow", [](const Request&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      return TextResponse(200, "slow\n");
    });
    router.Add("GET", "/boom",
               [](const Request&) -> Response { throw std::runtime_error("secret detail"); });
    server_ = std::make_unique<Server>(options, std::move(router));
    ASSERT_TRUE(server_->Start().ok());
    base_ = "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Sends raw bytes and returns everything the server answers until it closes.
  std::string Raw(const std::string& bytes) {
    namespace asio = boost::asio;
    asio::io_context ioc;
    asio::ip::tcp::socket sock(ioc);
    sock.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    asio::write(sock, asio::buffer(bytes));
    std::string out;
    boost::system::error_code ec;
    char buf[4096];
    for (;;) {
      size_t n = sock.read_some(asio::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  std::unique_ptr<Server> server_;
  std::string base_;
  Client client_;
};

TEST_F(ServerTest, RoutesWithParamsAndQuery) {
  StartServer();
  auto r = client_.Fetch("GET", base_ + "/api/v1/items/a%2Fb?q=x+y&z=1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  auto v = boost::json::parse(r->body).as_object();
  EXPECT_EQ(v["id"].as_string(), "a/b");
  EXPECT_EQ(v["q"].as_string(), "x y");
  EXPECT_EQ(v["route"].as_string(), "/api/v1/items/{id}");
  EXPECT_EQ(r->header("content-type"), "application/json");

  auto t = client_.Fetch("GET", base_ + "/tile/0/x001/002.p/5");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->body, "0/x001/002.p/5");
}

TEST_F(ServerTest, NotFoundAndMethodNotAllowedAreJsonErrors) {
  StartServer();
  auto r = client_.Fetch("GET", base_ + "/nope");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  auto e = boost::json::parse(r->body).as_object()["error"].as_object();
  EXPECT_EQ(e["code"].as_string(), "not_found");
  EXPECT_EQ(e["message"].as_string(), "no such resource: /nope");

  auto m = client_.Fetch("DELETE", base_ + "/healthz");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 405);
  EXPECT_EQ(m->header("allow"), "GET");
}

TEST_F(ServerTest, HandlerExceptionIs500WithoutDetail) {
  StartServer();
  auto r = client_.Fetch("GET", base_ + "/boom");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body.find("secret detail"), std::string::npos);
}

TEST_F(ServerTest, BodyOverLimitIs413) {
  ServerOptions o;
  o.max_body_bytes = 100;
  StartServer(o);
  auto ok = client_.Fetch("POST", base_ + "/api/v1/items", std::string(100, 'a'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 201);
  auto big = client_.Fetch("POST", base_ + "/api/v1/items", std::string(101, 'a'));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("exceeds the limit of 100 bytes"), std::string::npos);
}

TEST_F(ServerTest, APathMayHaveABodyLimitOfItsOwn) {
  ServerOptions o;
  o.max_body_bytes = 100;
  o.body_limit_for_path["/api/v1/items"] = 1000;
  StartServer(o);
  auto ok = client_.Fetch("POST", base_ + "/api/v1/items?x=1", std::string(1000, 'a'));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 201);
  auto big = client_.Fetch("POST", base_ + "/api/v1/items", std::string(1001, 'a'));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->status, 413);
  EXPECT_NE(big->body.find("exceeds the limit of 1000 bytes"), std::string::npos);
  // Other paths keep the general limit.
  auto other = client_.Fetch("POST", base_ + "/api/v1/items/x", std::string(101, 'a'));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 413);
}

TEST_F(ServerTest, HeaderOverLimitIs431) {
  ServerOptions o;
  o.max_header_bytes = 1024;
  StartServer(o);
  auto r = client_.Fetch("GET", base_ + "/healthz", "", {{"X-Big", std::string(2000, 'h')}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
}

TEST_F(ServerTest, MalformedRequestIs400) {
  StartServer();
  std::string out = Raw("GARBAGE\r\n\r\n");
  EXPECT_NE(out.find("400"), std::string::npos) << out;
}

TEST_F(ServerTest, SlowHeaderTimesOut) {
  ServerOptions o;
  o.header_timeout = std::chrono::milliseconds(200);
  StartServer(o);
  auto start = std::chrono::steady_clock::now();
  std::string out = Raw("GET /healthz HTTP/1.1\r\n");  // never finishes the header
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(out.empty());
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST_F(ServerTest, HandlersOfDifferentConnectionsRunConcurrently) {
  ServerOptions o;
  o.threads = 8;
  StartServer(o);
  // Eight clients, each on its own kept-alive connection, twice in a row.
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      Client c(ClientOptions{std::chrono::seconds(10), 1 << 20});
      for (int k = 0; k < 2; ++k) {
        auto r = c.Fetch("GET", base_ + "/slow");
        if (r.ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(ok.load(), 16);
  // Sixteen 200 ms handlers on eight threads: about 400 ms together, 3.2 s one at a time.
  EXPECT_LT(elapsed, std::chrono::milliseconds(1600));
}

// The network I/O runs apart from the handlers: with the only handler thread busy, another
// connection is still read and its bad request refused at once; requests are answered when the
// thread is free.
TEST_F(ServerTest, IoGoesOnWhileEveryHandlerThreadIsBusy) {
  ServerOptions o;
  o.threads = 1;
  o.max_header_bytes = 512;
  StartServer(o);
  std::string slow_answer;
  std::thread slow(
      [&] { slow_answer = Raw("GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); });
  for (int i = 0; i < 200 && server_->active_connections() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the handler is running
  const auto start = std::chrono::steady_clock::now();
  std::string big =
      Raw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_NE(big.find("431"), std::string::npos) << big;
  EXPECT_LT(took, std::chrono::milliseconds(150));  // not after the 200 ms handler
  std::string after = Raw("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(after.find("200 OK"), std::string::npos) << after;
  slow.join();
  EXPECT_NE(slow_answer.find("slow"), std::string::npos) << slow_answer;
}

TEST_F(ServerTest, ConnectionLimitAnswers503) {
  ServerOptions o;
  o.max_connections = 1;
  o.header_timeout = std::chrono::milliseconds(2000);
  StartServer(o);
  namespace asio = boost::asio;
  asio::io_context ioc;
  asio::ip::tcp::socket holder(ioc);
  holder.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  // Wait until the server has counted the first connection.
  for (int i = 0; i < 100 && server_->active_connections() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto r = client_.Fetch("GET", base_ + "/healthz");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->header("retry-after"), "1");
}

// Draining answers the request being handled (its last on that connection), closes a kept-alive
// connection that waits for its next request, refuses new connections, and ends once every
// connection has.
TEST_F(ServerTest, DrainAnswersWhatRunsAndClosesTheRest) {
  ServerOptions o;
  o.threads = 4;
  StartServer(o);
  namespace asio = boost::asio;
  asio::io_context ioc;
  // An idle kept-alive connection: one request answered, then nothing.
  asio::ip::tcp::socket idle(ioc);
  idle.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  asio::write(idle, asio::buffer(std::string("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")));
  char buf[4096];
  size_t got = idle.read_some(asio::buffer(buf));
  ASSERT_NE(std::string(buf, got).find("200 OK"), std::string::npos);
  // A slow request under way when the drain begins.
  std::string slow_answer;
  std::thread slow([&] { slow_answer = Raw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); });
  for (int i = 0; i < 200 && server_->active_connections() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the handler is running
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(server_->Drain(std::chrono::seconds(5)));
  const auto took = std::chrono::steady_clock::now() - start;
  slow.join();
  EXPECT_NE(slow_answer.find("200 OK"), std::string::npos) << slow_answer;
  EXPECT_NE(slow_answer.find("slow"), std::string::npos);
  EXPECT_NE(slow_answer.find("Connection: close"), std::string::npos) << slow_answer;
  EXPECT_LT(took, std::chrono::seconds(2));  // the slow handler's time, not the timeout
  // The idle connection was closed by the server.
  boost::system::error_code ec;
  idle.read_some(asio::buffer(buf), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_EQ(server_->active_connections(), 0);
  // No new connection is served.
  auto after = client_.Fetch("GET", base_ + "/healthz");
  EXPECT_FALSE(after.ok() && after->status == 200);
}

// A handler that outlasts the drain's timeout: Drain says so, and Stop still ends.
TEST_F(ServerTest, DrainGivesUpAtItsTimeout) {
  StartServer();
  std::thread slow([&] { Raw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"); });
  for (int i = 0; i < 200 && server_->active_connections() < 1; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(server_->Drain(std::chrono::milliseconds(30)));
  server_->Stop();
  server_.reset();  // its connections close with it (the slow answer is cut off)
  slow.join();
}

TEST(ClientTest, RefusesBadUrlsAndUnreachableHosts) {
  Client c(ClientOptions{std::chrono::milliseconds(500), 1024});
  EXPECT_EQ(c.Fetch("GET", "not a url").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Fetch("GET", "ftp://x/").status().code(), StatusCode::kInvalidArgument);
  // Port 1 on loopback: nothing listens there.
  EXPECT_EQ(c.Fetch("GET", "http://127.0.0.1:1/").status().code(), StatusCode::kUnavailable);
}

TEST(PercentDecodeTest, DecodesAndRejects) {
  EXPECT_EQ(*PercentDecode("a%20b", false), "a b");
  EXPECT_EQ(*PercentDecode("a+b", true), "a b");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("a%2", false).has_value());
  EXPECT_FALSE(PercentDecode("a%zz", false).has_value());
  EXPECT_FALSE(PercentDecode("%", false).has_value());
}

TEST(MetricsTest, RendersPrometheusText) {
  Metrics m;
  m.Describe("comity_requests_total", "counter", "Requests");
  m.Add("comity_requests_total", {{"state", "XA"}});
  m.Add("comity_requests_total", {{"state", "XA"}});
  m.Set("comity_outbox_depth", {}, 3);
  m.Describe("comity_latency_seconds", "histogram", "Latency");
  m.Observe("comity_latency_seconds", {{"route", "/x"}}, 0.003);
  std::string t = m.Render();
  EXPECT_NE(t.find("# TYPE comity_requests_total counter\n"), std::string::npos);
  EXPECT_NE(t.find("comity_requests_total{state=\"XA\"} 2\n"), std::string::npos);
  EXPECT_NE(t.find("comity_outbox_depth 3\n"), std::string::npos);
  EXPECT_NE(t.find("comity_latency_seconds_bucket{route=\"/x\",le=\"0.0025\"} 0\n"),
            std::string::npos);
  EXPECT_NE(t.find("comity_latency_seconds_bucket{route=\"/x\",le=\"0.005\"} 1\n"),
            std::string::npos);
  EXPECT_NE(t.find("comity_latency_seconds_count{route=\"/x\"} 1\n"), std::string::npos);
}

}  // namespace
}  // namespace comity::http
