#include "http/federation_api.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <filesystem>

#include "crypto/encoding.h"
#include "federation/batch.h"
#include "http/client.h"
#include "node/identity.h"
#include "store/database.h"
#include "store/node_store.h"
#include "tlog/note.h"

namespace comity::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

// --- PooledTransport ---------------------------------------------------------------------------

struct PooledTransport::Connection {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
};

namespace {

struct Target {
  std::string host;
  std::string port;
  std::string prefix;  // the base URL's path without a trailing slash
  std::string key;     // host:port
};

StatusOr<Target> ParseBase(const std::string& base_url) {
  auto parsed = boost::urls::parse_uri(base_url);
  if (!parsed) return InvalidArgumentError("invalid URL \"" + base_url + "\"");
  if (parsed->scheme() != "http") {
    return InvalidArgumentError("unsupported URL scheme in \"" + base_url + "\" (expected http)");
  }
  Target t;
  t.host = std::string(parsed->host());
  t.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  t.prefix = std::string(parsed->encoded_path());
  while (!t.prefix.empty() && t.prefix.back() == '/') t.prefix.pop_back();
  t.key = t.host + ":" + t.port;
  return t;
}

// Runs the async operations started by `start` on the connection's own io_context until they
// complete or the stream's deadline passes.
template <typename Start>
beast::error_code Run(PooledTransport::Connection& c, Start start) {
  beast::error_code result;
  start([&result](beast::error_code ec, auto&&...) { result = ec; });
  c.ioc.restart();
  c.ioc.run();
  return result;
}

}  // namespace

PooledTransport::PooledTransport(size_t max_idle_per_host, size_t max_response_bytes)
    : max_idle_per_host_(max_idle_per_host), max_response_bytes_(max_response_bytes) {}

PooledTransport::~PooledTransport() = default;

std::unique_ptr<PooledTransport::Connection> PooledTransport::TakeIdle(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = idle_.find(key);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  std::unique_ptr<Connection> c = std::move(it->second.back());
  it->second.pop_back();
  return c;
}

void PooledTransport::ReturnIdle(const std::string& key, std::unique_ptr<Connection> c) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& v = idle_[key];
  if (v.size() < max_idle_per_host_) v.push_back(std::move(c));
}

StatusOr<federation::TransportResponse> PooledTransport::Post(const std::string& base_url,
                                                              const std::string& path,
                                                              const std::string& body,
                                                              std::chrono::milliseconds timeout) {
  return Exchange("POST", base_url, path, &body, timeout);
}

StatusOr<federation::TransportResponse> PooledTransport::Get(const std::string& base_url,
                                                             const std::string& path,
                                                             std::chrono::milliseconds timeout) {
  return Exchange("GET", base_url, path, nullptr, timeout);
}

