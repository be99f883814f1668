// Group commit and batched deliveries in the service: concurrent writes share fdatasyncs and
// all succeed, readers see only what is durable and never wait forever; a batch of receipts is
// one transaction and one log append, with a status per item; the outbox listener hears of
// durable enqueues.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "crypto/encoding.h"
#include "crypto/random.h"
#include "tests/node/test_util.h"
#include "tests/store/test_backend.h"

namespace comity::node {
namespace {

using testing::DraftBody;
using testing::Person;
using testing::ServiceFixture;

const Principal kOfficer = Person("officer-ana7", Role::kOfficer);
const Principal kAdmin = Person("admin-adm2", Role::kAdmin);

std::string RandomKey() { return crypto::Base64Encode(crypto::RandomString(32)); }

int64_t Count(ServiceFixture& f, const std::string& table) {
  auto db = f.OpenDb();
  auto st = db->Prepare("SELECT count(*) FROM " + table).value();
  EXPECT_TRUE(st->Step().value());
  const int64_t n = st->Int64(0);
  st->Reset();
  return n;
}

// XB added as `xa`'s peer, and `n` requests to it drafted by `xa`: their ids.
std::vector<std::string> DraftedForXB(ServiceFixture& xa, int n) {
  EXPECT_TRUE(
      xa.service->AddPeer(kAdmin, {"XB", "http://127.0.0.1:9", RandomKey(), RandomKey(), ""}, false)
          .ok());
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    auto d = xa.service->CreateDraft(kOfficer, boost::json::serialize(DraftBody("XA", "XB")));
    EXPECT_TRUE(d.ok());
    if (d.ok()) ids.push_back(d->record.id);
  }
  return ids;
}

// `n` requests drafted and submitted by `xa` to XB: the messages waiting in its outbox.
std::vector<store::OutboxMessage> SubmittedToXB(ServiceFixture& xa, int n) {
  ActionInput submit;
  submit.action = workflow::Action::kSubmit;
  for (const std::string& id : DraftedForXB(xa, n)) {
    EXPECT_TRUE(xa.service->Act(kOfficer, id, submit).ok());
  }
  return xa.service->DueMessages(xa.clock.Now(), 2 * n + 10).value();
}

// Makes `f`'s database refuse (with "refused by the test") a row inserted into `table` whose
// `column` is one of `values`: a write the node cannot foresee, on either backend.
Status RefuseInserts(ServiceFixture& f, store::Dialect dialect, const std::string& table,
                     const std::string& column, const std::vector<std::string>& values) {
  std::string list;
  for (const std::string& v : values) list += (list.empty() ? "'" : ", '") + v + "'";
  const std::string sql =
      dialect == store::Dialect::kSqlite
          ? "CREATE TRIGGER refuse_some BEFORE INSERT ON " + table + " WHEN NEW." + column +
                " IN (" + list + ") BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
          : "CREATE FUNCTION refuse_some() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW." +
                column + " IN (" + list +
                ") THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$; "
                "CREATE TRIGGER refuse_some BEFORE INSERT ON " +
                table + " FOR EACH ROW EXECUTE FUNCTION refuse_some()";
  return f.OpenDb()->Exec(sql);
}

// Group commit on both backends: SQLite shares fdatasyncs of the WAL; PostgreSQL commits with
// synchronous_commit off and shares durable barrier commits on a second connection.
class GroupCommitOnBothBackends : public ::testing::TestWithParam<store::Dialect> {};

TEST_P(GroupCommitOnBothBackends, ConcurrentWritesShareSyncsAndAllSucceed) {
  store::testing::TestDatabase db(GetParam());
  ASSERT_TRUE(db.status().ok()) << db.status().ToString();
  ServiceFixture f("XA", Disclosure::kEmbargo, nullptr, db.url());
  constexpr int kThreads = 16, kEach = 10;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto d = f.service->CreateDraft(kOfficer, boost::json::serialize(DraftBody("XA", "XB")));
        if (d.ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kEach);
  EXPECT_EQ(f.service->LogState().value().size, static_cast<uint64_t>(kThreads * kEach));
  const uint64_t syncs = f.service->durability_syncs();
  EXPECT_GT(syncs, 0u);  // the group path ran (PostgreSQL: barrier commits)
  if (GetParam() == store::Dialect::kSqlite) {
    EXPECT_LT(syncs, static_cast<uint64_t>(kThreads * kEach)) << "no fdatasync was shared";
  } else {
    // The test cluster runs with fsync off: a barrier may finish before the next write commits,
    // so sharing is likely but not certain; never more than one barrier per write.
    EXPECT_LE(syncs, static_cast<uint64_t>(kThreads * kEach));
  }
  // Everything is there for another connection, after the service is gone.
  f.service.reset();
  EXPECT_EQ(Count(f, "requests"), kThreads * kEach);
}

INSTANTIATE_TEST_SUITE_P(Backends, GroupCommitOnBothBackends,
                         ::testing::Values(store::Dialect::kSqlite, store::Dialect::kPostgres),
                         store::testing::DialectParamName);

// Officers' writes that arrive together are combined into one transaction, a change that fails
// undone alone: under contention, with half the writes refused (a second submit of the same
// request), every accepted write is kept with its event and leaf and no refused one leaves a
// trace.
class CombinedWritesOnBothBackends : public ::testing::TestWithParam<store::Dialect> {};

TEST_P(CombinedWritesOnBothBackends, RefusedWritesLeaveNoTraceAndTheOthersAreKept) {
  store::testing::TestDatabase db(GetParam());
  ASSERT_TRUE(db.status().ok()) << db.status().ToString();
  ServiceFixture f("XA", Disclosure::kEmbargo, nullptr, db.url());
  constexpr int kRequests = 40;
  const std::vector<std::string> ids = DraftedForXB(f, kRequests);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kRequests));
  const uint64_t before = f.service->LogState().value().size;
  // Two submits per request from different threads at once: one is kept, one refused (409) for
  // the state it finds — read afresh even when both are in one group, whose requests are read
  // together at its start (no version was given, so never "someone changed it").
  std::atomic<int> ok{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t % 4; i < kRequests; i += 4) {
        ActionInput submit;
        submit.action = workflow::Action::kSubmit;
        auto r = f.service->Act(kOfficer, ids[i], submit);
        if (r.ok()) {
          ++ok;
        } else if (r.status().code() == StatusCode::kFailedPrecondition) {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kRequests);
  EXPECT_EQ(refused.load(), kRequests);
  EXPECT_GT(f.service->combined_writes(), 0u) << "no two writes were combined";
  EXPECT_EQ(other.load(), 0);
  // One submit event, one leaf and one outbox message per request: none for the refusals.
  EXPECT_EQ(f.service->LogState().value().size, before + kRequests);
  EXPECT_EQ(Count(f, "request_events"), 2 * kRequests);
  EXPECT_EQ(Count(f, "log_records"), 2 * kRequests);
  EXPECT_EQ(Count(f, "outbox"), kRequests);
  for (const std::string& id : ids) {
    EXPECT_EQ(f.service->GetRequest(id).value().record.state, "submitted");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, CombinedWritesOnBothBackends,
                         ::testing::Values(store::Dialect::kSqlite, store::Dialect::kPostgres),
                         store::testing::DialectParamName);

// A batch of received messages (the inbox's batch path) on both backends: one transaction in
// which the messages that fail leave no trace and the others are kept, each with its events and
// leaves.
// XA, and XB on the backend under test (XA's messages to XB are received there).
class XbOnBothBackends : public ::testing::TestWithParam<store::Dialect> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.status().ok()) << db_.status().ToString();
    xb_ = std::make_unique<ServiceFixture>("XB", Disclosure::kEmbargo, nullptr, db_.url());
  }
  ServiceFixture xa_{"XA"};
  store::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<ServiceFixture> xb_;
};

