// The delivery worker against a real Inbox over an in-process transport with faults: verified
// receipts as proof, a fresh signature per attempt, backoff with jitter kept in the outbox,
// lost answers recovered without a second effect, receipts that prove nothing refused, the
// per-peer bound on concurrency, and a schedule that survives a restart.
#include "federation/delivery.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <thread>

#include "tests/federation/fakes.h"

namespace comity::federation {
namespace {

using testing::FakeNode;
using testing::FakeOutbox;
using testing::FakePeers;
using testing::FixedCheckpoint;
using testing::KeysOf;
using testing::LoopbackTransport;
using testing::MakeIdentity;
using testing::TempDir;
using testing::TestClock;
using namespace std::chrono_literals;

namespace json = boost::json;

std::string SentOf(const std::string& wire) {
  return std::string(json::parse(wire).as_object().at("sent").as_string());
}
std::string IdOf(const std::string& wire) {
  return std::string(json::parse(wire).as_object().at("id").as_string());
}

class DeliveryTest : public ::testing::Test {
 protected:
  DeliveryTest()
      : outbox_(&clock_),
        store_b_(testing::OpenStore(dir_ / "b.db")),
        inbox_b_(xb_, &peers_b_, &node_b_, store_b_.get(), &checkpoint_b_, nullptr, clock_, {},
                 nullptr) {
    peers_a_.Add(xb_, "http://xb");
    peers_b_.Add(xa_, "http://xa");
    transport_.Route("http://xb", &inbox_b_);
  }
  std::unique_ptr<DeliveryWorker> Worker(DeliveryOptions o = Options()) {
    return std::make_unique<DeliveryWorker>(xa_, &outbox_, &peers_a_, &transport_, &checkpoint_a_,
                                            nullptr, clock_, o, nullptr);
  }
  static DeliveryOptions Options() {
    DeliveryOptions o;
    o.retry = {.initial = 1000ms, .max = 8000ms, .jitter = 0.5};
    o.poll_interval = 10ms;
    o.batch_max = 1;  // one envelope per request (the batch tests below set their own)
    return o;
  }
  void DeliverSixOneRequestAtATime();
  std::string Enqueue(std::string body = R"({"schema":"comity.request/v1"})") {
    std::string id = NewMessageId();
    outbox_.Enqueue(id, "XB", "request", std::move(body));
    return id;
  }
  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  TempDir dir_;
  TestClock clock_;
  Identity xa_ = MakeIdentity("XA");
  Identity xb_ = MakeIdentity("XB");
  FakePeers peers_a_, peers_b_;
  FakeOutbox outbox_;
  FakeNode node_b_;
  FixedCheckpoint checkpoint_a_{"a-cp\n"};
  FixedCheckpoint checkpoint_b_{"b-cp\n"};
  std::unique_ptr<FederationStore> store_b_;
  Inbox inbox_b_;
  LoopbackTransport transport_;
};

TEST_F(DeliveryTest, DeliversAndKeepsTheVerifiedReceipt) {
  const std::string id = Enqueue();
  auto w = Worker();
  Attempt a = w->DeliverOne(outbox_.Get(id).m);
  ASSERT_TRUE(a.delivered) << a.error.ToString();
  FakeOutbox::Row row = outbox_.Get(id);
  ASSERT_TRUE(row.receipt.has_value());
  auto r = VerifyReceipt(*row.receipt, KeysOf(xb_), id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->to, "XA");
  EXPECT_EQ(r->checkpoint, "b-cp\n");
  ASSERT_EQ(node_b_.applied().size(), 1u);
  EXPECT_EQ(node_b_.applied()[0].id, id);
  // The envelope carried our checkpoint.
  EXPECT_EQ(std::string(json::parse(transport_.wires()[0]).at("checkpoint").as_string()), "a-cp\n");
}

TEST_F(DeliveryTest, EachAttemptIsSignedAfreshWithItsOwnTime) {
  const std::string id = Enqueue();
  int calls = 0;
  transport_.set_fault([&](const std::string&) {
    return ++calls == 1 ? LoopbackTransport::Fault::kDropRequest : LoopbackTransport::Fault::kNone;
  });
  auto w = Worker();
  ASSERT_EQ(*w->RunOnce(), 1);
  EXPECT_FALSE(outbox_.Get(id).receipt.has_value());
  clock_.Advance(5s);
  ASSERT_EQ(*w->RunOnce(), 1);
  ASSERT_TRUE(outbox_.Get(id).receipt.has_value());
  auto wires = transport_.wires();
  ASSERT_EQ(wires.size(), 2u);
  EXPECT_EQ(IdOf(wires[0]), IdOf(wires[1]));      // the same message ...
  EXPECT_NE(SentOf(wires[0]), SentOf(wires[1]));  // ... sealed and signed again, later
  EXPECT_NE(wires[0], wires[1]);
}

TEST_F(DeliveryTest, FailuresBackOffExponentiallyWithJitterAndKeepTheError) {
  const std::string id = NewMessageId();
  outbox_.Enqueue(id, "XB", "request", "{}");
  transport_.Route("http://xb", nullptr);  // the peer is down
  auto w = Worker();
  const int64_t expected_ms[] = {1000, 2000, 4000, 8000, 8000, 8000};
  for (int64_t full : expected_ms) {
    const int64_t before = clock_.micros();
    Attempt a = w->DeliverOne(outbox_.Get(id).m);
    ASSERT_FALSE(a.delivered);
    ASSERT_TRUE(a.next_attempt.has_value());
    const int64_t delay_ms =
        (a.next_attempt->seconds * 1'000'000 + a.next_attempt->nanos / 1000 - before) / 1000;
    EXPECT_GE(delay_ms, full / 2) << "after " << outbox_.Get(id).m.attempts << " failures";
    EXPECT_LE(delay_ms, full);
    // Not due before its time.
    EXPECT_TRUE(outbox_.Due(clock_.Now(), 10, nullptr)->empty());
    clock_.Advance(std::chrono::milliseconds(delay_ms));
    EXPECT_EQ(outbox_.Due(clock_.Now(), 10, nullptr)->size(), 1u);
  }
  FakeOutbox::Row row = outbox_.Get(id);
  EXPECT_EQ(row.m.attempts, 6);
  ASSERT_FALSE(row.errors.empty());
  EXPECT_NE(row.errors.back().find("connection refused"), std::string::npos) << row.errors.back();
}

TEST_F(DeliveryTest, ALostAnswerIsRecoveredWithoutASecondEffect) {
  const std::string id = Enqueue();
  int calls = 0;
  transport_.set_fault([&](const std::string&) {
    return ++calls == 1 ? LoopbackTransport::Fault::kDropResponse : LoopbackTransport::Fault::kNone;
  });
  auto w = Worker();
  Attempt first = w->DeliverOne(outbox_.Get(id).m);
  EXPECT_FALSE(first.delivered);
  EXPECT_EQ(node_b_.applied().size(), 1u);  // the peer applied it; we did not hear back
  clock_.Advance(2s);
  Attempt second = w->DeliverOne(outbox_.Get(id).m);
  ASSERT_TRUE(second.delivered) << second.error.ToString();
  EXPECT_EQ(node_b_.applied().size(), 1u);  // exactly once
  auto r = VerifyReceipt(second.receipt, KeysOf(xb_), id);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->duplicate);  // the original receipt, given again
}

TEST_F(DeliveryTest, PeerRefusalsAreFailuresWithThePeersReason) {
  const std::string id = Enqueue();
  node_b_.FailNext(FailedPreconditionError("answered is not allowed from submitted"));
  auto w = Worker();
  Attempt a = w->DeliverOne(outbox_.Get(id).m);
  EXPECT_FALSE(a.delivered);
  EXPECT_EQ(a.error.code(), StatusCode::kUnavailable);
  EXPECT_NE(a.error.message().find("XB answered HTTP 409"), std::string::npos) << a.error.message();
}

TEST_F(DeliveryTest, AnUnknownPeerIsAFailureThatSaysSo) {
  const std::string id = NewMessageId();
  outbox_.Enqueue(id, "XZ", "request", "{}");
  auto w = Worker();
  Attempt a = w->DeliverOne(outbox_.Get(id).m);
  EXPECT_FALSE(a.delivered);
  EXPECT_EQ(a.error.message(), "no peer XZ in the trust list");
  EXPECT_EQ(transport_.posts(), 0);
}

// A transport that answers 200 with a receipt chosen by the test.
class ForgingTransport : public Transport {
 public:
  explicit ForgingTransport(Identity r) : recipient(std::move(r)) {}
  std::function<std::string(const OpenedEnvelope&)> make;
  Identity recipient;
  StatusOr<TransportResponse> Post(const std::string&, const std::string&, const std::string& body,
                                   std::chrono::milliseconds) override {
    TrustLookup any = [&](std::string_view) -> std::optional<PeerKeys> { return sender; };
    EnvelopeCheck c = OpenEnvelope(body, recipient, any, now);
    if (!c.ok()) return TransportResponse{400, ""};
    return TransportResponse{200, make(*c.envelope)};
  }
  StatusOr<TransportResponse> Get(const std::string&, const std::string&,
                                  std::chrono::milliseconds) override {
    return TransportResponse{404, ""};
  }
  PeerKeys sender;
  Timestamp now;
};

TEST_F(DeliveryTest, AReceiptThatProvesNothingIsRefused) {
  ForgingTransport forging(xb_);
  forging.sender = KeysOf(xa_);
  forging.now = clock_.Now();
  auto receipt = [&](const OpenedEnvelope& e, const Identity& signer, std::string id,
                     std::string sha, std::string to) {
    Receipt r{std::move(id), std::move(sha), signer.state, std::move(to), clock_.Now(), false, ""};
    (void)e;
    return SignReceipt(signer, r);
  };
  struct Case {
    std::string name;
    std::function<std::string(const OpenedEnvelope&)> make;
    std::string expect;
  };
  const Case cases[] = {
      {"signed by another key",
       [&](const OpenedEnvelope& e) {
         return receipt(e, MakeIdentity("XB"), e.message.id, e.body_sha256, "XA");
       },
       "does not verify"},
      {"for another message",
       [&](const OpenedEnvelope& e) {
         return receipt(e, xb_, NewMessageId(), e.body_sha256, "XA");
       },
       "acknowledges message"},
      {"for other content",
       [&](const OpenedEnvelope& e) {
         return receipt(e, xb_, e.message.id, std::string(64, '0'), "XA");
       },
       "acknowledges other content"},
      {"to someone else",
       [&](const OpenedEnvelope& e) { return receipt(e, xb_, e.message.id, e.body_sha256, "XC"); },
       "is addressed to XC"},
      {"not a receipt", [](const OpenedEnvelope&) { return std::string("{}"); }, "does not verify"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    forging.make = c.make;
    const std::string id = Enqueue();
    DeliveryWorker w(xa_, &outbox_, &peers_a_, &forging, &checkpoint_a_, nullptr, clock_, Options(),
                     nullptr);
    Attempt a = w.DeliverOne(outbox_.Get(id).m);
    EXPECT_FALSE(a.delivered);
    EXPECT_NE(a.error.message().find(c.expect), std::string::npos) << a.error.message();
    EXPECT_FALSE(outbox_.Get(id).receipt.has_value());
  }
}

TEST_F(DeliveryTest, TheBackgroundWorkerDeliversEverythingWithBoundedConcurrencyPerPeer) {
  std::atomic<int> now{0}, peak{0};
  transport_.set_hook([&] {
    const int n = ++now;
    int p = peak.load();
    while (n > p && !peak.compare_exchange_weak(p, n)) {
    }
    std::this_thread::sleep_for(3ms);
    --now;
  });
  DeliveryOptions o = Options();
  o.threads = 8;
  o.max_in_flight_per_peer = 3;
  auto w = Worker(o);
  ASSERT_TRUE(w->Start().ok());
  for (int i = 0; i < 60; ++i) Enqueue(R"({"n":)" + std::to_string(i) + "}");
  w->Wake();
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  w->Stop();
  EXPECT_EQ(node_b_.applied().size(), 60u);
  EXPECT_EQ(outbox_.deliveries(), 60);
  EXPECT_LE(peak.load(), 3);
  EXPECT_GE(peak.load(), 2);  // the bound is used, not just respected
}

TEST_F(DeliveryTest, APeersSlotIsFreedOnceItHasAnsweredNotWhenTheReceiptIsRecorded) {
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> holding{0};
  outbox_.set_before_record([&] {
    ++holding;
    std::unique_lock<std::mutex> lock(m);
    cv.wait(lock, [&] { return release; });
  });
  DeliveryOptions o = Options();
  o.max_in_flight_per_peer = 1;
  auto w = Worker(o);
  ASSERT_TRUE(w->Start().ok());
  Enqueue();
  Enqueue();
  w->Wake();
  // With one slot for XB, the second message goes out while the first's receipt is still being
  // recorded.
  // (The second post may come before or after the first sender reaches the recording: the
  // recording is held until `release`, so both happening before it is what shows the slot free.)
  EXPECT_TRUE(WaitFor([&] { return transport_.posts() == 2 && holding.load() >= 1; }, 5s));
  EXPECT_EQ(transport_.posts(), 2);
  EXPECT_GE(holding.load(), 1);
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  w->Stop();
  EXPECT_EQ(transport_.posts(), 2);  // and neither was sent twice
}

// Messages the writer hands over (Offer) are sent without a read of the outbox; beyond what the
// dispatcher would queue, and when not due yet, they are left to a read (the dispatcher is woken).
TEST_F(DeliveryTest, OfferedMessagesGoOutWithoutAReadOfTheOutbox) {
  DeliveryOptions o = Options();
  o.poll_interval = 60s;  // no reads but the ones asked for
  o.coalesce = 0ms;
  o.threads = 2;
  o.batch_max = 1;
  auto w = Worker(o);
  ASSERT_TRUE(w->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return outbox_.due_calls() >= 1; }));  // the read at Start
  std::this_thread::sleep_for(20ms);
  const int reads = outbox_.due_calls();
  auto offered = [&](const std::string& id) {
    const FakeOutbox::Row row = outbox_.Get(id);
    return row.m;
  };
  const std::string a = Enqueue(), b = Enqueue();
  w->Offer({offered(a), offered(b)});
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  EXPECT_EQ(outbox_.due_calls(), reads);  // sent as handed over
  EXPECT_EQ(node_b_.applied().size(), 2u);
  // More than the senders' worth (2 threads x 1 message): the rest are read.
  std::vector<OutgoingMessage> many;
  for (int i = 0; i < 6; ++i)
    many.push_back(offered(Enqueue(R"({"n":)" + std::to_string(i) + "}")));
  w->Offer(many);
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  EXPECT_GT(outbox_.due_calls(), reads);
  EXPECT_EQ(node_b_.applied().size(), 8u);
  EXPECT_EQ(outbox_.deliveries(), 8);  // each once
  // A message handed over again (or read meanwhile) is not sent twice.
  const std::string c = Enqueue();
  w->Offer({offered(c), offered(c)});
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  w->Stop();
  EXPECT_EQ(outbox_.deliveries(), 9);
  EXPECT_EQ(node_b_.applied().size(), 9u);
  // A stopped worker ignores offers (its Start reads the outbox).
  w->Offer({offered(Enqueue())});
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(outbox_.Undelivered(), 1);
}

