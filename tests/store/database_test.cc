// The Database seam on both backends (SQLite and PostgreSQL): statements and typed values,
// transactions, error mapping, concurrent writers, migrations; then what is specific to each:
// SQLite's file handling and connection settings, PostgreSQL's placeholders, pipelining, session
// settings, connection loss, and passwords kept out of messages.
#include "store/database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "store/postgres_database.h"
#include "tests/store/test_backend.h"
#include "tests/tlog/test_util.h"

namespace comity::store {
namespace {

using testing::TestDatabase;
using tlog::testing::TempDir;

std::unique_ptr<Database> OpenOrDie(const std::string& path, DatabaseOptions o = {}) {
  auto db = Database::Open(path, o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(db).value();
}

class DatabaseTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    t_ = std::make_unique<TestDatabase>(GetParam());
    ASSERT_TRUE(t_->status().ok()) << t_->status().ToString();
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override {
    db_.reset();
    t_.reset();
  }
  std::unique_ptr<Database> Connect(DatabaseOptions o = {}) {
    auto db = t_->Connect(o);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  bool postgres() const { return GetParam() == Dialect::kPostgres; }
  const char* blob_type() const { return postgres() ? "BYTEA" : "BLOB"; }
  int64_t Count(Database& db, const std::string& sql) {
    auto st = db.Prepare(sql);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return -1;
    auto row = (*st)->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    const int64_t n = (*st)->Int64(0);
    (*st)->Reset();
    return n;
  }

  std::unique_ptr<TestDatabase> t_;
  std::unique_ptr<Database> db_;
};

TEST_P(DatabaseTest, StatementsBindAndReadEveryType) {
  EXPECT_EQ(db_->dialect(), GetParam());
  ASSERT_TRUE(db_->Exec(std::string("CREATE TABLE t (k BIGINT, i BIGINT, s TEXT, b ") +
                        blob_type() + ", n BIGINT, d DOUBLE PRECISION)")
                  .ok());
  auto ins = db_->Prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  const std::string binary("\x00\x01\xff\x00", 4);
  ASSERT_TRUE(
      (*ins)->Bind(1, int64_t{-5}, std::string_view("text ü"), Blob{binary}, Null{}, 0.1).ok());
  ASSERT_TRUE((*ins)->Run().ok());
  EXPECT_EQ(db_->changes(), 1);
  ASSERT_TRUE((*ins)->Bind(2, uint64_t{INT64_MAX}, std::string(""), Blob{""}, 7, -1e300).ok());
  ASSERT_TRUE((*ins)->Run().ok());
  ASSERT_TRUE((*ins)->Bind(3, INT64_MIN, "it's ? not a parameter", Blob{"?"}, true).ok());
  ASSERT_TRUE((*ins)->Run().ok());  // d left unbound: NULL
  auto sel = db_->Prepare(
      "SELECT i, s, b, n, d, CASE WHEN b IS NULL THEN 1 ELSE 0 END, '?' FROM t ORDER BY k");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  ASSERT_TRUE(*(*sel)->Step());
  EXPECT_EQ((*sel)->Int64(0), -5);
  EXPECT_EQ((*sel)->Text(1), "text ü");
  EXPECT_EQ((*sel)->BlobValue(2), binary);
  EXPECT_TRUE((*sel)->IsNull(3));
  EXPECT_EQ((*sel)->Int64(3), 0);
  EXPECT_EQ((*sel)->Double(4), 0.1);
  EXPECT_EQ((*sel)->Text(6), "?");
  ASSERT_TRUE(*(*sel)->Step());
  EXPECT_EQ((*sel)->Int64(0), INT64_MAX);
  EXPECT_EQ((*sel)->Text(1), "");
  EXPECT_FALSE((*sel)->IsNull(1));  // an empty string is not NULL
  EXPECT_EQ((*sel)->BlobValue(2), "");
  EXPECT_EQ((*sel)->Int64(5), 0);  // an empty blob is a blob, not NULL
  EXPECT_EQ((*sel)->Int64(3), 7);
  EXPECT_EQ((*sel)->Double(4), -1e300);
  ASSERT_TRUE(*(*sel)->Step());
  EXPECT_EQ((*sel)->Int64(0), INT64_MIN);
  EXPECT_EQ((*sel)->Text(1), "it's ? not a parameter");
  EXPECT_EQ((*sel)->Int64(3), 1);  // bool
  EXPECT_TRUE((*sel)->IsNull(4));
  EXPECT_FALSE(*(*sel)->Step());

  auto big = (*ins)->Bind(uint64_t{INT64_MAX} + 1);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.code(), StatusCode::kOutOfRange);
  // Prepared statements are cached per SQL text.
  EXPECT_EQ(
      *db_->Prepare(
          "SELECT i, s, b, n, d, CASE WHEN b IS NULL THEN 1 ELSE 0 END, '?' FROM t ORDER BY k"),
      *sel);
  auto bad = db_->Prepare("SELEKT nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos);
  EXPECT_NE(bad.status().message().find(db_->path()), std::string::npos);
  EXPECT_NE(bad.status().message().find("SELEKT"), std::string::npos);
  // A failed Prepare() is not cached and leaves the connection usable.
  EXPECT_FALSE(db_->Prepare("SELEKT nonsense").ok());
  EXPECT_EQ(Count(*db_, "SELECT count(*) FROM t"), 3);
}

TEST_P(DatabaseTest, TransactionsCommitAndRollBack) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)").ok());
  EXPECT_FALSE(db_->in_transaction());
  {
    Transaction tx(db_.get());
    ASSERT_TRUE(tx.Begin().ok());
    EXPECT_TRUE(db_->in_transaction());
    EXPECT_TRUE(db_->in_write_transaction());
    ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES (1)").ok());
    EXPECT_EQ(db_->Begin().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(db_->BeginRead().code(), StatusCode::kFailedPrecondition);
  }  // rolled back
  EXPECT_FALSE(db_->in_transaction());
  {
    Transaction tx(db_.get());
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  EXPECT_FALSE(db_->in_transaction());
  auto other = Connect();
  EXPECT_EQ(Count(*other, "SELECT count(*) FROM t"), 1);
  EXPECT_EQ(Count(*other, "SELECT max(x) FROM t"), 2);
  EXPECT_EQ(db_->Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(db_->Rollback().ok());
  // A read transaction sees one snapshot and may not write.
  ASSERT_TRUE(db_->BeginRead().ok());
  EXPECT_TRUE(db_->in_transaction());
  EXPECT_FALSE(db_->in_write_transaction());
  EXPECT_EQ(Count(*db_, "SELECT count(*) FROM t"), 1);
  ASSERT_TRUE(db_->Rollback().ok());
  EXPECT_FALSE(db_->in_transaction());
}

TEST_P(DatabaseTest, SavepointsUndoOneFailedChangeAndKeepTheRest) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)").ok());
  EXPECT_EQ(db_->Savepoint("s").code(), StatusCode::kFailedPrecondition);  // no transaction
  Transaction tx(db_.get());
  ASSERT_TRUE(tx.Begin().ok());
  auto insert = [&](int x) -> Status {
    ASSIGN_OR_RETURN(Statement * st, db_->Prepare("INSERT INTO t (x) VALUES (?)"));
    RETURN_IF_ERROR(st->Bind(x));
    return st->RunPipelined();  // PostgreSQL: the error, if any, arrives later
  };
  ASSERT_TRUE(db_->Savepoint("change").ok());
  ASSERT_TRUE(insert(1).ok());
  ASSERT_TRUE(db_->ReleaseSavepoint("change").ok());
  // A change whose second write fails: released with the error, undone alone.
  ASSERT_TRUE(db_->Savepoint("change").ok());
  Status s = insert(2);
  if (s.ok()) s = insert(1);  // duplicate key
  if (s.ok()) s = db_->ReleaseSavepoint("change");
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  ASSERT_TRUE(db_->RollbackToSavepoint("change").ok());
  // The transaction goes on.
  ASSERT_TRUE(db_->Savepoint("change").ok());
  ASSERT_TRUE(insert(3).ok());
  ASSERT_TRUE(db_->ReleaseSavepoint("change").ok());
  ASSERT_TRUE(tx.Commit().ok());
  auto other = Connect();
  EXPECT_EQ(Count(*other, "SELECT count(*) FROM t"), 2);
  EXPECT_EQ(Count(*other, "SELECT count(*) FROM t WHERE x = 2"), 0);
}

// An update that must change one row (an optimistic version check) and changes none: refused
// with its own message — at once outside a transaction and on SQLite; on PostgreSQL inside a
// transaction (pipelined) by the next call that waits, here the release of the savepoint. An
// update that does change its row passes.
TEST_P(DatabaseTest, AnUpdateExpectedToChangeOneRowIsRefusedWhenItChangesNone) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE v (id INTEGER PRIMARY KEY, version INTEGER NOT NULL);"
                        "INSERT INTO v VALUES (1, 1)")
                  .ok());
  auto update = [&](int from) -> Status {
    ASSIGN_OR_RETURN(
        Statement * st,
        db_->Prepare("UPDATE v SET version = version + 1 WHERE id = 1 AND version = ?"));
    RETURN_IF_ERROR(st->Bind(from));
    return st->RunPipelinedExpecting(1, "row 1 is not at version " + std::to_string(from));
  };
  Status outside = update(7);
  EXPECT_EQ(outside.code(), StatusCode::kAborted) << outside.ToString();
  EXPECT_NE(outside.message().find("row 1 is not at version 7"), std::string::npos);
  Transaction tx(db_.get());
  ASSERT_TRUE(tx.Begin().ok());
  ASSERT_TRUE(db_->Savepoint("change").ok());
  Status s = update(1);  // 1 -> 2
  if (s.ok()) s = db_->ReleaseSavepoint("change");
  EXPECT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db_->Savepoint("change").ok());
  s = update(1);  // no longer at 1
  if (s.ok()) s = db_->ReleaseSavepoint("change");
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  EXPECT_NE(s.message().find("row 1 is not at version 1"), std::string::npos) << s.message();
  Status undone = db_->RollbackToSavepoint("change");
  ASSERT_TRUE(undone.ok()) << undone.ToString();
  ASSERT_TRUE(tx.Commit().ok());
  auto other = Connect();
  EXPECT_EQ(Count(*other, "SELECT version FROM v WHERE id = 1"), 2);
}