class IncomingBatchOnBothBackends : public XbOnBothBackends {};

TEST_P(IncomingBatchOnBothBackends, EachMessageSucceedsOrFailsAlone) {
  ServiceFixture& xa = xa_;
  ServiceFixture& xb = *xb_;
  const std::vector<store::OutboxMessage> due = SubmittedToXB(xa, 3);
  ASSERT_EQ(due.size(), 3u);
  boost::json::object misaddressed = boost::json::parse(due[1].body).as_object();
  misaddressed["requested_state"] = "XD";
  const std::string bad_body = boost::json::serialize(misaddressed);
  const std::string other_id(32, 'a'), unknown_id(32, 'b'), kind_id(32, 'c');
  const std::vector<IncomingMessage> batch = {
      {"XA", due[0].message_id, "request", due[0].body},  // new: kept
      {"XA", other_id, "request", bad_body},              // misaddressed: refused alone
      {"XA", due[1].message_id, "request", due[1].body},  // new: kept
      {"XA", due[0].message_id, "request", due[0].body},  // the same message again: duplicate
      {"XA", unknown_id, "request", due[0].body},         // a known request under a new id
      {"XA", kind_id, "telegram", due[2].body},           // an unknown kind
      {"XA", due[2].message_id, "request", due[2].body},  // new: kept
  };
  std::vector<StatusOr<IncomingResult>> r = xb.service->AcceptIncomingBatch(batch);
  ASSERT_EQ(r.size(), batch.size());
  ASSERT_TRUE(r[0].ok()) << r[0].status().ToString();
  EXPECT_FALSE(r[0]->duplicate);
  EXPECT_EQ(r[1].status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r[1].status().pointer(), "/requested_state");
  ASSERT_TRUE(r[2].ok()) << r[2].status().ToString();
  ASSERT_TRUE(r[3].ok()) << r[3].status().ToString();
  EXPECT_TRUE(r[3]->duplicate);
  EXPECT_EQ(r[3]->request_id, r[0]->request_id);
  EXPECT_EQ(r[4].status().code(), StatusCode::kAlreadyExists);
  // (found before any write: the node says what exists, not how the database refused it)
  EXPECT_EQ(r[4].status().message(), "a request with id " + r[0]->request_id + " already exists");
  EXPECT_EQ(r[5].status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(r[6].ok()) << r[6].status().ToString();
  // Three requests, each received and screened: two events and two leaves apiece.
  EXPECT_EQ(xb.service->LogState().value().size, 6u);
  EXPECT_EQ(Count(xb, "requests"), 3);
  EXPECT_EQ(Count(xb, "request_events"), 6);
  EXPECT_EQ(Count(xb, "log_records"), 6);
  EXPECT_EQ(Count(xb, "inbox"), 3);
  EXPECT_FALSE(xb.service->FindInboxMessage(other_id).value().has_value());
  EXPECT_EQ(xb.service->GetRequest(r[6]->request_id).value().events.size(), 2u);
  // What earlier batches received, as the next batch's one read of the inbox finds it: the
  // same message again (a duplicate), its id with other content (a replay), its request
  // under a new message id (a conflict).
  const std::string fresh_id(32, 'd');
  auto again = xb.service->AcceptIncomingBatch(std::vector<IncomingMessage>{
      {"XA", due[2].message_id, "request", due[2].body},
      {"XA", due[0].message_id, "request", due[1].body},
      {"XA", fresh_id, "request", due[1].body},
  });
  ASSERT_EQ(again.size(), 3u);
  ASSERT_TRUE(again[0].ok()) << again[0].status().ToString();
  EXPECT_TRUE(again[0]->duplicate);
  EXPECT_EQ(again[0]->request_id, r[6]->request_id);
  EXPECT_EQ(again[1].status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again[2].status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again[2].status().message(),
            "a request with id " + r[2]->request_id + " already exists");
  EXPECT_FALSE(xb.service->FindInboxMessage(fresh_id).value().has_value());
  EXPECT_EQ(xb.service->LogState().value().size, 6u);
  // Too many messages for one batch: each is refused, nothing is applied.
  std::vector<IncomingMessage> many(kMaxIncomingBatch + 1, batch[0]);
  auto over = xb.service->AcceptIncomingBatch(many);
  ASSERT_EQ(over.size(), many.size());
  EXPECT_EQ(over[0].status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(xb.service->LogState().value().size, 6u);
}

// Batches that arrive together (a peer sends several at once) are written together: they share
// transactions with one log append each, and every message is kept once, with its events and
// entries numbered without a gap.
TEST_P(IncomingBatchOnBothBackends, ConcurrentBatchesShareTransactions) {
  ServiceFixture& xa = xa_;
  ServiceFixture& xb = *xb_;
  constexpr int kBatches = 12;
  const std::vector<store::OutboxMessage> due = SubmittedToXB(xa, 2 * kBatches);
  ASSERT_EQ(due.size(), static_cast<size_t>(2 * kBatches));
  const int64_t checkpoints = Count(xb, "tlog_checkpoints");  // one per transaction
  std::atomic<int> ready{0}, accepted{0}, other{0};
  std::vector<std::thread> threads;
  for (int b = 0; b < kBatches; ++b) {
    threads.emplace_back([&, b] {
      const std::vector<IncomingMessage> batch = {
          {"XA", due[2 * b].message_id, "request", due[2 * b].body},
          {"XA", due[2 * b + 1].message_id, "request", due[2 * b + 1].body}};
      ++ready;
      while (ready.load() < kBatches) std::this_thread::yield();
      for (const auto& r : xb.service->AcceptIncomingBatch(batch)) {
        (r.ok() && !r->duplicate ? accepted : other)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 2 * kBatches);
  EXPECT_EQ(other.load(), 0);
  EXPECT_LT(Count(xb, "tlog_checkpoints") - checkpoints, kBatches) << "no two batches combined";
  EXPECT_EQ(xb.service->LogState().value().size, static_cast<uint64_t>(4 * kBatches));
  EXPECT_EQ(Count(xb, "requests"), 2 * kBatches);
  EXPECT_EQ(Count(xb, "inbox"), 2 * kBatches);
  auto conn = xb.OpenDb();
  auto st = conn->Prepare("SELECT log_index FROM request_events ORDER BY log_index").value();
  std::vector<int64_t> indices;
  while (st->Step().value()) indices.push_back(st->Int64(0));
  st->Reset();
  ASSERT_EQ(indices.size(), static_cast<size_t>(4 * kBatches));
  for (size_t i = 0; i < indices.size(); ++i) EXPECT_EQ(indices[i], static_cast<int64_t>(i));
}

// A message that arrives alone (the inbox's single path) is written like a batch of one: with
// whatever else is being written at that moment.
TEST_P(IncomingBatchOnBothBackends, SingleMessagesAreCombinedToo) {
  ServiceFixture& xa = xa_;
  ServiceFixture& xb = *xb_;
  constexpr int kMessages = 12;
  const std::vector<store::OutboxMessage> due = SubmittedToXB(xa, kMessages);
  ASSERT_EQ(due.size(), static_cast<size_t>(kMessages));
  const int64_t checkpoints = Count(xb, "tlog_checkpoints");  // one per transaction
  std::atomic<int> ready{0}, accepted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kMessages; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kMessages) std::this_thread::yield();
      auto r = xb.service->AcceptIncomingRequest("XA", due[i].message_id, due[i].body);
      if (r.ok() && !r->duplicate) ++accepted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), kMessages);
  EXPECT_LT(Count(xb, "tlog_checkpoints") - checkpoints, kMessages) << "no two messages combined";
  EXPECT_EQ(xb.service->LogState().value().size, static_cast<uint64_t>(2 * kMessages));
  EXPECT_EQ(Count(xb, "inbox"), kMessages);
  // And refused alone, as in a batch.
  auto again = xb.service->AcceptIncomingRequest("XA", std::string(32, 'e'), due[0].body);
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  auto bad = xb.service->AcceptIncomingRequest("XA", "not-an-id", due[0].body);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

// A group reads every profile's version at its start: a profile changed by another connection
// (another `comity serve` on the same database) since the last group is seen by the next one,
// though the parsed profiles are kept between groups.
TEST_P(IncomingBatchOnBothBackends, AProfileChangedElsewhereIsSeenByTheNextBatch) {
  ServiceFixture& xa = xa_;
  ServiceFixture& xb = *xb_;
  const std::vector<store::OutboxMessage> due = SubmittedToXB(xa, 3);
  ASSERT_EQ(due.size(), 3u);
  auto batch = [&](int i) {
    return xb.service->AcceptIncomingBatch(
        std::vector<IncomingMessage>{{"XA", due[i].message_id, "request", due[i].body}});
  };
  auto first = batch(0);
  ASSERT_TRUE(first.at(0).ok()) << first.at(0).status().ToString();
  // Another connection removes XA's profile: XB can no longer screen XA's requests.
  auto other = xb.OpenDb();
  ASSERT_TRUE(other->Exec("DELETE FROM profiles WHERE code = 'XA'").ok());
  auto refused = batch(1);
  ASSERT_FALSE(refused.at(0).ok());
  EXPECT_EQ(refused.at(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.at(0).status().message().find("no profile for state XA"), std::string::npos)
      << refused.at(0).status().message();
  EXPECT_FALSE(xb.service->FindInboxMessage(due[1].message_id).value().has_value());
  // And puts it back.
  auto put = xb.service->PutProfile(kAdmin, "XA",
                                    testing::ReadFile(testing::SourceDir() + "/profiles/XA.json"));
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto again = batch(1);
  ASSERT_TRUE(again.at(0).ok()) << again.at(0).status().ToString();
  EXPECT_FALSE(again.at(0)->duplicate);
}

INSTANTIATE_TEST_SUITE_P(Backends, IncomingBatchOnBothBackends,
                         ::testing::Values(store::Dialect::kSqlite, store::Dialect::kPostgres),
                         store::testing::DialectParamName);

// A change of a group that fails after its log entries were staged (here: the database refuses
// its inbox row) gives them back: the entries of the changes kept are numbered without a gap,
// and the stored tiles hash to the signed root. The failed change comes first in one batch (it
// is the one that read, and on PostgreSQL locked, the log's state) and in the middle of another.
class StagedLogEntriesOnBothBackends : public XbOnBothBackends {};

TEST_P(StagedLogEntriesOnBothBackends, AFailedChangeTakesItsEntriesBack) {
  ServiceFixture& xa = xa_;
  ServiceFixture& xb = *xb_;
  const std::vector<store::OutboxMessage> due = SubmittedToXB(xa, 5);
  ASSERT_EQ(due.size(), 5u);
  ASSERT_TRUE(
      RefuseInserts(xb, GetParam(), "inbox", "message_id", {due[0].message_id, due[3].message_id})
          .ok());
  auto checkpoints = [&] { return Count(xb, "tlog_checkpoints"); };  // one per transaction
  const int64_t appended = checkpoints();
  auto message = [&](int i) {
    return IncomingMessage{"XA", due[i].message_id, "request", due[i].body};
  };
  auto first =
      xb.service->AcceptIncomingBatch(std::vector<IncomingMessage>{message(0), message(1)});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_FALSE(first[0].ok());
  EXPECT_TRUE(first[1].ok()) << first[1].status().ToString();
  auto second = xb.service->AcceptIncomingBatch(
      std::vector<IncomingMessage>{message(2), message(3), message(4)});
  ASSERT_EQ(second.size(), 3u);
  EXPECT_TRUE(second[0].ok()) << second[0].status().ToString();
  EXPECT_FALSE(second[1].ok());
  EXPECT_TRUE(second[2].ok()) << second[2].status().ToString();
  // Each batch was one transaction (the failed change undone inside it, not a batch that fell
  // back to a transaction per message).
  EXPECT_EQ(checkpoints(), appended + 2);

  // Three requests kept, two events and two entries apiece, numbered 0..5 without a gap.
  EXPECT_EQ(xb.service->LogState().value().size, 6u);
  EXPECT_EQ(Count(xb, "requests"), 3);
  auto conn = xb.OpenDb();
  for (const char* sql : {"SELECT log_index FROM request_events ORDER BY log_index",
                          "SELECT leaf_index FROM log_records ORDER BY leaf_index"}) {
    auto st = conn->Prepare(sql).value();
    std::vector<int64_t> indices;
    while (st->Step().value()) indices.push_back(st->Int64(0));
    st->Reset();
    EXPECT_EQ(indices, (std::vector<int64_t>{0, 1, 2, 3, 4, 5})) << sql;
  }
  // The stored tiles hash to the committed, signed root (Open checks).
  auto storage = OpenNodeLogStorage(conn.get()).value();
  auto reopened = tlog::Log::Open(storage.get(), xb.key);
  EXPECT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ(reopened.value()->State().value().size, 6u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StagedLogEntriesOnBothBackends,
                         ::testing::Values(store::Dialect::kSqlite, store::Dialect::kPostgres),
                         store::testing::DialectParamName);

// Combined writes are first committed optimistically (no savepoints, every write pipelined);
// when the database refuses a write of one change (here: a trigger refuses the outbox message of
// some requests), that pass is not kept and the group is written again, each change in its own
// savepoint: the refused submits fail alone, every other one is kept, the log has
// no gap.
class CombinedWriteRefusedOnBothBackends : public ::testing::TestWithParam<store::Dialect> {};

TEST_P(CombinedWriteRefusedOnBothBackends, OnlyTheRefusedChangesFail) {
  store::testing::TestDatabase db(GetParam());
  ASSERT_TRUE(db.status().ok()) << db.status().ToString();
  ServiceFixture f("XA", Disclosure::kEmbargo, nullptr, db.url());
  constexpr int kRequests = 40;
  const std::vector<std::string> ids = DraftedForXB(f, kRequests);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kRequests));
  std::vector<std::string> refused;  // every fifth request
  for (int i = 0; i < kRequests; i += 5) refused.push_back(ids[i]);
  ASSERT_TRUE(RefuseInserts(f, GetParam(), "outbox", "request_id", refused).ok());
  const uint64_t before = f.service->LogState().value().size;
  std::vector<Status> results(kRequests);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kRequests; i += 8) {
        ActionInput submit;
        submit.action = workflow::Action::kSubmit;
        results[i] = f.service->Act(kOfficer, ids[i], submit).status();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_GT(f.service->combined_writes(), 0u) << "no two writes were combined";
  int kept = 0;
  for (int i = 0; i < kRequests; ++i) {
    const std::string state = f.service->GetRequest(ids[i]).value().record.state;
    if (i % 5 == 0) {
      EXPECT_FALSE(results[i].ok()) << ids[i];
      EXPECT_NE(results[i].message().find("refused by the test"), std::string::npos)
          << results[i].ToString();
      EXPECT_EQ(state, "draft");
    } else {
      EXPECT_TRUE(results[i].ok()) << results[i].ToString();
      EXPECT_EQ(state, "submitted");
      ++kept;
    }
  }
  // One submit event, leaf and outbox message per kept submit; none for the refused ones.
  EXPECT_EQ(f.service->LogState().value().size, before + kept);
  EXPECT_EQ(Count(f, "request_events"), kRequests + kept);
  EXPECT_EQ(Count(f, "log_records"), kRequests + kept);
  EXPECT_EQ(Count(f, "outbox"), kept);
  auto conn = f.OpenDb();
  auto storage = OpenNodeLogStorage(conn.get()).value();
  auto reopened = tlog::Log::Open(storage.get(), f.key);
  EXPECT_TRUE(reopened.ok()) << reopened.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(Backends, CombinedWriteRefusedOnBothBackends,
                         ::testing::Values(store::Dialect::kSqlite, store::Dialect::kPostgres),
                         store::testing::DialectParamName);

// XA, and XB on the backend under test whose group-commit syncs fail while `failing_`.
class FailingSyncsOnBothBackends : public ::testing::TestWithParam<store::Dialect> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(db_.status().ok()) << db_.status().ToString();
    xb_ = std::make_unique<ServiceFixture>("XB", Disclosure::kEmbargo, nullptr, db_.url(),
                                           [this]() -> Status {
                                             if (failing_) {
                                               return UnavailableError("the sync failed (test)");
                                             }
                                             return OkStatus();
                                           });
  }
  std::atomic<bool> failing_{false};
  ServiceFixture xa_{"XA"};
  store::testing::TestDatabase db_{GetParam()};
  std::unique_ptr<ServiceFixture> xb_;
};

// A group kept by its commit whose sync fails is not answered as received: its messages get
// the error (a duplicate's answer waits for durability too). Sent again once syncs work, each
// is answered as a duplicate — kept once, with its entries.
TEST_P(FailingSyncsOnBothBackends, AGroupWhoseSyncFailsIsNotAnsweredAsReceived) {
  ServiceFixture& xb = *xb_;
  const std::vector<store::OutboxMessage> due = SubmittedToXB(xa_, 2);
  ASSERT_EQ(due.size(), 2u);
  const std::vector<IncomingMessage> batch = {{"XA", due[0].message_id, "request", due[0].body},
                                              {"XA", due[1].message_id, "request", due[1].body}};
  failing_ = true;
  std::vector<StatusOr<IncomingResult>> r = xb.service->AcceptIncomingBatch(batch);
  ASSERT_EQ(r.size(), 2u);
  for (const auto& one : r) {
    EXPECT_EQ(one.status().code(), StatusCode::kUnavailable) << one.status().ToString();
  }
  // The single-message path answers a duplicate only once durable, too.
  auto single = xb.service->AcceptIncomingRequest("XA", due[0].message_id, due[0].body);
  EXPECT_EQ(single.status().code(), StatusCode::kUnavailable) << single.status().ToString();
  failing_ = false;
  r = xb.service->AcceptIncomingBatch(batch);
  ASSERT_EQ(r.size(), 2u);
  for (const auto& one : r) {
    ASSERT_TRUE(one.ok()) << one.status().ToString();
    EXPECT_TRUE(one->duplicate);
  }
  EXPECT_EQ(Count(xb, "inbox"), 2);
  EXPECT_EQ(Count(xb, "requests"), 2);
  EXPECT_EQ(xb.service->LogState().value().size, 4u);
}

INSTANTIATE_TEST_SUITE_P(Backends, FailingSyncsOnBothBackends,
                         ::testing::Values(store::Dialect::kSqlite, store::Dialect::kPostgres),
                         store::testing::DialectParamName);

TEST(GroupCommitTest, ReadersNeverWaitForeverAndSeeWhatWasCommitted) {
  ServiceFixture f("XA");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    while (!stop) {
      (void)f.service->CreateDraft(kOfficer, boost::json::serialize(DraftBody("XA", "XB")));
    }
  });
  uint64_t last = 0;
  for (int i = 0; i < 200; ++i) {
    auto s = f.service->LogState();  // waits for durability of what was committed
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_GE(s->size, last);
    last = s->size;
  }
  stop = true;
  writer.join();
}

