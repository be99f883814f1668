// The SQLite implementation of tlog::LogStorage and tlog::WitnessStore, on a Database the
// caller owns — so that the node can commit a state change and its log entry in one
// transaction:
//
//   ASSIGN_OR_RETURN(auto db, Database::Open(dir + "/comity.db"));
//   ASSIGN_OR_RETURN(auto storage, SqliteLogStorage::Open(db.get()));   // runs migrations
//   ASSIGN_OR_RETURN(auto log, tlog::Log::Open(storage.get(), key));
//   RETURN_IF_ERROR(db->Begin());
//   ... update the node's own tables through `db` ...
//   ASSIGN_OR_RETURN(auto r, log->AppendInTransaction(entries));
//   RETURN_IF_ERROR(db->Commit());                                   // both or neither
//
// Tables (docs/formats/log.md, "Storage"): tlog_state (one row), tlog_tiles (level, idx →
// hashes), tlog_entries (idx → data), tlog_checkpoints (size → note); for witnessing
// tlog_witness_latest (origin → latest cosigned checkpoint), tlog_split_views (evidence) and
// tlog_witness_identity (the witness's key name).
// Sizes and indices are stored as SQLite integers (signed 64-bit), hence the log's limit of
// 2^63 − 1 entries. A PostgreSQL implementation keeps the same tables (BYTEA for blobs).
//
// Thread-compatible, like the Database it uses.
#pragma once

#include <memory>

#include "store/database.h"
#include "tlog/storage.h"
#include "tlog/witness.h"

namespace comity::store {

class SqliteLogStorage : public tlog::LogStorage {
 public:
  // Applies the "tlog" migrations. `db` must outlive the storage.
  static StatusOr<std::unique_ptr<SqliteLogStorage>> Open(Database* db);

  Status BeginWrite() override { return db_->Begin(); }
  Status Commit() override { return db_->Commit(); }
  Status Rollback() override { return db_->Rollback(); }
  StatusOr<std::optional<tlog::LogState>> ReadState() override;
  Status WriteState(const tlog::LogState& state) override;
  StatusOr<std::optional<std::string>> ReadTile(int level, uint64_t index) override;
  Status WriteTile(int level, uint64_t index, std::string_view hashes) override;
  Status WriteEntries(uint64_t first, std::span<const std::string> entries) override;
  StatusOr<std::vector<std::string>> ReadEntries(uint64_t first, uint64_t count) override;
  Status WriteCheckpoint(uint64_t size, std::string_view note) override;
  StatusOr<std::optional<std::string>> ReadCheckpoint(uint64_t size) override;

  Database* database() { return db_; }

 private:
  explicit SqliteLogStorage(Database* db) : db_(db) {}
  Database* db_;
};

class SqliteWitnessStore : public tlog::WitnessStore {
 public:
  // Applies the "witness" migrations. `db` must outlive the store.
  static StatusOr<std::unique_ptr<SqliteWitnessStore>> Open(Database* db);

  StatusOr<std::optional<std::string>> Latest(std::string_view origin) override;
  Status Update(std::string_view origin, std::optional<uint64_t> expected_size, uint64_t size,
                std::string_view note) override;
  Status RecordSplitView(const tlog::SplitViewEvidence& evidence) override;
  StatusOr<std::vector<tlog::SplitViewEvidence>> SplitViews() override;

  // The witness's own key name (set once; kAlreadyExists on a second SetName).
  StatusOr<std::optional<std::string>> Name();
  Status SetName(std::string_view name);

 private:
  explicit SqliteWitnessStore(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace comity::store
