// The inbox: every refusal with its status and security event (and nothing handed to the node),
// exactly-once dispatch, the original receipt for a retry (also after a restart), and replays.
#include "federation/inbox.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "federation/batch.h"
#include "tests/federation/fakes.h"

namespace comity::federation {
namespace {

using testing::CountingObserver;
using testing::FakeNode;
using testing::FakePeers;
using testing::FixedCheckpoint;
using testing::KeysOf;
using testing::MakeIdentity;
using testing::TempDir;
using testing::TestClock;

namespace json = boost::json;

class InboxTest : public ::testing::Test {
 protected:
  InboxTest() : store_(testing::OpenStore(dir_ / "fed.db")) {
    peers_.Add(xa_, "http://xa");
    inbox_ = MakeInbox();
  }
  std::unique_ptr<Inbox> MakeInbox(InboxOptions o = {}) {
    return std::make_unique<Inbox>(xb_, &peers_, &node_, store_.get(), &checkpoint_, nullptr,
                                   clock_, o, &observer_);
  }
  std::string Seal(const Message& m, const Identity& from, Timestamp at) {
    return SealEnvelope(from, KeysOf(xb_), m, at);
  }
  std::string Seal(const Message& m) { return Seal(m, xa_, clock_.Now()); }
  std::vector<SecurityEvent> Events() {
    auto page = store_->ListSecurityEvents("", "", 100);
    EXPECT_TRUE(page.ok());
    return page.ok() ? page->items : std::vector<SecurityEvent>{};
  }

  TempDir dir_;
  TestClock clock_;
  Identity xa_ = MakeIdentity("XA");
  Identity xb_ = MakeIdentity("XB");
  FakePeers peers_;
  FakeNode node_;
  FixedCheckpoint checkpoint_{"comity/XB/main\n5\nroot\n"};
  CountingObserver observer_;
  std::unique_ptr<FederationStore> store_;
  std::unique_ptr<Inbox> inbox_;
  Message msg_{NewMessageId(), "request", R"({"schema":"comity.request/v1","n":1})", "cp-a\n"};
};

TEST_F(InboxTest, AcceptsAndAnswersWithAVerifiableReceipt) {
  InboxAnswer a = inbox_->Receive(Seal(msg_), "10.0.0.1");
  ASSERT_EQ(a.http_status, 200) << a.error.ToString();
  auto r = VerifyReceipt(a.receipt, KeysOf(xb_), msg_.id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->to, "XA");
  EXPECT_EQ(r->from, "XB");
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->body_sha256, testing::Sha256Hex(msg_.body));
  EXPECT_EQ(r->checkpoint, "comity/XB/main\n5\nroot\n");
  ASSERT_EQ(node_.applied().size(), 1u);
  EXPECT_EQ(node_.applied()[0].body, msg_.body);
  EXPECT_EQ(node_.applied()[0].from, "XA");
  EXPECT_TRUE(Events().empty());
  EXPECT_EQ(observer_.Count("received:XA:request"), 1);
}

TEST_F(InboxTest, ARetryGetsTheOriginalReceiptAndIsAppliedOnce) {
  InboxAnswer first = inbox_->Receive(Seal(msg_), "10.0.0.1");
  ASSERT_EQ(first.http_status, 200);
  clock_.Advance(std::chrono::seconds(30));
  // The sender re-seals the same message with a fresh `sent`: different bytes, same id and body.
  InboxAnswer again = inbox_->Receive(Seal(msg_), "10.0.0.1");
  ASSERT_EQ(again.http_status, 200);
  EXPECT_EQ(again.receipt, first.receipt);
  EXPECT_EQ(node_.applied().size(), 1u);
  EXPECT_EQ(node_.handle_calls(), 1);  // the duplicate never reached the node
  EXPECT_EQ(observer_.Count("received:XA:request:dup"), 1);
}

TEST_F(InboxTest, TheOriginalReceiptSurvivesARestart) {
  InboxAnswer first = inbox_->Receive(Seal(msg_), "10.0.0.1");
  ASSERT_EQ(first.http_status, 200);
  ASSERT_TRUE(inbox_->Flush().ok());
  inbox_.reset();
  auto restarted = MakeInbox();
  InboxAnswer again = restarted->Receive(Seal(msg_), "10.0.0.1");
  ASSERT_EQ(again.http_status, 200);
  EXPECT_EQ(again.receipt, first.receipt);
}

TEST_F(InboxTest, AReceiptLostInACrashIsReissuedMarkedDuplicate) {
  InboxAnswer first = inbox_->Receive(Seal(msg_), "10.0.0.1");
  ASSERT_EQ(first.http_status, 200);
  // No Flush: the write-behind never ran; a new inbox has neither cache nor stored receipt.
  auto restarted = std::make_unique<Inbox>(xb_, &peers_, &node_, store_.get(), &checkpoint_,
                                           nullptr, clock_, InboxOptions{}, nullptr);
  InboxAnswer again = restarted->Receive(Seal(msg_), "10.0.0.1");
  ASSERT_EQ(again.http_status, 200);
  auto r = VerifyReceipt(again.receipt, KeysOf(xb_), msg_.id);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->duplicate);
  EXPECT_EQ(r->body_sha256, testing::Sha256Hex(msg_.body));
  EXPECT_EQ(node_.applied().size(), 1u);
}

