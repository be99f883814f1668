// The node's tables through store::NodeStore and store::Outbox, on both backends: CRUD,
// optimistic concurrency (also between two connections, as between two `comity serve`
// processes), paging and filters, migrations on an existing database, reopening.
#include "store/node_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "store/log_storage.h"
#include "tests/store/test_backend.h"

namespace comity::store {
namespace {

using testing::TestDatabase;

class NodeStoreTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    t_ = std::make_unique<TestDatabase>(GetParam());
    ASSERT_TRUE(t_->status().ok()) << t_->status().ToString();
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    db_.reset();
    t_.reset();
  }
  // Simulates a restart: new connection, migrations applied again (a no-op).
  void Reopen() {
    store_.reset();
    db_.reset();
    auto db = t_->Connect();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    store_ = NodeStore::Open(db_.get()).value();
  }

  static RequestRecord Request(std::string id, int64_t created, std::string direction = "outgoing",
                               std::string state = "draft") {
    RequestRecord r;
    r.id = std::move(id);
    r.direction = std::move(direction);
    r.state = std::move(state);
    r.requesting_state = "XA";
    r.requested_state = "XB";
    r.urgency = "routine";
    r.request_json = "{\"schema\":\"comity.request/v1\"}";
    r.created_by = "ana";
    r.created = created;
    r.updated = created;
    return r;
  }

  std::unique_ptr<TestDatabase> t_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<NodeStore> store_;
};

TEST_P(NodeStoreTest, RequestRoundTripWithAndWithoutOptionalFields) {
  RequestRecord bare = Request("XA-1", 10);
  RequestRecord full = Request("XA-2", 20, "incoming", "in_review");
  full.screening_json = "{\"outcome\":\"review\"}";
  full.screening_outcome = "review";
  full.decision_json = "{}";
  full.conditions_json = "[]";
  full.respond_by = 1'000'000;
  full.awaiting_answer = true;
  full.assignee = "bo";
  ASSERT_TRUE(store_->InsertRequest(bare).ok());
  ASSERT_TRUE(store_->InsertRequest(full).ok());
  Reopen();
  EXPECT_EQ(store_->GetRequest("XA-1").value(), bare);
  EXPECT_EQ(store_->GetRequest("XA-2").value(), full);
  EXPECT_EQ(store_->GetRequest("nope").value(), std::nullopt);
  Status dup = store_->InsertRequest(bare);
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(dup.message().find("XA-1"), std::string::npos);
}

TEST_P(NodeStoreTest, OptimisticConcurrency) {
  ASSERT_TRUE(store_->InsertRequest(Request("XA-1", 10)).ok());
  RequestRecord a = store_->GetRequest("XA-1").value().value();
  RequestRecord b = a;  // two writers read version 1
  a.state = "submitted";
  a.version = 2;
  ASSERT_TRUE(store_->UpdateRequest(a, 1).ok());
  b.state = "withdrawn";
  b.version = 2;
  Status lost = store_->UpdateRequest(b, 1);
  EXPECT_EQ(lost.code(), StatusCode::kAborted);
  EXPECT_NE(lost.message().find("expected version 1, found 2"), std::string::npos);
  EXPECT_EQ(store_->GetRequest("XA-1").value()->state, "submitted");
  RequestRecord ghost = Request("XA-9", 1);
  ghost.version = 2;
  EXPECT_EQ(store_->UpdateRequest(ghost, 1).code(), StatusCode::kNotFound);
  // The version must move by exactly one.
  a.version = 5;
  EXPECT_EQ(store_->UpdateRequest(a, 2).code(), StatusCode::kInternal);
}

TEST_P(NodeStoreTest, UpdateClearsOptionalFields) {
  RequestRecord r = Request("XA-1", 10);
  r.assignee = "bo";
  r.respond_by = 5;
  ASSERT_TRUE(store_->InsertRequest(r).ok());
  r.assignee.reset();
  r.respond_by.reset();
  r.version = 2;
  ASSERT_TRUE(store_->UpdateRequest(r, 1).ok());
  EXPECT_EQ(store_->GetRequest("XA-1").value(), r);
}

