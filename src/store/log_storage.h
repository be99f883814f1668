// The transparency log's storage (tlog::LogStorage) and a witness's state (tlog::WitnessStore),
// implemented once over store::Database — so a node keeps its log in whichever database holds
// its other tables (SQLite or PostgreSQL), and can commit a state change and its log entry in
// one transaction:
//
//   ASSIGN_OR_RETURN(auto db, Database::Connect(url));
//   ASSIGN_OR_RETURN(auto storage, SqlLogStorage::Open(db.get()));     // runs migrations
//   ASSIGN_OR_RETURN(auto log, tlog::Log::Open(storage.get(), key));
//   RETURN_IF_ERROR(db->Begin());
//   ... update the node's own tables through `db` ...
//   ASSIGN_OR_RETURN(auto r, log->AppendInTransaction(entries));
//   RETURN_IF_ERROR(db->Commit());                                   // both or neither
//
// Tables (docs/formats/log.md, "Storage"; per-dialect DDL in log_storage.cc): tlog_state (one
// row), tlog_tiles (level, idx → hashes), tlog_entries (idx → data), tlog_checkpoints (size →
// note); for witnessing tlog_witness_latest (origin → latest cosigned checkpoint),
// tlog_split_views (evidence) and tlog_witness_identity (the witness's key name). Sizes and
// indices are signed 64-bit integers, hence the log's limit of 2^63 − 1 entries.
//
// Sequencing with several writers: inside a write transaction ReadState() reads the state row
// with `SELECT ... FOR UPDATE` on PostgreSQL, so a second appender waits until the first commits
// and then reads the new (size, root) — tlog::Log reloads its right edge when another writer has
// moved it. SQLite's BEGIN IMMEDIATE already admits one writer at a time. Tile, entry, state and
// checkpoint writes are pipelined (Statement::RunPipelined): on PostgreSQL an append costs the
// round trip of its state read plus the commit's.
//
// Thread-compatible, like the Database it uses.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"
#include "tlog/storage.h"
#include "tlog/witness.h"

namespace comity::store {

class SqlLogStorage : public tlog::LogStorage {
 public:
  // Applies the "tlog" migrations. `db` must outlive the storage.
  static StatusOr<std::unique_ptr<SqlLogStorage>> Open(Database* db);

  Status BeginWrite() override { return db_->Begin(); }
  Status Commit() override { return db_->Commit(); }
  Status Rollback() override { return db_->Rollback(); }
  StatusOr<std::optional<tlog::LogState>> ReadState() override;
  Status SendStateRead() override;  // Statement::SendRead of ReadState's SELECT ... FOR UPDATE
  Status WriteState(const tlog::LogState& state) override;
  StatusOr<std::optional<std::string>> ReadTile(int level, uint64_t index) override;
  Status WriteTile(int level, uint64_t index, std::string_view hashes) override;
  Status WriteEntries(uint64_t first, std::span<const std::string> entries) override;
  StatusOr<std::vector<std::string>> ReadEntries(uint64_t first, uint64_t count) override;
  Status WriteCheckpoint(uint64_t size, std::string_view note) override;
  StatusOr<std::optional<std::string>> ReadCheckpoint(uint64_t size) override;

  Database* database() { return db_; }

 private:
  explicit SqlLogStorage(Database* db) : db_(db) {}
  Database* db_;
};

class SqlWitnessStore : public tlog::WitnessStore {
 public:
  // Applies the "witness" migrations. `db` must outlive the store.
  static StatusOr<std::unique_ptr<SqlWitnessStore>> Open(Database* db);

  StatusOr<std::optional<std::string>> Latest(std::string_view origin) override;
  Status Update(std::string_view origin, std::optional<uint64_t> expected_size, uint64_t size,
                std::string_view note) override;
  Status RecordSplitView(const tlog::SplitViewEvidence& evidence) override;
  StatusOr<std::vector<tlog::SplitViewEvidence>> SplitViews() override;

  // The witness's own key name (set once; kAlreadyExists on a second SetName).
  StatusOr<std::optional<std::string>> Name();
  Status SetName(std::string_view name);

 private:
  explicit SqlWitnessStore(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace comity::store