TEST_F(InboxTest, ARaceLostToAnotherDeliveryAnswersAsADuplicate) {
  ASSERT_EQ(inbox_->Receive(Seal(msg_), "10.0.0.1").http_status, 200);
  node_.HideLookups(true);  // the lookup misses, Handle finds the duplicate
  InboxOptions no_cache;
  no_cache.receipt_cache = 0;
  auto other = MakeInbox(no_cache);
  InboxAnswer a = other->Receive(Seal(msg_), "10.0.0.1");
  ASSERT_EQ(a.http_status, 200);
  EXPECT_EQ(node_.applied().size(), 1u);
}

TEST_F(InboxTest, AReplayWithDifferentContentIsRefusedAndRecorded) {
  ASSERT_EQ(inbox_->Receive(Seal(msg_), "10.0.0.1").http_status, 200);
  Message forged = msg_;
  forged.body = R"({"schema":"comity.request/v1","n":2})";
  InboxAnswer a = inbox_->Receive(Seal(forged), "10.0.0.9");
  EXPECT_EQ(a.http_status, 409);
  EXPECT_EQ(a.kind, "replay");
  EXPECT_EQ(a.error.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(node_.applied().size(), 1u);
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "replay");
  EXPECT_EQ(events[0].http_status, 409);
  EXPECT_EQ(events[0].claimed_from, "XA");
  EXPECT_EQ(events[0].claimed_id, msg_.id);
  EXPECT_EQ(events[0].remote, "10.0.0.9");
  EXPECT_EQ(observer_.Count("security:replay"), 1);
}

// Every refusal of OpenEnvelope: its HTTP status, one security event of its kind, and nothing
// handed to the node.
struct RefusalCase {
  std::string name;
  int status;
  std::string kind;
};

class InboxRefusalTest : public InboxTest, public ::testing::WithParamInterface<RefusalCase> {
 protected:
  std::string Wire(const std::string& name) {
    if (name == "oversize") {
      Message big = msg_;
      big.body = std::string(3 << 20, 'x');
      return Seal(big);
    }
    if (name == "malformed") return R"({"schema":"comity.envelope/v1","id":"x"})";
    if (name == "wrong_recipient") {
      Identity xc = MakeIdentity("XC");
      return SealEnvelope(xa_, KeysOf(xc), msg_, clock_.Now());
    }
    if (name == "unknown_sender") return Seal(msg_, MakeIdentity("XD"), clock_.Now());
    if (name == "bad_signature") return Seal(msg_, MakeIdentity("XA"), clock_.Now());  // forger
    if (name == "stale_timestamp") {
      return Seal(msg_, xa_, Timestamp{clock_.Now().seconds - 301, 0});
    }
    if (name == "future_timestamp") {
      return Seal(msg_, xa_, Timestamp{clock_.Now().seconds + 301, 0});
    }
    if (name == "undecryptable") {
      // Sealed to another box key but addressed and signed correctly.
      PeerKeys wrong = KeysOf(xb_);
      wrong.box_key = crypto::X25519PrivateKey::Generate().public_key();
      return SealEnvelope(xa_, wrong, msg_, clock_.Now());
    }
    return "";
  }
};