// A state change that leaves the documents alone writes only the state columns; it is version
// checked like a whole update; SameDocuments tells the two kinds of change apart.
TEST_P(NodeStoreTest, StateOnlyUpdatesKeepTheDocuments) {
  RequestRecord r = Request("XA-1", 10);
  r.screening_json = "{\"outcome\":\"proceed\"}";
  ASSERT_TRUE(store_->InsertRequest(r).ok());
  RequestRecord next = r;
  next.state = "delivered";
  next.awaiting_answer = true;
  next.respond_by = 99;
  next.assignee = "bo";
  next.updated = 20;
  next.version = 2;
  EXPECT_TRUE(NodeStore::SameDocuments(r, next));
  ASSERT_TRUE(store_->UpdateRequestState(next, 1).ok());
  EXPECT_EQ(store_->GetRequest("XA-1").value(), next);
  Status stale = store_->UpdateRequestState(next, 1);  // no longer at version 1
  EXPECT_EQ(stale.code(), StatusCode::kAborted) << stale.ToString();
  RequestRecord skipped = next;
  skipped.version = 4;
  EXPECT_EQ(store_->UpdateRequestState(skipped, 2).code(), StatusCode::kInternal);
  RequestRecord changed = next;
  changed.request_json = "{\"changed\":true}";
  EXPECT_FALSE(NodeStore::SameDocuments(next, changed));
  changed.decision_json = "{}";
  EXPECT_FALSE(NodeStore::SameDocuments(next, changed));
}

TEST_P(NodeStoreTest, ListFiltersPagesAndCountsOverdue) {
  for (int i = 0; i < 7; ++i) {
    RequestRecord r = Request("XA-" + std::to_string(i), 100 + i / 2,  // equal created times
                              i % 2 ? "incoming" : "outgoing", i % 3 ? "in_review" : "draft");
    if (i < 3) {
      r.awaiting_answer = true;
      r.respond_by = 1000 + i;  // overdue at now = 1002 for i = 0, 1
    }
    ASSERT_TRUE(store_->InsertRequest(r).ok());
  }
  RequestFilter f;
  f.limit = 3;
  std::vector<std::string> seen;
  while (true) {
    auto page = store_->ListRequests(f).value();
    for (const auto& r : page) seen.push_back(r.id);
    if (page.size() < 3) break;
    f.after = std::make_pair(page.back().created, page.back().id);
  }
  // Newest first, ties by id descending, every row once.
  EXPECT_EQ(seen,
            (std::vector<std::string>{"XA-6", "XA-5", "XA-4", "XA-3", "XA-2", "XA-1", "XA-0"}));
  RequestFilter by_dir;
  by_dir.direction = "incoming";
  EXPECT_EQ(store_->ListRequests(by_dir).value().size(), 3u);
  RequestFilter by_state;
  by_state.state = "draft";
  by_state.direction = "outgoing";
  EXPECT_EQ(store_->ListRequests(by_state).value().size(), 2u);  // 0 and 6
  RequestFilter overdue;
  overdue.overdue = true;
  overdue.now = 1002;
  auto late = store_->ListRequests(overdue).value();
  ASSERT_EQ(late.size(), 2u);
  EXPECT_EQ(late[0].id, "XA-1");
  EXPECT_EQ(late[1].id, "XA-0");
  overdue.overdue = false;
  EXPECT_EQ(store_->ListRequests(overdue).value().size(), 5u);
  EXPECT_EQ(store_->CountOverdue(1002).value(), 2);
  EXPECT_EQ(store_->CountOverdue(1000).value(), 0);
  RequestFilter other;
  other.requesting_state = "XB";
  EXPECT_TRUE(store_->ListRequests(other).value().empty());
  RequestFilter too_big;
  too_big.limit = kMaxPageSize + 1;
  EXPECT_EQ(store_->ListRequests(too_big).status().code(), StatusCode::kInvalidArgument);
  too_big.limit = 0;
  EXPECT_EQ(store_->ListRequests(too_big).status().code(), StatusCode::kInvalidArgument);
  auto counts = store_->CountRequests().value();
  int64_t total = 0;
  for (const auto& c : counts) total += c.count;
  EXPECT_EQ(total, 7);
}

