#include "store/log_storage.h"

#include <array>
#include <ctime>

namespace comity::store {
namespace {

constexpr Migration kLogMigrations[] = {
    {1, "log tables",
     "CREATE TABLE tlog_state ("
     " id INTEGER PRIMARY KEY CHECK (id = 1),"
     " origin TEXT NOT NULL,"
     " size INTEGER NOT NULL CHECK (size >= 0),"
     " disclosed INTEGER NOT NULL CHECK (disclosed >= 0 AND disclosed <= size),"
     " root BLOB NOT NULL CHECK (length(root) = 32),"
     " checkpoint TEXT NOT NULL,"
     " disclose_immediately INTEGER NOT NULL);"
     "CREATE TABLE tlog_tiles ("
     " level INTEGER NOT NULL,"
     " idx INTEGER NOT NULL,"
     " hashes BLOB NOT NULL,"
     " PRIMARY KEY (level, idx)) WITHOUT ROWID;"
     "CREATE TABLE tlog_entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);"
     "CREATE TABLE tlog_checkpoints (size INTEGER PRIMARY KEY, note TEXT NOT NULL);",
     // PostgreSQL: BYTEA for blobs, BIGINT for sizes and indices.
     "CREATE TABLE tlog_state ("
     " id INTEGER PRIMARY KEY CHECK (id = 1),"
     " origin TEXT NOT NULL,"
     " size BIGINT NOT NULL CHECK (size >= 0),"
     " disclosed BIGINT NOT NULL CHECK (disclosed >= 0 AND disclosed <= size),"
     " root BYTEA NOT NULL CHECK (length(root) = 32),"
     " checkpoint TEXT NOT NULL,"
     " disclose_immediately INTEGER NOT NULL);"
     "CREATE TABLE tlog_tiles ("
     " level INTEGER NOT NULL,"
     " idx BIGINT NOT NULL,"
     " hashes BYTEA NOT NULL,"
     " PRIMARY KEY (level, idx));"
     "CREATE TABLE tlog_entries (idx BIGINT PRIMARY KEY, data BYTEA NOT NULL);"
     "CREATE TABLE tlog_checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL);"},
};

constexpr Migration kWitnessMigrations[] = {
    {1, "witness tables",
     "CREATE TABLE tlog_witness_latest ("
     " origin TEXT PRIMARY KEY,"
     " size INTEGER NOT NULL,"
     " note TEXT NOT NULL,"
     " updated_at INTEGER NOT NULL);"
     "CREATE TABLE tlog_split_views ("
     " id INTEGER PRIMARY KEY,"
     " origin TEXT NOT NULL,"
     " first_note TEXT NOT NULL,"
     " second_note TEXT NOT NULL,"
     " detail TEXT NOT NULL,"
     " detected_at INTEGER NOT NULL);"
     "CREATE TABLE tlog_witness_identity ("
     " id INTEGER PRIMARY KEY CHECK (id = 1),"
     " name TEXT NOT NULL);",
     // PostgreSQL: BIGSERIAL numbers split views as SQLite's rowid does.
     "CREATE TABLE tlog_witness_latest ("
     " origin TEXT PRIMARY KEY,"
     " size BIGINT NOT NULL,"
     " note TEXT NOT NULL,"
     " updated_at BIGINT NOT NULL);"
     "CREATE TABLE tlog_split_views ("
     " id BIGSERIAL PRIMARY KEY,"
     " origin TEXT NOT NULL,"
     " first_note TEXT NOT NULL,"
     " second_note TEXT NOT NULL,"
     " detail TEXT NOT NULL,"
     " detected_at BIGINT NOT NULL);"
     "CREATE TABLE tlog_witness_identity ("
     " id INTEGER PRIMARY KEY CHECK (id = 1),"
     " name TEXT NOT NULL);"},
};

}  // namespace

StatusOr<std::unique_ptr<SqlLogStorage>> SqlLogStorage::Open(Database* db) {
  RETURN_IF_ERROR(ApplyMigrations(*db, "tlog", kLogMigrations));
  return std::unique_ptr<SqlLogStorage>(new SqlLogStorage(db));
}

namespace {
constexpr std::string_view kReadState =
    "SELECT origin, size, disclosed, root, checkpoint, disclose_immediately FROM tlog_state "
    "WHERE id = 1";
constexpr std::string_view kReadStateForUpdate =
    "SELECT origin, size, disclosed, root, checkpoint, disclose_immediately FROM tlog_state "
    "WHERE id = 1 FOR UPDATE";
}  // namespace

Status SqlLogStorage::SendStateRead() {
  if (db_->dialect() != Dialect::kPostgres || !db_->in_write_transaction()) return OkStatus();
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(kReadStateForUpdate));
  return st->SendRead();
}