TEST_P(InboxRefusalTest, IsRefusedAndRecordedWithNothingApplied) {
  const RefusalCase& c = GetParam();
  const std::string wire = Wire(c.name);
  InboxAnswer a = inbox_->Receive(wire, "192.0.2.7");
  EXPECT_EQ(a.http_status, c.status) << a.error.ToString();
  EXPECT_EQ(a.kind, c.kind);
  EXPECT_FALSE(a.error.ok());
  EXPECT_TRUE(a.receipt.empty());
  EXPECT_EQ(node_.handle_calls(), 0);
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, c.kind);
  EXPECT_EQ(events[0].http_status, c.status);
  EXPECT_EQ(events[0].remote, "192.0.2.7");
  EXPECT_EQ(events[0].size, static_cast<int64_t>(wire.size()));
  EXPECT_EQ(events[0].envelope_sha256, testing::Sha256Hex(wire));
  EXPECT_FALSE(events[0].detail.empty());
  // Nothing of the envelope itself is kept.
  EXPECT_EQ(events[0].detail.find("sealed_body"), std::string::npos);
  EXPECT_LE(events[0].detail.size(), kMaxSecurityDetailBytes + 3);
  EXPECT_EQ(observer_.Count("security:" + c.kind), 1);
}

INSTANTIATE_TEST_SUITE_P(AllRefusals, InboxRefusalTest,
                         ::testing::Values(RefusalCase{"oversize", 413, "oversize"},
                                           RefusalCase{"malformed", 400, "malformed"},
                                           RefusalCase{"wrong_recipient", 403, "wrong_recipient"},
                                           RefusalCase{"unknown_sender", 401, "unknown_sender"},
                                           RefusalCase{"bad_signature", 401, "bad_signature"},
                                           RefusalCase{"stale_timestamp", 401, "stale_timestamp"},
                                           RefusalCase{"future_timestamp", 401, "stale_timestamp"},
                                           RefusalCase{"undecryptable", 400, "undecryptable"}),
                         [](const auto& info) { return info.param.name; });

TEST_F(InboxTest, TheEnvelopeLimitIsAnOption) {
  InboxOptions o;
  o.open.max_bytes = 300;
  auto small = MakeInbox(o);
  const std::string wire = Seal(msg_);
  ASSERT_GT(wire.size(), 300u);
  InboxAnswer a = small->Receive(wire, "10.0.0.1");
  EXPECT_EQ(a.http_status, 413);
  EXPECT_EQ(a.error.message(),
            "envelope of " + std::to_string(wire.size()) + " bytes exceeds the limit of 300");
}

TEST_F(InboxTest, TheClockSkewIsAnOption) {
  InboxOptions o;
  o.open.max_clock_skew_seconds = 10;
  auto strict = MakeInbox(o);
  InboxAnswer a = strict->Receive(Seal(msg_, xa_, Timestamp{clock_.Now().seconds - 11, 0}), "x");
  EXPECT_EQ(a.http_status, 401);
  EXPECT_EQ(a.kind, "stale_timestamp");
  InboxAnswer b = strict->Receive(Seal(msg_, xa_, Timestamp{clock_.Now().seconds - 9, 0}), "x");
  EXPECT_EQ(b.http_status, 200);
}

