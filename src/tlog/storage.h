// Where a log keeps its state: the abstract storage interface (tlog does not know about
// databases) and an in-memory implementation for tests and benchmarks.
//
//   MemoryLogStorage storage;                      // or store::SqliteLogStorage(db)
//   ASSIGN_OR_RETURN(auto log, Log::Create(&storage, "example.com/log", key, {}));
//
// The data model (docs/formats/log.md, "Storage"):
//   state        one row: origin, committed size, disclosed size, root, latest checkpoint
//   tiles        (level, index) -> the tile's hashes so far (32..8192 bytes; only ever grows)
//   entries      index -> entry bytes
//   checkpoints  size -> signed checkpoint (every checkpoint the log has signed)
//
// Transactions: all writes of one append happen between BeginWrite() and Commit(), and Commit()
// returns only once they are durable. A caller that runs its own transaction on the same
// database (to commit a state change and its log entry together) calls
// Log::AppendInTransaction() instead, which neither begins nor commits.
//
// Implementations are thread-compatible: one LogStorage per connection/thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "tlog/hash.h"

namespace comity::tlog {

struct LogState {
  std::string origin;
  uint64_t size = 0;       // committed: hashed into tiles and covered by `checkpoint`
  uint64_t disclosed = 0;  // entry bundles may be published for [0, disclosed); ≤ size
  Hash root{};             // root hash at `size`
  std::string checkpoint;  // signed checkpoint note for (size, root)
  bool disclose_immediately = false;
  bool operator==(const LogState&) const = default;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  virtual Status BeginWrite() = 0;
  virtual Status Commit() = 0;
  virtual Status Rollback() = 0;

  virtual StatusOr<std::optional<LogState>> ReadState() = 0;
  // A hint that ReadState() follows in this write transaction: a storage that can starts the
  // read now, so that it travels with the next round trip to its database. Optional.
  virtual Status SendStateRead() { return OkStatus(); }
  virtual Status WriteState(const LogState& state) = 0;

  // The hashes stored for tile (level, index), or nullopt if none.
  virtual StatusOr<std::optional<std::string>> ReadTile(int level, uint64_t index) = 0;
  virtual Status WriteTile(int level, uint64_t index, std::string_view hashes) = 0;

  // Entries [first, first + entries.size()). Indices are written once, in order.
  virtual Status WriteEntries(uint64_t first, std::span<const std::string> entries) = 0;
  // Entries [first, first + count); kDataLoss if any is missing.
  virtual StatusOr<std::vector<std::string>> ReadEntries(uint64_t first, uint64_t count) = 0;

  virtual Status WriteCheckpoint(uint64_t size, std::string_view note) = 0;
  virtual StatusOr<std::optional<std::string>> ReadCheckpoint(uint64_t size) = 0;
};

// In memory, with real transaction semantics (writes are staged until Commit; Rollback drops
// them) so that tests can exercise failure paths. Thread-compatible.
class MemoryLogStorage : public LogStorage {
 public:
  Status BeginWrite() override;
  Status Commit() override;
  Status Rollback() override;
  StatusOr<std::optional<LogState>> ReadState() override;
  Status WriteState(const LogState& state) override;
  StatusOr<std::optional<std::string>> ReadTile(int level, uint64_t index) override;
  Status WriteTile(int level, uint64_t index, std::string_view hashes) override;
  Status WriteEntries(uint64_t first, std::span<const std::string> entries) override;
  StatusOr<std::vector<std::string>> ReadEntries(uint64_t first, uint64_t count) override;
  Status WriteCheckpoint(uint64_t size, std::string_view note) override;
  StatusOr<std::optional<std::string>> ReadCheckpoint(uint64_t size) override;

  // Test hooks: the committed data, to corrupt it on purpose.
  std::map<std::pair<int, uint64_t>, std::string>& committed_tiles() { return tiles_; }
  std::vector<std::string>& committed_entries() { return entries_; }
  std::optional<LogState>& committed_state() { return state_; }

 private:
  Status RequireWrite() const;

  std::optional<LogState> state_;
  std::map<std::pair<int, uint64_t>, std::string> tiles_;
  std::vector<std::string> entries_;
  std::map<uint64_t, std::string> checkpoints_;

  bool in_write_ = false;
  std::optional<LogState> staged_state_;
  std::map<std::pair<int, uint64_t>, std::string> staged_tiles_;
  std::vector<std::string> staged_entries_;  // appended after entries_
  std::map<uint64_t, std::string> staged_checkpoints_;
};

}  // namespace comity::tlog
