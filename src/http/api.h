// The node's HTTP API: /api/v1/... (requests, users, peers, profiles), the OpenAPI document,
// /healthz, /metrics, and the log's C2SP resources (/checkpoint, /disclosed, /tile/...). Routes,
// roles, shapes and errors are documented in docs/api.md.
//
//   http::Metrics metrics;
//   http::Api api(service, {.page_max = 200, .node = info}, &metrics);
//   http::Router router;
//   api.Register(&router);
//   http::ServerOptions so = ...;
//   so.observer = api.Observer();           // metrics + access log (no headers, no bodies)
//   http::Server server(so, std::move(router));
//
// Every /api/v1 route except the OpenAPI document needs "Authorization: Bearer <token>"; the
// role is checked against the route's permission (node/accounts.h). After too many bad tokens
// from one address within a window, that address is answered 429 with Retry-After (explicit
// limits in ApiOptions::throttle). Tokens never reach a log line: the access log names the
// route pattern, the status, the user and the address only.
//
// The OpenAPI document is generated from the same table the routes are registered from, so it
// describes exactly the routes served; the federation layer adds its routes through AddRoute,
// which documents them too.
//
// Thread-safe once registered: handlers may run on any server thread.
#pragma once

#include <atomic>
#include <boost/json/value.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/time.h"
#include "http/metrics.h"
#include "http/server.h"
#include "node/accounts.h"
#include "node/service.h"

namespace comity::http {

// What GET /api/v1/node tells about this node.
struct NodeInfo {
  std::string state;
  std::string name;
  std::string url;
  std::string log_origin;
  std::string log_vkey;
  std::string sign_key;  // base64
  std::string box_key;   // base64
};

struct ApiOptions {
  int page_max = 200;  // largest `limit` of GET /api/v1/requests
  node::ThrottleOptions throttle;
  NodeInfo node;
};

// One documented route.
struct ApiRoute {
  std::string method;
  std::string pattern;  // as given to Router::Add; "{name...}" becomes "{name}" in OpenAPI
  std::string summary;
  std::optional<node::Permission> permission;              // nullopt: public
  std::vector<std::pair<std::string, std::string>> query;  // name, description
  std::string body;                                        // what the request body is (empty: none)
  std::string answer;                                      // what a successful response body is
  std::vector<int> statuses;                               // every status the route answers
  Handler handler;
};

class Api {
 public:
  Api(node::NodeService* service, ApiOptions options, Metrics* metrics);

  // Registers every route on `router`.
  void Register(Router* router);
  // Registers (and documents) one more route; call before handing the router to a Server.
  void AddRoute(Router* router, ApiRoute route);

  // The ServerOptions::observer: latency histograms and counters by route, and one access-log
  // line per request.
  std::function<void(const Request&, const Response&, std::chrono::microseconds)> Observer();

  // The OpenAPI 3.1 document of the registered routes.
  boost::json::value OpenApi() const;
  // The roles a permission admits, in role order ("officer", "supervisor", ...).
  static std::vector<std::string> RolesFor(node::Permission p);

  // The node's URL for GET /api/v1/node, once the server knows its port.
  void SetNodeUrl(std::string url);

  // Requests answered 503 while draining (set by `comity serve` on SIGTERM before it stops).
  void SetDraining() { draining_ = true; }

 private:
  using AuthedHandler = std::function<Response(const Request&, const node::Principal&)>;
  Handler Authed(node::Permission p, AuthedHandler h);
  Response Metrics();
  void Add(Router* router, ApiRoute route);

  node::NodeService* service_;
  ApiOptions options_;
  http::Metrics* metrics_;
  node::AuthThrottle throttle_;
  std::vector<ApiRoute> routes_;  // documentation of what is registered (handlers dropped)
  std::atomic<bool> draining_{false};
  mutable std::mutex node_mu_;  // guards options_.node.url
  std::mutex gauges_mu_;
  std::set<std::vector<std::pair<std::string, std::string>>> request_gauges_;  // GUARDED_BY
};

}  // namespace comity::http