// Receipts that arrive while others are being recorded wait for that recording and go together
// into the next (one transaction for all) — unless the outbox combines concurrent records
// itself, when each sender records its own at once: two recordings are then under way together.
TEST_F(DeliveryTest, SendersRecordAtOnceWhenTheOutboxCombinesRecordsItself) {
  for (const bool combines : {false, true}) {
    SCOPED_TRACE(combines ? "the outbox combines" : "the worker queues");
    outbox_.set_combines(combines);
    std::mutex m;
    std::condition_variable cv;
    int inside = 0, peak = 0;
    outbox_.set_before_record([&] {
      std::unique_lock<std::mutex> lock(m);
      peak = std::max(peak, ++inside);
      cv.notify_all();
      // Held until a second recording has begun (or, where that cannot happen, for a while).
      cv.wait_for(lock, 300ms, [&] { return inside >= 2; });
      --inside;
    });
    DeliveryOptions o = Options();
    o.threads = 4;
    o.max_in_flight_per_peer = 4;
    auto w = Worker(o);
    ASSERT_TRUE(w->Start().ok());
    for (int i = 0; i < 4; ++i) Enqueue(R"({"n":)" + std::to_string(i) + "}");
    w->Wake();
    ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
    w->Stop();
    outbox_.set_before_record(nullptr);
    std::lock_guard<std::mutex> lock(m);
    if (combines) {
      EXPECT_GE(peak, 2);
    } else {
      EXPECT_EQ(peak, 1);  // one recording at a time, the others queued behind it
    }
  }
  EXPECT_EQ(outbox_.deliveries(), 8);
}