TEST_P(DatabaseTest, ConstraintViolationsMapToStatusCodes) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE p (id INTEGER PRIMARY KEY);"
                        "CREATE TABLE c (id INTEGER PRIMARY KEY, p INTEGER NOT NULL REFERENCES p "
                        "(id), v INTEGER CHECK (v > 0), u TEXT UNIQUE)")
                  .ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO p VALUES (1)").ok());
  auto ins = db_->Prepare("INSERT INTO c (id, p, v, u) VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  auto run = [&](int id, int p, int v, const char* u) {
    EXPECT_TRUE((*ins)->Bind(id, p, v, u).ok());
    return (*ins)->Run();
  };
  ASSERT_TRUE(run(1, 1, 1, "a").ok());
  Status dup = run(1, 1, 1, "b");
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  EXPECT_NE(dup.message().find(db_->path()), std::string::npos);
  EXPECT_NE(dup.message().find("INSERT INTO c"), std::string::npos);
  if (postgres()) {
    EXPECT_NE(dup.message().find("SQLSTATE 23505"), std::string::npos);
  }
  EXPECT_EQ(run(2, 1, 1, "a").code(), StatusCode::kAlreadyExists);        // unique column
  EXPECT_EQ(run(3, 9, 1, "c").code(), StatusCode::kFailedPrecondition);   // foreign key
  EXPECT_EQ(run(4, 1, -1, "d").code(), StatusCode::kFailedPrecondition);  // check
  EXPECT_EQ(Count(*db_, "SELECT count(*) FROM c"), 1);
  // The message never carries the row's values (PostgreSQL's DETAIL line would).
  ASSERT_TRUE(run(5, 1, 1, "secret-value-0123").ok());
  Status leak = run(6, 1, 1, "secret-value-0123");
  EXPECT_EQ(leak.message().find("secret-value"), std::string::npos) << leak.message();
}