StatusOr<federation::TransportResponse> PooledTransport::Exchange(
    const std::string& method, const std::string& base_url, const std::string& path,
    const std::string* body, std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(Target t, ParseBase(base_url));
  const std::string target = t.prefix + path;
  const std::string where = method + " " + base_url + path;

  bhttp::request<bhttp::string_body> req{method == "POST" ? bhttp::verb::post : bhttp::verb::get,
                                         target, 11};
  req.set(bhttp::field::host, t.key);
  req.set(bhttp::field::user_agent, "comity-federation");
  for (const auto& [k, v] : extra_headers_) req.set(k, v);
  req.keep_alive(true);
  if (body != nullptr) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = *body;
  }
  req.prepare_payload();

  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<Connection> c = round == 0 ? TakeIdle(t.key) : nullptr;
    const bool reused = c != nullptr;
    if (!c) {
      c = std::make_unique<Connection>();
      c->stream.expires_after(timeout);
      tcp::resolver resolver(c->ioc);
      beast::error_code ec;
      auto results = resolver.resolve(t.host, t.port, ec);
      if (ec) return UnavailableError("cannot resolve " + t.host + ": " + ec.message());
      ec = Run(*c, [&](auto h) { c->stream.async_connect(results, h); });
      if (!ec) c->stream.socket().set_option(tcp::no_delay(true), ec);
      if (ec) {
        if (ec == beast::error::timeout) {
          return UnavailableError(where + ": no connection within " +
                                  std::to_string(timeout.count()) + " ms");
        }
        return UnavailableError(where + ": " + ec.message());
      }
    }
    c->stream.expires_after(timeout);
    beast::error_code ec = Run(*c, [&](auto h) { bhttp::async_write(c->stream, req, h); });
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(max_response_bytes_);
    if (!ec) {
      ec = Run(*c, [&](auto h) { bhttp::async_read(c->stream, c->buffer, parser, h); });
    }
    if (ec) {
      // A kept-alive connection the server closed meanwhile: try once more on a new one.
      const bool stale = reused && !parser.is_header_done() &&
                         (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
                          ec == asio::error::connection_reset || ec == asio::error::broken_pipe);
      if (stale) continue;
      if (ec == bhttp::error::body_limit) {
        return ResourceExhaustedError(where + ": the answer exceeds " +
                                      std::to_string(max_response_bytes_) + " bytes");
      }
      if (ec == beast::error::timeout) {
        return UnavailableError(where + ": no answer within " + std::to_string(timeout.count()) +
                                " ms");
      }
      return UnavailableError(where + ": " + ec.message());
    }
    auto msg = parser.release();
    federation::TransportResponse out;
    out.status = static_cast<int>(msg.result_int());
    out.body = std::move(msg.body());
    if (msg.keep_alive()) {
      c->stream.expires_never();
      ReturnIdle(t.key, std::move(c));
    }
    return out;
  }
  return UnavailableError(where + ": the connection was closed");
}

// --- options -----------------------------------------------------------------------------------

FederationOptions FederationOptionsFromConfig(const node::NodeConfig& c) {
  FederationOptions o;
  o.delivery.retry.initial = std::chrono::seconds(c.retry_initial_seconds);
  o.delivery.retry.max = std::chrono::seconds(c.retry_max_seconds);
  o.delivery.attempt_timeout = std::chrono::milliseconds(c.delivery_timeout_ms);
  o.inbox.open.max_clock_skew_seconds = c.max_clock_skew_seconds;
  return o;
}

// --- adapters over the node ----------------------------------------------------------------------

namespace {

std::string Time(int64_t us) { return FormatTimestamp(node::FromMicros(us)); }

// A decision body's "decision" member, to check that it matches the envelope's kind.
std::string DecisionOf(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const json::value* d = v.as_object().if_contains("decision");
  return d != nullptr && d->is_string() ? std::string(d->as_string()) : std::string();
}

// An outbox row as the delivery worker sees it.
federation::OutgoingMessage OutgoingOf(store::OutboxMessage m) {
  return federation::OutgoingMessage{std::move(m.message_id),
                                     std::move(m.recipient),
                                     std::move(m.kind),
                                     std::move(m.body),
                                     m.created,
                                     m.attempts,
                                     m.next_attempt};
}

}  // namespace