// While a message is in flight, the dispatcher reads on past it (it is not read, with its
// body, again on every read); a message placed before where the reads stopped — one another
// process committed late — is still found by a read from the start within poll_interval.
TEST_F(DeliveryTest, WhileMessagesAreInFlightTheDispatcherReadsOnPastThem) {
  const std::string held = Enqueue();
  std::mutex m;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> holding{false};
  transport_.set_fault([&](const std::string& wire) {
    if (IdOf(wire) == held) {  // the peer takes its time with this one
      holding = true;
      std::unique_lock<std::mutex> lock(m);
      cv.wait(lock, [&] { return release; });
    }
    return LoopbackTransport::Fault::kNone;
  });
  DeliveryOptions o = Options();
  o.threads = 2;
  o.poll_interval = 300ms;
  auto w = Worker(o);
  ASSERT_TRUE(w->Start().ok());
  w->Wake();
  ASSERT_TRUE(WaitFor([&] { return holding.load(); }));
  const size_t before = outbox_.reads().size();
  clock_.Advance(1ms);  // (at the same time, messages are placed by their random ids)
  const std::string next = Enqueue();
  w->Wake();
  ASSERT_TRUE(WaitFor([&] { return outbox_.Get(next).receipt.has_value(); }));
  // The read that found it read on from the held message: it got the new one alone.
  std::vector<FakeOutbox::Read> reads = outbox_.reads();
  size_t found = before;
  while (found < reads.size() && reads[found].rows == 0) ++found;
  ASSERT_LT(found, reads.size());
  EXPECT_TRUE(reads[found].after);
  EXPECT_EQ(reads[found].rows, 1u);

  // One committed late, placed before everything read so far: found by a read from the start.
  const std::string late = NewMessageId();
  outbox_.EnqueueAt(late, "XB", "request", "{}", clock_.micros() - 1'000'000);
  w->Wake();
  ASSERT_TRUE(WaitFor([&] { return outbox_.Get(late).receipt.has_value(); }, 5s));
  EXPECT_TRUE(holding.load());
  EXPECT_FALSE(outbox_.Get(held).receipt.has_value());  // still in flight all along
  {
    std::lock_guard<std::mutex> lock(m);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  w->Stop();
  EXPECT_EQ(transport_.posts(), 3);  // each sent once
  EXPECT_EQ(node_b_.applied().size(), 3u);
}

TEST_F(DeliveryTest, UnderLoadABatchCarriesManyMessagesAndEachReceiptIsVerifiedAndRecorded) {
  transport_.set_batches(true);
  transport_.set_hook([] { std::this_thread::sleep_for(5ms); });  // a peer some way off
  DeliveryOptions o = Options();
  o.batch_max = 16;
  o.max_in_flight_per_peer = 1;
  auto w = Worker(o);
  ASSERT_TRUE(w->Start().ok());
  for (int i = 0; i < 50; ++i) Enqueue(R"({"n":)" + std::to_string(i) + "}");
  w->Wake();
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  w->Stop();
  EXPECT_EQ(node_b_.applied().size(), 50u);
  EXPECT_EQ(outbox_.deliveries(), 50);
  // 50 messages, at most 16 per request: at least 4 requests, and far fewer than 50.
  EXPECT_GE(transport_.posts(), 4);
  EXPECT_LE(transport_.posts(), 10);
  // What was recorded is the peer's signed receipt for that very message: signed together with
  // the others of its batch, and verifiable on its own.
  int together = 0;
  for (const auto& a : node_b_.applied()) {
    const auto row = outbox_.Get(a.id);
    ASSERT_TRUE(row.receipt.has_value());
    EXPECT_TRUE(VerifyReceipt(*row.receipt, KeysOf(xb_), a.id).ok());
    if (row.receipt->find("\"batch\"") != std::string::npos) ++together;
  }
  EXPECT_GE(together, 25);  // most: only a request that carries one message signs it alone
}

TEST_F(DeliveryTest, InABatchAMessageThePeerRefusesFailsAloneAndIsRetried) {
  transport_.set_batches(true);
  DeliveryOptions o = Options();
  o.batch_max = 16;
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Enqueue(R"({"n":)" + std::to_string(i) + "}"));
  node_b_.FailNext(FailedPreconditionError("not yet"));  // the first message applied
  auto w = Worker(o);
  ASSERT_TRUE(w->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 1; }));
  w->Stop();
  EXPECT_EQ(transport_.posts(), 1);  // all five in one request
  EXPECT_EQ(node_b_.applied().size(), 4u);
  int failed = 0;
  for (const std::string& id : ids) {
    const auto row = outbox_.Get(id);
    if (row.receipt) continue;
    ++failed;
    EXPECT_EQ(row.m.attempts, 1);
    ASSERT_FALSE(row.errors.empty());
    EXPECT_NE(row.errors.back().find("XB answered HTTP 409"), std::string::npos)
        << row.errors.back();
  }
  EXPECT_EQ(failed, 1);
  // Its retry goes through.
  clock_.Advance(2s);
  auto again = Worker(o);
  ASSERT_TRUE(again->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  again->Stop();
  EXPECT_EQ(node_b_.applied().size(), 5u);
}

