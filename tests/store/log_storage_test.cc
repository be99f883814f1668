// One test suite for every tlog::LogStorage implementation (in memory and SQLite; PostgreSQL
// joins with the node), plus what only a real database can show: a log entry and a state
// change committed in the same transaction, and the witness store.
#include <gtest/gtest.h>

#include <functional>

#include "store/sqlite_log_storage.h"
#include "tests/tlog/test_util.h"
#include "tlog/log.h"
#include "tlog/publish.h"
#include "tlog/verify.h"
#include "tlog/witness.h"

namespace comity::store {
namespace {

using tlog::LogState;
using tlog::testing::TempDir;

std::vector<std::string> Entries(uint64_t first, uint64_t count) {
  std::vector<std::string> out;
  for (uint64_t i = first; i < first + count; ++i) out.push_back(std::to_string(i) + " entry");
  return out;
}

crypto::Ed25519PrivateKey Key() {
  static const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  return key;
}

// Holds one storage implementation; Reopen() simulates a restart (new connection/objects).
class Backend {
 public:
  virtual ~Backend() = default;
  virtual tlog::LogStorage* storage() = 0;
  virtual void Reopen() = 0;
};

class MemoryBackend : public Backend {
 public:
  tlog::LogStorage* storage() override { return &storage_; }
  void Reopen() override {}

 private:
  tlog::MemoryLogStorage storage_;
};

class SqliteBackend : public Backend {
 public:
  SqliteBackend() { Reopen(); }
  tlog::LogStorage* storage() override { return storage_.get(); }
  void Reopen() override {
    storage_.reset();
    db_ = std::move(Database::Open(dir_ / "comity.db").value());
    storage_ = std::move(SqliteLogStorage::Open(db_.get()).value());
  }

 private:
  TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqliteLogStorage> storage_;
};

using BackendFactory = std::function<std::unique_ptr<Backend>()>;

class LogStorageTest : public ::testing::TestWithParam<std::pair<const char*, BackendFactory>> {
 protected:
  void SetUp() override { backend_ = GetParam().second(); }
  tlog::LogStorage* storage() { return backend_->storage(); }
  std::unique_ptr<Backend> backend_;
};

TEST_P(LogStorageTest, StateRoundTripsThroughATransaction) {
  EXPECT_FALSE(storage()->ReadState()->has_value());
  LogState s{"example.com/log", 5, 3, tlog::LeafHash(tlog::AsBytes("r")), "note\n", true};
  ASSERT_TRUE(storage()->BeginWrite().ok());
  ASSERT_TRUE(storage()->WriteState(s).ok());
  ASSERT_TRUE(storage()->Commit().ok());
  backend_->Reopen();
  auto read = storage()->ReadState();
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ(**read, s);
}

TEST_P(LogStorageTest, RollbackDropsEverything) {
  ASSERT_TRUE(storage()->BeginWrite().ok());
  ASSERT_TRUE(storage()->WriteState({"o", 1, 0, tlog::Hash{}, "n\n", false}).ok());
  ASSERT_TRUE(storage()->WriteTile(0, 0, std::string(32, 'a')).ok());
  ASSERT_TRUE(storage()->WriteEntries(0, Entries(0, 1)).ok());
  ASSERT_TRUE(storage()->WriteCheckpoint(1, "n\n").ok());
  // Reads inside the transaction see its writes.
  EXPECT_TRUE(storage()->ReadTile(0, 0)->has_value());
  EXPECT_EQ(storage()->ReadEntries(0, 1)->at(0), "0 entry");
  ASSERT_TRUE(storage()->Rollback().ok());
  EXPECT_FALSE(storage()->ReadState()->has_value());
  EXPECT_FALSE(storage()->ReadTile(0, 0)->has_value());
  EXPECT_FALSE(storage()->ReadCheckpoint(1)->has_value());
  EXPECT_EQ(storage()->ReadEntries(0, 1).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(storage()->WriteTile(0, 0, "x").code() == StatusCode::kOk,
            GetParam().first == std::string("sqlite"))
      << "writes outside a transaction: autocommit in SQLite, refused in memory";
}

TEST_P(LogStorageTest, TilesGrowEntriesAndCheckpointsAreKept) {
  ASSERT_TRUE(storage()->BeginWrite().ok());
  ASSERT_TRUE(storage()->WriteTile(2, 7, std::string(32, 'a')).ok());
  ASSERT_TRUE(storage()->WriteTile(2, 7, std::string(64, 'b')).ok());
  ASSERT_TRUE(storage()->WriteEntries(0, Entries(0, 300)).ok());
  const std::vector<std::string> empty_entry = {std::string()};
  ASSERT_TRUE(storage()->WriteEntries(300, empty_entry).ok());
  ASSERT_TRUE(storage()->WriteCheckpoint(301, "cp\n").ok());
  ASSERT_TRUE(storage()->Commit().ok());
  backend_->Reopen();
  EXPECT_EQ(**storage()->ReadTile(2, 7), std::string(64, 'b'));
  EXPECT_FALSE(storage()->ReadTile(2, 8)->has_value());
  auto e = storage()->ReadEntries(256, 45);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->front(), "256 entry");
  EXPECT_EQ(e->back(), "");
  auto beyond = storage()->ReadEntries(300, 2);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(beyond.status().message().find("301"), std::string::npos);
  EXPECT_EQ(**storage()->ReadCheckpoint(301), "cp\n");
}

TEST_P(LogStorageTest, ALogSurvivesRestartsAndVerifies) {
  {
    auto log = tlog::Log::Create(storage(), "example.com/log", Key(), {});
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->Append(Entries(0, 66000)).ok());
  }
  backend_->Reopen();
  auto log = tlog::Log::Open(storage(), Key());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE((*log)->Append(Entries(66000 + i * 100, 100)).ok());
  ASSERT_TRUE((*log)->Disclose(66200).ok());
  backend_->Reopen();
  log = tlog::Log::Open(storage(), Key());
  ASSERT_TRUE(log.ok());
  auto state = (*log)->State();
  EXPECT_EQ(state->size, 66500u);
  EXPECT_EQ(state->disclosed, 66200u);
  // The same entries in one batch give the same root.
  tlog::MemoryLogStorage reference;
  auto ref = tlog::Log::Create(&reference, "example.com/log", Key(), {});
  EXPECT_EQ((*ref)->Append(Entries(0, 66500))->root, state->root);
  // And the published log verifies.
  tlog::LogPublisher pub(storage());
  tlog::PublisherFetcher fetcher(&pub);
  auto report = tlog::VerifyLog(fetcher, (*log)->verifier(), {});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->bundles, 259u);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, LogStorageTest,
    ::testing::Values(
        std::make_pair("memory", BackendFactory([] { return std::make_unique<MemoryBackend>(); })),
        std::make_pair("sqlite", BackendFactory([] { return std::make_unique<SqliteBackend>(); }))),
    [](const auto& info) { return std::string(info.param.first); });