StatusOr<std::optional<tlog::LogState>> SqlLogStorage::ReadState() {
  // A PostgreSQL writer locks the state row until it commits: concurrent appenders (other
  // connections, other processes) queue here and then read the state the previous one left.
  constexpr std::string_view kRead = kReadState;
  constexpr std::string_view kReadForUpdate = kReadStateForUpdate;
  const bool lock = db_->dialect() == Dialect::kPostgres && db_->in_write_transaction();
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare(lock ? kReadForUpdate : kRead));
  ASSIGN_OR_RETURN(bool row, st->Step());
  if (!row) return std::optional<tlog::LogState>();
  tlog::LogState s;
  s.origin = st->Text(0);
  s.size = static_cast<uint64_t>(st->Int64(1));
  s.disclosed = static_cast<uint64_t>(st->Int64(2));
  const std::string root = st->BlobValue(3);
  s.checkpoint = st->Text(4);
  s.disclose_immediately = st->Int64(5) != 0;
  st->Reset();
  auto h = tlog::HashFromBytes(tlog::AsBytes(root), "stored root");
  if (!h.ok()) return DataLossError(db_->path() + ": " + h.status().message());
  s.root = *h;
  return std::optional<tlog::LogState>(std::move(s));
}

Status SqlLogStorage::WriteState(const tlog::LogState& s) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("INSERT INTO tlog_state(id, origin, size, disclosed, root, "
                                "checkpoint, disclose_immediately) VALUES (1, ?, ?, ?, ?, ?, ?) "
                                "ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, "
                                "size = excluded.size, disclosed = excluded.disclosed, "
                                "root = excluded.root, checkpoint = excluded.checkpoint, "
                                "disclose_immediately = excluded.disclose_immediately"));
  RETURN_IF_ERROR(st->Bind(s.origin, s.size, s.disclosed, Blob{tlog::HashBytes(s.root)},
                           s.checkpoint, s.disclose_immediately));
  return st->RunPipelined();
}

StatusOr<std::optional<std::string>> SqlLogStorage::ReadTile(int level, uint64_t index) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT hashes FROM tlog_tiles WHERE level = ? AND idx = ?"));
  RETURN_IF_ERROR(st->Bind(level, index));
  ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<std::string> out;
  if (row) out = st->BlobValue(0);
  st->Reset();
  return out;
}

Status SqlLogStorage::WriteTile(int level, uint64_t index, std::string_view hashes) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("INSERT INTO tlog_tiles(level, idx, hashes) VALUES (?, ?, ?) "
                                "ON CONFLICT(level, idx) DO UPDATE SET hashes = excluded.hashes"));
  RETURN_IF_ERROR(st->Bind(level, index, Blob{hashes}));
  return st->RunPipelined();
}

Status SqlLogStorage::WriteEntries(uint64_t first, std::span<const std::string> entries) {
  // Several rows per statement (16, 4 or 1: three prepared statements), so that a group's
  // entries cost a few statements rather than one each.
  static const std::array<std::pair<size_t, std::string>, 3> kInserts = [] {
    std::array<std::pair<size_t, std::string>, 3> out;
    const size_t rows[] = {16, 4, 1};
    for (size_t k = 0; k < out.size(); ++k) {
      std::string sql = "INSERT INTO tlog_entries(idx, data) VALUES (?, ?)";
      for (size_t r = 1; r < rows[k]; ++r) sql += ", (?, ?)";
      out[k] = {rows[k], std::move(sql)};
    }
    return out;
  }();
  size_t i = 0;
  for (const auto& [rows, sql] : kInserts) {
    while (entries.size() - i >= rows) {
      ASSIGN_OR_RETURN(Statement * st, db_->Prepare(sql));
      for (size_t r = 0; r < rows; ++r) {
        RETURN_IF_ERROR(st->BindAt(static_cast<int>(2 * r + 1), first + i + r));
        RETURN_IF_ERROR(st->BindAt(static_cast<int>(2 * r + 2), Blob{entries[i + r]}));
      }
      Status s = st->RunPipelined();
      if (!s.ok()) {
        return s.WithContext("entries " + std::to_string(first + i) + " to " +
                             std::to_string(first + i + rows - 1));
      }
      i += rows;
    }
  }
  return OkStatus();
}