// Six messages waiting before the worker starts, up to 16 in a request, one request in flight:
// all delivered, as few requests as the peer's paths allow.
void DeliveryTest::DeliverSixOneRequestAtATime() {
  DeliveryOptions o = Options();
  o.batch_max = 16;
  o.max_in_flight_per_peer = 1;
  for (int i = 0; i < 6; ++i) Enqueue(R"({"n":)" + std::to_string(i) + "}");
  auto w = Worker(o);
  ASSERT_TRUE(w->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  w->Stop();
  EXPECT_EQ(node_b_.applied().size(), 6u);
}

TEST_F(DeliveryTest, APeerWithoutTheBatchPathGetsItsMessagesOneByOne) {
  transport_.set_batches(false);  // an older node: 404 on the batch path
  ASSERT_NO_FATAL_FAILURE(DeliverSixOneRequestAtATime());
  // The batch refused with 404 on both batch paths (no failure recorded), then one request per
  // message.
  EXPECT_EQ(transport_.posts(), 8);
  for (const auto& a : node_b_.applied()) EXPECT_EQ(outbox_.Get(a.id).m.attempts, 1);
}

TEST_F(DeliveryTest, APeerWithoutTheSignedBatchPathGetsBatchesOfEnvelopesSignedOneByOne) {
  transport_.set_batches(true);
  transport_.set_signed_batches(false);  // an older node: 404 on the signed-batch path
  ASSERT_NO_FATAL_FAILURE(DeliverSixOneRequestAtATime());
  // The signed batch refused with 404 (no failure recorded), then the same six in one batch at
  // the older path, each envelope and receipt signed on its own.
  EXPECT_EQ(transport_.posts(), 2);
  const std::vector<std::string> wires = transport_.wires();
  ASSERT_EQ(wires.size(), 2u);
  EXPECT_NE(wires[0].find(R"(\"batch\")"), std::string::npos) << "signed together at first";
  EXPECT_EQ(wires[1].find(R"(\"batch\")"), std::string::npos) << "then one by one";
  for (const auto& a : node_b_.applied()) {
    const auto row = outbox_.Get(a.id);
    EXPECT_EQ(row.m.attempts, 1);
    ASSERT_TRUE(row.receipt.has_value());
    EXPECT_EQ(row.receipt->find("\"batch\""), std::string::npos);
    EXPECT_TRUE(VerifyReceipt(*row.receipt, KeysOf(xb_), a.id).ok());
  }
}

TEST_F(DeliveryTest, TheScheduleSurvivesARestart) {
  transport_.Route("http://xb", nullptr);  // the peer is down
  const std::string id = Enqueue();
  {
    auto w = Worker();
    ASSERT_TRUE(w->Start().ok());
    ASSERT_TRUE(WaitFor([&] { return outbox_.Get(id).m.attempts == 1; }));
    w->Stop();
  }
  const int posts = transport_.posts();
  transport_.Route("http://xb", &inbox_b_);  // the peer is back; we restart
  auto w = Worker();
  ASSERT_TRUE(w->Start().ok());
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(transport_.posts(), posts) << "retried before its time";
  clock_.Advance(2s);
  w->Wake();
  ASSERT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }));
  w->Stop();
  EXPECT_EQ(node_b_.applied().size(), 1u);
}