struct FederationRuntime::Adapters : federation::OutboxPort,
                                     federation::MessageHandler,
                                     federation::PeerDirectory,
                                     federation::CheckpointSource,
                                     federation::FederationObserver {
  node::NodeService* svc = nullptr;
  Metrics* metrics = nullptr;
  FederationOptions options;

  std::mutex peers_mu;
  std::map<std::string, federation::PeerInfo, std::less<>> peers;  // GUARDED_BY(peers_mu)
  std::chrono::steady_clock::time_point peers_loaded{};            // GUARDED_BY(peers_mu)
  bool peers_valid = false;                                        // GUARDED_BY(peers_mu)

  std::mutex cp_mu;
  std::string checkpoint;                             // GUARDED_BY(cp_mu)
  std::chrono::steady_clock::time_point cp_loaded{};  // GUARDED_BY(cp_mu)

  // --- OutboxPort ---
  StatusOr<std::vector<federation::OutgoingMessage>> Due(
      Timestamp now, int limit, const federation::OutboxPosition* after) override {
    std::optional<store::Outbox::Position> from;
    if (after != nullptr) from = {after->next_attempt_us, after->created_us, after->message_id};
    ASSIGN_OR_RETURN(std::vector<store::OutboxMessage> due,
                     svc->DueMessages(now, limit, from ? &*from : nullptr));
    std::vector<federation::OutgoingMessage> out;
    out.reserve(due.size());
    for (store::OutboxMessage& m : due) out.push_back(OutgoingOf(std::move(m)));
    return out;
  }
  Status RecordDelivery(const std::string& id, const std::string& receipt) override {
    return svc->RecordDelivery(id, receipt);
  }
  std::vector<Status> RecordDeliveries(
      const std::vector<std::pair<std::string, std::string>>& receipts) override {
    return svc->RecordDeliveries(receipts);
  }
  // NodeService::RecordDeliveries joins the node's combined writes (one transaction per group).
  bool CombinesConcurrentRecords() const override { return true; }
  Status RecordFailure(const std::string& id, Timestamp next, const std::string& error) override {
    return svc->RecordDeliveryFailure(id, next, error);
  }

  // --- MessageHandler ---
  // The envelope's kind must agree with its body where the body says it too.
  static Status CheckKind(const federation::OpenedEnvelope& env) {
    const std::string& kind = env.message.kind;
    if (kind == "decision" || kind == "information_request") {
      const bool asks = DecisionOf(env.message.body) == "information_requested";
      if (asks != (kind == "information_request")) {
        return InvalidArgumentError(kind == "decision"
                                        ? "a request for information travels as kind "
                                          "information_request, not decision"
                                        : "an information_request must carry the decision "
                                          "information_requested",
                                    "/decision");
      }
    } else if (kind != "request" && kind != "information_reply") {
      return InvalidArgumentError("this node does not accept messages of kind " + kind);
    }
    return OkStatus();
  }
  StatusOr<federation::Handled> Handle(const federation::OpenedEnvelope& env) override {
    RETURN_IF_ERROR(CheckKind(env));
    const std::string& kind = env.message.kind;
    StatusOr<node::IncomingResult> r = UnimplementedError("unknown kind");
    if (kind == "request") {
      r = svc->AcceptIncomingRequest(env.from, env.message.id, env.message.body);
    } else if (kind == "information_reply") {
      r = svc->AcceptInformationReply(env.from, env.message.id, env.message.body);
    } else {
      r = svc->ApplyReceivedDecision(env.from, env.message.id, env.message.body);
    }
    if (!r.ok()) return r.status();
    return federation::Handled{r->request_id, r->duplicate};
  }
  std::vector<StatusOr<federation::Handled>> HandleBatch(
      std::span<const federation::OpenedEnvelope> envelopes) override {
    std::vector<StatusOr<federation::Handled>> out(envelopes.size(), InternalError("not applied"));
    std::vector<node::IncomingMessage> messages;
    std::vector<size_t> where;
    for (size_t i = 0; i < envelopes.size(); ++i) {
      const federation::OpenedEnvelope& env = envelopes[i];
      if (Status ok = CheckKind(env); !ok.ok()) {
        out[i] = ok;
        continue;
      }
      messages.push_back({env.from, env.message.id, env.message.kind, env.message.body});
      where.push_back(i);
    }
    for (size_t start = 0; start < messages.size(); start += node::kMaxIncomingBatch) {
      const size_t n = std::min(node::kMaxIncomingBatch, messages.size() - start);
      std::vector<StatusOr<node::IncomingResult>> results =
          svc->AcceptIncomingBatch(std::span(messages).subspan(start, n));
      for (size_t k = 0; k < n; ++k) {
        const StatusOr<node::IncomingResult>& r = results[k];
        out[where[start + k]] =
            r.ok() ? StatusOr<federation::Handled>(federation::Handled{r->request_id, r->duplicate})
                   : StatusOr<federation::Handled>(r.status());
      }
    }
    return out;
  }
  StatusOr<std::optional<federation::SeenMessage>> Lookup(const std::string& id) override {
    // Only what is durable: a duplicate's receipt must never stand for something a crash
    // could take back.
    ASSIGN_OR_RETURN(std::optional<store::InboxRecord> r, svc->FindInboxMessage(id));
    if (!r) return std::optional<federation::SeenMessage>();
    return std::optional<federation::SeenMessage>(
        federation::SeenMessage{r->body_sha256, r->received});
  }

  std::vector<StatusOr<std::optional<federation::SeenMessage>>> LookupBatch(
      std::span<const std::string> ids) override {
    std::vector<StatusOr<std::optional<federation::SeenMessage>>> out;
    out.reserve(ids.size());
    StatusOr<std::vector<std::optional<store::InboxRecord>>> found = svc->FindInboxMessages(ids);
    for (size_t i = 0; i < ids.size(); ++i) {
      if (!found.ok()) {
        out.push_back(found.status());
      } else if (!(*found)[i]) {
        out.push_back(std::optional<federation::SeenMessage>());
      } else {
        out.push_back(std::optional<federation::SeenMessage>(
            federation::SeenMessage{(*found)[i]->body_sha256, (*found)[i]->received}));
      }
    }
    return out;
  }

  // --- PeerDirectory ---
  Status LoadPeers() {  // requires peers_mu
    ASSIGN_OR_RETURN(std::vector<store::PeerRecord> list, svc->ListPeers());
    peers.clear();
    for (const store::PeerRecord& p : list) {
      federation::PeerInfo info;
      info.keys.state = p.state;
      auto sign = node::ParsePublicKey(p.sign_key, "sign_key");
      auto box = node::ParsePublicKey(p.box_key, "box_key");
      if (!sign.ok() || !box.ok()) {
        spdlog::warn("federation: peer {} has unusable keys; ignored", p.state);
        continue;
      }
      std::copy(sign->begin(), sign->end(), info.keys.sign_key.begin());
      std::copy(box->begin(), box->end(), info.keys.box_key.begin());
      info.url = p.url;
      while (!info.url.empty() && info.url.back() == '/') info.url.pop_back();
      info.log_vkey = p.log_vkey.value_or("");
      peers[p.state] = std::move(info);
    }
    peers_loaded = std::chrono::steady_clock::now();
    peers_valid = true;
    return OkStatus();
  }
  StatusOr<std::optional<federation::PeerInfo>> Find(std::string_view state) override {
    std::lock_guard<std::mutex> lock(peers_mu);
    const auto now = std::chrono::steady_clock::now();
    const bool expired = !peers_valid || now - peers_loaded > options.peer_cache_ttl;
    auto it = peers.find(state);
    // An unknown state re-reads the list (a peer added through the API is known at once), but
    // at most every 50 ms, so that a flood of envelopes from strangers cannot hammer the store.
    const bool miss_reload =
        it == peers.end() && now - peers_loaded > std::chrono::milliseconds(50);
    if (expired || miss_reload) {
      RETURN_IF_ERROR(LoadPeers());
      it = peers.find(state);
    }
    if (it == peers.end()) return std::optional<federation::PeerInfo>();
    return std::optional<federation::PeerInfo>(it->second);
  }

  // --- CheckpointSource ---
  StatusOr<std::string> LatestCheckpoint() override {
    std::lock_guard<std::mutex> lock(cp_mu);
    const auto now = std::chrono::steady_clock::now();
    if (checkpoint.empty() || now - cp_loaded > options.checkpoint_cache_ttl) {
      ASSIGN_OR_RETURN(checkpoint, svc->LogResource("checkpoint"));
      cp_loaded = now;
    }
    return checkpoint;
  }

  // --- FederationObserver ---
  void SecurityEvent(std::string_view kind) override {
    metrics->Add("comity_federation_security_events_total", {{"kind", std::string(kind)}});
  }
  void Received(std::string_view peer, std::string_view kind, bool duplicate) override {
    metrics->Add("comity_federation_received_total", {{"peer", std::string(peer)},
                                                      {"kind", std::string(kind)},
                                                      {"duplicate", duplicate ? "true" : "false"}});
  }
  void Delivery(std::string_view peer, std::string_view outcome,
                std::optional<double> seconds) override {
    metrics->Add("comity_federation_deliveries_total",
                 {{"peer", std::string(peer)}, {"outcome", std::string(outcome)}});
    if (seconds) {
      metrics->Observe("comity_federation_delivery_seconds", {{"peer", std::string(peer)}},
                       *seconds);
    }
  }
  void Gossip(std::string_view peer, std::string_view outcome) override {
    metrics->Add("comity_gossip_checkpoints_total",
                 {{"peer", std::string(peer)}, {"outcome", std::string(outcome)}});
    if (outcome == "split_view") metrics->Add("comity_split_view_alerts", {});
  }
};