TEST_P(DatabaseTest, AnErrorInsideATransaction) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES (1)").ok());
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES (2)").ok());
  EXPECT_EQ(db_->Exec("INSERT INTO t VALUES (1)").code(), StatusCode::kAlreadyExists);
  if (postgres()) {
    // PostgreSQL aborts the whole transaction: nothing more runs, and COMMIT rolls back.
    EXPECT_EQ(db_->Exec("INSERT INTO t VALUES (3)").code(), StatusCode::kAborted);
    Status commit = db_->Commit();
    EXPECT_EQ(commit.code(), StatusCode::kAborted) << commit.ToString();
    EXPECT_EQ(Count(*db_, "SELECT count(*) FROM t"), 1);
  } else {
    // SQLite undoes the failed statement only; the caller decides (the node rolls back).
    ASSERT_TRUE(db_->Rollback().ok());
    EXPECT_EQ(Count(*db_, "SELECT count(*) FROM t"), 1);
  }
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_TRUE(db_->Rollback().ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES (4)").ok());
  EXPECT_EQ(Count(*db_, "SELECT count(*) FROM t"), 2);
}

TEST_P(DatabaseTest, ASecondWriterIsToldToRetry) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES (1, 0)").ok());
  auto b = Connect({.busy_timeout = std::chrono::milliseconds(100)});
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(db_->Exec("UPDATE t SET v = 1 WHERE id = 1").ok());
  Status st = b->Begin();
  if (st.ok()) st = b->Exec("UPDATE t SET v = 2 WHERE id = 1");
  ASSERT_FALSE(st.ok());
  // SQLite: the file is locked (retry the call); PostgreSQL: the row lock timed out (retry the
  // transaction).
  EXPECT_EQ(st.code(), postgres() ? StatusCode::kAborted : StatusCode::kUnavailable)
      << st.ToString();
  EXPECT_NE(st.message().find("retry"), std::string::npos);
  ASSERT_TRUE(b->Rollback().ok());
  ASSERT_TRUE(db_->Commit().ok());
  ASSERT_TRUE(b->Begin().ok());
  ASSERT_TRUE(b->Exec("UPDATE t SET v = v + 1 WHERE id = 1").ok());
  ASSERT_TRUE(b->Commit().ok());
  EXPECT_EQ(Count(*db_, "SELECT v FROM t"), 2);
}

