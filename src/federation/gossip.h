// Gossip: witnessing the logs of the peers this node talks to. Every envelope and every receipt
// carries the sender's latest signed checkpoint; the inbox and the delivery worker Offer() it
// here, and a background thread checks it against the last checkpoint seen from that log
// (fetching the tiles it needs from the peer's /tile/... over the Transport), cosigns it
// (C2SP cosignature/v1) and stores it. Two checkpoints that cannot both be honest — the same
// size with different roots, or a tree that does not extend the other — are a split view: an
// alert with both signed checkpoints as evidence (FederationStore::ListAlerts).
//
//   Gossip gossip(store, &peers, &transport, std::move(cosigner), clock, {}, &observer);
//   gossip.Start();
//   gossip.Offer("XB", checkpoint_note);     // cheap; never waits for the network
//   ...
//   gossip.Stop();
//
// The witnessing logic is tlog::Witness (consistency with the last seen checkpoint, cosigning,
// split-view evidence); this class feeds it. Offers are coalesced: one round per peer takes
// every distinct checkpoint offered since the last round, lets the witness observe the largest
// (consistency with the stored one, cosignature), and checks that each smaller one is a prefix
// of it (tlog::CheckConsistentWith), so a busy peer costs one cosignature per round, not one
// per message, and no checkpoint goes unchecked. A round that cannot fetch tiles puts its
// checkpoints back for the next round.
//
// Limits: at most GossipOptions::max_pending distinct checkpoints wait per peer (the oldest
// offers are dropped beyond that and counted as "dropped"); a note over tlog's 1 MiB limit is
// refused by the note parser.
//
// Thread-safe: Offer from any thread; RunOnce and the background thread are serialised.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "core/time.h"
#include "federation/federation_store.h"
#include "federation/ports.h"
#include "tlog/note.h"
#include "tlog/tiled_tree.h"

namespace comity::federation {

struct GossipOptions {
  std::chrono::milliseconds interval{200};  // pause between rounds (coalescing window)
  size_t max_pending = 1024;                // distinct checkpoints waiting per peer
  std::chrono::milliseconds fetch_timeout{10'000};
  size_t tile_cache_entries = 4096;  // full tiles kept per peer (immutable, authenticated on use)
};

// A tlog::TileFetcher over a Transport: GET <base_url>/<path>. Full tiles and full entry bundles
// never change, so they are cached (bounded); partial ones and checkpoints are always fetched.
// Thread-compatible.
class TransportTileFetcher : public tlog::TileFetcher {
 public:
  TransportTileFetcher(Transport* transport, std::string base_url,
                       std::chrono::milliseconds timeout, size_t cache_entries);
  StatusOr<std::string> Fetch(const std::string& path) override;
  void set_base_url(std::string url);

 private:
  Transport* transport_;
  std::string base_url_;
  std::chrono::milliseconds timeout_;
  size_t cache_entries_;
  std::map<std::string, std::string> cache_;
};

// What one round did for one peer (for tests and logs).
struct GossipRound {
  int cosigned = 0;
  int stale = 0;
  int consistent = 0;  // smaller checkpoints checked against the largest
  int split_views = 0;
  int errors = 0;
  int requeued = 0;
};

class Gossip : public CheckpointSink {
 public:
  // `cosigner` signs this node's cosignatures (cosignature/v1). Pointers must outlive this.
  Gossip(FederationStore* store, PeerDirectory* peers, Transport* transport,
         std::unique_ptr<tlog::NoteSigner> cosigner, const Clock& clock, GossipOptions options,
         FederationObserver* observer);
  ~Gossip() override;

  void Offer(const std::string& peer, const std::string& note) override;

  void Start();
  void Stop();  // idempotent; finishes the round in progress

  // Processes what is pending now, on the calling thread. Returns per-peer results.
  std::map<std::string, GossipRound> RunOnce();

  const tlog::NoteSigner& cosigner() const { return *cosigner_; }
  // Checkpoints offered and not yet processed, over all peers.
  size_t pending() const;

 private:
  GossipRound RunPeer(const std::string& peer, std::deque<std::string> notes);
  void Loop();

  FederationStore* store_;
  PeerDirectory* peers_;
  Transport* transport_;
  std::unique_ptr<tlog::NoteSigner> cosigner_;
  const Clock& clock_;
  GossipOptions options_;
  FederationObserver* observer_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::deque<std::string>> pending_;  // GUARDED_BY(mu_)
  bool stop_ = false;                                       // GUARDED_BY(mu_)
  std::thread thread_;

  std::mutex run_mu_;  // serialises rounds; guards fetchers_
  std::map<std::string, std::unique_ptr<TransportTileFetcher>> fetchers_;
};

}  // namespace comity::federation
