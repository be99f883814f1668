#include "http/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <mutex>
#include <thread>

namespace comity::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string_view Request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

std::string_view Request::param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<std::string> Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Response JsonResponse(int status, const boost::json::value& body) {
  Response r;
  r.status = status;
  r.body = boost::json::serialize(body);
  r.body.push_back('\n');
  return r;
}

Response TextResponse(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

std::string ErrorCode(const Status& status) {
  std::string code(StatusCodeName(status.code()));
  for (char& c : code) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return code;
}

Response ErrorResponse(const Status& status, int http_status) {
  boost::json::object err;
  err["code"] = ErrorCode(status);
  err["message"] = status.message();
  if (!status.pointer().empty()) err["pointer"] = status.pointer();
  boost::json::object body;
  body["error"] = std::move(err);
  return JsonResponse(http_status != 0 ? http_status : HttpStatusFor(status), body);
}

std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex(s[i + 1]);
      int lo = hex(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> segs;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    segs.emplace_back(path.substr(i, j - i));
    i = j;
  }
  return segs;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler) {
  Route r;
  r.method = std::move(method);
  r.segments = SplitPath(pattern);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

bool Router::Match(const Route& r, const std::vector<std::string>& segs,
                   std::map<std::string, std::string>* params) {
  params->clear();
  size_t n = r.segments.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string& p = r.segments[i];
    bool is_param = p.size() >= 2 && p.front() == '{' && p.back() == '}';
    if (is_param && p.size() > 5 && p.compare(p.size() - 4, 4, "...}") == 0) {
      if (i >= segs.size()) return false;
      std::string rest;
      for (size_t k = i; k < segs.size(); ++k) {
        if (k > i) rest.push_back('/');
        rest += segs[k];
      }
      (*params)[p.substr(1, p.size() - 5)] = std::move(rest);
      return true;
    }
    if (i >= segs.size()) return false;
    if (is_param) {
      (*params)[p.substr(1, p.size() - 2)] = segs[i];
    } else if (p != segs[i]) {
      return false;
    }
  }
  return n == segs.size();
}

Response Router::Dispatch(Request& req) const {
  // Split the raw path first and decode each segment, so that an encoded "/" (%2F) stays
  // inside its segment.
  std::vector<std::string> segs = SplitPath(req.raw_path.empty() ? req.path : req.raw_path);
  if (!req.raw_path.empty()) {
    for (std::string& seg : segs) {
      auto decoded = PercentDecode(seg, false);
      if (!decoded) return ErrorResponse(InvalidArgumentError("malformed percent-encoding"));
      seg = std::move(*decoded);
    }
  }
  std::string allow;
  std::map<std::string, std::string> params;
  for (const Route& r : routes_) {
    if (!Match(r, segs, &params)) continue;
    if (r.method == req.method || (req.method == "HEAD" && r.method == "GET")) {
      req.params = std::move(params);
      req.route = r.pattern;
      return r.handler(req);
    }
    if (!allow.empty()) allow += ", ";
    allow += r.method;
  }
  if (!allow.empty()) {
    req.route = "(method not allowed)";
    Response resp = ErrorResponse(
        Status(StatusCode::kFailedPrecondition,
               "method " + req.method + " is not allowed on " + req.path + "; allowed: " + allow),
        405);
    resp.headers.emplace_back("Allow", allow);
    return resp;
  }
  req.route = "(not found)";
  return ErrorResponse(NotFoundError("no such resource: " + req.path));
}

std::vector<std::pair<std::string, std::string>> Router::Routes() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Route& r : routes_) out.emplace_back(r.method, r.pattern);
  return out;
}

// --- Server ------------------------------------------------------------------------------------

namespace {
class Session;
}  // namespace

struct Server::Impl {
  ServerOptions options;
  Router router;
  // What sessions use as they end: declared before `ioc`, whose destruction ends the sessions
  // still open (a server stopped with requests running).
  std::atomic<int> connections{0};
  std::mutex sessions_mu;
  std::map<const Session*, std::weak_ptr<Session>> sessions;  // GUARDED_BY(sessions_mu)
  // Drain: no new connection, no new request on an open one; what is running is answered.
  std::atomic<bool> draining{false};
  // Two kinds of threads. A few run `ioc`: they accept, read, parse and write, and never block.
  // The handlers, which may wait for the database, run on `handlers`. Kept apart, a request
  // costs one hand-off each way; with every thread on one context, each posted operation (a
  // strand's dispatch, a timer's cancellation) woke one of many idle threads only for it to wait
  // again, several times per request.
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;  // running ioc
  // Declared after ioc, so destroyed before it: a handler still queued holds its session, whose
  // socket belongs to ioc.
  std::optional<asio::thread_pool> handlers;
  std::once_flag stopped;
  bool started = false;