TEST_F(InboxTest, TheNodesRefusalsMapToStatusesAndSuspiciousOnesAreRecorded) {
  struct Case {
    Status error;
    int status;
    std::string kind;  // empty: no security event
  };
  const Case cases[] = {
      {InvalidArgumentError("not a request", "/id"), 400, "invalid_body"},
      {PermissionDeniedError("XA cannot answer request XB-1"), 403, "not_permitted"},
      {NotFoundError("no request XB-2026-1"), 404, "unknown_request"},
      {AlreadyExistsError("a request with id XA-1 already exists"), 409, "conflict"},
      {FailedPreconditionError("answered is not allowed from submitted"), 409, ""},
      {UnavailableError("database is locked"), 503, ""},
  };
  int events = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.error.ToString());
    node_.FailNext(c.error);
    Message m = msg_;
    m.id = NewMessageId();
    InboxAnswer a = inbox_->Receive(Seal(m), "10.0.0.1");
    EXPECT_EQ(a.http_status, c.status);
    EXPECT_EQ(a.kind, c.kind);
    if (!c.kind.empty()) ++events;
    EXPECT_EQ(static_cast<int>(Events().size()), events);
  }
  EXPECT_TRUE(node_.applied().empty());
}

TEST_F(InboxTest, AnUnreadableTrustListIsNotTheSendersFault) {
  peers_.set_fail(true);
  InboxAnswer a = inbox_->Receive(Seal(msg_), "10.0.0.1");
  EXPECT_EQ(a.http_status, 503);
  EXPECT_TRUE(Events().empty());
}

TEST_F(InboxTest, OffersTheSendersCheckpointToTheGossipOnlyWhenAuthentic) {
  struct Sink : CheckpointSink {
    void Offer(const std::string& peer, const std::string& note) override {
      offers.push_back(peer + ":" + note);
    }
    std::vector<std::string> offers;
  } sink;
  Inbox inbox(xb_, &peers_, &node_, store_.get(), &checkpoint_, &sink, clock_, {}, nullptr);
  ASSERT_EQ(inbox.Receive(Seal(msg_), "x").http_status, 200);
  ASSERT_EQ(inbox.Receive(Seal(msg_, MakeIdentity("XA"), clock_.Now()), "x").http_status, 401);
  ASSERT_EQ(sink.offers.size(), 1u);
  EXPECT_EQ(sink.offers[0], "XA:cp-a\n");
}

TEST_F(InboxTest, SecurityEventsKeepOnlyBoundedPrintableClaims) {
  json::object o = json::parse(Seal(msg_)).as_object();
  o["id"] = std::string(200, 'z') + "\x01\x7f";
  o["from"] = "X\nA";
  const std::string wire = json::serialize(o);
  InboxAnswer a = inbox_->Receive(wire, "10.0.0.1");
  EXPECT_EQ(a.http_status, 400);
  EXPECT_EQ(a.kind, "malformed");
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].claimed_id, std::string(kMaxClaimedFieldBytes, 'z'));
  EXPECT_EQ(events[0].claimed_from, "X?A");
}