// --- waiting for more writes (ServiceOptions::group_linger) ---------------------------------

TEST(GroupLingerTest, OnlyFewQueuedWritesThatComeCloseTogetherAndHaveMetWait) {
  using std::chrono::microseconds;
  const microseconds ms(1000);
  EXPECT_TRUE(ShouldLinger(ms, 2, 500, 1));    // two queued, 0.5 ms apart
  EXPECT_TRUE(ShouldLinger(ms, 1, 500, 2));    // alone now, but the last group had two
  EXPECT_TRUE(ShouldLinger(ms, 3, 2000, 0));   // at the bound: twice the wait apart
  EXPECT_FALSE(ShouldLinger(ms, 1, 500, 1));   // one client writing one thing after another
  EXPECT_FALSE(ShouldLinger(ms, 2, 2001, 2));  // writes further apart
  EXPECT_FALSE(ShouldLinger(ms, kLingerBelow, 100, 8));    // enough to share a group already
  EXPECT_FALSE(ShouldLinger(microseconds(0), 2, 100, 2));  // waiting turned off
  EXPECT_FALSE(ShouldLinger(ms, 2, 1'000'000, 2));         // a node at rest
}

std::unique_ptr<ServiceFixture> LingerFixture(std::chrono::microseconds linger) {
  return std::make_unique<ServiceFixture>("XA", Disclosure::kEmbargo, nullptr, "", nullptr,
                                          [linger](ServiceOptions& o) { o.group_linger = linger; });
}

