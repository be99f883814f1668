// The PostgreSQL backend of store::Database, through libpq: one connection, statements prepared
// once per connection (by SQL text, `?` rewritten to $n), binary BYTEA parameters and binary
// results, and libpq's pipeline mode so that work which needs no answer yet costs no round trip.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
//                    Database::Connect("postgresql://comity@db.example/comity"));
//
// Round trips: Begin() is sent with the transaction's first statement; a statement run with
// RunPipelined() inside a transaction is sent with the next one that waits for an answer (a
// Step(), Run(), Commit(), ...); a statement used for the first time on this connection is
// prepared in the same round trip as its first execution only if it was prepared earlier —
// Prepare() itself waits, so that a syntax error is reported where the SQL is written. At most
// kMaxPipelined statements wait unanswered; the next one flushes them.
//
// Sessions are set up with synchronous_commit (on, or off when DatabaseOptions::durable is
// false), lock_timeout (DatabaseOptions::busy_timeout), client_encoding UTF8, and server notices
// discarded. A lost connection fails the statement in progress with kUnavailable (and any open
// transaction with it: the server rolls it back); the next statement outside a transaction
// reconnects and prepares its statements again.
//
// Thread-compatible, like every Database.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/database.h"

struct pg_conn;
struct pg_result;

namespace comity::store {

class PostgresDatabase;

// `?` placeholders to $1, $2, ... outside quoted strings ('...', E'...', "...", $tag$...$tag$) and
// comments. Sets *count to the number of parameters. kInvalidArgument for a numbered `?NNN`
// (write `?` in order) or an unterminated quote or comment.
StatusOr<std::string> TranslatePlaceholders(std::string_view sql, int* count);

class PostgresStatement final : public Statement {
 public:
  ~PostgresStatement() override;
  StatusOr<bool> Step() override;
  Status Run() override;
  Status RunPipelined() override;
  Status RunPipelinedExpecting(int64_t rows, std::string mismatch) override;
  Status SendRead() override;
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
  friend class PostgresDatabase;
  PostgresStatement(PostgresDatabase* db, std::string name, std::string sql, std::string what,
                    int params);
  Status Slot(int i);
  // Sends the execution (after a PREPARE when the connection has been re-established).
  Status Send();
  Status CheckColumns() const;
  const char* Value(int col) const;  // null for NULL or an absent column
  int Length(int col) const;
  unsigned Type(int col) const;

  PostgresDatabase* db_;
  std::string name_;  // server-side name of the prepared statement
  std::string sql_;   // translated
  std::string what_;  // the original SQL's first 80 characters, for messages
  int params_;
  uint64_t generation_ = 0;  // the connection generation it was prepared on

  std::vector<std::string> values_;
  std::vector<char> null_;
  std::vector<int> formats_;  // 0 text, 1 binary (blobs)

  pg_result* result_ = nullptr;
  int rows_ = 0;
  int row_ = -1;
  bool sent_ = false;  // SendRead(): its result is (or will be) result_, for the next Step()
};

class PostgresDatabase final : public Database {
 public:
  static constexpr size_t kMaxPipelined = 256;

  static StatusOr<std::unique_ptr<PostgresDatabase>> Connect(std::string_view url,
                                                             const DatabaseOptions& options = {});
  ~PostgresDatabase() override;

  Dialect dialect() const override { return Dialect::kPostgres; }
  Status Exec(std::string_view sql) override;
  StatusOr<Statement*> Prepare(std::string_view sql) override;
  Status Begin() override;
  Status BeginRead() override;
  Status Commit() override;
  Status Rollback() override;
  // Pipelined: a savepoint costs no round trip of its own; Release waits for the writes since.
  Status Savepoint(std::string_view name) override;
  Status ReleaseSavepoint(std::string_view name) override;
  Status RollbackToSavepoint(std::string_view name) override;
  bool in_transaction() const override { return tx_ != Tx::kNone; }
  bool in_write_transaction() const override { return tx_ == Tx::kWrite; }
  int64_t changes() const override { return changes_; }

  // The server process serving this connection (pg_backend_pid), for tests and diagnostics.
  int backend_pid() const;
  // Round trips to the server so far (each a wait for an answer), for tests and benchmarks.
  uint64_t round_trips() const { return round_trips_; }
  // Round trips of every PostgreSQL connection in this process (thread-safe).
  static uint64_t TotalRoundTrips();
  // Whether `st`'s execution is sent and its answer not yet read.
  bool IsPending(const PostgresStatement* st) const;

 private:
  friend class PostgresStatement;
  enum class Tx { kNone, kRead, kWrite };
  // A command sent but not yet answered.
  struct Pending {
    Pending(std::string w, PostgresStatement* k = nullptr, bool c = false)
        : what(std::move(w)), keep(k), command_tag_changes(c) {}
    std::string what;                   // for messages
    PostgresStatement* keep = nullptr;  // receives the result (the last command only)
    bool command_tag_changes = false;   // counts for changes()
    int64_t expect_changes = -1;        // RunPipelinedExpecting: the rows it must change
    std::string mismatch;               // and the error when it does not
  };

  PostgresDatabase(pg_conn* conn, std::string url, std::string name, const DatabaseOptions& o);

  // Reconnects a broken connection (outside a transaction only).
  Status EnsureConnected();
  Status SetUpSession();
  // Sends a parameterless command in the pipeline.
  Status SendCommand(const char* sql, std::string what);
  // Sync point: waits for the answers to everything pending. The first error wins; `keep` of
  // the last pending command receives its result.
  Status Flush();
  // Drops the connection state after a failure (pending work, transaction).
  Status ConnectionLost(std::string_view what);
  Status ResultError(pg_result* r, std::string_view what) const;
  void CountChanges(pg_result* r);
  void CountRoundTrip();
  // Drops the results of reads sent (SendRead) and not stepped: the transaction has ended.
  void ForgetSentReads();
  // The message with the password (raw and percent-decoded) removed.
  std::string Scrub(std::string message) const;

  pg_conn* conn_;
  std::string url_;  // with the password: needed to reconnect; never printed
  DatabaseOptions options_;
  std::vector<std::string> secrets_;  // the password as written and decoded, to scrub messages
  uint64_t generation_ = 1;           // +1 on every reconnection
  uint64_t next_name_ = 0;
  uint64_t round_trips_ = 0;
  std::deque<Pending> pending_;
  std::vector<PostgresStatement*> sent_reads_;  // SendRead() in this transaction
  Tx tx_ = Tx::kNone;
  int64_t changes_ = 0;
  std::unordered_map<std::string, std::unique_ptr<PostgresStatement>> statements_;
};

}  // namespace comity::store