StatusOr<std::vector<std::string>> SqlLogStorage::ReadEntries(uint64_t first, uint64_t count) {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT idx, data FROM tlog_entries "
                                                "WHERE idx >= ? AND idx < ? ORDER BY idx"));
  if (count > static_cast<uint64_t>(INT64_MAX) - first) {
    return OutOfRangeError("entry range overflows");
  }
  RETURN_IF_ERROR(st->Bind(first, first + count));
  std::vector<std::string> out;
  out.reserve(count);
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    if (static_cast<uint64_t>(st->Int64(0)) != first + out.size()) break;
    out.push_back(st->BlobValue(1));
  }
  st->Reset();
  if (out.size() != count) {
    return DataLossError(db_->path() + ": entry " + std::to_string(first + out.size()) +
                         " is missing from tlog_entries");
  }
  return out;
}

Status SqlLogStorage::WriteCheckpoint(uint64_t size, std::string_view note) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("INSERT INTO tlog_checkpoints(size, note) VALUES (?, ?) "
                                "ON CONFLICT (size) DO UPDATE SET note = excluded.note"));
  RETURN_IF_ERROR(st->Bind(size, note));
  return st->RunPipelined();
}

StatusOr<std::optional<std::string>> SqlLogStorage::ReadCheckpoint(uint64_t size) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT note FROM tlog_checkpoints WHERE size = ?"));
  RETURN_IF_ERROR(st->Bind(size));
  ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<std::string> out;
  if (row) out = st->Text(0);
  st->Reset();
  return out;
}

// --- SqlWitnessStore -------------------------------------------------------------------------

StatusOr<std::unique_ptr<SqlWitnessStore>> SqlWitnessStore::Open(Database* db) {
  RETURN_IF_ERROR(ApplyMigrations(*db, "witness", kWitnessMigrations));
  return std::unique_ptr<SqlWitnessStore>(new SqlWitnessStore(db));
}

StatusOr<std::optional<std::string>> SqlWitnessStore::Latest(std::string_view origin) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT note FROM tlog_witness_latest WHERE origin = ?"));
  RETURN_IF_ERROR(st->Bind(origin));
  ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<std::string> out;
  if (row) out = st->Text(0);
  st->Reset();
  return out;
}

Status SqlWitnessStore::Update(std::string_view origin, std::optional<uint64_t> expected_size,
                               uint64_t size, std::string_view note) {
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  Statement* st = nullptr;
  if (expected_size) {
    ASSIGN_OR_RETURN(st, db_->Prepare("UPDATE tlog_witness_latest SET size = ?, note = ?, "
                                      "updated_at = ? WHERE origin = ? AND size = ?"));
    RETURN_IF_ERROR(st->Bind(size, note, now, origin, *expected_size));
  } else {
    ASSIGN_OR_RETURN(st, db_->Prepare("INSERT INTO tlog_witness_latest(origin, size, note, "
                                      "updated_at) VALUES (?, ?, ?, ?) "
                                      "ON CONFLICT(origin) DO NOTHING"));
    RETURN_IF_ERROR(st->Bind(origin, size, note, now));
  }
  RETURN_IF_ERROR(st->Run());
  if (db_->changes() != 1) {
    return AbortedError("the witness state for " + std::string(origin) + " changed meanwhile");
  }
  return OkStatus();
}

StatusOr<std::optional<std::string>> SqlWitnessStore::Name() {
  ASSIGN_OR_RETURN(Statement * st, db_->Prepare("SELECT name FROM tlog_witness_identity"));
  ASSIGN_OR_RETURN(bool row, st->Step());
  std::optional<std::string> out;
  if (row) out = st->Text(0);
  st->Reset();
  return out;
}

Status SqlWitnessStore::SetName(std::string_view name) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("INSERT INTO tlog_witness_identity(id, name) VALUES (1, ?)"));
  RETURN_IF_ERROR(st->Bind(name));
  return st->Run();
}

Status SqlWitnessStore::RecordSplitView(const tlog::SplitViewEvidence& e) {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("INSERT INTO tlog_split_views(origin, first_note, second_note, "
                                "detail, detected_at) VALUES (?, ?, ?, ?, ?)"));
  RETURN_IF_ERROR(st->Bind(e.origin, e.first_note, e.second_note, e.detail, e.detected_at));
  return st->Run();
}

StatusOr<std::vector<tlog::SplitViewEvidence>> SqlWitnessStore::SplitViews() {
  ASSIGN_OR_RETURN(Statement * st,
                   db_->Prepare("SELECT origin, first_note, second_note, detail, detected_at "
                                "FROM tlog_split_views ORDER BY id"));
  std::vector<tlog::SplitViewEvidence> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, st->Step());
    if (!row) break;
    out.push_back({st->Text(0), st->Text(1), st->Text(2), st->Text(3), st->Int64(4)});
  }
  st->Reset();
  return out;
}

}  // namespace comity::store
