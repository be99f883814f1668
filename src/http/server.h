// A small HTTP/1.1 server on Boost.Beast: routing, limits, timeouts, JSON errors.
//
//   http::Router router;
//   router.Add("GET", "/api/v1/requests/{id}", [&](const http::Request& req) {
//     return http::JsonResponse(200, Lookup(req.param("id")));
//   });
//   http::Server server(options, std::move(router));
//   RETURN_IF_ERROR(server.Start());     // binds; options.port 0 picks a free port
//   uint16_t port = server.port();
//   ...
//   server.Drain(std::chrono::seconds(2));  // answers what runs, closes idle connections
//   server.Stop();                        // stops accepting, closes connections, joins threads
//
// Every limit is explicit in ServerOptions: request body bytes (413), header bytes (431), time
// to receive a request's header (408 / close), idle keep-alive time, concurrent connections
// (503 with Retry-After beyond it). Handlers run on a pool of `threads` threads, apart from the
// two threads that do the network I/O, so a handler may block (on a database, say);
// they must be thread-safe and never throw (an escaping exception becomes a 500 and is logged).
// The observer runs on the handler's thread, right after the handler.
//
// Server is thread-safe: Start/Stop may be called from any thread (Stop is idempotent).
#pragma once

#include <atomic>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace comity::http {

struct Request {
  std::string method;    // "GET", "POST", ...
  std::string target;    // raw target, e.g. "/api/v1/requests?state=XA"
  std::string path;      // percent-decoded path without the query
  std::string raw_path;  // the path as received (routing decodes segment by segment)
  std::map<std::string, std::string> query;                  // decoded query parameters
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::map<std::string, std::string> params;                 // from {name} segments of the route
  std::string body;
  std::string remote;  // peer address, "127.0.0.1"
  std::string route;   // the matched route pattern, for metrics labels

  // Empty string when absent.
  std::string_view header(std::string_view lower_name) const;
  std::string_view param(const std::string& name) const;
  std::optional<std::string> query_param(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

Response JsonResponse(int status, const boost::json::value& body);
Response TextResponse(int status, std::string body, std::string content_type = "text/plain");
// {"error": {"code": "invalid_argument", "message": "...", "pointer": "..."}} with the status
// from HttpStatusFor (or `http_status` when given, e.g. 429).
Response ErrorResponse(const Status& status, int http_status = 0);
// The "code" string used in error bodies: the canonical code name in snake_case.
std::string ErrorCode(const Status& status);

using Handler = std::function<Response(const Request&)>;

// Maps (method, path pattern) to handlers. Patterns are literal segments and "{name}"
// segments; a final "{name...}" segment matches the rest of the path (slashes included).
// Thread-compatible: build it fully before handing it to a Server.
class Router {
 public:
  void Add(std::string method, std::string pattern, Handler handler);

  // 404 when no pattern matches the path; 405 (with Allow) when patterns match but not the
  // method. Sets req.params and req.route.
  Response Dispatch(Request& req) const;

  // Every (method, pattern) registered, in registration order (the OpenAPI test uses this).
  std::vector<std::pair<std::string, std::string>> Routes() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool Match(const Route& r, const std::vector<std::string>& segs,
                    std::map<std::string, std::string>* params);
  std::vector<Route> routes_;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: the kernel picks a free port
  int threads = 4;    // handler threads (the two I/O threads are apart)
  size_t max_body_bytes = 1 << 20;
  // Other body limits for given paths (exact match of the path, without the query), e.g. the
  // federation inbox, whose envelopes may exceed what the API accepts (413 beyond them too).
  std::map<std::string, size_t> body_limit_for_path;
  size_t max_header_bytes = 16 << 10;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  int max_connections = 512;
  // Called after every handled request (on the handler's thread, after the handler), for
  // metrics and access logs; must be thread-safe.
  std::function<void(const Request&, const Response&, std::chrono::microseconds)> observer;
};

class Server {
 public:
  Server(ServerOptions options, Router router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Status Start();
  // The bound port (valid after Start).
  uint16_t port() const { return port_; }
  void Stop();
  // Stops accepting connections and reading new requests, answers the requests being handled
  // (each answer the last on its connection: `Connection: close`), closes connections that wait
  // for a request, and waits up to `timeout` for every connection to end. True if all ended.
  // Call Stop() afterwards; a request still running then is cut off.
  bool Drain(std::chrono::milliseconds timeout);
  int active_connections() const;

  struct Impl;  // opaque; public only so that server.cc's connection class can name it

 private:
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

// Percent-decodes a path or query component; nullopt on malformed escapes.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);

}  // namespace comity::http