TEST(SqliteLogStorage, AStateChangeAndItsLogEntryCommitTogether) {
  TempDir dir;
  auto db = std::move(Database::Open(dir / "comity.db").value());
  auto storage = std::move(SqliteLogStorage::Open(db.get()).value());
  ASSERT_TRUE(db->Exec("CREATE TABLE requests (id TEXT PRIMARY KEY, state TEXT)").ok());
  auto log = std::move(tlog::Log::Create(storage.get(), "example.com/node", Key(), {}).value());
  auto count = [&](const char* sql) {
    auto st = db->Prepare(sql);
    EXPECT_TRUE(*(*st)->Step());
    int64_t n = (*st)->Int64(0);
    (*st)->Reset();
    return n;
  };
  // Rolled back: neither the request nor the entry.
  ASSERT_TRUE(db->Begin().ok());
  ASSERT_TRUE(db->Exec("INSERT INTO requests VALUES ('r1', 'submitted')").ok());
  ASSERT_TRUE(log->AppendInTransaction(Entries(0, 1)).ok());
  ASSERT_TRUE(db->Rollback().ok());
  EXPECT_EQ(count("SELECT count(*) FROM requests"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM tlog_entries"), 0);
  EXPECT_EQ(log->State()->size, 0u);
  // Committed: both.
  ASSERT_TRUE(db->Begin().ok());
  ASSERT_TRUE(db->Exec("INSERT INTO requests VALUES ('r1', 'submitted')").ok());
  auto r = log->AppendInTransaction(Entries(0, 1));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(db->Commit().ok());
  EXPECT_EQ(count("SELECT count(*) FROM requests"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM tlog_entries"), 1);
  EXPECT_EQ(log->State()->size, 1u);
  // A failure of the caller's own statement aborts the whole transaction.
  ASSERT_TRUE(db->Begin().ok());
  ASSERT_TRUE(log->AppendInTransaction(Entries(1, 1)).ok());
  EXPECT_EQ(db->Exec("INSERT INTO requests VALUES ('r1', 'again')").code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(db->Rollback().ok());
  auto next = log->Append(Entries(1, 1));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first_index, 1u);
}

TEST(SqliteLogStorage, CorruptRowsAreReportedNotTrusted) {
  TempDir dir;
  auto db = std::move(Database::Open(dir / "comity.db").value());
  auto storage = std::move(SqliteLogStorage::Open(db.get()).value());
  {
    auto log = std::move(tlog::Log::Create(storage.get(), "example.com/node", Key(), {}).value());
    ASSERT_TRUE(log->Append(Entries(0, 300)).ok());
  }
  ASSERT_TRUE(
      db->Exec("UPDATE tlog_tiles SET hashes = zeroblob(1408) WHERE level = 0 AND idx = 1").ok());
  auto log = tlog::Log::Open(storage.get(), Key());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss);
  // A broken root column is refused by the schema itself.
  EXPECT_FALSE(db->Exec("UPDATE tlog_state SET root = x'00'").ok());
  // A disclosed size beyond the committed one is refused by the schema too.
  EXPECT_FALSE(db->Exec("UPDATE tlog_state SET disclosed = size + 1").ok());
}

TEST(SqliteWitnessStore, CompareAndSetAndEvidence) {
  TempDir dir;
  auto db = std::move(Database::Open(dir / "w.db").value());
  auto store = std::move(SqliteWitnessStore::Open(db.get()).value());
  EXPECT_FALSE(store->Latest("o")->has_value());
  ASSERT_TRUE(store->Update("o", std::nullopt, 5, "note5").ok());
  EXPECT_EQ(store->Update("o", std::nullopt, 6, "x").code(), StatusCode::kAborted);
  EXPECT_EQ(store->Update("o", 4, 6, "x").code(), StatusCode::kAborted);
  ASSERT_TRUE(store->Update("o", 5, 6, "note6").ok());
  EXPECT_EQ(**store->Latest("o"), "note6");
  ASSERT_TRUE(store->RecordSplitView({"o", "a", "b", "why", 42}).ok());
  auto views = store->SplitViews();
  ASSERT_EQ(views->size(), 1u);
  EXPECT_EQ(views->at(0).second_note, "b");
  EXPECT_EQ(views->at(0).detected_at, 42);
}

}  // namespace
}  // namespace comity::store
