// The federation runtime of a node: the delivery worker, the inbox and the gossip (src/federation)
// wired to the node's service, store and HTTP server, and their routes:
//
//   GET  /federation/v1/identity   public: state, name, url, keys, log vkey, fingerprints
//   POST /federation/v1/inbox      public: an envelope in, a signed receipt out
//   GET  /api/v1/security-events   admin, auditor: refused envelopes (paged, newest first)
//   GET  /api/v1/alerts            any user: split views of peers' logs, with both checkpoints
//   GET  /api/v1/witnessed         any user: the latest checkpoint witnessed per peer log
//
// `comity serve` does:
//   ASSIGN_OR_RETURN(auto fed, FederationRuntime::Open(node, &metrics, FederationOptions(cfg)));
//   fed->Register(&api, &router);                   // before the server takes the router
//   so.body_limit_for_path[federation::kInboxPath] = fed->InboxBodyLimit();
//   ... server.Start() ...
//   fed->SetUrl(url);
//   RETURN_IF_ERROR(fed->Start());                  // delivers what waits, even from before
//   ... on SIGTERM: server.Stop(); fed->Stop();      // before the node closes
//
// Also here: PooledTransport (keep-alive HTTP/1.1 connections to peers) and DiscoverPeer (the
// discovery form of `comity peer add`). Semantics are in docs/federation.md.
//
// Thread-safe once started.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "federation/delivery.h"
#include "federation/discovery.h"
#include "federation/federation_store.h"
#include "federation/gossip.h"
#include "federation/inbox.h"
#include "federation/ports.h"
#include "http/api.h"
#include "http/metrics.h"
#include "http/server.h"
#include "node/config.h"
#include "node/directory.h"
#include "node/node.h"

namespace comity::http {

// Keep-alive HTTP/1.1 client for plain http:// URLs: idle connections are kept per host
// (at most max_idle_per_host) and reused; a request that fails on a reused connection before
// any answer is retried once on a new one (safe: the inbox deduplicates by message id, and GETs
// are idempotent). Responses over max_response_bytes are kResourceExhausted; network errors and
// timeouts kUnavailable. Thread-safe.
class PooledTransport : public federation::Transport {
 public:
  explicit PooledTransport(size_t max_idle_per_host = 32, size_t max_response_bytes = 8 << 20);
  ~PooledTransport() override;

  StatusOr<federation::TransportResponse> Post(const std::string& base_url, const std::string& path,
                                               const std::string& body,
                                               std::chrono::milliseconds timeout) override;
  StatusOr<federation::TransportResponse> Get(const std::string& base_url, const std::string& path,
                                              std::chrono::milliseconds timeout) override;
  // A header sent with every request (e.g. Authorization for an API client); set before use.
  void set_header(std::string name, std::string value) {
    extra_headers_.emplace_back(std::move(name), std::move(value));
  }

  struct Connection;

 private:
  StatusOr<federation::TransportResponse> Exchange(const std::string& method,
                                                   const std::string& base_url,
                                                   const std::string& path, const std::string* body,
                                                   std::chrono::milliseconds timeout);
  std::unique_ptr<Connection> TakeIdle(const std::string& key);
  void ReturnIdle(const std::string& key, std::unique_ptr<Connection> c);

  size_t max_idle_per_host_;
  size_t max_response_bytes_;
  std::vector<std::pair<std::string, std::string>> extra_headers_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;  // GUARDED_BY(mu_)
};

struct FederationOptions {
  federation::DeliveryOptions delivery;
  federation::GossipOptions gossip;
  federation::InboxOptions inbox;
  std::chrono::milliseconds peer_cache_ttl{1000};      // peers re-read at most this often
  std::chrono::milliseconds checkpoint_cache_ttl{20};  // our checkpoint re-read at most this often
};

// The options a node's configuration ([federation] in comity.toml) gives.
FederationOptions FederationOptionsFromConfig(const node::NodeConfig& config);

class FederationRuntime {
 public:
  // Opens the federation's tables (on connections of its own) and builds the components; the
  // node must outlive the runtime. Nothing runs until Start().
  static StatusOr<std::unique_ptr<FederationRuntime>> Open(node::Node* node, Metrics* metrics,
                                                           FederationOptions options);
  ~FederationRuntime();

  // Registers the routes above (documented in the API's OpenAPI document).
  void Register(Api* api, Router* router);
  // The node's public URL (for the identity document), once the server knows its port.
  void SetUrl(std::string url);
  Status Start();
  void Stop();  // idempotent: stops the worker (attempts in flight finish), gossip, inbox

  // Delivers now rather than at the next poll (the service calls it after enqueueing).
  void Wake();

  // The server's body limit for POST /federation/v1/inbox: twice the inbox's envelope limit, so
  // that an oversize envelope reaches the inbox and is recorded as a security event (beyond
  // that the server refuses the body itself with 413). The API keeps its own limit.
  size_t InboxBodyLimit() const;

  federation::IdentityDocument Identity() const;
  federation::FederationStore* store() { return store_.get(); }
  federation::Inbox* inbox() { return inbox_.get(); }
  federation::Gossip* gossip() { return gossip_.get(); }
  federation::DeliveryWorker* worker() { return worker_.get(); }

  struct Adapters;  // the ports over the node's service (federation_api.cc)

 private:
  FederationRuntime(node::Node* node, Metrics* metrics, FederationOptions options);

  node::Node* node_;
  Metrics* metrics_;
  FederationOptions options_;
  std::unique_ptr<federation::FederationStore> store_;
  std::unique_ptr<Adapters> adapters_;
  std::unique_ptr<PooledTransport> transport_;
  std::unique_ptr<federation::Gossip> gossip_;
  std::unique_ptr<federation::Inbox> inbox_;
  std::unique_ptr<federation::DeliveryWorker> worker_;
  mutable std::mutex url_mu_;
  std::string url_;  // GUARDED_BY(url_mu_)
  std::atomic<bool> started_{false};
};

// The discovery form of `comity peer add`: fetches <url>/federation/v1/identity, checks it
// (ParseIdentityDocument), confirms `fingerprint` (ConfirmFingerprint) and, when
// `expected_state` is not empty, that it is that state's. The peer's URL is `url` as given.
StatusOr<node::PeerInput> DiscoverPeer(
    const std::string& url, std::string_view fingerprint, std::string_view expected_state,
    std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace comity::http