TEST_P(DatabaseTest, ConcurrentWritersSerialise) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO counter VALUES (1, 0)").ok());
  constexpr int kThreads = 3, kIncrements = 40;
  std::atomic<int> failures{0};
  const std::string read = postgres() ? "SELECT n FROM counter WHERE id = 1 FOR UPDATE"
                                      : "SELECT n FROM counter WHERE id = 1";
  auto work = [&] {
    auto db = Connect({.busy_timeout = std::chrono::milliseconds(10000)});
    if (db == nullptr) return ++failures, void();
    for (int i = 0; i < kIncrements; ++i) {
      Status st = db->Begin();
      int64_t n = 0;
      if (st.ok()) {
        auto sel = db->Prepare(read);
        st = sel.status();
        if (st.ok()) {
          auto row = (*sel)->Step();
          st = row.status();
          if (st.ok()) n = (*sel)->Int64(0);
          (*sel)->Reset();
        }
      }
      if (st.ok()) {
        auto up = db->Prepare("UPDATE counter SET n = ? WHERE id = 1");
        st = up.status();
        if (st.ok()) st = (*up)->Bind(n + 1);
        if (st.ok()) st = (*up)->Run();
      }
      if (st.ok()) st = db->Commit();
      if (!st.ok()) {
        ADD_FAILURE() << st.ToString();
        db->Rollback().IgnoreError();
        ++failures;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*db_, "SELECT n FROM counter"), kThreads * kIncrements);  // no lost update
}

TEST_P(DatabaseTest, MigrationsApplyOnceInOrderAndAtomically) {
  const Migration v1[] = {{1, "create", "CREATE TABLE a (x INTEGER)", ""}};
  const Migration v2[] = {{1, "create", "CREATE TABLE a (x INTEGER)", ""},
                          {2, "add column", "ALTER TABLE a ADD COLUMN y TEXT", ""}};
  ASSERT_TRUE(ApplyMigrations(*db_, "comp", v1).ok());
  ASSERT_TRUE(ApplyMigrations(*db_, "comp", v1).ok());  // idempotent
  EXPECT_EQ(*SchemaVersion(*db_, "comp"), 1);
  ASSERT_TRUE(ApplyMigrations(*db_, "comp", v2).ok());
  EXPECT_EQ(*SchemaVersion(*db_, "comp"), 2);
  EXPECT_EQ(*SchemaVersion(*db_, "other"), 0);
  EXPECT_TRUE(db_->Exec("INSERT INTO a(x, y) VALUES (1, 'y')").ok());

  // An older program refuses a newer schema.
  Status old = ApplyMigrations(*db_, "comp", v1);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(old.message().find("newer than this program"), std::string::npos);

  // A failing migration leaves nothing behind: not its own earlier statements, nor the
  // migrations before it in the same run.
  const Migration broken[] = {{1, "ok", "CREATE TABLE b (x INTEGER)", ""},
                              {2, "broken", "CREATE TABLE c (x INTEGER); NOT SQL", ""}};
  Status st = ApplyMigrations(*db_, "b", broken);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("migration b 2 (broken)"), std::string::npos) << st.message();
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(*SchemaVersion(*db_, "b"), 0);
  EXPECT_FALSE(db_->Exec("SELECT * FROM b").ok());
  EXPECT_FALSE(db_->Exec("SELECT * FROM c").ok());

  const Migration misnumbered[] = {{2, "x", "SELECT 1", ""}};
  EXPECT_FALSE(ApplyMigrations(*db_, "m", misnumbered).ok());

  // Per-dialect DDL where the types differ.
  const Migration typed[] = {
      {1, "blobs", "CREATE TABLE d (b BLOB NOT NULL)", "CREATE TABLE d (b BYTEA NOT NULL)"}};
  ASSERT_TRUE(ApplyMigrations(*db_, "typed", typed).ok());
  auto ins = db_->Prepare("INSERT INTO d (b) VALUES (?)");
  ASSERT_TRUE(ins.ok());
  const std::string bytes("\0\xfe", 2);  // bound data must outlive the Run()
  ASSERT_TRUE((*ins)->Bind(Blob{bytes}).ok());
  ASSERT_TRUE((*ins)->Run().ok());
  EXPECT_EQ(Count(*db_, "SELECT length(b) FROM d"), 2);
}

