// Witnessing: cosigning consistent checkpoints, refusing to roll back, detecting split views
// (and keeping both signed checkpoints), and the tlog-witness add-checkpoint protocol.
#include "tlog/witness.h"

#include <gtest/gtest.h>

#include "tests/tlog/test_util.h"
#include "tlog/log.h"
#include "tlog/publish.h"

namespace comity::tlog {
namespace {

std::vector<std::string> Entries(uint64_t first, uint64_t count, const std::string& tag = "e") {
  std::vector<std::string> out;
  for (uint64_t i = first; i < first + count; ++i) out.push_back(tag + std::to_string(i));
  return out;
}

class WitnessTest : public ::testing::Test {
 protected:
  WitnessTest()
      : log_key_(crypto::Ed25519PrivateKey::Generate()),
        witness_key_(crypto::Ed25519PrivateKey::Generate()),
        clock_(1700000000),
        witness_(&store_,
                 std::make_unique<CosignatureV1Signer>("witness.example/w1", witness_key_, clock_),
                 clock_) {
    log_ = std::move(Log::Create(&storage_, "example.com/peer", log_key_, {}).value());
  }
  std::string Append(uint64_t n) {
    auto r = log_->Append(Entries(log_->State()->size, n));
    EXPECT_TRUE(r.ok());
    return r->checkpoint;
  }
  StatusOr<WitnessResult> Observe(const std::string& note) {
    LogPublisher pub(&storage_);
    PublisherFetcher fetcher(&pub);
    return witness_.Observe(note, log_->verifier(), fetcher);
  }

  crypto::Ed25519PrivateKey log_key_;
  crypto::Ed25519PrivateKey witness_key_;
  testing::FixedClock clock_;
  MemoryLogStorage storage_;
  std::unique_ptr<Log> log_;
  MemoryWitnessStore store_;
  Witness witness_;
};

TEST_F(WitnessTest, CosignsAGrowingLog) {
  auto first = Observe(Append(10));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->outcome, WitnessOutcome::kCosigned);
  EXPECT_FALSE(first->previous_size.has_value());
  for (uint64_t n : {1, 300, 70000}) {
    clock_.Set(clock_.Now().seconds + 60);
    auto r = Observe(Append(n));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->outcome, WitnessOutcome::kCosigned);
    // The cosigned note verifies with both the log's and the witness's keys.
    auto wv = ParseVerifierKey(witness_.signer().VerifierKey());
    ASSERT_TRUE(wv.ok());
    const NoteVerifier* both[] = {&log_->verifier(), wv->get()};
    auto opened = OpenNote(r->cosigned_note, both);
    ASSERT_TRUE(opened.ok());
    EXPECT_EQ(opened->verified.size(), 2u);
    EXPECT_EQ(r->cosignature.substr(0, 23), "\xe2\x80\x94 witness.example/w1 ");
    auto note = ParseNote(r->cosigned_note);
    EXPECT_EQ(*CosignatureV1Verifier::Timestamp(note->signatures.back().signature),
              static_cast<uint64_t>(clock_.Now().seconds));
  }
  // Seeing the same checkpoint again is fine.
  auto again = Observe(log_->State()->checkpoint);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, WitnessOutcome::kCosigned);
}

TEST_F(WitnessTest, AnOlderConsistentCheckpointIsStaleNotCosigned) {
  const std::string old = Append(5);
  ASSERT_TRUE(Observe(Append(20)).ok());
  auto r = Observe(old);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, WitnessOutcome::kStale);
  EXPECT_EQ(r->previous_size, 25u);
  EXPECT_TRUE(r->cosignature.empty());
  // The witness did not roll back.
  auto latest = store_.Latest("example.com/peer");
  EXPECT_EQ(**latest, log_->State()->checkpoint);
}

