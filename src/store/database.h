// The SQL seam of the store: one interface, two backends — SQLite (the default: one file, one
// node) and PostgreSQL through libpq (several `comity serve` processes sharing one database).
// This module is the only one that includes sqlite3.h and libpq-fe.h.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Database> db, Database::Connect(url));
//       // url: "/var/lib/comity/comity.db", "sqlite:comity.db" or "postgresql://host/db"
//   RETURN_IF_ERROR(ApplyMigrations(*db, "mine", kMyMigrations));
//   RETURN_IF_ERROR(db->Begin());                       // a write transaction
//   ASSIGN_OR_RETURN(Statement* st, db->Prepare("INSERT INTO t(a, b) VALUES (?, ?)"));
//   RETURN_IF_ERROR(st->Bind(int64_t{1}, Blob{bytes}));
//   RETURN_IF_ERROR(st->Run());
//   RETURN_IF_ERROR(db->Commit());                      // durable on return
//
// Portable SQL: `?` placeholders (rewritten to $1, $2, ... for PostgreSQL, outside quoted strings,
// identifiers and comments); standard types — TEXT, BIGINT (INTEGER is fine where 32 bits are
// enough), DOUBLE PRECISION, and BLOB in SQLite / BYTEA in PostgreSQL (per-dialect DDL in a
// Migration); INSERT ... ON CONFLICT (...) DO UPDATE/NOTHING rather than INSERT OR REPLACE; no
// rowid or AUTOINCREMENT. PostgreSQL infers each parameter's type from where it appears: a
// parameter it cannot place (`SELECT ?`, `? IS NULL`) needs a CAST(? AS ...). Results are read
// as int64, double, text or blob; a PostgreSQL column of another type (timestamp, json, ...) is
// refused by Step() with a message asking for a CAST. Text ordering follows the database's
// collation (byte order in SQLite; create a PostgreSQL database with LC_COLLATE 'C' for the same).
//
// Transactions: Begin() opens a write transaction — SQLite's BEGIN IMMEDIATE (takes the file's
// write lock now); PostgreSQL's READ COMMITTED, where writers serialise on row locks (the log
// takes `SELECT ... FOR UPDATE` on its state row, see log_storage.h). BeginRead() opens a
// consistent read snapshot (BEGIN DEFERRED / REPEATABLE READ READ ONLY). Commit() returns once
// the transaction is durable: synchronous=FULL in SQLite, synchronous_commit=on in PostgreSQL,
// unless DatabaseOptions::durable is false. In PostgreSQL an error inside a transaction aborts
// it: every later statement fails until Rollback().
//
// Errors carry the database (a path, or the URL with its password replaced by "***" — never the
// password), what was being done, and the backend's message (PostgreSQL: with its SQLSTATE, but
// without the DETAIL line, which may quote row values):
//   kAlreadyExists      a uniqueness violation (SQLite constraint, SQLSTATE 23505)
//   kFailedPrecondition another constraint (foreign key, check, not null; SQLSTATE 23xxx)
//   kAborted            a serialization failure, deadlock or lock timeout (SQLSTATE 40xxx,
//                       55P03): retry the whole transaction
//   kUnavailable        SQLite busy/locked or I/O error; PostgreSQL connection lost or refused,
//                       server shutting down, too many connections: retry
//   kDataLoss           a corrupt file / not a database; PostgreSQL XX001/XX002
//   kResourceExhausted  a full disk (SQLITE_FULL, SQLSTATE 53xxx)
//   kPermissionDenied   a read-only file; SQLSTATE 42501 and 28xxx
//   kDeadlineExceeded   PostgreSQL statement timeout (57014)
//   kNotFound           a missing file opened without create
//   kInternal           anything else (a bug in our SQL, most likely)
//
// Thread-compatible: a Database (and its statements) is used by one thread at a time; open one
// per thread. Prepare() returns a statement owned and cached by the Database (PostgreSQL:
// prepared once per connection); it stays valid until the Database is destroyed, but is reset by
// the next Prepare() of the same SQL, so do not interleave two uses of one SQL text.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace comity::store {

enum class Dialect { kSqlite, kPostgres };
std::string_view DialectName(Dialect d);  // "sqlite", "postgresql"

struct DatabaseOptions {
  bool create = true;  // SQLite: create the file if it does not exist (PostgreSQL: ignored)
  // How long a statement waits for another connection's lock: SQLite's busy timeout,
  // PostgreSQL's lock_timeout (then kUnavailable / kAborted).
  std::chrono::milliseconds busy_timeout{5000};
  // Each commit durable on return: SQLite synchronous=FULL (else NORMAL), PostgreSQL
  // synchronous_commit=on (else off).
  bool durable = true;
  // SQLite: WAL size (pages of 4 KiB) that triggers a checkpoint into the database file, which
  // costs two more fsyncs. SQLite's default is 1000; bulk writers set more.
  int wal_autocheckpoint_pages = 1000;
  // PostgreSQL: how long to wait for a connection (unless the URL sets connect_timeout).
  std::chrono::seconds connect_timeout{10};
};