TEST_P(DatabaseTest, ProcessesStartingTogetherMigrateOnce) {
  static constexpr Migration kSchema[] = {
      {1, "one", "CREATE TABLE m1 (x INTEGER)", ""},
      {2, "two", "CREATE TABLE m2 (x INTEGER)", ""},
  };
  std::vector<Status> results(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      auto db = t_->Connect({.busy_timeout = std::chrono::milliseconds(20000)});
      results[i] = db.ok() ? ApplyMigrations(**db, "race", kSchema) : db.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(*SchemaVersion(*db_, "race"), 2);
  EXPECT_EQ(Count(*db_, "SELECT count(*) FROM schema_migrations WHERE component = 'race'"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         testing::DialectParamName);

// --- URLs --------------------------------------------------------------------------------

TEST(DatabaseUrl, ConnectChoosesTheBackendByUrl) {
  TempDir dir;
  auto plain = Database::Connect(dir / "a.db");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ((*plain)->dialect(), Dialect::kSqlite);
  EXPECT_EQ((*plain)->path(), dir / "a.db");
  auto prefixed = Database::Connect("sqlite:" + (dir / "b.db"));
  ASSERT_TRUE(prefixed.ok());
  EXPECT_EQ((*prefixed)->path(), dir / "b.db");
  auto other = Database::Connect("mysql://root:hunter2@db.example/comity");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(other.status().message().find("mysql://root:***@db.example/comity"), std::string::npos)
      << other.status().message();
  EXPECT_EQ(other.status().message().find("hunter2"), std::string::npos);
  EXPECT_EQ(Database::Connect("sqlite:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsPostgresUrl("postgresql://h/db"));
  EXPECT_TRUE(IsPostgresUrl("postgres://h/db"));
  EXPECT_FALSE(IsPostgresUrl("sqlite:x.db"));
}

TEST(DatabaseUrl, RedactUrlHidesEveryFormOfPassword) {
  EXPECT_EQ(RedactUrl("postgresql://comity:s3cret@db:5432/comity"),
            "postgresql://comity:***@db:5432/comity");
  EXPECT_EQ(RedactUrl("postgresql://comity@db/comity"), "postgresql://comity@db/comity");
  EXPECT_EQ(RedactUrl("postgresql://db/comity?user=u&password=pw&sslmode=require"),
            "postgresql://db/comity?user=u&password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("postgres://u:p%40ss/w?rd@h/d"), "postgres://u:***@h/d");
  EXPECT_EQ(RedactUrl("postgresql://u:a@b@h/d?password=x"), "postgresql://u:***@h/d?password=***");
  EXPECT_EQ(RedactUrl("/var/lib/comity/comity.db"), "/var/lib/comity/comity.db");
}

// --- SQLite only ---------------------------------------------------------------------------

TEST(SqliteDatabase, ConnectionSettings) {
  TempDir dir;
  auto db = OpenOrDie(dir / "t.db");
  auto check = [&](const char* pragma, const std::string& want) {
    auto st = db->Prepare(pragma);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE(*(*st)->Step());
    EXPECT_EQ((*st)->Text(0), want) << pragma;
    (*st)->Reset();
  };
  check("PRAGMA journal_mode", "wal");
  check("PRAGMA synchronous", "2");  // FULL
  check("PRAGMA foreign_keys", "1");
  check("PRAGMA busy_timeout", "5000");
  check("PRAGMA wal_autocheckpoint", "1000");
  auto fast = OpenOrDie(dir / "u.db", {.durable = false});
  auto st = fast->Prepare("PRAGMA synchronous");
  ASSERT_TRUE(*(*st)->Step());
  EXPECT_EQ((*st)->Text(0), "1");  // NORMAL
}

TEST(SqliteDatabase, OpenRefusesGarbageAndMissingFiles) {
  TempDir dir;
  {
    std::ofstream f(dir / "garbage.db");
    f << std::string(4096, 'g');
  }
  auto g = Database::Open(dir / "garbage.db");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(g.status().message().find("garbage.db"), std::string::npos);
  EXPECT_NE(g.status().message().find("not a database"), std::string::npos);
  auto missing = Database::Open(dir / "absent.db", {.create = false});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto nodir = Database::Open(dir / "no/such/dir/x.db");
  ASSERT_FALSE(nodir.ok());
  EXPECT_EQ(nodir.status().code(), StatusCode::kUnavailable);
}

// --- PostgreSQL only -----------------------------------------------------------------------

TEST(PostgresPlaceholders, QuestionMarksOutsideQuotesAndComments) {
  auto tr = [](std::string_view sql) {
    int n = -1;
    auto out = TranslatePlaceholders(sql, &n);
    return out.ok() ? *out + " #" + std::to_string(n) : out.status().ToString();
  };
  EXPECT_EQ(tr("SELECT a FROM t WHERE b = ? AND c IN (?, ?)"),
            "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3) #3");
  EXPECT_EQ(tr("SELECT '?', 'it''s ?', \"we?ird\" FROM t WHERE x = ?"),
            "SELECT '?', 'it''s ?', \"we?ird\" FROM t WHERE x = $1 #1");
  EXPECT_EQ(tr("SELECT E'\\'?' , ? -- a comment?\n, /* nested /* ? */ ? */ ?"),
            "SELECT E'\\'?' , $1 -- a comment?\n, /* nested /* ? */ ? */ $2 #2");
  EXPECT_EQ(tr("SELECT $q$ ? $q$, $$?$$, ?"), "SELECT $q$ ? $q$, $$?$$, $1 #1");
  EXPECT_EQ(tr("SELECT 1"), "SELECT 1 #0");
  for (std::string_view bad :
       {"SELECT 'open", "SELECT \"open", "SELECT /* open", "SELECT $x$ open", "SELECT ?1"}) {
    int n = 0;
    auto out = TranslatePlaceholders(bad, &n);
    ASSERT_FALSE(out.ok()) << bad;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  }
}

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_ = std::make_unique<TestDatabase>(Dialect::kPostgres);
    ASSERT_TRUE(t_->status().ok()) << t_->status().ToString();
    db_ = Connect();
    ASSERT_NE(db_, nullptr);
  }
  void TearDown() override {
    db_.reset();
    t_.reset();
  }
  std::unique_ptr<PostgresDatabase> Connect(DatabaseOptions o = {}) {
    auto db = PostgresDatabase::Connect(t_->url(), o);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  std::string One(Database& db, const std::string& sql) {
    auto st = db.Prepare(sql);
    if (!st.ok()) return st.status().ToString();
    auto row = (*st)->Step();
    if (!row.ok()) return row.status().ToString();
    std::string out = *row ? (*st)->Text(0) : "(none)";
    (*st)->Reset();
    return out;
  }

  std::unique_ptr<TestDatabase> t_;
  std::unique_ptr<PostgresDatabase> db_;
};

TEST_F(PostgresTest, SessionSettings) {
  EXPECT_EQ(One(*db_, "SELECT current_setting('synchronous_commit')"), "on");
  EXPECT_EQ(One(*db_, "SELECT current_setting('lock_timeout')"), "5s");
  EXPECT_EQ(One(*db_, "SELECT current_setting('client_encoding')"), "UTF8");
  EXPECT_EQ(One(*db_, "SELECT current_setting('application_name')"), "comity");
  auto fast = Connect({.busy_timeout = std::chrono::milliseconds(250), .durable = false});
  EXPECT_EQ(One(*fast, "SELECT current_setting('synchronous_commit')"), "off");
  EXPECT_EQ(One(*fast, "SELECT current_setting('lock_timeout')"), "250ms");
  // Commits are durable: read committed, the log's row locks do the sequencing.
  ASSERT_TRUE(db_->Begin().ok());
  EXPECT_EQ(One(*db_, "SELECT current_setting('transaction_isolation')"), "read committed");
  ASSERT_TRUE(db_->Rollback().ok());
  ASSERT_TRUE(db_->BeginRead().ok());
  EXPECT_EQ(One(*db_, "SELECT current_setting('transaction_isolation')"), "repeatable read");
  EXPECT_EQ(One(*db_, "SELECT current_setting('transaction_read_only')"), "on");
  ASSERT_TRUE(db_->Rollback().ok());
}

TEST_F(PostgresTest, ReadsTheTypesItKnowsAndRefusesOthers) {
  EXPECT_EQ(One(*db_, "SELECT CAST(12345678901234 AS NUMERIC)"), "12345678901234");
  EXPECT_EQ(One(*db_, "SELECT CAST(-42 AS NUMERIC)"), "-42");
  EXPECT_EQ(One(*db_, "SELECT CAST(1.5 AS NUMERIC)"), "1.5");
  EXPECT_EQ(One(*db_, "SELECT CAST(7 AS SMALLINT)"), "7");
  EXPECT_EQ(One(*db_, "SELECT CAST(2.5 AS REAL)"), "2.5");
  EXPECT_EQ(One(*db_, "SELECT true"), "1");
  EXPECT_EQ(One(*db_, "SELECT CAST('v' AS VARCHAR(4))"), "v");
  auto sum = db_->Prepare(
      "SELECT sum(x), avg(x) FROM (VALUES (CAST(4000000000 AS BIGINT)), "
      "(CAST(5 AS BIGINT))) AS v(x)");
  ASSERT_TRUE(sum.ok());
  ASSERT_TRUE(*(*sum)->Step());
  EXPECT_EQ((*sum)->Int64(0), 4000000005);  // sum(bigint) is NUMERIC
  EXPECT_DOUBLE_EQ((*sum)->Double(1), 2000000002.5);
  (*sum)->Reset();
  auto when = db_->Prepare("SELECT now()");
  ASSERT_TRUE(when.ok());
  auto step = (*when)->Step();
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), StatusCode::kInternal);
  EXPECT_NE(step.status().message().find("CAST it to TEXT"), std::string::npos);
  // A parameter PostgreSQL cannot place needs a cast; text cannot hold NUL.
  auto unplaced = db_->Prepare("SELECT ? IS NULL");
  ASSERT_FALSE(unplaced.ok());
  EXPECT_NE(unplaced.status().message().find("could not determine data type"), std::string::npos)
      << unplaced.status().message();
  auto cast = db_->Prepare("SELECT CAST(? AS TEXT)");
  ASSERT_TRUE(cast.ok()) << cast.status().ToString();
  Status nul = (*cast)->Bind(std::string_view("a\0b", 3));
  EXPECT_EQ(nul.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(nul.message().find("NUL"), std::string::npos);
  EXPECT_EQ((*cast)->Bind(1, 2).code(), StatusCode::kInternal);  // one parameter only
}

TEST_F(PostgresTest, PipelinedWritesCostNoExtraRoundTrip) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (x BIGINT PRIMARY KEY, b BYTEA)").ok());
  auto ins = db_->Prepare("INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(ins.ok());
  const uint64_t before = db_->round_trips();
  ASSERT_TRUE(db_->Begin().ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE((*ins)->Bind(i, Blob{std::string(100, static_cast<char>(i))}).ok());
    ASSERT_TRUE((*ins)->RunPipelined().ok());
  }
  EXPECT_EQ(db_->round_trips(), before);  // BEGIN and the inserts are still on their way
  ASSERT_TRUE(db_->Commit().ok());
  EXPECT_EQ(db_->round_trips(), before + 1);
  EXPECT_EQ(One(*db_, "SELECT count(*) FROM t"), "10");
  // More than kMaxPipelined statements flush on their own.
  ASSERT_TRUE(db_->Begin().ok());
  for (size_t i = 0; i < PostgresDatabase::kMaxPipelined + 5; ++i) {
    ASSERT_TRUE((*ins)->Bind(100 + i, Blob{"x"}).ok());
    ASSERT_TRUE((*ins)->RunPipelined().ok());
  }
  ASSERT_TRUE(db_->Commit().ok());
  EXPECT_EQ(One(*db_, "SELECT count(*) FROM t"),
            std::to_string(10 + 5 + PostgresDatabase::kMaxPipelined));
  // A pipelined statement's error is reported by the next call that waits, names the
  // statement, and fails the transaction.
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE((*ins)->Bind(1000, Blob{"new"}).ok());
  ASSERT_TRUE((*ins)->RunPipelined().ok());
  ASSERT_TRUE((*ins)->Bind(3, Blob{"duplicate"}).ok());
  ASSERT_TRUE((*ins)->RunPipelined().ok());
  ASSERT_TRUE((*ins)->Bind(1001, Blob{"skipped"}).ok());
  ASSERT_TRUE((*ins)->RunPipelined().ok());
  Status commit = db_->Commit();
  EXPECT_EQ(commit.code(), StatusCode::kAlreadyExists) << commit.ToString();
  EXPECT_NE(commit.message().find("INSERT INTO t"), std::string::npos);
  EXPECT_TRUE(db_->in_transaction());
  ASSERT_TRUE(db_->Rollback().ok());
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(One(*db_, "SELECT count(*) FROM t WHERE x >= 1000"), "0");
  // Outside a transaction RunPipelined() is Run().
  ASSERT_TRUE((*ins)->Bind(3, Blob{"duplicate"}).ok());
  EXPECT_EQ((*ins)->RunPipelined().code(), StatusCode::kAlreadyExists);
}

// A read sent early (SendRead) travels with the transaction's next round trip, whoever makes
// it, and its Step() then costs none; one sent and never stepped is forgotten when the
// transaction ends; one whose round trip failed before it reports the failure.
TEST_F(PostgresTest, AReadSentEarlyRidesWithTheNextRoundTrip) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (x BIGINT PRIMARY KEY, v TEXT)").ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO t VALUES (1, 'one'), (2, 'two')").ok());
  auto read = db_->Prepare("SELECT v FROM t WHERE x = ?");
  auto count = db_->Prepare("SELECT count(*) FROM t");
  auto ins = db_->Prepare("INSERT INTO t VALUES (?, ?)");
  ASSERT_TRUE(read.ok() && count.ok() && ins.ok());
  const uint64_t before = db_->round_trips();
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE((*read)->Bind(2).ok());
  ASSERT_TRUE((*read)->SendRead().ok());
  ASSERT_TRUE((*ins)->Bind(3, "three").ok());
  ASSERT_TRUE((*ins)->RunPipelined().ok());
  EXPECT_EQ(db_->round_trips(), before);  // nothing has waited yet
  ASSERT_TRUE(*(*count)->Step());         // one round trip: BEGIN, the read, the insert, this
  EXPECT_EQ((*count)->Int64(0), 3);
  (*count)->Reset();
  EXPECT_EQ(db_->round_trips(), before + 1);
  // Prepare() of the same SQL keeps the answer; Step() reads it without a round trip.
  read = db_->Prepare("SELECT v FROM t WHERE x = ?");
  ASSERT_TRUE(read.ok());
  ASSERT_TRUE(*(*read)->Step());
  EXPECT_EQ((*read)->Text(0), "two");
  EXPECT_FALSE(*(*read)->Step());
  (*read)->Reset();
  EXPECT_EQ(db_->round_trips(), before + 1);
  // Sent and stepped before any other round trip: its own round trip.
  ASSERT_TRUE((*read)->Bind(1).ok());
  ASSERT_TRUE((*read)->SendRead().ok());
  ASSERT_TRUE(*(*read)->Step());
  EXPECT_EQ((*read)->Text(0), "one");
  (*read)->Reset();
  EXPECT_EQ(db_->round_trips(), before + 2);
  // Sent and never stepped: forgotten at the commit; the next Step() runs the statement anew
  // and sees what is there now.
  ASSERT_TRUE((*read)->Bind(3).ok());
  ASSERT_TRUE((*read)->SendRead().ok());
  ASSERT_TRUE(db_->Commit().ok());
  ASSERT_TRUE(db_->Exec("UPDATE t SET v = 'THREE' WHERE x = 3").ok());
  ASSERT_TRUE((*read)->Bind(3).ok());
  ASSERT_TRUE(*(*read)->Step());
  EXPECT_EQ((*read)->Text(0), "THREE");
  (*read)->Reset();
  // A failure earlier in its round trip fails the read too, and the transaction with it.
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE((*ins)->Bind(1, "duplicate").ok());
  ASSERT_TRUE((*ins)->RunPipelined().ok());
  ASSERT_TRUE((*read)->Bind(1).ok());
  ASSERT_TRUE((*read)->SendRead().ok());
  auto failed = (*read)->Step();
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kAlreadyExists) << failed.status().ToString();
  (*read)->Reset();
  ASSERT_TRUE(db_->Rollback().ok());
  // Outside a transaction SendRead() does nothing and Step() runs the statement.
  ASSERT_TRUE((*read)->Bind(2).ok());
  ASSERT_TRUE((*read)->SendRead().ok());
  ASSERT_TRUE(*(*read)->Step());
  EXPECT_EQ((*read)->Text(0), "two");
  (*read)->Reset();
}