// --- FederationRuntime -------------------------------------------------------------------------

FederationRuntime::FederationRuntime(node::Node* node, Metrics* metrics, FederationOptions options)
    : node_(node), metrics_(metrics), options_(std::move(options)) {}

FederationRuntime::~FederationRuntime() { Stop(); }

StatusOr<std::unique_ptr<FederationRuntime>> FederationRuntime::Open(node::Node* node,
                                                                     Metrics* metrics,
                                                                     FederationOptions options) {
  RETURN_IF_ERROR(federation::ValidateDeliveryOptions(options.delivery));
  std::unique_ptr<FederationRuntime> rt(new FederationRuntime(node, metrics, options));
  const node::NodeConfig& config = node->config;

  // Connections of our own: durable for evidence, fast for per-message bookkeeping
  // (federation_store.h).
  auto open = [&](bool durable) -> StatusOr<std::unique_ptr<store::Database>> {
    store::DatabaseOptions o;
    o.durable = durable;
    if (config.is_postgresql()) return store::Database::Connect(config.database, o);
    return store::Database::Open(
        (std::filesystem::path(node->data_dir) / std::string(node::kDatabaseFile)).string(), o);
  };
  ASSIGN_OR_RETURN(std::unique_ptr<store::Database> durable, open(true));
  ASSIGN_OR_RETURN(std::unique_ptr<store::Database> fast, open(false));
  ASSIGN_OR_RETURN(rt->store_,
                   federation::FederationStore::Open(std::move(durable), std::move(fast)));

  rt->adapters_ = std::make_unique<Adapters>();
  Adapters& a = *rt->adapters_;
  a.svc = node->service.get();
  a.metrics = metrics;
  a.options = options;

  metrics->Describe("comity_federation_security_events_total", "counter",
                    "Envelopes refused and recorded as security events, by kind");
  metrics->Describe("comity_federation_received_total", "counter",
                    "Messages accepted from peers, by peer, kind and whether a duplicate");
  metrics->Describe("comity_federation_deliveries_total", "counter",
                    "Delivery attempts to peers, by peer and outcome");
  metrics->Describe("comity_federation_delivery_seconds", "histogram",
                    "From enqueueing a message to recording the peer's signed receipt");
  metrics->Describe("comity_gossip_checkpoints_total", "counter",
                    "Peer checkpoints witnessed, by peer and outcome");
  metrics->Describe("comity_split_view_alerts", "gauge",
                    "Split views of peers' logs detected (alerts with evidence)");
  // Counters start from what the store holds, so that they count since the node began.
  ASSIGN_OR_RETURN(auto counts, rt->store_->CountSecurityEvents());
  for (const auto& [kind, n] : counts) {
    metrics->Add("comity_federation_security_events_total", {{"kind", kind}},
                 static_cast<double>(n));
  }
  ASSIGN_OR_RETURN(int64_t alerts, rt->store_->CountAlerts());
  metrics->Set("comity_split_view_alerts", {}, static_cast<double>(alerts));

  rt->transport_ = std::make_unique<PooledTransport>();
  auto cosigner = std::make_unique<tlog::CosignatureV1Signer>(
      config.origin + "/witness", node->identity.sign_key, node->service->clock());
  rt->gossip_ = std::make_unique<federation::Gossip>(rt->store_.get(), &a, rt->transport_.get(),
                                                     std::move(cosigner), node->service->clock(),
                                                     options.gossip, &a);
  rt->inbox_ = std::make_unique<federation::Inbox>(node->identity, &a, &a, rt->store_.get(), &a,
                                                   rt->gossip_.get(), node->service->clock(),
                                                   options.inbox, &a);
  rt->worker_ = std::make_unique<federation::DeliveryWorker>(
      node->identity, &a, &a, rt->transport_.get(), &a, rt->gossip_.get(), node->service->clock(),
      options.delivery, &a);
  return rt;
}

