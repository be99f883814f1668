#include "store/sqlite_database.h"

#include <sqlite3.h>

namespace comity::store {

// --- SqliteStatement -----------------------------------------------------------------------

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

Status SqliteStatement::Check(int rc) const {
  return rc == SQLITE_OK ? OkStatus() : db_->Error(rc, "bind");
}

Status SqliteStatement::BindInt64(int i, int64_t v) {
  return Check(sqlite3_bind_int64(stmt_, i, v));
}

Status SqliteStatement::BindDouble(int i, double v) {
  return Check(sqlite3_bind_double(stmt_, i, v));
}

Status SqliteStatement::BindText(int i, std::string_view v) {
  // SQLITE_STATIC: the caller's data outlives the statement's use (until Step/Run returns).
  return Check(sqlite3_bind_text64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC,
                                   SQLITE_UTF8));
}

Status SqliteStatement::BindBlob(int i, std::string_view v) {
  // A zero-length blob with a null pointer would bind NULL.
  return Check(v.empty() ? sqlite3_bind_zeroblob(stmt_, i, 0)
                         : sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_STATIC));
}

Status SqliteStatement::BindNull(int i) { return Check(sqlite3_bind_null(stmt_, i)); }

StatusOr<bool> SqliteStatement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = db_->Error(rc, sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return st;
}

Status SqliteStatement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  Reset();
  return OkStatus();
}

Status SqliteStatement::RunPipelinedExpecting(int64_t rows, std::string mismatch) {
  RETURN_IF_ERROR(Run());
  if (db_->changes() != rows) return AbortedError(db_->path() + ": " + mismatch);
  return OkStatus();
}

int64_t SqliteStatement::Int64(int col) const { return sqlite3_column_int64(stmt_, col); }

double SqliteStatement::Double(int col) const { return sqlite3_column_double(stmt_, col); }

std::string SqliteStatement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string SqliteStatement::BlobValue(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

bool SqliteStatement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

void SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

// --- SqliteDatabase ------------------------------------------------------------------------

Status SqliteDatabase::Error(int rc, std::string_view what) const {
  const int ext = db_ != nullptr ? sqlite3_extended_errcode(db_) : rc;
  std::string msg = path() + ": " + std::string(what) + ": " +
                    (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return UnavailableError(msg + " (another process holds the database; retry)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLossError(msg);
    case SQLITE_CONSTRAINT:
      if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE) {
        return AlreadyExistsError(msg);
      }
      return FailedPreconditionError(msg);
    case SQLITE_FULL:
      return ResourceExhaustedError(msg);
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDeniedError(msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return UnavailableError(msg);
    default:
      return InternalError(msg);
  }
}

StatusOr<std::unique_ptr<SqliteDatabase>> SqliteDatabase::Open(const std::string& path,
                                                               const DatabaseOptions& options) {
  sqlite3* handle = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  std::unique_ptr<SqliteDatabase> db(new SqliteDatabase(handle, path));
  if (rc != SQLITE_OK) {
    if ((rc & 0xff) == SQLITE_CANTOPEN && !options.create) {
      return NotFoundError("no database at " + path);
    }
    return db->Error(rc, "open");
  }
  sqlite3_extended_result_codes(handle, 1);
  sqlite3_busy_timeout(handle, static_cast<int>(options.busy_timeout.count()));
  // The first statement that reads the file detects one that is not a database.
  RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(
      db->Exec(options.durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  // Savepoints (the node's combined writes) keep the pages they may have to restore in a
  // sub-journal: in memory, not in a temporary file written page by page.
  RETURN_IF_ERROR(db->Exec("PRAGMA temp_store=MEMORY"));
  RETURN_IF_ERROR(
      db->Exec("PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages)));
  return db;
}

SqliteDatabase::~SqliteDatabase() {
  statements_.clear();  // finalize before closing
  sqlite3_close_v2(db_);
}

Status SqliteDatabase::Exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, text.substr(0, 80));
  return OkStatus();
}

StatusOr<Statement*> SqliteDatabase::Prepare(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it != statements_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, sql.substr(0, 80));
  auto owned = std::unique_ptr<SqliteStatement>(new SqliteStatement(this, stmt));
  Statement* out = owned.get();
  statements_.emplace(std::string(sql), std::move(owned));
  return out;
}

bool SqliteDatabase::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

bool SqliteDatabase::in_write_transaction() const { return write_ && in_transaction(); }

Status SqliteDatabase::Begin() {
  if (in_transaction()) return FailedPreconditionError(path() + ": a transaction is already open");
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  write_ = true;
  return OkStatus();
}

Status SqliteDatabase::BeginRead() {
  if (in_transaction()) return FailedPreconditionError(path() + ": a transaction is already open");
  write_ = false;
  return Exec("BEGIN DEFERRED");
}

Status SqliteDatabase::Commit() {
  if (!in_transaction()) return FailedPreconditionError(path() + ": no transaction to commit");
  return Exec("COMMIT");
}

Status SqliteDatabase::Rollback() {
  if (!in_transaction()) return OkStatus();
  return Exec("ROLLBACK");
}

int64_t SqliteDatabase::changes() const { return sqlite3_changes64(db_); }

}  // namespace comity::store
