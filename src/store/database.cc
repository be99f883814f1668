#include "store/database.h"

#include <ctime>

#include "store/postgres_database.h"
#include "store/sqlite_database.h"

namespace comity::store {

std::string_view DialectName(Dialect d) {
  return d == Dialect::kPostgres ? "postgresql" : "sqlite";
}

// --- Statement -----------------------------------------------------------------------------

Status Statement::BindOne(int i, uint64_t v) {
  if (v > static_cast<uint64_t>(INT64_MAX)) {
    return OutOfRangeError("value " + std::to_string(v) + " does not fit a database integer");
  }
  return BindInt64(i, static_cast<int64_t>(v));
}

Status Statement::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  Reset();
  return OkStatus();
}

// --- Database ------------------------------------------------------------------------------

StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                   const DatabaseOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDatabase> db, SqliteDatabase::Open(path, options));
  return std::unique_ptr<Database>(std::move(db));
}

StatusOr<std::unique_ptr<Database>> Database::Connect(std::string_view url,
                                                      const DatabaseOptions& options) {
  if (IsPostgresUrl(url)) {
    ASSIGN_OR_RETURN(std::unique_ptr<PostgresDatabase> db, PostgresDatabase::Connect(url, options));
    return std::unique_ptr<Database>(std::move(db));
  }
  std::string_view path = url;
  if (path.starts_with("sqlite://")) {
    path.remove_prefix(9);
  } else if (path.starts_with("sqlite:")) {
    path.remove_prefix(7);
  } else if (path.find("://") != std::string_view::npos) {
    return InvalidArgumentError("unsupported database URL \"" + RedactUrl(url) +
                                "\": use postgresql://..., sqlite:PATH or a file path");
  }
  if (path.empty()) return InvalidArgumentError("the database URL names no SQLite file");
  return Open(std::string(path), options);
}

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

std::string RedactUrl(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  std::string out(url);
  const size_t start = scheme + 3;
  // The userinfo ends at the last '@' of the authority (a password may hold '/' or '?').
  const size_t query = out.find('?', start);
  size_t at = out.rfind('@', query == std::string::npos ? std::string::npos : query);
  if (at == std::string::npos || at < start) at = out.rfind('@');
  if (at != std::string::npos && at >= start) {
    const size_t colon = out.find(':', start);
    if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  }
  // A password=... query parameter.
  for (size_t q = out.find('?', start); q != std::string::npos;) {
    const size_t key = q + 1;
    const size_t amp = out.find('&', key);
    const size_t end = amp == std::string::npos ? out.size() : amp;
    if (out.compare(key, 9, "password=") == 0 && end > key + 9) {
      out.replace(key + 9, end - key - 9, "***");
    }
    q = out.find('&', key);
  }
  return out;
}

// --- Transaction ---------------------------------------------------------------------------

Status Database::Savepoint(std::string_view name) {
  // (Outside a transaction, SQLite's SAVEPOINT would begin one.)
  if (!in_write_transaction()) {
    return FailedPreconditionError(path() + ": a savepoint needs a transaction");
  }
  return Exec("SAVEPOINT " + std::string(name));
}

Status Database::ReleaseSavepoint(std::string_view name) {
  return Exec("RELEASE SAVEPOINT " + std::string(name));
}

Status Database::RollbackToSavepoint(std::string_view name) {
  RETURN_IF_ERROR(Exec("ROLLBACK TO SAVEPOINT " + std::string(name)));
  return Exec("RELEASE SAVEPOINT " + std::string(name));
}

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
    " applied_at BIGINT NOT NULL,"
    " PRIMARY KEY (component, version))";

// Serialises schema changes of every process on one PostgreSQL database (held until the
// transaction ends). SQLite's BEGIN IMMEDIATE already excludes other writers.
constexpr std::string_view kMigrationLock = "SELECT pg_advisory_xact_lock(7236284452750475521)";

StatusOr<int> ReadVersion(Database& db, std::string_view component) {
  ASSIGN_OR_RETURN(Statement * st, db.Prepare("SELECT coalesce(max(version), 0) FROM "
                                              "schema_migrations WHERE component = ?"));
  RETURN_IF_ERROR(st->Bind(component));
  ASSIGN_OR_RETURN(bool row, st->Step());
  const int version = row ? static_cast<int>(st->Int64(0)) : 0;
  st->Reset();
  return version;
}

// Inside a write transaction: the lock, the table, and the recorded version.
StatusOr<int> LockedVersion(Database& db, std::string_view component) {
  if (db.dialect() == Dialect::kPostgres) RETURN_IF_ERROR(db.Exec(kMigrationLock));
  RETURN_IF_ERROR(db.Exec(kMigrationsTable));
  return ReadVersion(db, component);
}

}  // namespace

StatusOr<int> SchemaVersion(Database& db, std::string_view component) {
  if (db.in_write_transaction()) return LockedVersion(db, component);
  if (db.in_transaction()) return ReadVersion(db, component);  // a read snapshot: no DDL
  Transaction tx(&db);
  RETURN_IF_ERROR(tx.Begin());
  ASSIGN_OR_RETURN(int version, LockedVersion(db, component));
  RETURN_IF_ERROR(tx.Commit());
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
  ASSIGN_OR_RETURN(int current, LockedVersion(db, component));
  const int known = static_cast<int>(migrations.size());
  if (current > known) {
    return FailedPreconditionError(db.path() + ": the " + std::string(component) +
                                   " schema is at version " + std::to_string(current) +
                                   ", newer than this program knows (" + std::to_string(known) +
                                   "); upgrade comity");
  }
  for (int v = current + 1; v <= known; ++v) {
    const Migration& m = migrations[v - 1];
    Status st = db.Exec(m.SqlFor(db.dialect()));
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

MultiRowInsert::MultiRowInsert(std::string_view head, std::string_view row, int columns,
                               std::string_view tail)
    : columns_(columns) {
  for (size_t k = 0; k < sql_.size(); ++k) {
    sql_[k] = std::string(head);
    for (size_t r = 0; r < kRows[k]; ++r) {
      if (r > 0) sql_[k] += ", ";
      sql_[k] += row;
    }
    sql_[k] += tail;
  }
}

}  // namespace comity::store