// A BLOB / BYTEA parameter (a plain string_view binds as TEXT).
struct Blob {
  std::string_view data;
};
struct Null {};

class Statement {
 public:
  virtual ~Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds parameters 1..N in order. Supported: int64_t, uint64_t (≤ 2^63−1, else
  // kOutOfRange), int, bool (as 0/1), double, std::string_view / std::string / const char*
  // (TEXT), Blob, Null. A parameter left unbound is NULL. The bound data is used by the next
  // Step()/Run(); keep it alive until then.
  template <typename... Args>
  Status Bind(const Args&... args) {
    int i = 0;
    Status st;
    ((st.ok() ? (st = BindOne(++i, args), 0) : 0), ...);
    return st;
  }
  // Binds one parameter by its number (1-based), for statements built with a variable number
  // of them (multi-row inserts). The same types as Bind().
  template <typename T>
  Status BindAt(int i, const T& value) {
    return BindOne(i, value);
  }
  // Advances to the next row: true if there is one, false when done.
  virtual StatusOr<bool> Step() = 0;
  // Runs to completion, ignoring any rows, and resets the statement.
  virtual Status Run();
  // Like Run(), for a write whose failure fails the whole transaction anyway: inside a
  // PostgreSQL transaction the statement is sent without waiting for its result (pipelined
  // with the statements that follow), and an error is reported by the next call that waits for
  // the server (Step(), Run(), Commit(), Exec(), Prepare() of a new SQL text). Elsewhere the
  // same as Run(). Database::changes() does not count it until then.
  virtual Status RunPipelined() { return Run(); }
  // Starts a read now, inside a write transaction, without waiting for it: on PostgreSQL it is
  // sent with the next round trip (whichever statement makes it), and the next Step() reads its
  // rows without a round trip of its own. Bind first; Prepare() of the same SQL keeps it. A read
  // sent and not stepped is forgotten when the transaction ends. Elsewhere (SQLite, outside a
  // transaction) nothing is done, and Step() runs the statement as usual.
  virtual Status SendRead() { return OkStatus(); }
  // RunPipelined() for an UPDATE or DELETE that must change exactly `rows` rows (an optimistic
  // check: `WHERE version = ?`): if it changes another number, the error is kAborted with
  // `mismatch` — at once when the statement is not pipelined, else from the next call that waits.
  virtual Status RunPipelinedExpecting(int64_t rows, std::string mismatch) = 0;

  // Column accessors for the current row; a NULL reads as 0 / "".
  virtual int64_t Int64(int col) const = 0;
  virtual double Double(int col) const = 0;
  virtual std::string Text(int col) const = 0;
  virtual std::string BlobValue(int col) const = 0;
  virtual bool IsNull(int col) const = 0;

  // Forgets the current result and the bound parameters.
  virtual void Reset() = 0;

 protected:
  Statement() = default;
  virtual Status BindInt64(int i, int64_t v) = 0;
  virtual Status BindDouble(int i, double v) = 0;
  virtual Status BindText(int i, std::string_view v) = 0;
  virtual Status BindBlob(int i, std::string_view v) = 0;
  virtual Status BindNull(int i) = 0;

 private:
  Status BindOne(int i, int64_t v) { return BindInt64(i, v); }
  Status BindOne(int i, uint64_t v);
  Status BindOne(int i, int v) { return BindInt64(i, v); }
  Status BindOne(int i, bool v) { return BindInt64(i, v ? 1 : 0); }
  Status BindOne(int i, double v) { return BindDouble(i, v); }
  Status BindOne(int i, std::string_view v) { return BindText(i, v); }
  Status BindOne(int i, const std::string& v) { return BindText(i, v); }
  Status BindOne(int i, const char* v) { return BindText(i, v); }
  Status BindOne(int i, Blob v) { return BindBlob(i, v.data); }
  Status BindOne(int i, Null) { return BindNull(i); }
};

class Database {
 public:
  // A SQLite database file (SqliteDatabase).
  static StatusOr<std::unique_ptr<Database>> Open(const std::string& path,
                                                  const DatabaseOptions& options = {});
  // By URL: "postgresql://..." or "postgres://..." (libpq's URI syntax: user, password, host,
  // port, database and parameters such as sslmode or options) for PostgreSQL; "sqlite:PATH" or a
  // plain path for SQLite. Another scheme is kInvalidArgument.
  static StatusOr<std::unique_ptr<Database>> Connect(std::string_view url,
                                                     const DatabaseOptions& options = {});