TEST_F(DeliveryTest, WakeDeliversWithoutWaitingForThePoll) {
  DeliveryOptions o = Options();
  o.poll_interval = 60s;
  auto w = Worker(o);
  ASSERT_TRUE(w->Start().ok());
  std::this_thread::sleep_for(20ms);  // the first look at the outbox is over
  Enqueue();
  w->Wake();
  EXPECT_TRUE(WaitFor([&] { return outbox_.Undelivered() == 0; }, 5s));
  w->Stop();
}

TEST_F(DeliveryTest, OptionsAreChecked) {
  DeliveryOptions o = Options();
  o.max_in_flight_per_peer = 0;
  EXPECT_EQ(ValidateDeliveryOptions(o).message(),
            "deliveries in flight per peer must be between 1 and 256");
  o = Options();
  o.retry.max = 10ms;
  EXPECT_EQ(ValidateDeliveryOptions(o).code(), StatusCode::kInvalidArgument);
  o = Options();
  o.batch_max = 0;
  EXPECT_EQ(ValidateDeliveryOptions(o).message(), "messages per batch must be between 1 and 256");
  o.batch_max = 257;
  EXPECT_EQ(ValidateDeliveryOptions(o).code(), StatusCode::kInvalidArgument);
  o.batch_max = 256;
  EXPECT_TRUE(ValidateDeliveryOptions(o).ok());
  o = Options();
  o.threads = 0;
  auto w = Worker(o);
  EXPECT_EQ(w->Start().message(), "delivery threads must be between 1 and 256");
}

}  // namespace
}  // namespace comity::federation
