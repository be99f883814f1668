// Gossip: witnessing a peer's log from the checkpoints its envelopes and receipts carry —
// cosigning a consistent log, coalescing a burst, detecting split views (both signed checkpoints
// kept), and what it does without a key, with a bad checkpoint, or with the peer unreachable.
#include "federation/gossip.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/federation/fakes.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"

namespace comity::federation {
namespace {

using testing::CountingObserver;
using testing::FakePeers;
using testing::LoopbackTransport;
using testing::MakeIdentity;
using testing::TempDir;
using testing::TestClock;
using namespace std::chrono_literals;

constexpr char kOrigin[] = "comity/XB/main";

class GossipTest : public ::testing::Test {
 protected:
  GossipTest() : store_(testing::OpenStore(dir_ / "a.db")) {
    log_ = std::move(tlog::Log::Create(&storage_, kOrigin, xb_.sign_key, {}).value());
    fork_ = std::move(tlog::Log::Create(&fork_storage_, kOrigin, xb_.sign_key, {}).value());
    peers_.Add(xb_, "http://xb", log_->VerifierKey());
    transport_.ServeLog("http://xb", &storage_);
    gossip_ = MakeGossip();
  }
  std::unique_ptr<Gossip> MakeGossip(GossipOptions o = {}) {
    o.interval = 5ms;
    return std::make_unique<Gossip>(
        store_.get(), &peers_, &transport_,
        std::make_unique<tlog::CosignatureV1Signer>("comity/XA/main/witness", xa_.sign_key, clock_),
        clock_, o, &observer_);
  }
  std::string Append(tlog::Log& log, int n, const std::string& tag = "e") {
    std::vector<std::string> entries;
    const uint64_t size = log.State()->size;
    for (int i = 0; i < n; ++i) entries.push_back(tag + std::to_string(size + i));
    auto r = log.Append(entries);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r->checkpoint;
  }
  std::vector<Alert> Alerts() { return store_->ListAlerts().value(); }

  TempDir dir_;
  TestClock clock_;
  Identity xa_ = MakeIdentity("XA");
  Identity xb_ = MakeIdentity("XB");
  FakePeers peers_;
  LoopbackTransport transport_;
  CountingObserver observer_;
  tlog::MemoryLogStorage storage_, fork_storage_;
  std::unique_ptr<tlog::Log> log_, fork_;
  std::unique_ptr<FederationStore> store_;
  std::unique_ptr<Gossip> gossip_;
};

TEST_F(GossipTest, CosignsAGrowingLogAndKeepsTheCosignature) {
  gossip_->Offer("XB", Append(*log_, 3));
  auto rounds = gossip_->RunOnce();
  EXPECT_EQ(rounds["XB"].cosigned, 1);
  gossip_->Offer("XB", Append(*log_, 300));
  rounds = gossip_->RunOnce();
  EXPECT_EQ(rounds["XB"].cosigned, 1);
  EXPECT_EQ(rounds["XB"].split_views, 0);

  auto witnessed = store_->ListWitnessed().value();
  ASSERT_EQ(witnessed.size(), 1u);
  EXPECT_EQ(witnessed[0].peer, "XB");
  EXPECT_EQ(witnessed[0].origin, kOrigin);
  EXPECT_EQ(witnessed[0].size, 303u);
  EXPECT_EQ(witnessed[0].cosigned, 2);
  // The stored note carries the log's signature and our cosignature/v1, which verifies with
  // the witness vkey we publish.
  auto witness_key = tlog::ParseVerifierKey(gossip_->cosigner().VerifierKey());
  ASSERT_TRUE(witness_key.ok());
  auto opened = tlog::OpenNote(witnessed[0].cosigned_note, **witness_key);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto cp = tlog::OpenCheckpoint(witnessed[0].cosigned_note, log_->verifier());
  ASSERT_TRUE(cp.ok());
  EXPECT_EQ(cp->checkpoint.size, 303u);
  EXPECT_EQ(observer_.Count("gossip:XB:cosigned"), 2);
}

TEST_F(GossipTest, CoalescesABurstAndStillChecksEveryCheckpoint) {
  for (int i = 0; i < 20; ++i) {
    const std::string cp = Append(*log_, 1);
    gossip_->Offer("XB", cp);
    gossip_->Offer("XB", cp);  // many envelopes carry the same checkpoint
  }
  EXPECT_EQ(gossip_->pending(), 20u);
  auto rounds = gossip_->RunOnce();
  EXPECT_EQ(rounds["XB"].cosigned, 1);
  EXPECT_EQ(rounds["XB"].consistent, 19);
  EXPECT_EQ(store_->ListWitnessed().value()[0].cosigned, 1);
  EXPECT_EQ(gossip_->pending(), 0u);
}

TEST_F(GossipTest, ASplitViewRaisesAnAlertWithBothSignedCheckpoints) {
  const std::string honest = Append(*log_, 3);
  gossip_->Offer("XB", honest);
  ASSERT_EQ(gossip_->RunOnce()["XB"].cosigned, 1);
  // The same log key signs a different history, and serves the tiles that go with it.
  const std::string forked = Append(*fork_, 5, "other");
  transport_.ServeLog("http://xb", &fork_storage_);
  gossip_->Offer("XB", forked);
  EXPECT_EQ(gossip_->RunOnce()["XB"].split_views, 1);
  auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, "split_view");
  EXPECT_EQ(alerts[0].peer, "XB");
  EXPECT_EQ(alerts[0].origin, kOrigin);
  EXPECT_EQ(alerts[0].first_note, honest);
  EXPECT_EQ(alerts[0].second_note, forked);
  EXPECT_NE(alerts[0].detail.find("does not extend"), std::string::npos) << alerts[0].detail;
  // Both are genuine signatures of the peer's log key: the evidence stands on its own.
  EXPECT_TRUE(tlog::OpenCheckpoint(alerts[0].first_note, log_->verifier()).ok());
  EXPECT_TRUE(tlog::OpenCheckpoint(alerts[0].second_note, log_->verifier()).ok());
  // Nothing was cosigned for the fork.
  EXPECT_EQ(store_->ListWitnessed().value()[0].size, 3u);
  EXPECT_EQ(observer_.Count("gossip:XB:split_view"), 1);
}

TEST_F(GossipTest, TwoCheckpointsOfOneSizeWithDifferentRootsAreASplitView) {
  gossip_->Offer("XB", Append(*log_, 4));
  ASSERT_EQ(gossip_->RunOnce()["XB"].cosigned, 1);
  gossip_->Offer("XB", Append(*fork_, 4, "other"));
  EXPECT_EQ(gossip_->RunOnce()["XB"].split_views, 1);
  ASSERT_EQ(Alerts().size(), 1u);
  EXPECT_NE(Alerts()[0].detail.find("different roots"), std::string::npos);
}

TEST_F(GossipTest, ASmallerCheckpointInTheSameRoundMustBeAPrefix) {
  const std::string forked = Append(*fork_, 3, "other");
  const std::string honest = Append(*log_, 6);
  gossip_->Offer("XB", forked);
  gossip_->Offer("XB", honest);
  auto round = gossip_->RunOnce()["XB"];
  EXPECT_EQ(round.cosigned, 1);
  EXPECT_EQ(round.split_views, 1);
  auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].first_note, forked);
  EXPECT_EQ(alerts[0].second_note, honest);
}

