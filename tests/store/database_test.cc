// The SQLite wrapper: statements, transactions, migrations and error mapping.
#include "store/database.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/tlog/test_util.h"

namespace comity::store {
namespace {

using tlog::testing::TempDir;

std::unique_ptr<Database> OpenOrDie(const std::string& path, DatabaseOptions o = {}) {
  auto db = Database::Open(path, o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(db).value();
}

TEST(Database, StatementsBindAndReadEveryType) {
  TempDir dir;
  auto db = OpenOrDie(dir / "t.db");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER, s TEXT, b BLOB, n INTEGER)").ok());
  auto ins = db->Prepare("INSERT INTO t VALUES (?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok());
  const std::string binary("\x00\x01\xff", 3);
  ASSERT_TRUE((*ins)->Bind(int64_t{-5}, std::string_view("text"), Blob{binary}, Null{}).ok());
  ASSERT_TRUE((*ins)->Run().ok());
  ASSERT_TRUE((*ins)->Bind(uint64_t{INT64_MAX}, std::string(""), Blob{""}, 7).ok());
  ASSERT_TRUE((*ins)->Run().ok());
  auto sel = db->Prepare("SELECT i, s, b, n, typeof(b) FROM t ORDER BY rowid");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*(*sel)->Step());
  EXPECT_EQ((*sel)->Int64(0), -5);
  EXPECT_EQ((*sel)->Text(1), "text");
  EXPECT_EQ((*sel)->BlobValue(2), binary);
  EXPECT_TRUE((*sel)->IsNull(3));
  ASSERT_TRUE(*(*sel)->Step());
  EXPECT_EQ((*sel)->Int64(0), INT64_MAX);
  EXPECT_EQ((*sel)->BlobValue(2), "");
  EXPECT_EQ((*sel)->Text(4), "blob");  // an empty blob is a blob, not NULL
  EXPECT_FALSE(*(*sel)->Step());

  auto big = (*ins)->Bind(uint64_t{INT64_MAX} + 1);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.code(), StatusCode::kOutOfRange);
  // Prepared statements are cached per SQL text.
  EXPECT_EQ(*db->Prepare("SELECT i, s, b, n, typeof(b) FROM t ORDER BY rowid"), *sel);
  auto bad = db->Prepare("SELEKT nonsense");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos);
  EXPECT_NE(bad.status().message().find("t.db"), std::string::npos);
}

TEST(Database, ConnectionSettings) {
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

TEST(Database, TransactionsCommitAndRollBack) {
  TempDir dir;
  auto db = OpenOrDie(dir / "t.db");
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER PRIMARY KEY)").ok());
  {
    Transaction tx(db.get());
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
    EXPECT_TRUE(db->in_transaction());
    EXPECT_EQ(db->Begin().code(), StatusCode::kFailedPrecondition);
  }  // rolled back
  EXPECT_FALSE(db->in_transaction());
  {
    Transaction tx(db.get());
    ASSERT_TRUE(tx.Begin().ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2)").ok());
    ASSERT_TRUE(tx.Commit().ok());
  }
  auto reopened = OpenOrDie(dir / "t.db");
  auto st = reopened->Prepare("SELECT group_concat(x) FROM t");
  ASSERT_TRUE(*(*st)->Step());
  EXPECT_EQ((*st)->Text(0), "2");
  EXPECT_EQ(db->Commit().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(db->Rollback().ok());
  // A uniqueness violation is kAlreadyExists.
  auto dup = db->Exec("INSERT INTO t VALUES (2)");
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
}

TEST(Database, ASecondWriterIsToldToRetry) {
  TempDir dir;
  auto a = OpenOrDie(dir / "t.db");
  auto b = OpenOrDie(dir / "t.db", {.busy_timeout = std::chrono::milliseconds(50)});
  ASSERT_TRUE(a->Exec("CREATE TABLE t (x INTEGER)").ok());
  ASSERT_TRUE(a->Begin().ok());
  Status st = b->Begin();
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find("retry"), std::string::npos);
  ASSERT_TRUE(a->Commit().ok());
  EXPECT_TRUE(b->Begin().ok());
}

TEST(Database, OpenRefusesGarbageAndMissingFiles) {
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

TEST(Migrations, AppliedOnceInOrderAndAtomically) {
  TempDir dir;
  auto db = OpenOrDie(dir / "t.db");
  const Migration v1[] = {{1, "create", "CREATE TABLE a (x INTEGER)"}};
  const Migration v2[] = {{1, "create", "CREATE TABLE a (x INTEGER)"},
                          {2, "add column", "ALTER TABLE a ADD COLUMN y TEXT"}};
  ASSERT_TRUE(ApplyMigrations(*db, "comp", v1).ok());
  ASSERT_TRUE(ApplyMigrations(*db, "comp", v1).ok());  // idempotent
  EXPECT_EQ(*SchemaVersion(*db, "comp"), 1);
  ASSERT_TRUE(ApplyMigrations(*db, "comp", v2).ok());
  EXPECT_EQ(*SchemaVersion(*db, "comp"), 2);
  EXPECT_EQ(*SchemaVersion(*db, "other"), 0);
  EXPECT_TRUE(db->Exec("INSERT INTO a(x, y) VALUES (1, 'y')").ok());

  // An older program refuses a newer schema.
  Status old = ApplyMigrations(*db, "comp", v1);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(old.message().find("newer than this program"), std::string::npos);

  // A failing migration leaves nothing behind: not its own earlier statements, nor the
  // migrations before it in the same run.
  const Migration broken[] = {{1, "ok", "CREATE TABLE b (x INTEGER)"},
                              {2, "broken", "CREATE TABLE c (x INTEGER); NOT SQL"}};
  Status st = ApplyMigrations(*db, "b", broken);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("migration b 2 (broken)"), std::string::npos) << st.message();
  EXPECT_EQ(*SchemaVersion(*db, "b"), 0);
  EXPECT_FALSE(db->Exec("SELECT * FROM b").ok());
  EXPECT_FALSE(db->Exec("SELECT * FROM c").ok());

  const Migration misnumbered[] = {{2, "x", "SELECT 1"}};
  EXPECT_FALSE(ApplyMigrations(*db, "m", misnumbered).ok());
}

}  // namespace
}  // namespace comity::store
