#include "store/database.h"

#include <sqlite3.h>

#include <ctime>

namespace comity::store {

// --- Statement -----------------------------------------------------------------------------

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::BindOne(int i, int64_t v) {
  const int rc = sqlite3_bind_int64(stmt_, i, v);
  return rc == SQLITE_OK ? OkStatus() : db_->Error(rc, "bind");
}

Status Statement::BindOne(int i, uint64_t v) {
  if (v > static_cast<uint64_t>(INT64_MAX)) {
    return OutOfRangeError("value " + std::to_string(v) + " does not fit a database integer");
  }
  return BindOne(i, static_cast<int64_t>(v));
}

Status Statement::BindOne(int i, std::string_view v) {
  // SQLITE_STATIC: the caller's data outlives the statement's use (until Step/Run returns).
  const int rc = sqlite3_bind_text64(stmt_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC,
                                     SQLITE_UTF8);
  return rc == SQLITE_OK ? OkStatus() : db_->Error(rc, "bind");
}

Status Statement::BindOne(int i, Blob v) {
  // A zero-length blob with a null pointer would bind NULL.
  const int rc = v.data.empty()
                     ? sqlite3_bind_zeroblob(stmt_, i, 0)
                     : sqlite3_bind_blob64(stmt_, i, v.data.data(), v.data.size(), SQLITE_STATIC);
  return rc == SQLITE_OK ? OkStatus() : db_->Error(rc, "bind");
}

Status Statement::BindOne(int i, Null) {
  const int rc = sqlite3_bind_null(stmt_, i);
  return rc == SQLITE_OK ? OkStatus() : db_->Error(rc, "bind");
}

StatusOr<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = db_->Error(rc, sqlite3_sql(stmt_));
  sqlite3_reset(stmt_);
  return st;
}

Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  Reset();
  return OkStatus();
}

int64_t Statement::Int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p), n);
}

std::string Statement::BlobValue(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

bool Statement::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

// --- Database ------------------------------------------------------------------------------

Status Database::Error(int rc, std::string_view what) const {
  const int ext = db_ != nullptr ? sqlite3_extended_errcode(db_) : rc;
  std::string msg = path_ + ": " + std::string(what) + ": " +
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

StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                   const DatabaseOptions& options) {
  sqlite3* handle = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path.c_str(), &handle, flags, nullptr);
  std::unique_ptr<Database> db(new Database(handle, path));
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
  RETURN_IF_ERROR(
      db->Exec("PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages)));
  return db;
}

Database::~Database() {
  statements_.clear();  // finalize before closing
  sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return Error(rc, text.substr(0, 80));
  return OkStatus();
}

StatusOr<Statement*> Database::Prepare(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it != statements_.end()) {
    it->second->Reset();
    return it->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, sql.substr(0, 80));
  auto owned = std::unique_ptr<Statement>(new Statement(this, stmt));
  Statement* out = owned.get();
  statements_.emplace(std::string(sql), std::move(owned));
  return out;
}

bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Status Database::Begin() {
  if (in_transaction()) return FailedPreconditionError(path_ + ": a transaction is already open");
  return Exec("BEGIN IMMEDIATE");
}

Status Database::BeginRead() {
  if (in_transaction()) return FailedPreconditionError(path_ + ": a transaction is already open");
  return Exec("BEGIN DEFERRED");
}

Status Database::Commit() {
  if (!in_transaction()) return FailedPreconditionError(path_ + ": no transaction to commit");
  return Exec("COMMIT");
}

Status Database::Rollback() {
  if (!in_transaction()) return OkStatus();
  return Exec("ROLLBACK");
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

// --- Transaction ---------------------------------------------------------------------------

Transaction::~Transaction() {
  if (open_) db_->Rollback().IgnoreError();
}

Status Transaction::Begin() {
  RETURN_IF_ERROR(db_->Begin());
  open_ = true;
  return OkStatus();
}

Status Transaction::Commit() {
  RETURN_IF_ERROR(db_->Commit());
  open_ = false;
  return OkStatus();
}

// --- Migrations ----------------------------------------------------------------------------

namespace {
constexpr std::string_view kMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " component TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " name TEXT NOT NULL,"
    " applied_at INTEGER NOT NULL,"
    " PRIMARY KEY (component, version))";
}  // namespace

StatusOr<int> SchemaVersion(Database& db, std::string_view component) {
  RETURN_IF_ERROR(db.Exec(kMigrationsTable));
  ASSIGN_OR_RETURN(Statement * st, db.Prepare("SELECT coalesce(max(version), 0) FROM "
                                              "schema_migrations WHERE component = ?"));
  RETURN_IF_ERROR(st->Bind(component));
  ASSIGN_OR_RETURN(bool row, st->Step());
  const int version = row ? static_cast<int>(st->Int64(0)) : 0;
  st->Reset();
  return version;
}

Status ApplyMigrations(Database& db, std::string_view component,
                       std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return InternalError("migrations of " + std::string(component) + " are not numbered 1..N");
    }
  }
  Transaction tx(&db);
  RETURN_IF_ERROR(tx.Begin());
  ASSIGN_OR_RETURN(int current, SchemaVersion(db, component));
  const int known = static_cast<int>(migrations.size());
  if (current > known) {
    return FailedPreconditionError(db.path() + ": the " + std::string(component) +
                                   " schema is at version " + std::to_string(current) +
                                   ", newer than this program knows (" + std::to_string(known) +
                                   "); upgrade comity");
  }
  for (int v = current + 1; v <= known; ++v) {
    const Migration& m = migrations[v - 1];
    Status st = db.Exec(m.sql);
    if (!st.ok()) {
      return st.WithContext("migration " + std::string(component) + " " + std::to_string(v) + " (" +
                            std::string(m.name) + ")");
    }
    ASSIGN_OR_RETURN(Statement * ins, db.Prepare("INSERT INTO schema_migrations(component, "
                                                 "version, name, applied_at) VALUES (?, ?, ?, ?)"));
    RETURN_IF_ERROR(ins->Bind(component, v, m.name, static_cast<int64_t>(std::time(nullptr))));
    RETURN_IF_ERROR(ins->Run());
  }
  return tx.Commit();
}

}  // namespace comity::store
