#include "federation/gossip.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "tlog/checkpoint.h"
#include "tlog/publish.h"
#include "tlog/witness.h"

namespace comity::federation {
namespace {

// The cosigner is owned by Gossip and lent to a short-lived tlog::Witness per round.
class BorrowedSigner : public tlog::NoteSigner {
 public:
  explicit BorrowedSigner(const tlog::NoteSigner& s) : s_(s) {}
  const std::string& name() const override { return s_.name(); }
  uint32_t key_id() const override { return s_.key_id(); }
  StatusOr<std::string> Sign(std::string_view text) const override { return s_.Sign(text); }
  std::string VerifierKey() const override { return s_.VerifierKey(); }

 private:
  const tlog::NoteSigner& s_;
};

// Resources that never change once they exist: full tiles and full entry bundles.
bool Immutable(const std::string& path) {
  return path.rfind("tile/", 0) == 0 && path.find(".p/") == std::string::npos;
}

int64_t NowMicros(const Clock& clock) {
  const Timestamp t = clock.Now();
  return t.seconds * 1'000'000 + t.nanos / 1000;
}

}  // namespace

// --- TransportTileFetcher ----------------------------------------------------------------------

TransportTileFetcher::TransportTileFetcher(Transport* transport, std::string base_url,
                                           std::chrono::milliseconds timeout, size_t cache_entries)
    : transport_(transport),
      base_url_(std::move(base_url)),
      timeout_(timeout),
      cache_entries_(cache_entries) {}

void TransportTileFetcher::set_base_url(std::string url) {
  if (url != base_url_) cache_.clear();
  base_url_ = std::move(url);
}

StatusOr<std::string> TransportTileFetcher::Fetch(const std::string& path) {
  if (auto it = cache_.find(path); it != cache_.end()) return it->second;
  const size_t max = tlog::MaxResourceBytes(path);
  if (max == 0) return InvalidArgumentError("\"" + path + "\" is not a log resource");
  ASSIGN_OR_RETURN(TransportResponse r, transport_->Get(base_url_, "/" + path, timeout_));
  if (r.status == 404) return NotFoundError(base_url_ + "/" + path + ": 404 Not Found");
  if (r.status != 200) {
    return UnavailableError(base_url_ + "/" + path + ": HTTP " + std::to_string(r.status));
  }
  if (r.body.size() > max) {
    return DataLossError(base_url_ + "/" + path + ": " + std::to_string(r.body.size()) +
                         " bytes, more than such a resource can hold");
  }
  if (Immutable(path)) {
    // Bounded: start over when full (tiles are re-fetched and re-authenticated on use).
    if (cache_.size() >= cache_entries_) cache_.clear();
    cache_[path] = r.body;
  }
  return std::move(r.body);
}

// --- Gossip ----------------------------------------------------------------------------------

Gossip::Gossip(FederationStore* store, PeerDirectory* peers, Transport* transport,
               std::unique_ptr<tlog::NoteSigner> cosigner, const Clock& clock,
               GossipOptions options, FederationObserver* observer)
    : store_(store),
      peers_(peers),
      transport_(transport),
      cosigner_(std::move(cosigner)),
      clock_(clock),
      options_(options),
      observer_(observer) {}

Gossip::~Gossip() { Stop(); }

void Gossip::Offer(const std::string& peer, const std::string& note) {
  if (note.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::deque<std::string>& q = pending_[peer];
    // Most envelopes in a burst carry the same checkpoint: keep each distinct one once.
    if (std::find(q.rbegin(), q.rend(), note) != q.rend()) return;
    q.push_back(note);
    if (q.size() > options_.max_pending) {
      q.pop_front();
      if (observer_) observer_->Gossip(peer, "dropped");
    }
  }
  cv_.notify_one();
}

size_t Gossip::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& [peer, q] : pending_) n += q.size();
  return n;
}

void Gossip::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Gossip::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Gossip::Loop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      if (stop_) return;
    }
    RunOnce();
    // The coalescing window: offers made meanwhile are handled together in the next round.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.interval, [this] { return stop_; });
    if (stop_) return;
  }
}

std::map<std::string, GossipRound> Gossip::RunOnce() {
  std::lock_guard<std::mutex> run(run_mu_);
  std::map<std::string, std::deque<std::string>> work;
  {
    std::lock_guard<std::mutex> lock(mu_);
    work.swap(pending_);
  }
  std::map<std::string, GossipRound> out;
  for (auto& [peer, notes] : work) out[peer] = RunPeer(peer, std::move(notes));
  return out;
}

