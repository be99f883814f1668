// Witnessing other logs: remember the latest checkpoint seen from each, verify that every new
// one is consistent with it, cosign it (C2SP tlog-cosignature, cosignature/v1), and keep both
// signed checkpoints as evidence when a log shows two inconsistent views (a split view).
//
//   MemoryWitnessStore store;                        // or store::SqliteWitnessStore
//   Witness w(&store, std::make_unique<CosignatureV1Signer>("witness.example/w1", key, clock),
//             clock);
//   // Gossip: a checkpoint arrived in a peer's envelope; fetch what is needed from its log.
//   ASSIGN_OR_RETURN(WitnessResult r, w.Observe(note, *peer_log_key, peer_fetcher));
//   if (r.outcome == WitnessOutcome::kSplitView) Alert(r.evidence->first_note, ...);
//   // tlog-witness add-checkpoint: the client supplies the consistency proof.
//   ASSIGN_OR_RETURN(WitnessResult r2, w.AddCheckpoint(request_body, *log_key));
//
// Outcomes: kCosigned (new or same checkpoint, consistent: cosignature returned, state
// updated), kStale (an older checkpoint, consistent with what was seen: not cosigned, since a
// cosignature asserts the largest tree seen), kConflict (add-checkpoint with an old size that is
// not the latest cosigned size: latest_size tells the client), kSplitView (two signed
// checkpoints that cannot both be honest: evidence recorded, nothing cosigned).
// Errors: bad signature or origin (kUnauthenticated), malformed input (kInvalidArgument), tiles
// that do not match the new checkpoint (kDataLoss — the server's fault, not evidence), fetch
// failures (passed through). Witness is thread-compatible; updates to the store are
// compare-and-set, so two witnesses sharing one store cannot roll each other back.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "tlog/tiled_tree.h"

namespace comity::tlog {

inline constexpr size_t kMaxWitnessProofLines = 63;

struct SplitViewEvidence {
  std::string origin;
  std::string first_note;   // the checkpoint seen earlier
  std::string second_note;  // the checkpoint that contradicts it
  std::string detail;
  int64_t detected_at = 0;  // POSIX seconds
};

class WitnessStore {
 public:
  virtual ~WitnessStore() = default;
  // The latest checkpoint note cosigned for `origin`, if any.
  virtual StatusOr<std::optional<std::string>> Latest(std::string_view origin) = 0;
  // Replaces the latest checkpoint for `origin` if the stored one still has `expected_size`
  // (nullopt: none stored); kAborted if it changed meanwhile.
  virtual Status Update(std::string_view origin, std::optional<uint64_t> expected_size,
                        uint64_t size, std::string_view note) = 0;
  virtual Status RecordSplitView(const SplitViewEvidence& evidence) = 0;
  virtual StatusOr<std::vector<SplitViewEvidence>> SplitViews() = 0;
};

class MemoryWitnessStore : public WitnessStore {
 public:
  StatusOr<std::optional<std::string>> Latest(std::string_view origin) override;
  Status Update(std::string_view origin, std::optional<uint64_t> expected_size, uint64_t size,
                std::string_view note) override;
  Status RecordSplitView(const SplitViewEvidence& evidence) override;
  StatusOr<std::vector<SplitViewEvidence>> SplitViews() override;

 private:
  std::map<std::string, std::pair<uint64_t, std::string>, std::less<>> latest_;
  std::vector<SplitViewEvidence> split_views_;
};

enum class WitnessOutcome { kCosigned, kStale, kConflict, kSplitView };

struct WitnessResult {
  WitnessOutcome outcome = WitnessOutcome::kCosigned;
  Checkpoint checkpoint;
  std::optional<uint64_t> previous_size;  // what the witness had seen before
  std::string cosignature;                // the signature line, for kCosigned
  std::string cosigned_note;              // the checkpoint with the cosignature appended
  uint64_t latest_size = 0;               // for kConflict
  std::optional<SplitViewEvidence> evidence;
};

class Witness {
 public:
  // `store` and `clock` must outlive the witness.
  Witness(WitnessStore* store, std::unique_ptr<NoteSigner> signer, const Clock& clock);

  StatusOr<WitnessResult> Observe(std::string_view checkpoint_note, const NoteVerifier& log_key,
                                  TileFetcher& fetcher);
  StatusOr<WitnessResult> AddCheckpoint(std::string_view request_body, const NoteVerifier& log_key);
  const NoteSigner& signer() const { return *signer_; }

 private:
  StatusOr<WitnessResult> Cosign(const SignedCheckpoint& cp, std::optional<uint64_t> previous);
  StatusOr<WitnessResult> SplitView(const SignedCheckpoint& cp, const std::string& previous_note,
                                    uint64_t previous_size, std::string detail);

  WitnessStore* store_;
  std::unique_ptr<NoteSigner> signer_;
  const Clock& clock_;
};

}  // namespace comity::tlog