TEST_P(NodeStoreTest, EventsNeedTheirRequestAndAUniqueLogIndex) {
  ASSERT_TRUE(store_->InsertRequest(Request("XA-1", 10)).ok());
  EventRecord e{"XA-1", 1, 10, "ana", "create", std::nullopt, "draft", std::nullopt, "{}", 0};
  ASSERT_TRUE(store_->InsertEvent(e).ok());
  EventRecord e2{"XA-1", 2, 11, "ana", "submit", "draft", "submitted", "because", std::nullopt, 1};
  ASSERT_TRUE(store_->InsertEvent(e2).ok());
  Reopen();
  EXPECT_EQ(store_->ListEvents("XA-1").value(), (std::vector<EventRecord>{e, e2}));
  EventRecord same_index = e2;
  same_index.seq = 3;
  EXPECT_EQ(store_->InsertEvent(same_index).code(), StatusCode::kAlreadyExists);
  EventRecord orphan = e;
  orphan.request_id = "XA-404";
  orphan.log_index = 9;
  EXPECT_FALSE(store_->InsertEvent(orphan).ok());  // foreign key
  EXPECT_EQ(store_->CountEvents().value(), 2);
}

TEST_P(NodeStoreTest, LogRecordsAndTheEmbargoCutoff) {
  for (int64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->InsertLogRecord({i, std::string(64, 'a'), "{}", 100 * (i + 1)}).ok());
  }
  EXPECT_EQ(store_->InsertLogRecord({2, "b", "{}", 1}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetLogRecord(3).value()->created, 400);
  EXPECT_EQ(store_->GetLogRecord(7).value(), std::nullopt);
  EXPECT_EQ(store_->FirstLogRecordAfter(250).value(), std::optional<int64_t>(2));
  EXPECT_EQ(store_->FirstLogRecordAfter(500).value(), std::nullopt);
  EXPECT_EQ(store_->FirstLogRecordAfter(0).value(), std::optional<int64_t>(0));
  EXPECT_EQ(store_->CountLogRecords().value(), 5);
}

TEST_P(NodeStoreTest, Users) {
  UserRecord u{"ana", "officer", std::string(64, 'a'), 10, "admin", std::nullopt, std::nullopt};
  ASSERT_TRUE(store_->InsertUser(u).ok());
  EXPECT_EQ(store_->InsertUser(u).code(), StatusCode::kAlreadyExists);
  UserRecord same_hash = u;
  same_hash.name = "bo";
  EXPECT_EQ(store_->InsertUser(same_hash).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->FindUserByTokenHash(std::string(64, 'a')).value(), u);
  EXPECT_EQ(store_->FindUserByTokenHash(std::string(64, 'b')).value(), std::nullopt);
  EXPECT_EQ(store_->CountActiveUsers("officer").value(), 1);
  ASSERT_TRUE(store_->RevokeUser("ana", 20, "admin").ok());
  EXPECT_EQ(store_->RevokeUser("ana", 21, "admin").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->RevokeUser("zed", 21, "admin").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetUser("ana").value()->revoked, std::optional<int64_t>(20));
  EXPECT_EQ(store_->CountActiveUsers("officer").value(), 0);
  EXPECT_EQ(store_->ListUsers().value().size(), 1u);
}

TEST_P(NodeStoreTest, ProfilesAndPeers) {
  ProfileRecord p{"XA", "{\"a\":1}", "h1", 1, "init"};
  ASSERT_TRUE(store_->PutProfile(p).ok());
  p.profile_json = "{\"a\":2}";
  p.sha256 = "h2";
  p.updated = 2;
  ASSERT_TRUE(store_->PutProfile(p).ok());  // replaces
  EXPECT_EQ(store_->GetProfile("XA").value(), p);
  EXPECT_EQ(store_->ListProfiles().value().size(), 1u);

  PeerRecord peer{"XB", "http://b", "sk", "bk", std::nullopt, 5, 5};
  ASSERT_TRUE(store_->InsertPeer(peer).ok());
  EXPECT_EQ(store_->InsertPeer(peer).code(), StatusCode::kAlreadyExists);
  PeerRecord moved = peer;
  moved.url = "http://b2";
  moved.log_vkey = "vk";
  moved.added = 9;
  moved.updated = 9;
  ASSERT_TRUE(store_->ReplacePeer(moved).ok());
  PeerRecord stored = store_->GetPeer("XB").value().value();
  EXPECT_EQ(stored.url, "http://b2");
  EXPECT_EQ(stored.log_vkey, std::optional<std::string>("vk"));
  EXPECT_EQ(stored.added, 5);  // kept
  EXPECT_EQ(stored.updated, 9);
  EXPECT_EQ(store_->ListPeers().value().size(), 1u);
}

