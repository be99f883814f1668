// The log writer: sequences entries, hashes them into tiles, signs checkpoints, and commits
// everything durably in one transaction per batch.
//
//   MemoryLogStorage storage;   // or store::SqliteLogStorage
//   ASSIGN_OR_RETURN(auto log, Log::Create(&storage, "example.com/log", key, {}));
//   std::vector<std::string> batch = {"one", "two"};
//   ASSIGN_OR_RETURN(AppendResult r, log->Append(batch));   // durable when this returns
//   // r.first_index == 0, r.size == 2, r.checkpoint is the signed checkpoint for size 2
//   RETURN_IF_ERROR(log->Disclose(2));                       // release the entry bundles
//
// Two sizes: the committed size (entries hashed into tiles, covered by a signed checkpoint) and
// the disclosed size (entry bundles may be published), disclosed ≤ committed. With
// LogOptions::disclose_immediately every append also discloses.
//
// Only the right edge of the tree (the partial tile of each level, ≤ 8 × 255 hashes) is kept in
// memory; it is loaded from the stored tiles at Open() and checked against the stored root. At
// the start of every append the stored (size, root) is compared with the in-memory edge, which
// is reloaded if another writer or a rolled-back transaction changed it.
//
// Limits: an entry is at most 65535 bytes; a batch at most kMaxBatchEntries entries and
// kMaxBatchBytes bytes; a log at most kMaxLogSize entries (storage uses signed 64-bit integers).
// Thread-compatible: one writer at a time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "tlog/checkpoint.h"
#include "tlog/hash.h"
#include "tlog/note.h"
#include "tlog/storage.h"
#include "tlog/tile.h"

namespace comity::tlog {

inline constexpr size_t kMaxBatchEntries = 1 << 20;
inline constexpr size_t kMaxBatchBytes = 256 << 20;
inline constexpr uint64_t kMaxLogSize = (uint64_t{1} << 63) - 1;
inline constexpr size_t kMaxOriginBytes = 255;

struct LogOptions {
  bool disclose_immediately = false;
};

struct AppendResult {
  uint64_t first_index = 0;  // index of the batch's first entry
  uint64_t size = 0;         // committed size after the batch
  Hash root{};
  std::string checkpoint;  // signed checkpoint note for `size`
};

// The right edge of a tiled tree: for each tile level, the hashes of its partial tile and their
// perfect-subtree roots. Appending completes full tiles as a side effect. Thread-compatible.
class RightEdge {
 public:
  struct CompletedTile {
    int level;
    uint64_t index;
    std::string data;  // 256 hashes
  };
  uint64_t size() const { return size_; }
  // Appends one leaf hash; full tiles completed by it are appended to `completed`.
  void AppendLeaf(const Hash& leaf, TreeHasher& hasher, std::vector<CompletedTile>* completed);
  Hash Root(TreeHasher& hasher) const;
  // Levels whose partial tile changed since the last ClearDirty().
  bool dirty(int level) const { return (dirty_ >> level) & 1; }
  void ClearDirty() { dirty_ = 0; }
  // Partial tile data at `level` (empty if none) and its index.
  std::string PartialData(int level) const;
  uint64_t PartialIndex(int level) const { return full_count_[level]; }
  // Rebuilds the edge of a tree of `size` from its partial tiles (read through `read_tile`).
  static StatusOr<RightEdge> Load(uint64_t size, LogStorage& storage);

 private:
  void Push(int level, const Hash& h, TreeHasher& hasher, std::vector<CompletedTile>* completed);
  uint64_t size_ = 0;
  std::array<std::vector<Hash>, kMaxUsedTileLevels> partial_;
  std::array<std::vector<std::pair<int, Hash>>, kMaxUsedTileLevels> stack_;
  std::array<uint64_t, kMaxUsedTileLevels> full_count_{};
  uint32_t dirty_ = 0;
};

class Log {
 public:
  // Creates a new log in empty storage and commits its checkpoint of size 0. kAlreadyExists if
  // the storage holds a log; kInvalidArgument for an origin that cannot be a key name.
  static StatusOr<std::unique_ptr<Log>> Create(LogStorage* storage, std::string origin,
                                               crypto::Ed25519PrivateKey key, LogOptions options);
  // Opens an existing log. kNotFound if there is none; kPermissionDenied if `key` did not sign
  // its checkpoints; kDataLoss if the stored tiles or checkpoint do not match the stored state.
  static StatusOr<std::unique_ptr<Log>> Open(LogStorage* storage, crypto::Ed25519PrivateKey key);

  // Appends a batch in its own transaction; durable when it returns. An empty batch changes
  // nothing and returns the current state.
  StatusOr<AppendResult> Append(std::span<const std::string> entries);
  // Appends inside a write transaction the caller has opened on the same storage (and will
  // commit or roll back). If the caller rolls back, the next append notices and reloads.
  StatusOr<AppendResult> AppendInTransaction(std::span<const std::string> entries);
  // The same, for a caller that has read the log's state in this transaction already (and
  // holds it: the transaction locks it), saving the read.
  StatusOr<AppendResult> AppendInTransaction(std::span<const std::string> entries,
                                             LogState current);

  // Moves the disclosed size forward to `size` ≤ committed size (kFailedPrecondition beyond it
  // or backwards).
  Status Disclose(uint64_t size);
  Status DiscloseInTransaction(uint64_t size);

  StatusOr<LogState> State();
  const std::string& origin() const { return signer_.name(); }
  const Ed25519NoteVerifier& verifier() const { return verifier_; }
  std::string VerifierKey() const { return verifier_.VerifierKey(); }

 private:
  Log(LogStorage* storage, std::string origin, crypto::Ed25519PrivateKey key);
  Status LoadEdge(const LogState& state);

  LogStorage* storage_;
  Ed25519NoteSigner signer_;
  Ed25519NoteVerifier verifier_;
  RightEdge edge_;
  Hash edge_root_{};
  TreeHasher hasher_;
};

// Origin rules: a valid key name (no spaces, no '+'), at most kMaxOriginBytes bytes.
Status ValidateOrigin(std::string_view origin);

}  // namespace comity::tlog
