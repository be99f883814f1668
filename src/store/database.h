// A small SQLite wrapper: one connection, cached prepared statements, transactions, and
// versioned migrations. This module is the only one that includes sqlite3.h.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open("/var/lib/comity/comity.db"));
//   RETURN_IF_ERROR(ApplyMigrations(*db, "mine", kMyMigrations));
//   RETURN_IF_ERROR(db->Begin());                       // BEGIN IMMEDIATE: we intend to write
//   ASSIGN_OR_RETURN(Statement* st, db->Prepare("INSERT INTO t(a, b) VALUES (?, ?)"));
//   RETURN_IF_ERROR(st->Bind(int64_t{1}, Blob{bytes}));
//   RETURN_IF_ERROR(st->Run());
//   RETURN_IF_ERROR(db->Commit());                      // durable (fsync) on return
//
// Every connection runs in WAL mode with foreign keys on, a busy timeout, and
// synchronous=FULL (each commit is fsynced) unless DatabaseOptions::durable is false.
// Errors carry the database path and SQLite's message: kUnavailable for a busy/locked database
// or an I/O error (retry), kDataLoss for a corrupt file or one that is not a database,
// kAlreadyExists for a uniqueness violation, kResourceExhausted for a full disk,
// kPermissionDenied for a read-only file, kNotFound for a missing file opened without create.
//
// Thread-compatible: a Database (and its statements) is used by one thread at a time; open one
// per thread. Prepare() returns a statement owned and cached by the Database; it stays valid
// until the Database is destroyed, but is reset by the next Prepare() of the same SQL, so do not
// interleave two uses of one SQL text.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace comity::store {

struct DatabaseOptions {
  bool create = true;  // create the file if it does not exist
  std::chrono::milliseconds busy_timeout{5000};
  bool durable = true;  // synchronous=FULL; false gives synchronous=NORMAL (no fsync per commit)
  // WAL size (pages of 4 KiB) that triggers a checkpoint into the database file, which costs
  // two more fsyncs. SQLite's default is 1000; bulk writers set more.
  int wal_autocheckpoint_pages = 1000;
};

// A BLOB parameter (a plain string_view binds as TEXT).
struct Blob {
  std::string_view data;
};
struct Null {};

class Database;

class Statement {
 public:
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds parameters 1..N in order. Supported: int64_t, uint64_t (≤ 2^63−1, else
  // kOutOfRange), int, bool, std::string_view / std::string (TEXT), Blob, Null.
  template <typename... Args>
  Status Bind(const Args&... args) {
    int i = 0;
    Status st;
    ((st.ok() ? (st = BindOne(++i, args), 0) : 0), ...);
    return st;
  }
  // Advances to the next row: true if there is one, false when done.
  StatusOr<bool> Step();
  // Runs to completion, ignoring any rows.
  Status Run();

  int64_t Int64(int col) const;
  std::string Text(int col) const;
  std::string BlobValue(int col) const;
  bool IsNull(int col) const;

  void Reset();

 private:
  friend class Database;
  Statement(Database* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Status BindOne(int i, int64_t v);
  Status BindOne(int i, uint64_t v);
  Status BindOne(int i, int v) { return BindOne(i, static_cast<int64_t>(v)); }
  Status BindOne(int i, bool v) { return BindOne(i, static_cast<int64_t>(v ? 1 : 0)); }
  Status BindOne(int i, std::string_view v);
  Status BindOne(int i, const std::string& v) { return BindOne(i, std::string_view(v)); }
  Status BindOne(int i, const char* v) { return BindOne(i, std::string_view(v)); }
  Status BindOne(int i, Blob v);
  Status BindOne(int i, Null);

  Database* db_;
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  static StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                  const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more SQL statements without parameters.
  Status Exec(std::string_view sql);
  StatusOr<Statement*> Prepare(std::string_view sql);

  // BEGIN IMMEDIATE (takes the write lock now, so a writer never fails half-way on a busy
  // upgrade); kFailedPrecondition if a transaction is already open.
  Status Begin();
  // BEGIN DEFERRED: a consistent read snapshot.
  Status BeginRead();
  Status Commit();
  // Rolls back if a transaction is open; OK otherwise.
  Status Rollback();
  bool in_transaction() const;

  int64_t changes() const;
  const std::string& path() const { return path_; }

  // Converts an SQLite result code into a Status naming `what` and the database.
  Status Error(int rc, std::string_view what) const;

 private:
  Database(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

// Commits on Commit(); rolls back on destruction otherwise.
class Transaction {
 public:
  explicit Transaction(Database* db) : db_(db) {}
  ~Transaction();
  Status Begin();
  Status Commit();

 private:
  Database* db_;
  bool open_ = false;
};

// Versioned schema changes for one component ("tlog", "node", ...), recorded in the table
// schema_migrations(component, version, name, applied_at). Applies, in one transaction, every
// migration newer than the recorded version; versions must be 1, 2, 3, ... in order. A database
// whose recorded version is newer than the program knows is refused (kFailedPrecondition).
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};
Status ApplyMigrations(Database& db, std::string_view component,
                       std::span<const Migration> migrations);
// The recorded version of `component` (0 if none).
StatusOr<int> SchemaVersion(Database& db, std::string_view component);

}  // namespace comity::store