void FederationRuntime::SetUrl(std::string url) {
  std::lock_guard<std::mutex> lock(url_mu_);
  url_ = std::move(url);
}

federation::IdentityDocument FederationRuntime::Identity() const {
  const node::PublicIdentity pub = node::Describe(node_->identity);
  federation::IdentityDocument d;
  d.state = node_->config.state.str();
  d.name = node_->config.name;
  {
    std::lock_guard<std::mutex> lock(url_mu_);
    d.url = url_;
  }
  d.sign_key = pub.sign_key;
  d.box_key = pub.box_key;
  d.log_origin = node_->config.origin;
  d.log_vkey = node_->service->LogVerifierKey();
  d.witness_vkey = gossip_->cosigner().VerifierKey();
  return d;
}

Status FederationRuntime::Start() {
  if (started_.exchange(true)) return FailedPreconditionError("federation already started");
  inbox_->Start();
  gossip_->Start();
  Status s = worker_->Start();
  if (!s.ok()) {
    gossip_->Stop();
    inbox_->Stop();
    started_ = false;
    return s;
  }
  // Deliver as soon as a change that enqueues a message is durable, not at the next poll, and
  // without reading the messages back: the writer hands them over.
  node_->service->SetOutboxListener([w = worker_.get()](std::vector<store::OutboxMessage> fresh) {
    std::vector<federation::OutgoingMessage> out;
    out.reserve(fresh.size());
    for (store::OutboxMessage& m : fresh) out.push_back(OutgoingOf(std::move(m)));
    w->Offer(std::move(out));
  });
  return s;
}