TEST_F(InboxTest, ABatchIsAnsweredEnvelopeByEnvelopeAndAppliedTogether) {
  const Message second{NewMessageId(), "request", R"({"schema":"comity.request/v1","n":2})", ""};
  const Message replayed{msg_.id, "request", R"({"schema":"comity.request/v1","n":99})", ""};
  ASSERT_EQ(inbox_->Receive(Seal(msg_), "10.0.0.1").http_status, 200);  // received before
  const Identity stranger = MakeIdentity("XQ");
  const Message fresh{NewMessageId(), "request", R"({"schema":"comity.request/v1","n":3})", ""};
  const std::vector<std::string> wires = {
      Seal(second),                         // new: applied
      Seal(msg_),                           // a retry: the original receipt
      Seal(replayed),                       // a known id with other content: replay
      Seal(fresh, stranger, clock_.Now()),  // unknown sender
      "not json",                           // malformed
      Seal(second),                         // the same id twice in one batch: a duplicate
  };
  std::vector<InboxAnswer> answers = inbox_->ReceiveBatch(wires, "10.0.0.1");
  ASSERT_EQ(answers.size(), wires.size());
  EXPECT_EQ(answers[0].http_status, 200) << answers[0].error.ToString();
  auto r0 = VerifyReceipt(answers[0].receipt, KeysOf(xb_), second.id);
  ASSERT_TRUE(r0.ok()) << r0.status().ToString();
  EXPECT_FALSE(r0->duplicate);
  EXPECT_EQ(answers[1].http_status, 200);
  EXPECT_TRUE(VerifyReceipt(answers[1].receipt, KeysOf(xb_), msg_.id).ok());
  EXPECT_EQ(answers[2].http_status, 409);
  EXPECT_EQ(answers[2].kind, "replay");
  EXPECT_EQ(answers[3].http_status, 401);
  EXPECT_EQ(answers[3].kind, "unknown_sender");
  EXPECT_EQ(answers[4].http_status, 400);
  EXPECT_EQ(answers[4].kind, "malformed");
  EXPECT_EQ(answers[5].http_status, 200);
  EXPECT_EQ(answers[5].receipt, answers[0].receipt);  // the receipt given for that id
  // Each message applied once; the new one went to the node in one batch.
  ASSERT_EQ(node_.applied().size(), 2u);
  EXPECT_EQ(node_.applied()[1].body, second.body);
  ASSERT_EQ(node_.batch_sizes().size(), 1u);
  EXPECT_EQ(node_.batch_sizes()[0], 1u);
  // The refusals are security events, as for single envelopes.
  EXPECT_EQ(Events().size(), 3u);
}

TEST_F(InboxTest, ABatchOfNewMessagesGoesToTheNodeInOneCall) {
  std::vector<std::string> wires;
  for (int i = 0; i < 10; ++i) {
    wires.push_back(
        Seal(Message{NewMessageId(), "request", R"({"n":)" + std::to_string(i) + "}", ""}));
  }
  std::vector<InboxAnswer> answers = inbox_->ReceiveBatch(wires, "10.0.0.1");
  for (const InboxAnswer& a : answers) EXPECT_EQ(a.http_status, 200) << a.error.ToString();
  EXPECT_EQ(node_.applied().size(), 10u);
  ASSERT_EQ(node_.batch_sizes().size(), 1u);
  EXPECT_EQ(node_.batch_sizes()[0], 10u);
  // New ids are not looked up before the node has them (its one read under the writer sees
  // whether they are known).
  EXPECT_TRUE(node_.lookup_batch_sizes().empty());
  // The same batch again: ids this inbox receipted lately are looked up together, once, and
  // answered with their receipts without the node.
  std::vector<InboxAnswer> again = inbox_->ReceiveBatch(wires, "10.0.0.1");
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].http_status, 200) << again[i].error.ToString();
    EXPECT_EQ(again[i].receipt, answers[i].receipt);
  }
  EXPECT_EQ(node_.lookup_batch_sizes(), std::vector<size_t>{10u});
  EXPECT_EQ(node_.handle_calls(), 10);
  EXPECT_EQ(node_.applied().size(), 10u);
}