  virtual ~Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  virtual Dialect dialect() const = 0;

  // Runs one or more SQL statements without parameters.
  virtual Status Exec(std::string_view sql) = 0;
  virtual StatusOr<Statement*> Prepare(std::string_view sql) = 0;

  // A write transaction; kFailedPrecondition if a transaction is already open.
  virtual Status Begin() = 0;
  // A consistent read snapshot; kFailedPrecondition if a transaction is already open.
  virtual Status BeginRead() = 0;
  virtual Status Commit() = 0;
  // Rolls back if a transaction is open; OK otherwise.
  virtual Status Rollback() = 0;
  virtual bool in_transaction() const = 0;
  // In a transaction opened by Begin() (PostgreSQL writers lock rows they are about to change).
  virtual bool in_write_transaction() const = 0;

  // Savepoints in a transaction opened by Begin(); `name` is an SQL identifier. Release reports
  // the failure of any write made since the savepoint (PostgreSQL sends writes pipelined, and
  // their errors arrive there); after a failure, RollbackTo undoes the writes since the
  // savepoint and releases it, and the transaction goes on.
  virtual Status Savepoint(std::string_view name);
  virtual Status ReleaseSavepoint(std::string_view name);
  virtual Status RollbackToSavepoint(std::string_view name);

  // Rows changed by the last INSERT/UPDATE/DELETE run with Run() or Step().
  virtual int64_t changes() const = 0;
  // What names this database in messages: the file path, or the URL without its password.
  const std::string& path() const { return name_; }

 protected:
  explicit Database(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
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

// A multi-row INSERT: the items go several rows per statement — 16, 4 or 1, three prepared
// statements — each run pipelined (Statement::RunPipelined), so a batch costs a few statements
// rather than one per row.
//   static const MultiRowInsert insert("INSERT INTO t (a, b) VALUES ", "(?, ?)", 2);
//   RETURN_IF_ERROR(insert.Run(db, std::span(items), [](Statement* st, int first, const T& x) {
//     RETURN_IF_ERROR(st->BindAt(first, x.a));
//     return st->BindAt(first + 1, x.b);
//   }));
// `tail` follows the rows (e.g. " ON CONFLICT (a) DO NOTHING").
class MultiRowInsert {
 public:
  static constexpr size_t kRows[3] = {16, 4, 1};
  MultiRowInsert(std::string_view head, std::string_view row, int columns,
                 std::string_view tail = {});
  // bind(st, first_parameter, item) binds one row's `columns` parameters.
  template <typename T, typename BindRow>
  Status Run(Database* db, std::span<const T> items, BindRow bind) const {
    size_t i = 0;
    for (size_t k = 0; k < sql_.size(); ++k) {
      while (items.size() - i >= kRows[k]) {
        ASSIGN_OR_RETURN(Statement * st, db->Prepare(sql_[k]));
        for (size_t r = 0; r < kRows[k]; ++r) {
          RETURN_IF_ERROR(bind(st, static_cast<int>(r) * columns_ + 1, items[i + r]));
        }
        RETURN_IF_ERROR(st->RunPipelined());
        i += kRows[k];
      }
    }
    return OkStatus();
  }

 private:
  std::array<std::string, 3> sql_;
  int columns_;
};

// Versioned schema changes for one component ("tlog", "node", ...), recorded in the table
// schema_migrations(component, version, name, applied_at). Applies, in one transaction, every
// migration newer than the recorded version; versions must be 1, 2, 3, ... in order. A database
// whose recorded version is newer than the program knows is refused (kFailedPrecondition). In
// PostgreSQL the transaction first takes an advisory lock, so that processes starting together
// apply each migration once.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;                // portable SQL, or SQLite's when postgres_sql is set
  std::string_view postgres_sql = {};  // PostgreSQL's DDL where the types differ
  std::string_view SqlFor(Dialect d) const {
    return d == Dialect::kPostgres && !postgres_sql.empty() ? postgres_sql : sql;
  }
};
Status ApplyMigrations(Database& db, std::string_view component,
                       std::span<const Migration> migrations);
// The recorded version of `component` (0 if none).
StatusOr<int> SchemaVersion(Database& db, std::string_view component);

// True for a postgresql:// or postgres:// URL.
bool IsPostgresUrl(std::string_view url);
// The URL with its password (userinfo or a password= parameter) replaced by "***"; anything
// that is not a URL is returned unchanged. For messages and logs.
std::string RedactUrl(std::string_view url);

}  // namespace comity::store