  // Two I/O threads (see Start). The concurrency hint says so: a hint of 1 would tell Asio that
  // one thread runs the context.
  static constexpr int kIoThreads = 2;
  Impl(ServerOptions o, Router r) : options(std::move(o)), router(std::move(r)), ioc(kIoThreads) {}
  void DoAccept();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl* server) : stream_(std::move(socket)), server_(server) {}
  ~Session();

  void Start() { ReadHeader(/*first=*/true); }
  // Closes the connection if it waits for a request (on its strand); one answering a request
  // closes after the answer (Send).
  void CloseIfIdle();

 private:
  void ReadHeader(bool first);
  void OnHeader(beast::error_code ec);
  void OnBody(beast::error_code ec);
  // On the strand. `head`: the answer to a HEAD request (headers only).
  void Send(Response resp, bool keep_alive, bool head);
  void SendAndClose(int status, std::string_view code, std::string message);
  // ServerOptions::body_limit_for_path for the request target's path, else max_body_bytes.
  size_t BodyLimitFor(std::string_view target) const;
  void Close();

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  Server::Impl* server_;
  std::chrono::steady_clock::time_point started_;
  size_t body_limit_ = 0;  // of the request being read
  bool idle_ = false;      // waiting for a request's header (on the strand)
};

}  // namespace

void Server::Impl::DoAccept() {
  acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      spdlog::warn("http: accept failed: {}", ec.message());
    } else {
      // Counted here, uncounted by ~Session; over the bound the session answers 503 at once
      // rather than queue (see Session::ReadHeader).
      connections.fetch_add(1);
      // Answers go out at once, not held back by Nagle's algorithm waiting for an ACK.
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto session = std::make_shared<Session>(std::move(socket), this);
      {
        std::lock_guard<std::mutex> lock(sessions_mu);
        sessions.emplace(session.get(), session);
      }
      session->Start();
    }
    if (acceptor && acceptor->is_open()) DoAccept();
  });
}

Session::~Session() {
  {
    std::lock_guard<std::mutex> lock(server_->sessions_mu);
    server_->sessions.erase(this);
  }
  server_->connections.fetch_sub(1);
}

void Session::CloseIfIdle() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->idle_) self->Close();
  });
}

void Session::ReadHeader(bool first) {
  if (server_->draining.load()) {  // no new request while the server drains
    Close();
    return;
  }
  if (first && server_->connections.load() > server_->options.max_connections) {
    SendAndClose(503, "unavailable", "the server is at its connection limit; retry shortly");
    return;
  }
  parser_.emplace();
  // The largest limit any path has; OnHeader applies the one of the request's path.
  size_t largest = server_->options.max_body_bytes;
  for (const auto& [path, limit] : server_->options.body_limit_for_path) {
    largest = std::max(largest, limit);
  }
  parser_->body_limit(largest);
  parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
  stream_.expires_after(first ? server_->options.header_timeout : server_->options.idle_timeout);
  idle_ = true;
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

size_t Session::BodyLimitFor(std::string_view target) const {
  const auto& paths = server_->options.body_limit_for_path;
  if (paths.empty()) return server_->options.max_body_bytes;
  auto it = paths.find(std::string(target.substr(0, target.find('?'))));
  return it != paths.end() ? it->second : server_->options.max_body_bytes;
}

void Session::OnHeader(beast::error_code ec) {
  idle_ = false;
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      SendAndClose(413, "resource_exhausted",
                   "request body exceeds the limit of " +
                       std::to_string(BodyLimitFor(parser_->get().target())) + " bytes");
    } else if (ec == bhttp::error::header_limit) {
      SendAndClose(431, "resource_exhausted",
                   "request header larger than the limit of " +
                       std::to_string(server_->options.max_header_bytes) + " bytes");
    } else if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
               ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
               ec == asio::error::eof) {
      Close();
    } else {
      SendAndClose(400, "invalid_argument", "malformed HTTP request: " + ec.message());
    }
    return;
  }
  started_ = std::chrono::steady_clock::now();
  // A path may have a body limit of its own (ServerOptions::body_limit_for_path).
  body_limit_ = BodyLimitFor(parser_->get().target());
  parser_->body_limit(body_limit_);
  auto len = parser_->content_length();
  if (len && *len > body_limit_) {
    SendAndClose(413, "resource_exhausted",
                 "request body of " + std::to_string(*len) + " bytes exceeds the limit of " +
                     std::to_string(body_limit_) + " bytes");
    return;
  }
  stream_.expires_after(server_->options.body_timeout);
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Session::OnBody(beast::error_code ec) {
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      SendAndClose(413, "resource_exhausted",
                   "request body exceeds the limit of " + std::to_string(body_limit_) + " bytes");
    } else if (ec == beast::error::timeout) {
      SendAndClose(408, "deadline_exceeded", "request body not received in time");
    } else {
      Close();
    }
    return;
  }
  bhttp::request<bhttp::string_body> msg = parser_->release();
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  std::string_view target = msg.target();
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  auto path = PercentDecode(raw_path, false);
  if (!path) {
    SendAndClose(400, "invalid_argument", "malformed percent-encoding in the request path");
    return;
  }
  req.path = std::move(*path);
  req.raw_path = std::string(raw_path);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view pair = query.substr(0, amp);
      size_t eq = pair.find('=');
      auto key = PercentDecode(pair.substr(0, eq), true);
      auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
      if (!key || !value) {
        SendAndClose(400, "invalid_argument", "malformed percent-encoding in the query string");
        return;
      }
      if (!key->empty()) req.query[*key] = *value;
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
    }
  }
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  req.body = std::move(msg.body());
  beast::error_code rec;
  auto ep = stream_.socket().remote_endpoint(rec);
  if (!rec) req.remote = ep.address().to_string();

  // The handler runs on the handler pool; its answer comes back to this connection's strand.
  // The observer runs on the handler's thread too, right after it (a handler may leave
  // thread-local context, such as who was authenticated, for the access log).
  // The work guard keeps the I/O threads running while the handler does: with no operation
  // pending on the connection meanwhile, they would otherwise find nothing to do and return.
  asio::post(*server_->handlers, [self = shared_from_this(), req = std::move(req),
                                  keep_alive = msg.keep_alive(),
                                  work = asio::make_work_guard(stream_.get_executor())]() mutable {
    Response resp;
    try {
      resp = self->server_->router.Dispatch(req);
    } catch (const std::exception& e) {
      spdlog::error("http: handler for {} {} threw: {}", req.method, req.route, e.what());
      resp = ErrorResponse(InternalError("internal error"));
    }
    if (self->server_->options.observer) {
      Response summary;
      summary.status = resp.status;
      auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - self->started_);
      self->server_->options.observer(req, summary, elapsed);
    }
    bool head = req.method == "HEAD";
    asio::post(self->stream_.get_executor(),
               [self, resp = std::move(resp), keep_alive, head]() mutable {
                 self->Send(std::move(resp), keep_alive, head);
               });
  });
}