// Envelopes signed together are checked as the others are, each on its own; on request the
// receipts of the messages accepted are signed together, each still a receipt on its own, and a
// retry after a restart gets that receipt again, byte for byte.
TEST_F(InboxTest, ABatchSignedTogetherIsAnsweredWithReceiptsSignedTogether) {
  std::vector<Message> ms;
  for (int i = 0; i < 6; ++i) {
    ms.push_back(Message{NewMessageId(), "request", R"({"n":)" + std::to_string(i) + "}", ""});
  }
  std::vector<std::string> wires = SealEnvelopes(xa_, KeysOf(xb_), ms, clock_.Now());
  // One envelope of the batch changed on the way: refused alone, as a bad signature.
  json::object o = json::parse(wires[4]).as_object();
  o["kind"] = "decision";
  wires[4] = json::serialize(o);
  std::vector<InboxAnswer> answers =
      inbox_->ReceiveBatch(wires, "10.0.0.1", Inbox::ReceiptSigning::kTogether);
  ASSERT_EQ(answers.size(), wires.size());
  EXPECT_EQ(answers[4].http_status, 401);
  EXPECT_EQ(answers[4].kind, "bad_signature");
  std::string signature;
  for (size_t i = 0; i < ms.size(); ++i) {
    if (i == 4) continue;
    ASSERT_EQ(answers[i].http_status, 200) << answers[i].error.ToString();
    auto r = VerifyReceipt(answers[i].receipt, KeysOf(xb_), ms[i].id);  // on its own
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const json::object receipt = json::parse(answers[i].receipt).as_object();
    EXPECT_EQ(receipt.at("batch").at("size").as_int64(), 5);
    if (signature.empty()) signature = std::string(receipt.at("signature").as_string());
    EXPECT_EQ(receipt.at("signature").as_string(), signature);  // one signature for the five
  }
  EXPECT_EQ(node_.applied().size(), 5u);
  ASSERT_TRUE(inbox_->Flush().ok());
  inbox_.reset();
  auto restarted = MakeInbox();
  InboxAnswer again = restarted->Receive(wires[2], "10.0.0.1");
  ASSERT_EQ(again.http_status, 200);
  EXPECT_EQ(again.receipt, answers[2].receipt);
  // Without the request, receipts are signed one by one.
  std::vector<Message> more = {Message{NewMessageId(), "request", R"({"n":7})", ""},
                               Message{NewMessageId(), "request", R"({"n":8})", ""}};
  std::vector<InboxAnswer> each =
      restarted->ReceiveBatch(SealEnvelopes(xa_, KeysOf(xb_), more, clock_.Now()), "10.0.0.1");
  for (size_t i = 0; i < more.size(); ++i) {
    ASSERT_EQ(each[i].http_status, 200);
    EXPECT_FALSE(json::parse(each[i].receipt).as_object().contains("batch"));
    EXPECT_TRUE(VerifyReceipt(each[i].receipt, KeysOf(xb_), more[i].id).ok());
  }
}

// A message seen before but no longer in the inbox's receipt cache (after a restart) goes to
// the node, which finds it: answered as a duplicate, or refused as a replay — as when looked up.
TEST_F(InboxTest, AMessageSeenBeforeARestartIsFoundByTheNode) {
  const std::string wire = Seal(msg_);
  ASSERT_EQ(inbox_->ReceiveBatch(std::vector<std::string>{wire}, "10.0.0.1")[0].http_status, 200);
  auto fresh = MakeInbox();  // its receipt cache is empty
  std::vector<InboxAnswer> dup = fresh->ReceiveBatch(std::vector<std::string>{wire}, "10.0.0.1");
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0].http_status, 200) << dup[0].error.ToString();
  EXPECT_TRUE(VerifyReceipt(dup[0].receipt, KeysOf(xb_), msg_.id).ok());
  Message other = msg_;
  other.body = R"({"other":true})";
  std::vector<InboxAnswer> replay =
      fresh->ReceiveBatch(std::vector<std::string>{Seal(other)}, "10.0.0.1");
  EXPECT_EQ(replay[0].http_status, 409);
  EXPECT_EQ(replay[0].kind, "replay");
  EXPECT_EQ(node_.applied().size(), 1u);  // applied once
  // (The duplicate's answer put its receipt back in the cache: the replay was looked up.)
  EXPECT_EQ(node_.lookup_batch_sizes(), std::vector<size_t>{1u});
}