// `threads` threads drafting `each` requests as fast as they can: how many succeeded.
int DraftConcurrently(ServiceFixture& f, int threads, int each) {
  std::atomic<int> ok{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < each; ++i) {
        if (f.service->CreateDraft(kOfficer, boost::json::serialize(DraftBody("XA", "XB"))).ok()) {
          ++ok;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return ok.load();
}

TEST(GroupLingerTest, ConcurrentWritersWaitForEachOtherAndShareGroups) {
  // Three writers: never four queued, so every leader that has met another may wait.
  auto f = LingerFixture(std::chrono::milliseconds(5));  // wide: sanitizer builds are slow
  constexpr int kThreads = 3, kEach = 40;
  EXPECT_EQ(DraftConcurrently(*f, kThreads, kEach), kThreads * kEach);
  EXPECT_GT(f->service->write_lingers(), 0u) << "no leader waited for more writes";
  EXPECT_LE(f->service->write_lingers(), f->service->write_groups());
  EXPECT_LT(f->service->write_groups(), static_cast<uint64_t>(kThreads * kEach))
      << "no two writes shared a group";
  EXPECT_EQ(f->service->LogState().value().size, static_cast<uint64_t>(kThreads * kEach));
}

TEST(GroupLingerTest, NobodyWaitsWhenItIsTurnedOff) {
  auto f = LingerFixture(std::chrono::microseconds(0));
  EXPECT_EQ(DraftConcurrently(*f, 3, 40), 120);
  EXPECT_EQ(f->service->write_lingers(), 0u);
  EXPECT_GT(f->service->write_groups(), 0u);
}

TEST(GroupLingerTest, OneClientWritingOneThingAfterAnotherNeverWaits) {
  auto f = LingerFixture(std::chrono::milliseconds(1));  // the default
  EXPECT_EQ(DraftConcurrently(*f, 1, 60), 60);
  EXPECT_EQ(f->service->write_lingers(), 0u) << "a lone client was made to wait";
  EXPECT_EQ(f->service->write_groups(), 60u);  // each draft its own group
}

TEST(GroupLingerTest, AWaitOutsideItsRangeIsRefused) {
  for (const std::chrono::microseconds bad :
       {std::chrono::microseconds(-1), std::chrono::microseconds(10'001)}) {
    ServiceFixture base("XA");
    ServiceOptions o;
    o.state = StateCode{{'X', 'A'}};
    o.rules = testing::RuleBase();
    o.open_database = [u = base.url] { return store::Database::Connect(u); };
    o.open_log_storage = OpenNodeLogStorage;
    o.group_linger = bad;
    auto svc = NodeService::Open(std::move(o));
    ASSERT_FALSE(svc.ok());
    EXPECT_EQ(svc.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(svc.status().message().find("between 0 and 10 ms"), std::string::npos)
        << svc.status().ToString();
  }
}

class RecordDeliveriesTest : public ::testing::Test {
 protected:
  RecordDeliveriesTest() {
    PeerInput p{"XB", "http://127.0.0.1:9", RandomKey(), RandomKey(), ""};
    EXPECT_TRUE(f_.service->AddPeer(kAdmin, p, false).ok());
  }
  // Submits `n` drafts; returns their outbox message ids.
  std::vector<std::string> Submit(int n) {
    for (int i = 0; i < n; ++i) {
      auto d = f_.service->CreateDraft(kOfficer, boost::json::serialize(DraftBody("XA", "XB")));
      EXPECT_TRUE(d.ok());
      ActionInput submit;
      submit.action = workflow::Action::kSubmit;
      EXPECT_TRUE(f_.service->Act(kOfficer, d->record.id, submit).ok());
    }
    std::vector<std::string> ids;
    auto due = f_.service->DueMessages(f_.clock.Now(), 100);
    EXPECT_TRUE(due.ok());
    if (!due.ok()) return ids;
    for (const auto& m : *due) ids.push_back(m.message_id);
    return ids;
  }
  ServiceFixture f_{"XA"};
};

TEST_F(RecordDeliveriesTest, ABatchIsOneTransactionAndOneLogAppend) {
  std::vector<std::string> ids = Submit(5);
  ASSERT_EQ(ids.size(), 5u);
  const uint64_t size = f_.service->LogState().value().size;
  const int64_t checkpoints = Count(f_, "tlog_checkpoints");
  std::vector<std::pair<std::string, std::string>> batch;
  for (const auto& id : ids) batch.emplace_back(id, "receipt-of-" + id);
  std::vector<Status> r = f_.service->RecordDeliveries(batch);
  ASSERT_EQ(r.size(), 5u);
  for (const Status& s : r) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(f_.service->LogState().value().size, size + 5);   // one receipt entry each ...
  EXPECT_EQ(Count(f_, "tlog_checkpoints"), checkpoints + 1);  // ... in one append
  EXPECT_EQ(f_.service->OutboxDepth().value(), 0);
  RequestQuery q;
  q.direction = "outgoing";
  q.state = "delivered";
  auto page = f_.service->ListRequests(q).value();
  EXPECT_EQ(page.items.size(), 5u);
  // Recording the same receipts again changes nothing and is not an error.
  for (const Status& s : f_.service->RecordDeliveries(batch)) EXPECT_TRUE(s.ok());
  EXPECT_EQ(f_.service->LogState().value().size, size + 5);
}

TEST_F(RecordDeliveriesTest, EachItemHasItsOwnStatus) {
  std::vector<std::string> ids = Submit(2);
  ASSERT_EQ(ids.size(), 2u);
  ASSERT_TRUE(f_.service->RecordDelivery(ids[1], "first receipt").ok());
  std::vector<Status> r = f_.service->RecordDeliveries({{ids[0], "r0"},
                                                        {ids[0], "r0"},  // twice in one batch
                                                        {std::string(32, 'f'), "r"},
                                                        {ids[1], "another receipt"},
                                                        {ids[1], ""}});
  ASSERT_EQ(r.size(), 5u);
  EXPECT_TRUE(r[0].ok()) << r[0].ToString();
  EXPECT_TRUE(r[1].ok()) << r[1].ToString();  // the same receipt: recorded before
  EXPECT_EQ(r[2].code(), StatusCode::kNotFound);
  EXPECT_EQ(r[3].code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r[4].code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f_.service->OutboxDepth().value(), 0);
}

TEST_F(RecordDeliveriesTest, TheOutboxListenerHearsOfDurableEnqueues) {
  std::atomic<int> woken{0};
  std::vector<store::OutboxMessage> heard;
  f_.service->SetOutboxListener([&](std::vector<store::OutboxMessage> fresh) {
    ++woken;
    heard.insert(heard.end(), fresh.begin(), fresh.end());
  });
  const std::vector<std::string> ids = Submit(3);
  EXPECT_EQ(woken.load(), 3);
  // With the messages themselves, as stored.
  ASSERT_EQ(heard.size(), 3u);
  for (const store::OutboxMessage& m : heard) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), m.message_id), ids.end());
    auto stored = f_.service->FindOutboxMessage(m.message_id).value();
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(m, *stored);
  }
  auto d = f_.service->CreateDraft(kOfficer, boost::json::serialize(DraftBody("XA", "XB")));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(woken.load(), 3);  // a draft enqueues nothing
  f_.service->SetOutboxListener(nullptr);
  Submit(1);
  EXPECT_EQ(woken.load(), 3);
  EXPECT_EQ(heard.size(), 3u);
}

}  // namespace
}  // namespace comity::node