TEST_F(GossipTest, AnOlderCheckpointIsConsistentButNotCosignedAgain) {
  const std::string old = Append(*log_, 2);
  gossip_->Offer("XB", Append(*log_, 2));
  ASSERT_EQ(gossip_->RunOnce()["XB"].cosigned, 1);
  gossip_->Offer("XB", old);
  auto round = gossip_->RunOnce()["XB"];
  EXPECT_EQ(round.stale, 1);
  EXPECT_EQ(round.split_views, 0);
}

TEST_F(GossipTest, WithoutTheLogKeyNothingIsWitnessed) {
  peers_.Add(xb_, "http://xb", "");
  gossip_->Offer("XB", Append(*log_, 1));
  gossip_->RunOnce();
  EXPECT_TRUE(store_->ListWitnessed().value().empty());
  EXPECT_EQ(observer_.Count("gossip:XB:no_vkey"), 1);
  EXPECT_EQ(transport_.gets(), 0);
}

TEST_F(GossipTest, ACheckpointNotSignedByTheLogKeyIsAnErrorNotEvidence) {
  Identity other = MakeIdentity("XB");
  tlog::MemoryLogStorage s;
  auto impostor = std::move(tlog::Log::Create(&s, kOrigin, other.sign_key, {}).value());
  gossip_->Offer("XB", Append(*impostor, 2));
  auto round = gossip_->RunOnce()["XB"];
  EXPECT_EQ(round.errors, 1);
  EXPECT_TRUE(Alerts().empty());
  EXPECT_TRUE(store_->ListWitnessed().value().empty());
}

TEST_F(GossipTest, AnUnreachablePeerIsTriedAgainNextRound) {
  gossip_->Offer("XB", Append(*log_, 1));
  ASSERT_EQ(gossip_->RunOnce()["XB"].cosigned, 1);
  transport_.set_fail_gets(true);
  gossip_->Offer("XB", Append(*log_, 1));
  auto round = gossip_->RunOnce()["XB"];
  EXPECT_EQ(round.requeued, 1);
  EXPECT_EQ(gossip_->pending(), 1u);
  transport_.set_fail_gets(false);
  EXPECT_EQ(gossip_->RunOnce()["XB"].cosigned, 1);
  EXPECT_EQ(store_->ListWitnessed().value()[0].size, 2u);
}

TEST_F(GossipTest, PendingCheckpointsAreBounded) {
  GossipOptions o;
  o.max_pending = 3;
  auto g = MakeGossip(o);
  for (int i = 0; i < 5; ++i) g->Offer("XB", Append(*log_, 1));
  EXPECT_EQ(g->pending(), 3u);
  EXPECT_EQ(observer_.Count("gossip:XB:dropped"), 2);
}

TEST_F(GossipTest, TheBackgroundThreadWitnessesWhatIsOffered) {
  gossip_->Start();
  gossip_->Offer("XB", Append(*log_, 7));
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (store_->ListWitnessed().value().empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(2ms);
  }
  gossip_->Stop();
  ASSERT_EQ(store_->ListWitnessed().value().size(), 1u);
  EXPECT_EQ(store_->ListWitnessed().value()[0].size, 7u);
}

TEST_F(GossipTest, FullTilesAreFetchedOnce) {
  TransportTileFetcher f(&transport_, "http://xb", 1s, 100);
  Append(*log_, 300);  // a full level-0 tile and a partial one
  ASSERT_TRUE(f.Fetch("tile/0/000").ok());
  ASSERT_TRUE(f.Fetch("tile/0/000").ok());
  ASSERT_TRUE(f.Fetch("tile/0/001.p/44").ok());
  ASSERT_TRUE(f.Fetch("tile/0/001.p/44").ok());
  EXPECT_EQ(transport_.gets(), 3);
  EXPECT_EQ(f.Fetch("../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.Fetch("tile/0/002").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace comity::federation
