#include "http/client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

namespace comity::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string ClientResponse::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return {};
}

StatusOr<ClientResponse> Client::Fetch(
    const std::string& method, const std::string& url, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers) const {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return InvalidArgumentError("invalid URL \"" + url + "\"");
  if (parsed->scheme() != "http") {
    return InvalidArgumentError("unsupported URL scheme in \"" + url + "\" (expected http)");
  }
  std::string host(parsed->host());
  std::string port = parsed->has_port() ? std::string(parsed->port()) : "80";
  std::string target(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) target += "?" + std::string(parsed->encoded_query());
  bhttp::verb verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) return InvalidArgumentError("unknown HTTP method " + method);

  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(options_.timeout);
  tcp::resolver resolver(ioc);
  beast::error_code ec;
  auto results = resolver.resolve(host, port, ec);
  if (ec) return UnavailableError("cannot resolve " + host + ": " + ec.message());

  bhttp::request<bhttp::string_body> req{verb, target, 11};
  req.set(bhttp::field::host, host + ":" + port);
  req.set(bhttp::field::user_agent, "comity");
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || verb == bhttp::verb::post || verb == bhttp::verb::put) {
    req.body() = body;
    if (req[bhttp::field::content_type].empty()) {
      req.set(bhttp::field::content_type, "application/json");
    }
  }
  req.prepare_payload();

  ClientResponse out;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(options_.max_response_bytes);
  beast::flat_buffer buffer;
  // Async operations with a deadline, run to completion on this thread.
  stream.async_connect(results, [&](beast::error_code e, const tcp::endpoint&) {
    if (e) {
      ec = e;
      return;
    }
    bhttp::async_write(stream, req, [&](beast::error_code e2, size_t) {
      if (e2) {
        ec = e2;
        return;
      }
      bhttp::async_read(stream, buffer, parser, [&](beast::error_code e3, size_t) { ec = e3; });
    });
  });
  ioc.run();
  if (ec) {
    if (ec == bhttp::error::body_limit) {
      return ResourceExhaustedError("response from " + url + " exceeds " +
                                    std::to_string(options_.max_response_bytes) + " bytes");
    }
    if (ec == beast::error::timeout) {
      return UnavailableError(method + " " + url + ": no answer within " +
                              std::to_string(options_.timeout.count()) + " ms");
    }
    return UnavailableError(method + " " + url + ": " + ec.message());
  }
  auto msg = parser.release();
  out.status = static_cast<int>(msg.result_int());
  out.body = std::move(msg.body());
  for (const auto& field : msg) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return out;
}

}  // namespace comity::http