void Session::Send(Response resp, bool keep_alive, bool head) {
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
  res->version(11);
  res->result(static_cast<unsigned>(resp.status));
  res->set(bhttp::field::server, "comity");
  res->set(bhttp::field::content_type, resp.content_type);
  for (const auto& [k, v] : resp.headers) res->set(k, v);
  if (server_->draining.load()) keep_alive = false;  // the last answer on this connection
  res->keep_alive(keep_alive);
  res->body() = std::move(resp.body);
  res->prepare_payload();
  if (head) res->body().clear();
  stream_.expires_after(server_->options.body_timeout);
  bhttp::async_write(stream_, *res,
                     [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                       if (ec || !keep_alive) {
                         self->Close();
                         return;
                       }
                       self->ReadHeader(/*first=*/false);
                     });
}

void Session::SendAndClose(int status, std::string_view code, std::string message) {
  boost::json::object err;
  err["code"] = code;
  err["message"] = std::move(message);
  boost::json::object body;
  body["error"] = std::move(err);
  Response resp = JsonResponse(status, body);
  if (status == 503) resp.headers.emplace_back("Retry-After", "1");
  Send(std::move(resp), /*keep_alive=*/false, /*head=*/false);
}

void Session::Close() {
  beast::error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

Server::Server(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  if (impl_->started) return FailedPreconditionError("server already started");
  beast::error_code ec;
  auto addr = asio::ip::make_address(impl_->options.address, ec);
  if (ec) {
    return InvalidArgumentError("invalid listen address \"" + impl_->options.address +
                                "\": " + ec.message());
  }
  tcp::endpoint ep(addr, impl_->options.port);
  impl_->acceptor.emplace(impl_->ioc);
  impl_->acceptor->open(ep.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(ep, ec);
  if (!ec) impl_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return UnavailableError("cannot listen on " + impl_->options.address + ":" +
                            std::to_string(impl_->options.port) + ": " + ec.message());
  }
  port_ = impl_->acceptor->local_endpoint().port();
  impl_->started = true;
  impl_->handlers.emplace(static_cast<size_t>(std::max(1, impl_->options.threads)));
  impl_->DoAccept();
  for (int i = 0; i < Impl::kIoThreads; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return OkStatus();
}

void Server::Stop() {
  if (!impl_ || !impl_->started) return;
  std::call_once(impl_->stopped, [this] {
    asio::post(impl_->ioc, [this] {
      beast::error_code ec;
      impl_->acceptor->close(ec);
    });
    impl_->ioc.stop();
    for (auto& t : impl_->threads) {
      if (t.joinable()) t.join();
    }
    // Handlers still running finish (their answers go nowhere: the I/O threads have stopped);
    // handlers not yet started never do.
    impl_->handlers->stop();
    impl_->handlers->join();
  });
}

bool Server::Drain(std::chrono::milliseconds timeout) {
  if (!impl_ || !impl_->started) return true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  impl_->draining.store(true);
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(impl_->sessions_mu);
    for (const auto& [key, weak] : impl_->sessions) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  for (const auto& session : open) session->CloseIfIdle();
  open.clear();  // a session ends when its last operation does
  while (impl_->connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return impl_->connections.load() == 0;
}

int Server::active_connections() const { return impl_->connections.load(); }

}  // namespace comity::http
