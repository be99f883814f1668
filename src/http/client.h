// A small blocking HTTP/1.1 client (plain HTTP) for node-to-node calls and log fetching.
//
//   http::Client client;                           // one connection per call
//   StatusOr<http::ClientResponse> r = client.Fetch("GET", "http://127.0.0.1:8443/checkpoint");
//   if (r.ok() && r->status == 200) Use(r->body);
//
// Limits: ClientOptions.timeout bounds the whole exchange (connect, write, read);
// max_response_bytes bounds the body. Network failures are kUnavailable (retry later); a URL we
// cannot use is kInvalidArgument. Thread-safe: Fetch may be called concurrently.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace comity::http {

struct ClientOptions {
  std::chrono::milliseconds timeout{10'000};
  size_t max_response_bytes = 64 << 20;
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string header(std::string_view lower_name) const;
};

class Client {
 public:
  explicit Client(ClientOptions options = {}) : options_(options) {}

  StatusOr<ClientResponse> Fetch(
      const std::string& method, const std::string& url, const std::string& body = {},
      const std::vector<std::pair<std::string, std::string>>& headers = {}) const;

 private:
  ClientOptions options_;
};

}  // namespace comity::http
