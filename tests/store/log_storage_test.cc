// One test suite for every tlog::LogStorage implementation (in memory, SQLite, PostgreSQL), plus
// what only a real database can show, on both backends: a log entry and a state change committed
// in the same transaction, corrupt rows, a writer that crashes or loses its connection in the
// middle of an append, several connections appending to one log at once, and the witness store.
#include "store/log_storage.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <set>
#include <thread>

#include "tests/store/test_backend.h"
#include "tests/tlog/test_util.h"
#include "tlog/log.h"
#include "tlog/publish.h"
#include "tlog/verify.h"
#include "tlog/witness.h"

namespace comity::store {
namespace {

using testing::TestDatabase;
using tlog::LogState;

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
  virtual Status status() const { return OkStatus(); }
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

class DatabaseBackend : public Backend {
 public:
  explicit DatabaseBackend(Dialect d) : t_(d) {
    if (t_.status().ok()) Reopen();
  }
  Status status() const override { return t_.status(); }
  tlog::LogStorage* storage() override { return storage_.get(); }
  void Reopen() override {
    storage_.reset();
    db_.reset();
    db_ = std::move(t_.Connect().value());
    storage_ = std::move(SqlLogStorage::Open(db_.get()).value());
  }

 private:
  TestDatabase t_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqlLogStorage> storage_;
};

using BackendFactory = std::function<std::unique_ptr<Backend>()>;

class LogStorageTest : public ::testing::TestWithParam<std::pair<const char*, BackendFactory>> {
 protected:
  void SetUp() override {
    backend_ = GetParam().second();
    ASSERT_TRUE(backend_->status().ok()) << backend_->status().ToString();
  }
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
  ASSERT_TRUE(read.ok() && read->has_value()) << read.status().ToString();
  EXPECT_EQ(**read, s);
  // A second write replaces the one state row.
  s.size = 9;
  s.disclose_immediately = false;
  ASSERT_TRUE(storage()->BeginWrite().ok());
  ASSERT_TRUE(storage()->WriteState(s).ok());
  ASSERT_TRUE(storage()->Commit().ok());
  EXPECT_EQ(**storage()->ReadState(), s);
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
  EXPECT_TRUE(storage()->ReadState()->has_value());
  ASSERT_TRUE(storage()->Rollback().ok());
  EXPECT_FALSE(storage()->ReadState()->has_value());
  EXPECT_FALSE(storage()->ReadTile(0, 0)->has_value());
  EXPECT_FALSE(storage()->ReadCheckpoint(1)->has_value());
  EXPECT_EQ(storage()->ReadEntries(0, 1).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(storage()->WriteTile(0, 0, "x").code() == StatusCode::kOk,
            GetParam().first != std::string("memory"))
      << "writes outside a transaction: autocommit in a database, refused in memory";
}

TEST_P(LogStorageTest, TilesGrowEntriesAndCheckpointsAreKept) {
  ASSERT_TRUE(storage()->BeginWrite().ok());
  ASSERT_TRUE(storage()->WriteTile(2, 7, std::string(32, 'a')).ok());
  ASSERT_TRUE(storage()->WriteTile(2, 7, std::string(64, 'b')).ok());
  ASSERT_TRUE(storage()->WriteEntries(0, Entries(0, 300)).ok());
  const std::vector<std::string> odd_entries = {std::string(), std::string("\0\xff\n", 3)};
  ASSERT_TRUE(storage()->WriteEntries(300, odd_entries).ok());
  ASSERT_TRUE(storage()->WriteCheckpoint(302, "cp\n").ok());
  ASSERT_TRUE(storage()->WriteCheckpoint(302, "cp2\n").ok());
  ASSERT_TRUE(storage()->Commit().ok());
  backend_->Reopen();
  EXPECT_EQ(**storage()->ReadTile(2, 7), std::string(64, 'b'));
  EXPECT_FALSE(storage()->ReadTile(2, 8)->has_value());
  auto e = storage()->ReadEntries(256, 46);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->front(), "256 entry");
  EXPECT_EQ(e->at(44), "");
  EXPECT_EQ(e->back(), odd_entries[1]);
  auto beyond = storage()->ReadEntries(301, 2);
  ASSERT_FALSE(beyond.ok());
  EXPECT_EQ(beyond.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(beyond.status().message().find("302"), std::string::npos);
  EXPECT_EQ(**storage()->ReadCheckpoint(302), "cp2\n");
  // Written several rows per statement (16, 4 and 1): every entry where it belongs.
  EXPECT_EQ(*storage()->ReadEntries(0, 300), Entries(0, 300));
  ASSERT_TRUE(storage()->BeginWrite().ok());
  ASSERT_TRUE(storage()->WriteEntries(302, Entries(302, 37)).ok());
  ASSERT_TRUE(storage()->Commit().ok());
  EXPECT_EQ(*storage()->ReadEntries(302, 37), Entries(302, 37));
  // An index is written once: entries over ones already there are refused, and none is kept.
  if (GetParam().first != std::string("memory")) {
    ASSERT_TRUE(storage()->BeginWrite().ok());
    Status again = storage()->WriteEntries(330, Entries(1000, 20));
    if (again.ok()) again = storage()->Commit();
    EXPECT_FALSE(again.ok());
    storage()->Rollback().IgnoreError();
    EXPECT_EQ(*storage()->ReadEntries(302, 37), Entries(302, 37));
    EXPECT_FALSE(storage()->ReadEntries(339, 1).ok());
  }
}

TEST_P(LogStorageTest, ALogSurvivesRestartsAndVerifies) {
  {
    auto log = tlog::Log::Create(storage(), "example.com/log", Key(), {});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
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
    ::testing::Values(std::make_pair("memory", BackendFactory([] {
                                       return std::make_unique<MemoryBackend>();
                                     })),
                      std::make_pair("sqlite", BackendFactory([] {
                                       return std::make_unique<DatabaseBackend>(Dialect::kSqlite);
                                     })),
                      std::make_pair("postgresql", BackendFactory([] {
                                       return std::make_unique<DatabaseBackend>(Dialect::kPostgres);
                                     }))),
    [](const auto& info) { return std::string(info.param.first); });

// --- on a real database (both backends) ----------------------------------------------------

class SqlLogStorageTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    t_ = std::make_unique<TestDatabase>(GetParam());
    ASSERT_TRUE(t_->status().ok()) << t_->status().ToString();
    Reopen();
  }
  void TearDown() override {
    storage_.reset();
    db_.reset();
    t_.reset();
  }
  void Reopen() {
    storage_.reset();
    db_.reset();
    auto db = t_->Connect();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    storage_ = std::move(SqlLogStorage::Open(db_.get()).value());
  }
  bool postgres() const { return GetParam() == Dialect::kPostgres; }
  int64_t Count(const std::string& sql) {
    auto st = db_->Prepare(sql);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return -1;
    EXPECT_TRUE(*(*st)->Step());
    const int64_t n = (*st)->Int64(0);
    (*st)->Reset();
    return n;
  }
  // Every entry of the log, checked against its tiles and checkpoint.
  std::vector<std::string> VerifiedEntries(tlog::Log& log) {
    tlog::LogPublisher pub(storage_.get());
    tlog::PublisherFetcher fetcher(&pub);
    auto report = tlog::VerifyLog(fetcher, log.verifier(), {});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    const uint64_t size = log.State()->size;
    auto entries = storage_->ReadEntries(0, size);
    EXPECT_TRUE(entries.ok()) << entries.status().ToString();
    EXPECT_EQ(Count("SELECT count(*) FROM tlog_entries"), static_cast<int64_t>(size));
    return entries.ok() ? *entries : std::vector<std::string>{};
  }