TEST_P(NodeStoreTest, InboxDeduplicatesByMessageId) {
  InboxRecord r{std::string(32, 'a'), "XB", "request", "sha", "XB-1", 10};
  ASSERT_TRUE(store_->InsertInbox(r).ok());
  EXPECT_EQ(store_->InsertInbox(r).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetInbox(std::string(32, 'a')).value(), r);
  EXPECT_EQ(store_->GetInbox(std::string(32, 'b')).value(), std::nullopt);
}

// The one-read lookups of the node's write path: an outbox message with its request and its
// last event number; a received message id and a request id checked together.
TEST_P(NodeStoreTest, CombinedLookupsReadWhatTheSeparateOnesRead) {
  ASSERT_TRUE(store_->InsertRequest(Request("XA-1", 10)).ok());
  const std::vector<EventRecord> events = {
      {"XA-1", 1, 10, "ana", "create", std::nullopt, "draft", std::nullopt, "{}", 0},
      {"XA-1", 2, 11, "ana", "submit", "draft", "submitted", std::nullopt, std::nullopt, 1},
      {"XA-1", 3, 12, "ana", "note", "submitted", "submitted", "r", std::nullopt, 2}};
  ASSERT_TRUE(store_->InsertEvents(events).ok());  // several rows per statement
  EXPECT_EQ(store_->ListEvents("XA-1").value(), events);
  Outbox outbox(db_.get());
  OutboxMessage with{std::string(32, '1'), "XB",         "request",   "{}", "XA-1", 10, 10, 0,
                     std::nullopt,         std::nullopt, std::nullopt};
  OutboxMessage without = with;
  without.message_id = std::string(32, '2');
  without.request_id.reset();
  OutboxMessage dangling = with;
  dangling.message_id = std::string(32, '3');
  dangling.request_id = "XA-404";
  for (const auto& m : {with, without, dangling}) ASSERT_TRUE(outbox.Enqueue(m).ok());

  // A request with its last event number, alone and several at once (in order, over more than
  // one statement's worth of ids; unknown ids and a request without events included).
  ASSERT_TRUE(store_->InsertRequest(Request("XA-3", 11)).ok());
  auto one = store_->GetRequestAndLastSeq("XA-1").value();
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->first, store_->GetRequest("XA-1").value().value());
  EXPECT_EQ(one->second, 3);
  EXPECT_FALSE(store_->GetRequestAndLastSeq("XA-404").value().has_value());
  std::vector<std::string_view> rids;
  for (size_t i = 0; i < NodeStore::kCheckRows + 2; ++i) {
    rids.push_back(i % 3 == 0 ? "XA-1" : (i % 3 == 1 ? "XA-404" : "XA-3"));
  }
  auto requests = store_->GetRequestsAndLastSeq(rids).value();
  ASSERT_EQ(requests.size(), rids.size());
  for (size_t i = 0; i < rids.size(); ++i) {
    if (rids[i] == "XA-404") {
      EXPECT_FALSE(requests[i].has_value()) << i;
      continue;
    }
    ASSERT_TRUE(requests[i].has_value()) << i;
    EXPECT_EQ(requests[i]->first.id, rids[i]) << i;
    EXPECT_EQ(requests[i]->second, rids[i] == "XA-1" ? 3 : 0) << i;
  }

  // Every number of keys from 1 to past one statement's worth (the statements have 1, 2, 4, 8
  // or 16 slots; the ones not needed are padded).
  for (size_t n = 1; n <= NodeStore::kCheckRows + 1; ++n) {
    std::vector<std::string_view> some;
    for (size_t i = 0; i < n; ++i) some.push_back(i % 2 == 0 ? "XA-1" : "XA-404");
    auto got = store_->GetRequestsAndLastSeq(some).value();
    ASSERT_EQ(got.size(), n);
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(got[i].has_value(), i % 2 == 0) << n << " " << i;
  }

  auto found = store_->GetOutboxWithRequest(with.message_id).value();
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->message.body.empty());  // not read: recording a delivery does not need it
  found->message.body = with.body;
  EXPECT_EQ(found->message, with);
  ASSERT_TRUE(found->request.has_value());
  EXPECT_EQ(found->request->first, store_->GetRequest("XA-1").value().value());
  EXPECT_EQ(found->request->second, 3);
  auto alone = store_->GetOutboxWithRequest(without.message_id).value();
  ASSERT_TRUE(alone.has_value());
  alone->message.body = without.body;
  EXPECT_EQ(alone->message, without);
  EXPECT_FALSE(alone->request.has_value());
  auto lost = store_->GetOutboxWithRequest(dangling.message_id).value();
  ASSERT_TRUE(lost.has_value());
  EXPECT_FALSE(lost->request.has_value());
  EXPECT_FALSE(store_->GetOutboxWithRequest(std::string(32, '9')).value().has_value());
  // Many at once, in order, over more than one statement's worth of ids.
  const std::string unknown(32, '9');
  std::vector<std::string_view> wanted;
  for (size_t i = 0; i < NodeStore::kCheckRows + 3; ++i) {
    const std::string_view pick[] = {with.message_id, without.message_id, dangling.message_id,
                                     unknown};
    wanted.push_back(pick[i % 4]);
  }
  auto sent = store_->GetOutboxesWithRequest(wanted).value();
  ASSERT_EQ(sent.size(), wanted.size());
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i] == unknown) {
      EXPECT_FALSE(sent[i].has_value()) << i;
      continue;
    }
    ASSERT_TRUE(sent[i].has_value()) << i;
    EXPECT_EQ(sent[i]->message.message_id, wanted[i]) << i;
    EXPECT_EQ(sent[i]->request.has_value(), wanted[i] == with.message_id) << i;
    if (sent[i]->request) {
      EXPECT_EQ(sent[i]->request->first.id, "XA-1") << i;
      EXPECT_EQ(sent[i]->request->second, 3) << i;
    }
  }
  EXPECT_TRUE(store_->GetOutboxesWithRequest({}).value().empty());

  InboxRecord r{std::string(32, 'a'), "XB", "request", "sha", "XB-1", 10};
  ASSERT_TRUE(store_->InsertInbox(r).ok());
  auto seen = store_->CheckInbox(r.message_id, "XA-1").value();
  EXPECT_EQ(seen.inbox, std::optional<InboxRecord>(r));
  EXPECT_TRUE(seen.request_exists);
  auto fresh = store_->CheckInbox(std::string(32, 'b'), "XA-2").value();
  EXPECT_EQ(fresh.inbox, std::nullopt);
  EXPECT_FALSE(fresh.request_exists);
  auto no_id = store_->CheckInbox(std::string(32, 'b'), "").value();
  EXPECT_FALSE(no_id.request_exists);

  // Many at once, in order, over more than one statement's worth of keys.
  std::vector<std::string> ids;
  std::vector<NodeStore::InboxKey> keys;
  for (size_t i = 0; i < NodeStore::kCheckRows + 5; ++i) ids.push_back(std::string(32, 'c'));
  for (size_t i = 0; i < ids.size(); ++i) ids[i].replace(0, 4, std::to_string(1000 + i));
  for (size_t i = 0; i < ids.size(); ++i) {
    keys.push_back({ids[i], i % 3 == 0 ? "XA-1" : (i % 3 == 1 ? "XA-2" : "")});
  }
  keys[NodeStore::kCheckRows + 1].message_id = r.message_id;  // in the second statement
  keys[2].message_id = r.message_id;                          // twice
  auto many = store_->CheckInboxes(keys).value();
  ASSERT_EQ(many.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool received = keys[i].message_id == r.message_id;
    EXPECT_EQ(many[i].inbox, received ? std::optional<InboxRecord>(r) : std::nullopt) << i;
    EXPECT_EQ(many[i].request_exists, keys[i].request_id == "XA-1") << i;
  }
  EXPECT_TRUE(store_->CheckInboxes({}).value().empty());
  for (size_t n = 1; n <= NodeStore::kCheckRows + 1; ++n) {
    std::vector<NodeStore::InboxKey> some(keys.begin(), keys.begin() + n);
    some.back().message_id = r.message_id;  // the last key is always in the last slot used
    auto got = store_->CheckInboxes(some).value();
    ASSERT_EQ(got.size(), n);
    EXPECT_EQ(got.back().inbox, std::optional<InboxRecord>(r)) << n;
    EXPECT_EQ(got.front().request_exists, some.front().request_id == "XA-1") << n;
  }
}