TEST_F(InboxTest, ABatchWhoseIdsCannotBeLookedUpIsAnsweredTryLater) {
  std::vector<std::string> wires;
  for (int i = 0; i < 3; ++i) {
    wires.push_back(
        Seal(Message{NewMessageId(), "request", R"({"n":)" + std::to_string(i) + "}", ""}));
  }
  // Receipted once; then sent again while the inbox cannot be read.
  for (const InboxAnswer& a : inbox_->ReceiveBatch(wires, "10.0.0.1")) {
    EXPECT_EQ(a.http_status, 200) << a.error.ToString();
  }
  wires.push_back("not json");  // refused before any lookup
  node_.FailLookups(UnavailableError("database down"));
  std::vector<InboxAnswer> answers = inbox_->ReceiveBatch(wires, "10.0.0.1");
  ASSERT_EQ(answers.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(answers[i].http_status, 503);
    EXPECT_EQ(answers[i].error.code(), StatusCode::kUnavailable);
  }
  EXPECT_EQ(answers[3].http_status, 400);
  EXPECT_EQ(node_.handle_calls(), 3);  // nothing applied again
  EXPECT_EQ(node_.lookup_batch_sizes(), std::vector<size_t>{3u});
  // Sent again once the inbox can be read: answered as duplicates, applied once each.
  node_.FailLookups(std::nullopt);
  answers = inbox_->ReceiveBatch(std::span(wires).first(3), "10.0.0.1");
  for (const InboxAnswer& a : answers) EXPECT_EQ(a.http_status, 200) << a.error.ToString();
  EXPECT_EQ(node_.applied().size(), 3u);
}

TEST(BatchFormatTest, RoundTripsAndSizesExactly) {
  const std::vector<std::string> envelopes = {R"({"a":"x\ny"})", "plain", "quote\"d\ttab"};
  size_t size = 0;
  for (const std::string& e : envelopes) size = SerializedBatchSize(size, e);
  const std::string body = SerializeEnvelopeBatch(envelopes);
  EXPECT_EQ(size, body.size());
  auto back = ParseEnvelopeBatch(body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, envelopes);

  std::vector<BatchResult> results = {{200, "receipt-text", "", ""},
                                      {409, "", "already_exists", "a replay"}};
  auto parsed = ParseBatchResults(SerializeBatchResults(results), 2);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ((*parsed)[0].receipt, "receipt-text");
  EXPECT_EQ((*parsed)[1].status, 409);
  EXPECT_EQ((*parsed)[1].code, "already_exists");
  EXPECT_EQ((*parsed)[1].message, "a replay");
  EXPECT_EQ(ParseBatchResults(SerializeBatchResults(results), 3).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(BatchFormatTest, RefusesWhatIsNotABatch) {
  struct Case {
    std::string body;
    StatusCode code;
    std::string pointer;
  };
  const std::string schema = R"("schema":"comity.envelope-batch/v1")";
  std::string many = "{" + schema + R"(,"envelopes":[)";
  for (size_t i = 0; i <= kMaxBatchEnvelopes; ++i) many += (i ? ",\"e\"" : "\"e\"");
  many += "]}";
  const std::vector<Case> cases = {
      {"not json", StatusCode::kInvalidArgument, ""},
      {"[]", StatusCode::kInvalidArgument, ""},
      {R"({"schema":"comity.envelope/v1","envelopes":["e"]})", StatusCode::kInvalidArgument,
       "/schema"},
      {"{" + schema + R"(,"envelopes":"e"})", StatusCode::kInvalidArgument, "/envelopes"},
      {"{" + schema + R"(,"envelopes":[]})", StatusCode::kInvalidArgument, "/envelopes"},
      {"{" + schema + R"(,"envelopes":["e",{"id":"x"}]})", StatusCode::kInvalidArgument,
       "/envelopes/1"},
      {"{" + schema + R"(,"envelopes":["e"],"more":1})", StatusCode::kInvalidArgument, "/more"},
      {many, StatusCode::kResourceExhausted, ""},
      {std::string(kMaxBatchBytes + 1, ' '), StatusCode::kResourceExhausted, ""},
  };
  for (const Case& c : cases) {
    auto r = ParseEnvelopeBatch(c.body);
    ASSERT_FALSE(r.ok()) << c.body.substr(0, 80);
    EXPECT_EQ(r.status().code(), c.code) << c.body.substr(0, 80) << ": " << r.status().ToString();
    EXPECT_EQ(r.status().pointer(), c.pointer) << c.body.substr(0, 80);
  }
}

}  // namespace
}  // namespace comity::federation