  std::unique_ptr<TestDatabase> t_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<SqlLogStorage> storage_;
};

TEST_P(SqlLogStorageTest, AStateChangeAndItsLogEntryCommitTogether) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE requests (id TEXT PRIMARY KEY, state TEXT)").ok());
  auto log = std::move(tlog::Log::Create(storage_.get(), "example.com/node", Key(), {}).value());
  // Rolled back: neither the request nor the entry.
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO requests VALUES ('r1', 'submitted')").ok());
  ASSERT_TRUE(log->AppendInTransaction(Entries(0, 1)).ok());
  ASSERT_TRUE(db_->Rollback().ok());
  EXPECT_EQ(Count("SELECT count(*) FROM requests"), 0);
  EXPECT_EQ(Count("SELECT count(*) FROM tlog_entries"), 0);
  EXPECT_EQ(log->State()->size, 0u);
  // Committed: both.
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(db_->Exec("INSERT INTO requests VALUES ('r1', 'submitted')").ok());
  auto r = log->AppendInTransaction(Entries(0, 1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(db_->Commit().ok());
  EXPECT_EQ(Count("SELECT count(*) FROM requests"), 1);
  EXPECT_EQ(Count("SELECT count(*) FROM tlog_entries"), 1);
  EXPECT_EQ(log->State()->size, 1u);
  // A failure of the caller's own statement aborts the whole transaction.
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(log->AppendInTransaction(Entries(1, 1)).ok());
  EXPECT_EQ(db_->Exec("INSERT INTO requests VALUES ('r1', 'again')").code(),
            StatusCode::kAlreadyExists);
  ASSERT_TRUE(db_->Rollback().ok());
  auto next = log->Append(Entries(1, 1));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->first_index, 1u);
  EXPECT_EQ(VerifiedEntries(*log), Entries(0, 2));
}

TEST_P(SqlLogStorageTest, CorruptRowsAreReportedNotTrusted) {
  {
    auto log = std::move(tlog::Log::Create(storage_.get(), "example.com/node", Key(), {}).value());
    ASSERT_TRUE(log->Append(Entries(0, 300)).ok());
  }
  const std::string zeros = postgres() ? "decode(repeat('00', 1408), 'hex')" : "zeroblob(1408)";
  ASSERT_TRUE(
      db_->Exec("UPDATE tlog_tiles SET hashes = " + zeros + " WHERE level = 0 AND idx = 1").ok());
  auto log = tlog::Log::Open(storage_.get(), Key());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kDataLoss);
  // A broken root column is refused by the schema itself.
  Status root = db_->Exec(postgres() ? "UPDATE tlog_state SET root = decode('00', 'hex')"
                                     : "UPDATE tlog_state SET root = x'00'");
  EXPECT_EQ(root.code(), StatusCode::kFailedPrecondition) << root.ToString();
  // A disclosed size beyond the committed one is refused by the schema too.
  EXPECT_EQ(db_->Exec("UPDATE tlog_state SET disclosed = size + 1").code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_->Exec("UPDATE tlog_state SET id = 2").code(), StatusCode::kFailedPrecondition);
}

TEST_P(SqlLogStorageTest, AWriterKilledMidAppendLeavesTheCommittedLog) {
  {
    auto log = std::move(tlog::Log::Create(storage_.get(), "example.com/node", Key(), {}).value());
    ASSERT_TRUE(log->Append(Entries(0, 1000)).ok());
  }
  // The child appends in a transaction with its own connection and is killed before it
  // commits, as a process that crashes half-way.
  storage_.reset();
  db_.reset();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto db = t_->Connect();
    if (!db.ok()) ::_exit(10);
    auto storage = SqlLogStorage::Open(db->get());
    if (!storage.ok()) ::_exit(11);
    auto log = tlog::Log::Open(storage->get(), Key());
    if (!log.ok()) ::_exit(12);
    if (!(*db)->Begin().ok()) ::_exit(13);
    if (!(*log)->AppendInTransaction(Entries(1000, 500)).ok()) ::_exit(14);
    if (!(*db)->Exec("SELECT 1").ok()) ::_exit(15);  // everything reached the database
    ::kill(::getpid(), SIGKILL);
    ::_exit(16);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child stopped early with exit code " << WEXITSTATUS(status);
  Reopen();
  auto log = tlog::Log::Open(storage_.get(), Key());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ((*log)->State()->size, 1000u);
  // The log carries on where the committed state says, and verifies.
  auto r = (*log)->Append(Entries(1000, 10));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_index, 1000u);
  EXPECT_EQ(VerifiedEntries(**log), Entries(0, 1010));
}