GossipRound Gossip::RunPeer(const std::string& peer, std::deque<std::string> notes) {
  GossipRound round;
  auto count = [&](std::string_view outcome, int n = 1) {
    if (observer_) {
      for (int i = 0; i < n; ++i) observer_->Gossip(peer, outcome);
    }
  };
  auto requeue = [&](const std::vector<std::string>& again) {
    std::lock_guard<std::mutex> lock(mu_);
    std::deque<std::string>& q = pending_[peer];
    for (const std::string& n : again) {
      if (q.size() < options_.max_pending) q.push_back(n);
    }
    round.requeued += static_cast<int>(again.size());
  };

  StatusOr<std::optional<PeerInfo>> info = peers_->Find(peer);
  if (!info.ok()) {
    spdlog::warn("gossip: cannot read peer {}: {}", peer, info.status().ToString());
    requeue(std::vector<std::string>(notes.begin(), notes.end()));
    return round;
  }
  if (!*info || (*info)->log_vkey.empty()) {
    count("no_vkey", static_cast<int>(notes.size()));
    return round;
  }
  auto key = tlog::ParseVerifierKey((*info)->log_vkey);
  if (!key.ok()) {
    spdlog::warn("gossip: peer {} has an unusable log vkey: {}", peer, key.status().ToString());
    count("error", static_cast<int>(notes.size()));
    round.errors += static_cast<int>(notes.size());
    return round;
  }

  // Authenticate every checkpoint; a checkpoint not signed by the peer's log key is a protocol
  // fault of the peer (its envelope or receipt was authentic), not evidence.
  std::vector<tlog::SignedCheckpoint> cps;
  for (const std::string& n : notes) {
    auto cp = tlog::OpenCheckpoint(n, **key);
    if (!cp.ok()) {
      spdlog::warn("gossip: a checkpoint from {} does not verify with its log key: {}", peer,
                   cp.status().ToString());
      count("error");
      ++round.errors;
      continue;
    }
    cps.push_back(std::move(*cp));
  }
  if (cps.empty()) return round;
  std::stable_sort(cps.begin(), cps.end(), [](const auto& a, const auto& b) {
    return a.checkpoint.size < b.checkpoint.size;
  });
  const tlog::SignedCheckpoint& largest = cps.back();

  auto& fetcher = fetchers_[peer];
  if (!fetcher) {
    fetcher = std::make_unique<TransportTileFetcher>(
        transport_, (*info)->url, options_.fetch_timeout, options_.tile_cache_entries);
  }
  fetcher->set_base_url((*info)->url);

  const int64_t now_us = NowMicros(clock_);
  PeerWitnessStore ws(store_, peer, now_us);
  tlog::Witness witness(&ws, std::make_unique<BorrowedSigner>(*cosigner_), clock_);
  StatusOr<tlog::WitnessResult> r = witness.Observe(largest.note, **key, *fetcher);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kUnavailable ||
        r.status().code() == StatusCode::kAborted) {
      std::vector<std::string> again;
      for (const auto& cp : cps) again.push_back(cp.note);
      requeue(again);
    } else {
      spdlog::warn("gossip: witnessing {}'s checkpoint of size {} failed: {}", peer,
                   largest.checkpoint.size, r.status().ToString());
      ++round.errors;
      count("error");
    }
    return round;
  }
  switch (r->outcome) {
    case tlog::WitnessOutcome::kCosigned: {
      Status s = store_->RecordCosignature(peer, largest.checkpoint.origin, largest.checkpoint.size,
                                           r->cosigned_note, now_us);
      if (!s.ok()) spdlog::warn("gossip: storing a cosignature failed: {}", s.ToString());
      ++round.cosigned;
      count("cosigned");
      break;
    }
    case tlog::WitnessOutcome::kStale:
      ++round.stale;
      count("stale");
      break;
    case tlog::WitnessOutcome::kSplitView:
      ++round.split_views;
      count("split_view");
      spdlog::error("gossip: SPLIT VIEW of {}'s log {}: {}", peer, largest.checkpoint.origin,
                    r->evidence ? r->evidence->detail : "");
      return round;  // the smaller ones are judged against a tree we no longer trust
    case tlog::WitnessOutcome::kConflict:
      ++round.errors;
      count("error");
      return round;
  }

  // Every smaller checkpoint of this round must be a prefix of the largest.
  std::unique_ptr<tlog::TiledTree> tree;
  tlog::FetcherTileReader reader(*fetcher);
  for (size_t i = 0; i + 1 < cps.size(); ++i) {
    const tlog::SignedCheckpoint& cp = cps[i];
    if (cp.checkpoint.origin != largest.checkpoint.origin) continue;  // another log of the peer
    if (cp.checkpoint.size == largest.checkpoint.size &&
        cp.checkpoint.root == largest.checkpoint.root) {
      ++round.consistent;
      continue;
    }
    Status s;
    if (cp.checkpoint.size == largest.checkpoint.size) {
      s = DataLossError("two checkpoints of size " + std::to_string(cp.checkpoint.size) +
                        " with different roots");
    } else {
      if (!tree) {
        auto t = tlog::TiledTree::Open(reader, largest.checkpoint.size, largest.checkpoint.root,
                                       nullptr);
        if (!t.ok()) {
          spdlog::warn("gossip: cannot read {}'s tree of size {}: {}", peer,
                       largest.checkpoint.size, t.status().ToString());
          ++round.errors;
          count("error");
          return round;
        }
        tree = std::move(*t);
      }
      // As tlog::Witness does: the prefix of the larger tree, read from tiles authenticated
      // against its root, must be the smaller checkpoint's root.
      StatusOr<tlog::Hash> prefix = tree->PrefixRoot(cp.checkpoint.size);
      if (!prefix.ok()) {
        spdlog::warn("gossip: cannot read {}'s tree of size {}: {}", peer, largest.checkpoint.size,
                     prefix.status().ToString());
        ++round.errors;
        count("error");
        continue;
      }
      if (*prefix != cp.checkpoint.root) {
        s = DataLossError("the checkpoint of size " + std::to_string(cp.checkpoint.size) +
                          " is not a prefix of the tree of size " +
                          std::to_string(largest.checkpoint.size));
      }
    }
    if (s.ok()) {
      ++round.consistent;
      count("consistent");
      continue;
    }
    tlog::SplitViewEvidence e{cp.checkpoint.origin, cp.note, largest.note, s.message(),
                              clock_.Now().seconds};
    Status rec = ws.RecordSplitView(e);
    if (!rec.ok()) spdlog::error("gossip: recording a split view failed: {}", rec.ToString());
    spdlog::error("gossip: SPLIT VIEW of {}'s log {}: {}", peer, cp.checkpoint.origin, s.message());
    ++round.split_views;
    count("split_view");
  }
  return round;
}

}  // namespace comity::federation