TEST_F(PostgresTest, ALostConnectionIsUnavailableThenReconnects) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE t (x BIGINT PRIMARY KEY)").ok());
  auto admin = Connect();
  auto ins = db_->Prepare("INSERT INTO t VALUES (?)");
  ASSERT_TRUE(ins.ok());
  auto kill = [&] {
    EXPECT_EQ(
        One(*admin, "SELECT pg_terminate_backend(" + std::to_string(db_->backend_pid()) + ")"),
        "1");
  };
  // Outside a transaction: the statement in flight fails, the next one reconnects and prepares
  // its statement again.
  kill();
  ASSERT_TRUE((*ins)->Bind(1).ok());
  Status lost = (*ins)->Run();
  EXPECT_EQ(lost.code(), StatusCode::kUnavailable) << lost.ToString();
  EXPECT_NE(lost.message().find("connection"), std::string::npos) << lost.message();
  ASSERT_TRUE((*ins)->Bind(2).ok());
  ASSERT_TRUE((*ins)->Run().ok());
  // Inside a transaction: everything fails until the caller rolls back, so that the rest of
  // the transaction never runs on a new connection outside it.
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE((*ins)->Bind(3).ok());
  ASSERT_TRUE((*ins)->Run().ok());
  kill();
  ASSERT_TRUE((*ins)->Bind(4).ok());
  EXPECT_EQ((*ins)->Run().code(), StatusCode::kUnavailable);
  ASSERT_TRUE((*ins)->Bind(5).ok());
  EXPECT_EQ((*ins)->Run().code(), StatusCode::kUnavailable);
  EXPECT_EQ(db_->Commit().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(db_->in_transaction());
  EXPECT_TRUE(db_->Rollback().ok());
  EXPECT_FALSE(db_->in_transaction());
  EXPECT_EQ(One(*db_, "SELECT string_agg(CAST(x AS TEXT), ',' ORDER BY x) FROM t"), "2");
}

TEST(PostgresConnect, ErrorsNeverShowThePassword) {
  const std::string_view urls[] = {
      "postgresql://comity:s3cr%65t-pw@127.0.0.1:1/comity",
      "postgresql://127.0.0.1:1/comity?user=comity&password=s3cret-pw",
      "postgres://comity:s3cret-pw%zz@127.0.0.1:1/comity",  // malformed: libpq quotes it
  };
  for (std::string_view url : urls) {
    auto db = Database::Connect(url, {.connect_timeout = std::chrono::seconds(2)});
    ASSERT_FALSE(db.ok()) << url;
    const std::string msg = db.status().message();
    EXPECT_EQ(db.status().code(), StatusCode::kUnavailable) << msg;
    EXPECT_EQ(msg.find("s3cr"), std::string::npos) << msg;
    EXPECT_NE(msg.find("***"), std::string::npos) << msg;
    EXPECT_NE(msg.find("127.0.0.1"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace comity::store