TEST_P(SqlLogStorageTest, AConnectionClosedMidAppendRollsBack) {
  auto log = std::move(tlog::Log::Create(storage_.get(), "example.com/node", Key(), {}).value());
  ASSERT_TRUE(log->Append(Entries(0, 5)).ok());
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(log->AppendInTransaction(Entries(5, 5)).ok());
  log.reset();
  Reopen();  // closes the connection with the transaction open
  auto reopened = std::move(tlog::Log::Open(storage_.get(), Key()).value());
  EXPECT_EQ(reopened->State()->size, 5u);
  EXPECT_EQ(Count("SELECT count(*) FROM tlog_entries"), 5);
  ASSERT_TRUE(reopened->Append(Entries(5, 1)).ok());
  EXPECT_EQ(VerifiedEntries(*reopened), Entries(0, 6));
}

TEST_P(SqlLogStorageTest, ConnectionsAppendingConcurrentlyShareOneLog) {
  // As several `comity serve` processes on one database: each writer has its own connection
  // and its own tlog::Log, and records in its own table which indices it was given, in the same
  // transaction as the entries.
  ASSERT_TRUE(
      db_->Exec("CREATE TABLE marks (entry TEXT PRIMARY KEY, idx BIGINT NOT NULL UNIQUE)").ok());
  {
    auto log = tlog::Log::Create(storage_.get(), "example.com/shared", Key(), {});
    ASSERT_TRUE(log.ok()) << log.status().ToString();
  }
  constexpr int kWriters = 3, kBatches = 25, kPerBatch = 4;
  std::atomic<int> retries{0};
  auto writer = [&](int w) {
    auto db = t_->Connect({.busy_timeout = std::chrono::milliseconds(20000)});
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    auto storage = std::move(SqlLogStorage::Open(db->get()).value());
    auto log = std::move(tlog::Log::Open(storage.get(), Key()).value());
    for (int b = 0; b < kBatches; ++b) {
      std::vector<std::string> batch;
      for (int k = 0; k < kPerBatch; ++k) {
        batch.push_back("writer " + std::to_string(w) + " batch " + std::to_string(b) + " #" +
                        std::to_string(k));
      }
      for (int attempt = 0;; ++attempt) {
        Status st = (*db)->Begin();
        StatusOr<tlog::AppendResult> r =
            st.ok() ? log->AppendInTransaction(batch) : StatusOr<tlog::AppendResult>(st);
        st = r.status();
        for (int k = 0; st.ok() && k < kPerBatch; ++k) {
          auto ins = (*db)->Prepare("INSERT INTO marks (entry, idx) VALUES (?, ?)");
          st = ins.status();
          if (st.ok()) st = (*ins)->Bind(batch[k], r->first_index + k);
          if (st.ok()) st = (*ins)->Run();
        }
        if (st.ok()) st = (*db)->Commit();
        if (st.ok()) break;
        (*db)->Rollback().IgnoreError();
        // Waiting for another writer's lock may time out; the transaction is retried whole.
        ASSERT_TRUE(st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kAborted)
            << st.ToString();
        ASSERT_LT(attempt, 20) << st.ToString();
        ++retries;
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) threads.emplace_back(writer, w);
  for (auto& t : threads) t.join();

  auto log = std::move(tlog::Log::Open(storage_.get(), Key()).value());
  const uint64_t total = kWriters * kBatches * kPerBatch;
  EXPECT_EQ(log->State()->size, total);
  const std::vector<std::string> entries = VerifiedEntries(*log);
  ASSERT_EQ(entries.size(), total);
  // Every entry once, each batch contiguous and in order, each at the index its writer recorded.
  EXPECT_EQ(std::set<std::string>(entries.begin(), entries.end()).size(), total);
  auto mark = db_->Prepare("SELECT idx FROM marks WHERE entry = ?");
  ASSERT_TRUE(mark.ok());
  for (uint64_t i = 0; i < total; ++i) {
    ASSERT_TRUE((*mark)->Bind(entries[i]).ok());
    ASSERT_TRUE(*(*mark)->Step()) << entries[i];
    EXPECT_EQ((*mark)->Int64(0), static_cast<int64_t>(i)) << entries[i];
    (*mark)->Reset();
    if (i % kPerBatch != 0) {
      EXPECT_EQ(entries[i].substr(0, entries[i].size() - 1),
                entries[i - 1].substr(0, entries[i - 1].size() - 1));
    }
  }
  EXPECT_EQ(Count("SELECT count(*) FROM marks"), static_cast<int64_t>(total));
  // The same entries in one batch give the same root: the tree is the one they define.
  tlog::MemoryLogStorage reference;
  auto ref = tlog::Log::Create(&reference, "example.com/shared", Key(), {});
  EXPECT_EQ((*ref)->Append(entries)->root, log->State()->root);
}

TEST_P(SqlLogStorageTest, WitnessStoreCompareAndSetAndEvidence) {
  auto store = std::move(SqlWitnessStore::Open(db_.get()).value());
  EXPECT_FALSE(store->Latest("o")->has_value());
  ASSERT_TRUE(store->Update("o", std::nullopt, 5, "note5").ok());
  EXPECT_EQ(store->Update("o", std::nullopt, 6, "x").code(), StatusCode::kAborted);
  EXPECT_EQ(store->Update("o", 4, 6, "x").code(), StatusCode::kAborted);
  // A second connection (another process) that read size 5 loses the race to the first.
  auto other_db = std::move(t_->Connect().value());
  auto other = std::move(SqlWitnessStore::Open(other_db.get()).value());
  ASSERT_TRUE(store->Update("o", 5, 6, "note6").ok());
  EXPECT_EQ(other->Update("o", 5, 7, "note7").code(), StatusCode::kAborted);
  EXPECT_EQ(**other->Latest("o"), "note6");
  ASSERT_TRUE(store->RecordSplitView({"o", "a", "b", "why", 42}).ok());
  ASSERT_TRUE(other->RecordSplitView({"p", "c", "d", "because", 43}).ok());
  auto views = store->SplitViews();
  ASSERT_EQ(views->size(), 2u);
  EXPECT_EQ(views->at(0).second_note, "b");
  EXPECT_EQ(views->at(0).detected_at, 42);
  EXPECT_EQ(views->at(1).origin, "p");
  EXPECT_FALSE(store->Name()->has_value());
  ASSERT_TRUE(store->SetName("witness.example/w1").ok());
  EXPECT_EQ(store->SetName("other").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(**other->Name(), "witness.example/w1");
}

TEST_P(SqlLogStorageTest, LogAndWitnessShareTheDatabaseWithOtherTables) {
  auto witness = SqlWitnessStore::Open(db_.get());
  ASSERT_TRUE(witness.ok()) << witness.status().ToString();
  Reopen();  // migrations again: a no-op
  EXPECT_EQ(SchemaVersion(*db_, "tlog").value(), 1);
  EXPECT_EQ(SchemaVersion(*db_, "witness").value(), 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlLogStorageTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         testing::DialectParamName);

}  // namespace
}  // namespace comity::store