TEST_P(NodeStoreTest, OutboxLifecycle) {
  Outbox outbox(db_.get());
  OutboxMessage m{std::string(32, '1'), "XB",         "request",   "{}", "XA-1", 10, 10, 0,
                  std::nullopt,         std::nullopt, std::nullopt};
  OutboxMessage later = m;
  later.message_id = std::string(32, '2');
  later.next_attempt = 50;
  ASSERT_TRUE(outbox.Enqueue(m).ok());
  ASSERT_TRUE(outbox.Enqueue(later).ok());
  EXPECT_EQ(outbox.Enqueue(m).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(outbox.Depth().value(), 2);
  auto due = outbox.Due(20, 10).value();
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0], m);
  ASSERT_TRUE(outbox.Reschedule(m.message_id, 100, "connection refused").ok());
  EXPECT_TRUE(outbox.Due(20, 10).value().empty());
  due = outbox.Due(100, 10).value();
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].message_id, later.message_id);  // due earlier
  EXPECT_EQ(due[1].attempts, 1);
  EXPECT_EQ(due[1].last_error, std::optional<std::string>("connection refused"));
  ASSERT_TRUE(outbox.MarkDelivered(m.message_id, "receipt", 120).ok());
  EXPECT_EQ(outbox.MarkDelivered(m.message_id, "receipt", 121).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(outbox.Reschedule(m.message_id, 130, "x").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(outbox.MarkDelivered(std::string(32, '9'), "r", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(outbox.Depth().value(), 1);
  OutboxMessage got = outbox.Get(m.message_id).value().value();
  EXPECT_EQ(got.receipt, std::optional<std::string>("receipt"));
  EXPECT_EQ(got.delivered, std::optional<int64_t>(120));
  EXPECT_EQ(outbox.Due(1000, 0).status().code(), StatusCode::kInvalidArgument);
  // Survives a restart.
  Reopen();
  Outbox again(db_.get());
  EXPECT_EQ(again.Depth().value(), 1);
}

// The dispatcher reads on from the last message it read: the order is (next_attempt, created,
// message_id), and a position takes only what comes after it in that order.
TEST_P(NodeStoreTest, OutboxDueReadsOnFromAPosition) {
  Outbox outbox(db_.get());
  auto message = [](char id, int64_t next, int64_t created) {
    return OutboxMessage{std::string(32, id), "XB",         "request",   "{}",
                         std::nullopt,        created,      next,        0,
                         std::nullopt,        std::nullopt, std::nullopt};
  };
  // In order: a (10, 5), b (10, 7), c (10, 7), d (20, 1), e (30, 30); f is not due yet.
  for (const auto& m : {message('d', 20, 1), message('c', 10, 7), message('e', 30, 30),
                        message('a', 10, 5), message('b', 10, 7), message('f', 99, 1)}) {
    ASSERT_TRUE(outbox.Enqueue(m).ok());
  }
  auto ids = [](const std::vector<OutboxMessage>& due) {
    std::string out;
    for (const OutboxMessage& m : due) out += m.message_id[0];
    return out;
  };
  EXPECT_EQ(ids(outbox.Due(50, 10).value()), "abcde");
  auto after = [](char id, int64_t next, int64_t created) {
    return Outbox::Position{next, created, std::string(32, id)};
  };
  Outbox::Position p = after('b', 10, 7);
  EXPECT_EQ(ids(outbox.Due(50, 10, &p).value()), "cde");  // the same time: by message id
  p = after('a', 10, 5);
  EXPECT_EQ(ids(outbox.Due(50, 2, &p).value()), "bc");  // and the limit still holds
  p = after('z', 10, 5);
  EXPECT_EQ(ids(outbox.Due(50, 10, &p).value()), "bcde");  // created breaks the tie first
  p = after('d', 20, 1);
  EXPECT_EQ(ids(outbox.Due(50, 10, &p).value()), "e");
  EXPECT_EQ(ids(outbox.Due(25, 10, &p).value()), "");  // e is not due at 25
  p = after('e', 30, 30);
  EXPECT_EQ(ids(outbox.Due(1000, 10, &p).value()), "f");
  EXPECT_EQ(outbox.Due(50, 0, &p).status().code(), StatusCode::kInvalidArgument);
}

TEST_P(NodeStoreTest, MigrationsApplyOnceAndRefuseANewerSchema) {
  EXPECT_EQ(SchemaVersion(*db_, "node").value(), 1);
  ASSERT_TRUE(store_->InsertRequest(Request("XA-1", 1)).ok());
  Reopen();  // applying again on an existing database keeps the data
  EXPECT_TRUE(store_->GetRequest("XA-1").value().has_value());
  ASSERT_TRUE(db_->Exec("INSERT INTO schema_migrations(component, version, name, applied_at) "
                        "VALUES ('node', 2, 'from the future', 0)")
                  .ok());
  store_.reset();
  auto again = NodeStore::Open(db_.get());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("newer than this program knows"), std::string::npos);
}

TEST_P(NodeStoreTest, NodeTablesShareTheDatabaseWithTheLog) {
  // A node database opened first as a log (comity log init) gains the node's tables, and the
  // other way round.
  TestDatabase other(GetParam());
  auto db = other.Connect().value();
  auto log_storage = SqlLogStorage::Open(db.get()).value();
  auto ns = NodeStore::Open(db.get()).value();
  EXPECT_EQ(SchemaVersion(*db, "tlog").value(), 1);
  EXPECT_EQ(SchemaVersion(*db, "node").value(), 1);
}

TEST_P(NodeStoreTest, OptimisticConcurrencyAcrossConnections) {
  // Two processes load version 1 of the same request and change it in transactions that
  // overlap: the second waits for the first (PostgreSQL: the row lock; SQLite: the write lock),
  // then finds version 2 and is told to reload (kAborted), never overwriting the first.
  ASSERT_TRUE(store_->InsertRequest(Request("XA-1", 10)).ok());
  auto other_db = t_->Connect({.busy_timeout = std::chrono::milliseconds(20000)}).value();
  auto other = NodeStore::Open(other_db.get()).value();
  RequestRecord a = store_->GetRequest("XA-1").value().value();
  RequestRecord b = other->GetRequest("XA-1").value().value();
  a.state = "submitted";
  a.version = 2;
  b.state = "withdrawn";
  b.version = 2;
  ASSERT_TRUE(db_->Begin().ok());
  ASSERT_TRUE(store_->UpdateRequest(a, 1).ok());
  // (On PostgreSQL the update is pipelined: the next read sends it, and it takes the row lock.)
  ASSERT_EQ(store_->GetRequest("XA-1").value()->version, 2);
  Status second;
  std::thread t([&] {
    second = other_db->Begin();
    if (second.ok()) second = other->UpdateRequest(b, 1);
    if (second.ok()) second = other_db->Commit();
    other_db->Rollback().IgnoreError();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it wait for our lock
  ASSERT_TRUE(db_->Commit().ok());
  t.join();
  EXPECT_EQ(second.code(), StatusCode::kAborted) << second.ToString();
  // SQLite refuses the update at once and says what it found; PostgreSQL (pipelined) at the
  // commit.
  EXPECT_NE(second.message().find("changed concurrently"), std::string::npos) << second.message();
  EXPECT_EQ(other->GetRequest("XA-1").value()->state, "submitted");
  // With the current version the other connection succeeds.
  b.version = 3;
  ASSERT_TRUE(other->UpdateRequest(b, 2).ok());
  EXPECT_EQ(store_->GetRequest("XA-1").value()->state, "withdrawn");
}

TEST_P(NodeStoreTest, CountsListNoOutcomeFirstOnBothBackends) {
  RequestRecord screened = Request("XA-1", 10, "incoming", "in_review");
  screened.screening_outcome = "review";
  ASSERT_TRUE(store_->InsertRequest(screened).ok());
  RequestRecord plain = Request("XA-2", 11, "incoming", "in_review");
  ASSERT_TRUE(store_->InsertRequest(plain).ok());
  auto counts = store_->CountRequests().value();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[0].screening_outcome, "");
  EXPECT_EQ(counts[1].screening_outcome, "review");
}

INSTANTIATE_TEST_SUITE_P(Backends, NodeStoreTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         testing::DialectParamName);

}  // namespace
}  // namespace comity::store