void FederationRuntime::Stop() {
  if (!started_.exchange(false)) return;
  node_->service->SetOutboxListener(nullptr);
  worker_->Stop();
  gossip_->Stop();
  inbox_->Stop();
}

void FederationRuntime::Wake() {
  if (worker_) worker_->Wake();
}

size_t FederationRuntime::InboxBodyLimit() const { return 2 * options_.inbox.open.max_bytes; }

void FederationRuntime::Register(Api* api, Router* router) {
  const std::vector<int> kRead = {200, 400, 401, 403, 429};
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = std::string(federation::kIdentityPath);
    r.summary =
        "This node's identity: state, name, URL, signing and box keys, log vkey, witness vkey "
        "and fingerprints (for `comity peer add --from-url`)";
    r.answer = "comity.identity/v1 (docs/federation.md)";
    r.statuses = {200};
    r.handler = [this](const Request&) {
      return TextResponse(200, federation::FormatIdentityDocument(Identity()), "application/json");
    };
    api->AddRoute(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "POST";
    r.pattern = federation::kInboxPath;
    r.summary =
        "A peer's envelope (comity.envelope/v1); answers with a signed receipt "
        "(comity.receipt/v1). Refusals are recorded as security events";
    r.body = "comity.envelope/v1 (docs/formats/envelope.md)";
    r.answer = "comity.receipt/v1";
    r.statuses = {200, 400, 401, 403, 404, 409, 413, 503};
    r.handler = [this](const Request& req) {
      federation::InboxAnswer a = inbox_->Receive(req.body, req.remote);
      if (a.http_status == 200) return TextResponse(200, std::move(a.receipt), "application/json");
      Response resp = ErrorResponse(a.error, a.http_status);
      if (a.http_status == 503) resp.headers.emplace_back("Retry-After", "1");
      return resp;
    };
    api->AddRoute(router, std::move(r));
  }
  for (const bool together : {false, true}) {
    ApiRoute r;
    r.method = "POST";
    if (together) {
      r.pattern = federation::kInboxSignedBatchPath;
      r.summary =
          "As POST /federation/v1/inbox/batch, for envelopes that may be signed together (one "
          "signature over a Merkle tree of them, each with its inclusion path); the receipts of "
          "the messages accepted are signed together the same way";
    } else {
      r.pattern = federation::kInboxBatchPath;
      r.summary =
          "Several envelopes of one peer in one request (comity.envelope-batch/v1); answers 200 "
          "with one result per envelope, in order: the receipt, or the status and error that "
          "POST /federation/v1/inbox would have given it";
    }
    r.body = "comity.envelope-batch/v1 (docs/formats/envelope.md)";
    r.answer = "comity.receipt-batch/v1";
    r.statuses = {200, 400, 413};
    r.handler = [this, together](const Request& req) {
      StatusOr<std::vector<std::string>> wires = federation::ParseEnvelopeBatch(req.body);
      if (!wires.ok()) {
        return ErrorResponse(wires.status(),
                             wires.status().code() == StatusCode::kResourceExhausted ? 413 : 400);
      }
      std::vector<federation::InboxAnswer> answers =
          inbox_->ReceiveBatch(*wires, req.remote,
                               together ? federation::Inbox::ReceiptSigning::kTogether
                                        : federation::Inbox::ReceiptSigning::kEach);
      std::vector<federation::BatchResult> results;
      results.reserve(answers.size());
      for (federation::InboxAnswer& a : answers) {
        federation::BatchResult b;
        b.status = a.http_status;
        if (a.http_status == 200) {
          b.receipt = std::move(a.receipt);
        } else {
          b.code = ErrorCode(a.error);
          b.message = a.error.message();
        }
        results.push_back(std::move(b));
      }
      return TextResponse(200, federation::SerializeBatchResults(results), "application/json");
    };
    api->AddRoute(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/security-events";
    r.summary =
        "Envelopes refused by the inbox (newest first): kind, time, sender as claimed, "
        "address, size, SHA-256 of the bytes and the reason — never the envelope";
    r.permission = node::Permission::kReadUsers;
    r.query = {{"kind", "only events of this kind (bad_signature, replay, ...)"},
               {"cursor", "next_cursor of the previous page"},
               {"limit", "1..1000, default 50"}};
    r.answer = "{items: [security event], next_cursor}";
    r.statuses = kRead;
    r.handler = [this](const Request& req) {
      int limit = 50;
      if (auto l = req.query_param("limit")) {
        auto [p, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
        if (ec != std::errc() || p != l->data() + l->size()) {
          return ErrorResponse(InvalidArgumentError("limit must be a number", "/limit"));
        }
      }
      auto page = store_->ListSecurityEvents(req.query_param("kind").value_or(""),
                                             req.query_param("cursor").value_or(""), limit);
      if (!page.ok()) return ErrorResponse(page.status());
      json::array items;
      for (const federation::SecurityEvent& e : page->items) {
        items.push_back(json::object{{"id", e.id},
                                     {"at", Time(e.at_us)},
                                     {"kind", e.kind},
                                     {"http_status", e.http_status},
                                     {"remote", e.remote},
                                     {"claimed_from", e.claimed_from},
                                     {"claimed_id", e.claimed_id},
                                     {"size", e.size},
                                     {"envelope_sha256", e.envelope_sha256},
                                     {"detail", e.detail}});
      }
      return JsonResponse(
          200, json::object{{"items", std::move(items)}, {"next_cursor", page->next_cursor}});
    };
    api->AddRoute(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/alerts";
    r.summary = "Split views of peers' logs, with both signed checkpoints as evidence";
    r.permission = node::Permission::kReadDirectory;
    r.answer = "{items: [alert]}";
    r.statuses = kRead;
    r.handler = [this](const Request&) {
      auto alerts = store_->ListAlerts();
      if (!alerts.ok()) return ErrorResponse(alerts.status());
      json::array items;
      for (const federation::Alert& a : *alerts) {
        items.push_back(json::object{{"id", a.id},
                                     {"at", Time(a.at_us)},
                                     {"kind", a.kind},
                                     {"peer", a.peer},
                                     {"origin", a.origin},
                                     {"detail", a.detail},
                                     {"first_checkpoint", a.first_note},
                                     {"second_checkpoint", a.second_note}});
      }
      return JsonResponse(200, json::object{{"items", std::move(items)}});
    };
    api->AddRoute(router, std::move(r));
  }
  {
    ApiRoute r;
    r.method = "GET";
    r.pattern = "/api/v1/witnessed";
    r.summary = "The latest checkpoint witnessed per peer log, with this node's cosignature";
    r.permission = node::Permission::kReadDirectory;
    r.answer = "{witness_vkey, items: [witnessed log]}";
    r.statuses = kRead;
    r.handler = [this](const Request&) {
      auto logs = store_->ListWitnessed();
      if (!logs.ok()) return ErrorResponse(logs.status());
      json::array items;
      for (const federation::WitnessedLog& w : *logs) {
        items.push_back(json::object{
            {"peer", w.peer},
            {"origin", w.origin},
            {"size", w.size},
            {"checkpoint", w.note},
            {"cosigned_checkpoint", w.cosigned_note},
            {"updated", w.updated_us ? json::value(Time(w.updated_us)) : json::value(nullptr)},
            {"cosigned", w.cosigned}});
      }
      return JsonResponse(200, json::object{{"witness_vkey", gossip_->cosigner().VerifierKey()},
                                            {"items", std::move(items)}});
    };
    api->AddRoute(router, std::move(r));
  }
}

// --- discovery ---------------------------------------------------------------------------------

StatusOr<node::PeerInput> DiscoverPeer(const std::string& url, std::string_view fingerprint,
                                       std::string_view expected_state,
                                       std::chrono::milliseconds timeout) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  Client client(ClientOptions{timeout, federation::kMaxIdentityBytes});
  ASSIGN_OR_RETURN(ClientResponse r,
                   client.Fetch("GET", base + std::string(federation::kIdentityPath)));
  if (r.status != 200) {
    return UnavailableError("GET " + base + std::string(federation::kIdentityPath) +
                            " answered HTTP " + std::to_string(r.status));
  }
  ASSIGN_OR_RETURN(federation::IdentityDocument doc, federation::ParseIdentityDocument(r.body));
  RETURN_IF_ERROR(federation::ConfirmFingerprint(doc, fingerprint));
  if (!expected_state.empty() && doc.state != expected_state) {
    return PermissionDeniedError("the node at " + base + " is " + doc.state + ", not " +
                                 std::string(expected_state));
  }
  return node::PeerInput{doc.state, base, doc.sign_key, doc.box_key, doc.log_vkey};
}

}  // namespace comity::http
