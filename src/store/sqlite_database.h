// The SQLite backend of store::Database: one connection to one file, in WAL mode with foreign
// keys on, a busy timeout, and synchronous=FULL (each commit is fsynced) unless
// DatabaseOptions::durable is false. Statements are prepared once (SQLITE_PREPARE_PERSISTENT)
// and cached by SQL text.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Open(dir + "/comity.db"));
//
// Errors (database.h) name the file and carry SQLite's message: busy/locked → kUnavailable
// ("another process holds the database; retry"), corrupt or not a database → kDataLoss, unique or
// primary key violation → kAlreadyExists, other constraints → kFailedPrecondition, full disk →
// kResourceExhausted, read-only → kPermissionDenied, a missing file opened without create →
// kNotFound.
//
// Thread-compatible, like every Database.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/database.h"

struct sqlite3;
struct sqlite3_stmt;

namespace comity::store {

class SqliteDatabase;

class SqliteStatement final : public Statement {
 public:
  ~SqliteStatement() override;
  StatusOr<bool> Step() override;
  Status Run() override;
  Status RunPipelinedExpecting(int64_t rows, std::string mismatch) override;
  int64_t Int64(int col) const override;
  double Double(int col) const override;
  std::string Text(int col) const override;
  std::string BlobValue(int col) const override;
  bool IsNull(int col) const override;
  void Reset() override;

 protected:
  Status BindInt64(int i, int64_t v) override;
  Status BindDouble(int i, double v) override;
  Status BindText(int i, std::string_view v) override;
  Status BindBlob(int i, std::string_view v) override;
  Status BindNull(int i) override;

 private:
  friend class SqliteDatabase;
  SqliteStatement(SqliteDatabase* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Status Check(int rc) const;

  SqliteDatabase* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDatabase final : public Database {
 public:
  static StatusOr<std::unique_ptr<SqliteDatabase>> Open(const std::string& path,
                                                        const DatabaseOptions& options = {});
  ~SqliteDatabase() override;

  Dialect dialect() const override { return Dialect::kSqlite; }
  Status Exec(std::string_view sql) override;
  StatusOr<Statement*> Prepare(std::string_view sql) override;
  Status Begin() override;
  Status BeginRead() override;
  Status Commit() override;
  Status Rollback() override;
  bool in_transaction() const override;
  bool in_write_transaction() const override;
  int64_t changes() const override;

  // Converts an SQLite result code into a Status naming `what` and the database.
  Status Error(int rc, std::string_view what) const;

 private:
  SqliteDatabase(sqlite3* db, std::string path) : Database(std::move(path)), db_(db) {}
  sqlite3* db_;
  bool write_ = false;  // the open transaction came from Begin()
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> statements_;
};

}  // namespace comity::store