TEST_F(WitnessTest, DetectsASplitViewAndKeepsBothCheckpoints) {
  const std::string seen = Append(300);
  ASSERT_TRUE(Observe(seen).ok());
  // The same key signs a different history (first 300 entries differ at entry 7).
  MemoryLogStorage fork_storage;
  auto fork = Log::Create(&fork_storage, "example.com/peer", log_key_, {});
  auto entries = Entries(0, 400);
  entries[7] = "rewritten";
  auto forged = (*fork)->Append(entries);
  ASSERT_TRUE(forged.ok());
  LogPublisher fork_pub(&fork_storage);
  PublisherFetcher fork_fetcher(&fork_pub);
  auto r = witness_.Observe(forged->checkpoint, log_->verifier(), fork_fetcher);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, WitnessOutcome::kSplitView);
  ASSERT_TRUE(r->evidence.has_value());
  EXPECT_EQ(r->evidence->first_note, seen);
  EXPECT_EQ(r->evidence->second_note, forged->checkpoint);
  EXPECT_EQ(r->evidence->detected_at, 1700000000);
  EXPECT_NE(r->evidence->detail.find("does not extend the tree of size 300"), std::string::npos);
  auto recorded = store_.SplitViews();
  ASSERT_EQ(recorded->size(), 1u);
  // Both checkpoints of the evidence verify with the log's key: it is proof of misbehaviour.
  EXPECT_TRUE(OpenCheckpoint(recorded->at(0).first_note, log_->verifier()).ok());
  EXPECT_TRUE(OpenCheckpoint(recorded->at(0).second_note, log_->verifier()).ok());
  // Nothing was cosigned, and the witness still holds the first view.
  EXPECT_EQ(**store_.Latest("example.com/peer"), seen);

  // Same size, different root: split view without fetching anything.
  MemoryLogStorage fork2_storage;
  auto fork2 = Log::Create(&fork2_storage, "example.com/peer", log_key_, {});
  auto e2 = Entries(0, 300);
  e2[0] = "other";
  auto same_size = (*fork2)->Append(e2);
  auto r2 = Observe(same_size->checkpoint);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->outcome, WitnessOutcome::kSplitView);
  EXPECT_EQ(store_.SplitViews()->size(), 2u);
}

TEST_F(WitnessTest, BadTilesAreAnErrorNotEvidence) {
  ASSERT_TRUE(Observe(Append(10)).ok());
  const std::string next = Append(600);
  storage_.committed_tiles()[{0, 0}][0] ^= 1;  // the server now serves a corrupt tile
  auto r = Observe(next);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_TRUE(store_.SplitViews()->empty());
}

TEST_F(WitnessTest, RefusesCheckpointsNotSignedByTheLog) {
  Ed25519NoteSigner other("example.com/peer", crypto::Ed25519PrivateKey::Generate());
  auto note =
      SignNote(FormatCheckpoint({"example.com/peer", 1, LeafHash(AsBytes("x")), {}}), other);
  auto r = Observe(*note);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(WitnessTest, AddCheckpointProtocol) {
  const std::string cp10 = Append(10);
  auto r = witness_.AddCheckpoint("old 0\n\n" + cp10, log_->verifier());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->outcome, WitnessOutcome::kCosigned);

  const std::string cp300 = Append(290);
  // Wrong old size: conflict, with the size the witness holds.
  auto conflict = witness_.AddCheckpoint("old 0\n\n" + cp300, log_->verifier());
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->outcome, WitnessOutcome::kConflict);
  EXPECT_EQ(conflict->latest_size, 10u);

  StorageTileReader reader(&storage_);
  auto state = log_->State();
  auto tree = TiledTree::Open(reader, state->size, state->root, nullptr);
  auto proof = (*tree)->ConsistencyProof(10);
  std::string body = "old 10\n";
  for (const Hash& h : *proof) body += HashToBase64(h) + "\n";
  // A bad proof is refused.
  std::string bad_body = "old 10\n" + HashToBase64(LeafHash(AsBytes("x"))) + "\n\n" + cp300;
  auto bad = witness_.AddCheckpoint(bad_body, log_->verifier());
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  auto ok = witness_.AddCheckpoint(body + "\n" + cp300, log_->verifier());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->outcome, WitnessOutcome::kCosigned);
  EXPECT_EQ(ok->previous_size, 10u);

  for (std::string_view malformed :
       {"", "old\n\n", "old 01\n\n", "old x\n\n", "old 10\nnot base64\n\n", "old 10\n"}) {
    auto m = witness_.AddCheckpoint(std::string(malformed) + cp300, log_->verifier());
    EXPECT_FALSE(m.ok()) << malformed;
  }
  auto larger = witness_.AddCheckpoint("old 400\n\n" + cp300, log_->verifier());
  ASSERT_FALSE(larger.ok());
  EXPECT_EQ(larger.status().code(), StatusCode::kInvalidArgument);
  std::string too_long = "old 300\n";
  for (int i = 0; i < 64; ++i) too_long += HashToBase64(LeafHash(AsBytes("x"))) + "\n";
  EXPECT_FALSE(witness_.AddCheckpoint(too_long + "\n" + cp300, log_->verifier()).ok());
}

TEST(MemoryWitnessStore, UpdateIsCompareAndSet) {
  MemoryWitnessStore store;
  ASSERT_TRUE(store.Update("o", std::nullopt, 5, "note5").ok());
  EXPECT_EQ(store.Update("o", std::nullopt, 6, "x").code(), StatusCode::kAborted);
  EXPECT_EQ(store.Update("o", 4, 6, "x").code(), StatusCode::kAborted);
  ASSERT_TRUE(store.Update("o", 5, 6, "note6").ok());
  EXPECT_EQ(**store.Latest("o"), "note6");
  EXPECT_FALSE(store.Latest("p")->has_value());
}

}  // namespace
}  // namespace comity::tlog
