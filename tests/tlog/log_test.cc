// The log writer over in-memory storage: sequencing, tiles, checkpoints, disclosure, recovery
// from failed writes and rolled-back transactions, proofs from tiles, export and tamper
// detection by the verifier.
#include "tlog/log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "tests/tlog/test_util.h"
#include "tlog/publish.h"
#include "tlog/tiled_tree.h"
#include "tlog/verify.h"

namespace comity::tlog {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::ReferenceRoot;
using testing::TempDir;
using testing::WriteFile;

std::vector<std::string> Entries(uint64_t first, uint64_t count) {
  std::vector<std::string> out;
  for (uint64_t i = first; i < first + count; ++i) {
    out.push_back("entry " + std::to_string(i) + std::string(i % 7, '.'));
  }
  return out;
}

std::vector<Hash> LeafHashes(uint64_t n) {
  std::vector<Hash> out;
  for (const auto& e : Entries(0, n)) out.push_back(LeafHash(AsBytes(e)));
  return out;
}

crypto::Ed25519PrivateKey TestKey() {
  static const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  return key;
}

std::unique_ptr<Log> NewLog(LogStorage* storage, LogOptions options = {}) {
  auto log = Log::Create(storage, "example.com/test-log", TestKey(), options);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return std::move(log).value();
}

TEST(Log, AppendsInBatchesAndMatchesTheReferenceTree) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  const auto leaves = LeafHashes(70000);
  std::mt19937_64 rng(7);
  uint64_t size = 0;
  std::vector<uint64_t> checked_sizes;
  while (size < 70000) {
    uint64_t n = std::min<uint64_t>(70000 - size, 1 + rng() % 3000);
    if (rng() % 5 == 0) n = 1;
    auto r = log->Append(Entries(size, n));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->first_index, size);
    size += n;
    EXPECT_EQ(r->size, size);
    if (checked_sizes.size() < 40 || size == 70000) {
      ASSERT_EQ(r->root, ReferenceRoot(leaves, size)) << "size " << size;
      checked_sizes.push_back(size);
    }
    auto cp = OpenCheckpoint(r->checkpoint, log->verifier());
    ASSERT_TRUE(cp.ok());
    EXPECT_EQ(cp->checkpoint.size, size);
    EXPECT_EQ(cp->checkpoint.root, r->root);
  }
  // Every checkpoint the log signed is kept.
  for (uint64_t s : checked_sizes) {
    auto note = storage.ReadCheckpoint(s);
    ASSERT_TRUE(note.ok() && note->has_value()) << s;
  }
  auto state = log->State();
  EXPECT_EQ(state->size, 70000u);
  EXPECT_EQ(state->disclosed, 0u);  // nothing disclosed by default
}

class CountingStorage : public MemoryLogStorage {
 public:
  int tile_reads = 0;
  StatusOr<std::optional<std::string>> ReadTile(int level, uint64_t index) override {
    ++tile_reads;
    return MemoryLogStorage::ReadTile(level, index);
  }
};

TEST(Log, ReopenContinuesFromStoredTilesWithoutRebuilding) {
  CountingStorage storage;
  {
    auto log = NewLog(&storage);
    ASSERT_TRUE(log->Append(Entries(0, 1000)).ok());
  }
  // Opening reads only the right edge: the partial tiles at levels 0 and 1 (1000 = 3·256 + 232).
  storage.tile_reads = 0;
  auto log = Log::Open(&storage, TestKey());
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(storage.tile_reads, 2);
  auto r = (*log)->Append(Entries(1000, 500));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->root, ReferenceRoot(LeafHashes(1500), 1500));
}

TEST(Log, EmptyBatchChangesNothing) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  ASSERT_TRUE(log->Append(Entries(0, 3)).ok());
  auto before = log->State();
  auto r = log->Append({});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 3u);
  EXPECT_EQ(*log->State(), *before);
}

TEST(Log, DisclosureNeverRunsAheadAndNeverGoesBack) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  ASSERT_TRUE(log->Append(Entries(0, 10)).ok());
  Status st = log->Disclose(11);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(st.message().find("only 10 are committed"), std::string::npos);
  ASSERT_TRUE(log->Disclose(4).ok());
  st = log->Disclose(3);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("only moves forward"), std::string::npos);
  EXPECT_TRUE(log->Disclose(4).ok());
  EXPECT_EQ(log->State()->disclosed, 4u);

  MemoryLogStorage storage2;
  auto immediate = NewLog(&storage2, {.disclose_immediately = true});
  ASSERT_TRUE(immediate->Append(Entries(0, 5)).ok());
  EXPECT_EQ(immediate->State()->disclosed, 5u);
}

TEST(Log, RefusesBadInputWithClearErrors) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  auto batch = Entries(0, 3);
  batch[1] = std::string(kMaxEntryBytes + 1, 'x');
  auto r = log->Append(batch);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(
      r.status().message().find("entry 1 of the batch: entry of 65536 bytes exceeds the limit"),
      std::string::npos)
      << r.status().message();
  EXPECT_EQ(log->State()->size, 0u);  // nothing of the batch was appended
  batch[1] = std::string(kMaxEntryBytes, 'x');
  EXPECT_TRUE(log->Append(batch).ok());

  std::vector<std::string> too_many(kMaxBatchEntries + 1);
  auto many = log->Append(too_many);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().code(), StatusCode::kResourceExhausted);

  for (std::string_view bad : {"", "has space", "a+b", "tab\there"}) {
    MemoryLogStorage s;
    auto c = Log::Create(&s, std::string(bad), TestKey(), {});
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(c.status().message().find("origin"), std::string::npos);
  }
  MemoryLogStorage s;
  EXPECT_FALSE(Log::Create(&s, std::string(kMaxOriginBytes + 1, 'o'), TestKey(), {}).ok());
  auto again = Log::Create(&storage, "example.com/test-log", TestKey(), {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
}

TEST(Log, OpenDetectsWrongKeyAndCorruptStorage) {
  MemoryLogStorage storage;
  ASSERT_TRUE(NewLog(&storage)->Append(Entries(0, 300)).ok());
  auto wrong = Log::Open(&storage, crypto::Ed25519PrivateKey::Generate());
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("signed by another key"), std::string::npos);

  MemoryLogStorage empty;
  EXPECT_EQ(Log::Open(&empty, TestKey()).status().code(), StatusCode::kNotFound);

  {  // A flipped bit in the right-edge tile.
    MemoryLogStorage copy = storage;
    copy.committed_tiles()[{0, 1}][5] ^= 1;
    auto r = Log::Open(&copy, TestKey());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(r.status().message().find("stored tiles hash to"), std::string::npos);
  }
  {  // A truncated edge tile.
    MemoryLogStorage copy = storage;
    copy.committed_tiles()[{0, 1}].resize(40);
    EXPECT_EQ(Log::Open(&copy, TestKey()).status().code(), StatusCode::kDataLoss);
  }
  {  // State and checkpoint disagree.
    MemoryLogStorage copy = storage;
    copy.committed_state()->size = 299;
    EXPECT_EQ(Log::Open(&copy, TestKey()).status().code(), StatusCode::kDataLoss);
  }
  {  // A forged checkpoint text.
    MemoryLogStorage copy = storage;
    copy.committed_state()->checkpoint[3] ^= 1;
    EXPECT_EQ(Log::Open(&copy, TestKey()).status().code(), StatusCode::kDataLoss);
  }
}

// Forwards to MemoryLogStorage and fails the n-th write-side call (0-based) once.
class FaultyStorage : public MemoryLogStorage {
 public:
  int calls = 0;
  int fail_at = -1;
  Status Fault() {
    if (calls++ == fail_at) return UnavailableError("injected fault");
    return OkStatus();
  }
  Status WriteState(const LogState& s) override {
    RETURN_IF_ERROR(Fault());
    return MemoryLogStorage::WriteState(s);
  }
  Status WriteTile(int l, uint64_t i, std::string_view d) override {
    RETURN_IF_ERROR(Fault());
    return MemoryLogStorage::WriteTile(l, i, d);
  }
  Status WriteEntries(uint64_t f, std::span<const std::string> e) override {
    RETURN_IF_ERROR(Fault());
    return MemoryLogStorage::WriteEntries(f, e);
  }
  Status WriteCheckpoint(uint64_t s, std::string_view n) override {
    RETURN_IF_ERROR(Fault());
    return MemoryLogStorage::WriteCheckpoint(s, n);
  }
  Status Commit() override {
    RETURN_IF_ERROR(Fault());
    return MemoryLogStorage::Commit();
  }
};

TEST(Log, AFailedWriteAnywhereLeavesTheLogAsItWas) {
  const auto leaves = LeafHashes(1200);
  for (int fail_at = 0; fail_at < 12; ++fail_at) {
    FaultyStorage storage;
    auto log = NewLog(&storage);
    ASSERT_TRUE(log->Append(Entries(0, 500)).ok());
    const LogState before = *log->State();
    storage.calls = 0;
    storage.fail_at = fail_at;
    auto r = log->Append(Entries(500, 600));  // completes tiles at levels 0 and writes partials
    if (r.ok()) {
      EXPECT_GT(fail_at, storage.calls - 1) << "fault was not hit";
      continue;
    }
    EXPECT_NE(r.status().message().find("injected fault"), std::string::npos);
    EXPECT_EQ(*log->State(), before) << "fail_at " << fail_at;
    storage.fail_at = -1;
    auto retry = log->Append(Entries(500, 700));
    ASSERT_TRUE(retry.ok()) << retry.status().ToString();
    EXPECT_EQ(retry->root, ReferenceRoot(leaves, 1200)) << "fail_at " << fail_at;
    EXPECT_TRUE(Log::Open(&storage, TestKey()).ok());
  }
}

TEST(Log, CallerRollbackOfAnAppendInTransactionIsNoticed) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  ASSERT_TRUE(log->Append(Entries(0, 10)).ok());
  ASSERT_TRUE(storage.BeginWrite().ok());
  auto r = log->AppendInTransaction(Entries(10, 300));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(storage.Rollback().ok());
  EXPECT_EQ(log->State()->size, 10u);
  // The in-memory edge ran ahead; the next append must reload it from storage.
  auto next = log->Append(Entries(10, 5));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->size, 15u);
  EXPECT_EQ(next->root, ReferenceRoot(LeafHashes(15), 15));
  // And committing a caller's transaction works like Append.
  ASSERT_TRUE(storage.BeginWrite().ok());
  ASSERT_TRUE(log->AppendInTransaction(Entries(15, 5)).ok());
  ASSERT_TRUE(log->DiscloseInTransaction(20).ok());
  ASSERT_TRUE(storage.Commit().ok());
  EXPECT_EQ(log->State()->disclosed, 20u);
  EXPECT_EQ(log->State()->root, ReferenceRoot(LeafHashes(20), 20));
}

// A caller that has read the state in its transaction appends from it (no second read); a
// state of another log is refused.
TEST(Log, AppendInTransactionFromTheStateTheCallerRead) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  ASSERT_TRUE(log->Append(Entries(0, 10)).ok());
  ASSERT_TRUE(storage.BeginWrite().ok());
  LogState state = *log->State();
  LogState other = state;
  other.origin = "example.com/another";
  auto refused = log->AppendInTransaction(Entries(10, 3), other);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  auto r = log->AppendInTransaction(Entries(10, 300), state);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->first_index, 10u);
  ASSERT_TRUE(storage.Commit().ok());
  EXPECT_EQ(log->State()->size, 310u);
  EXPECT_EQ(log->State()->root, ReferenceRoot(LeafHashes(310), 310));
  EXPECT_TRUE(Log::Open(&storage, TestKey()).ok());
}

TEST(Log, ProofsFromStoredTilesAtEverySize) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  const uint64_t kSize = 70000;
  ASSERT_TRUE(log->Append(Entries(0, kSize)).ok());
  const auto leaves = LeafHashes(kSize);
  const LogState state = *log->State();
  StorageTileReader reader(&storage);
  TileCache cache(64);
  auto tree = TiledTree::Open(reader, state.size, state.root, &cache);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  std::mt19937_64 rng(3);
  for (int k = 0; k < 300; ++k) {
    const uint64_t i = rng() % kSize;
    auto proof = (*tree)->InclusionProof(i);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(VerifyInclusion(i, kSize, leaves[i], *proof, state.root).ok()) << i;
    const uint64_t old = rng() % (kSize + 1);
    auto cons = (*tree)->ConsistencyProof(old);
    ASSERT_TRUE(cons.ok());
    EXPECT_TRUE(VerifyConsistency(old, kSize, *cons, ReferenceRoot(leaves, old), state.root).ok())
        << old;
  }
  EXPECT_LE(cache.size(), 64u);
  // Edge sizes: the last leaf, the first, exact tile boundaries.
  for (uint64_t s :
       {uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{257}, uint64_t{65536}, kSize - 1}) {
    auto r = (*tree)->PrefixRoot(s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, ReferenceRoot(leaves, s)) << s;
  }
  EXPECT_FALSE((*tree)->InclusionProof(kSize).ok());
  EXPECT_FALSE((*tree)->PrefixRoot(kSize + 1).ok());
}

TEST(Log, TiledTreeRejectsTilesThatDoNotMatch) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  ASSERT_TRUE(log->Append(Entries(0, 600)).ok());
  const LogState state = *log->State();
  storage.committed_tiles()[{0, 0}][100] ^= 1;  // a full tile, below the edge
  StorageTileReader reader(&storage);
  auto tree = TiledTree::Open(reader, state.size, state.root, nullptr);
  ASSERT_TRUE(tree.ok());  // the edge is fine
  auto proof = (*tree)->InclusionProof(3);
  ASSERT_FALSE(proof.ok());
  EXPECT_EQ(proof.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(proof.status().message().find("tile 0/000 does not match"), std::string::npos)
      << proof.status().message();
  Hash wrong = state.root;
  wrong[0] ^= 1;
  auto bad = TiledTree::Open(reader, state.size, wrong, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not to the checkpoint's root"), std::string::npos);
}

TEST(Publish, ServesOnlyWhatIsCommittedAndDisclosed) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  ASSERT_TRUE(log->Append(Entries(0, 300)).ok());
  ASSERT_TRUE(log->Disclose(260).ok());
  LogPublisher pub(&storage);
  EXPECT_EQ(pub.Resource("checkpoint")->substr(0, 21), "example.com/test-log\n");
  EXPECT_EQ(*pub.Resource("disclosed"), "260\n");
  EXPECT_EQ(pub.Resource("tile/0/000")->size(), 8192u);
  EXPECT_EQ(pub.Resource("tile/0/001.p/44")->size(), 44u * 32);
  EXPECT_EQ(pub.Resource("tile/0/001.p/10")->size(), 10u * 32);  // an older partial: a prefix
  EXPECT_EQ(pub.Resource("tile/1/000.p/1")->size(), 32u);
  EXPECT_EQ(pub.Resource("tile/0/001.p/45").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(pub.Resource("tile/0/001").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(pub.Resource("tile/2/000.p/1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(pub.Resource("tile/entries/000").ok());
  EXPECT_TRUE(pub.Resource("tile/entries/001.p/4").ok());
  auto undisclosed = pub.Resource("tile/entries/001.p/5");
  ASSERT_FALSE(undisclosed.ok());
  EXPECT_EQ(undisclosed.status().code(), StatusCode::kNotFound);
  EXPECT_NE(undisclosed.status().message().find("not disclosed"), std::string::npos);
  EXPECT_EQ(pub.Resource("tile/entries/x018/x446/x744/x073/x709/x551/615").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(pub.Resource("../etc/passwd").status().code(), StatusCode::kInvalidArgument);
}

// Exports a log, checks that it verifies, then that every kind of tampering is caught.
class ExportedLog : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = NewLog(&storage_, {.disclose_immediately = true});
    ASSERT_TRUE(log_->Append(Entries(0, 70000)).ok());
    auto old = log_->State();
    ASSERT_TRUE(log_->Append(Entries(70000, 1000)).ok());
    old_checkpoint_ = old->checkpoint;
    LogPublisher pub(&storage_);
    auto stats = pub.Export(dir_.path());
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    EXPECT_EQ(stats->tiles, 278u + 2 + 1);
    EXPECT_EQ(stats->bundles, 278u);
  }
  StatusOr<VerifyReport> Verify(std::optional<std::string> old = std::nullopt) {
    DirectoryFetcher fetcher(dir_.path());
    return VerifyLog(fetcher, log_->verifier(), {.old_checkpoint = std::move(old)});
  }
  MemoryLogStorage storage_;
  std::unique_ptr<Log> log_;
  TempDir dir_;
  std::string old_checkpoint_;
};

TEST_F(ExportedLog, Verifies) {
  auto r = Verify(old_checkpoint_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->checkpoint.size, 71000u);
  EXPECT_EQ(r->tiles, 281u);
  EXPECT_EQ(r->bundles, 278u);
  EXPECT_EQ(r->old_size, 70000u);
  EXPECT_NE(r->Summary().find("verified example.com/test-log: size 71000"), std::string::npos);
}

TEST_F(ExportedLog, AFlippedByteInAnyFileIsCaught) {
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    if (path.ends_with("/disclosed")) continue;
    // Checking all 556 files is slow-ish under sanitizers; every file of the top levels and
    // every 10th level-0 tile and bundle is representative.
    const bool level0 = path.find("/tile/0/") != std::string::npos ||
                        path.find("/tile/entries/") != std::string::npos;
    if (level0 && files++ % 10 != 0) continue;
    const std::string original = ReadFile(path);
    for (size_t pos : {size_t{0}, original.size() / 2, original.size() - 1}) {
      std::string bad = original;
      bad[pos] ^= 0x01;
      WriteFile(path, bad);
      auto r = Verify();
      EXPECT_FALSE(r.ok()) << "flipped byte " << pos << " of " << path << " went unnoticed";
    }
    WriteFile(path, original);
  }
  EXPECT_TRUE(Verify().ok());
}

TEST_F(ExportedLog, TruncatedOrMissingTilesAreCaught) {
  const std::string tile = dir_ / "tile/0/001";
  const std::string original = ReadFile(tile);
  WriteFile(tile, original.substr(0, 8160));
  auto r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("8160 bytes"), std::string::npos) << r.status().message();
  fs::remove(tile);
  EXPECT_EQ(Verify().status().code(), StatusCode::kNotFound);
  WriteFile(tile, original);
  const std::string bundle = dir_ / "tile/entries/001";
  WriteFile(bundle, ReadFile(bundle).substr(0, 100));
  r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tile/entries/001"), std::string::npos);
}

TEST_F(ExportedLog, ACheckpointOfAnotherKeyIsRejected) {
  Ed25519NoteSigner other("example.com/test-log", crypto::Ed25519PrivateKey::Generate());
  auto opened = ParseNote(ReadFile(dir_ / "checkpoint"));
  auto forged = SignNote(opened->text, other);
  WriteFile(dir_ / "checkpoint", *forged);
  auto r = Verify();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
}

TEST_F(ExportedLog, AShrinkingOrForkedLogIsRejected) {
  // --old larger than the current checkpoint: the log shrank.
  MemoryLogStorage bigger_storage;
  auto bigger = Log::Create(&bigger_storage, "example.com/test-log", TestKey(), {});
  ASSERT_TRUE((*bigger)->Append(Entries(0, 72000)).ok());
  auto r = Verify((*bigger)->State()->checkpoint);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("the log shrank"), std::string::npos);
  // An earlier checkpoint of a different history (same key): not a prefix.
  MemoryLogStorage fork_storage;
  auto fork = Log::Create(&fork_storage, "example.com/test-log", TestKey(), {});
  auto entries = Entries(0, 500);
  entries[17] = "rewritten";
  ASSERT_TRUE((*fork)->Append(entries).ok());
  r = Verify((*fork)->State()->checkpoint);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not consistent with the earlier checkpoint of size 500"),
            std::string::npos)
      << r.status().message();
  // An old checkpoint by another key is refused as such.
  Ed25519NoteSigner other("example.com/test-log", crypto::Ed25519PrivateKey::Generate());
  auto foreign = SignNote(FormatCheckpoint({"example.com/test-log", 1, Hash{}, {}}), other);
  r = Verify(*foreign);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("earlier checkpoint"), std::string::npos);
}

TEST_F(ExportedLog, UndisclosedBundlesAreNotExported) {
  MemoryLogStorage storage;
  auto log = NewLog(&storage);
  ASSERT_TRUE(log->Append(Entries(0, 600)).ok());
  ASSERT_TRUE(log->Disclose(300).ok());
  TempDir out;
  LogPublisher pub(&storage);
  auto stats = pub.Export(out.path());
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->bundles, 2u);
  EXPECT_TRUE(fs::exists(out / "tile/entries/001.p/44"));
  EXPECT_FALSE(fs::exists(out / "tile/entries/002.p/88"));
  DirectoryFetcher fetcher(out.path());
  auto r = VerifyLog(fetcher, log->verifier(), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->disclosed, 300u);
  EXPECT_EQ(r->checkpoint.size, 600u);
  // Claiming more than is disclosed is caught (the bundle is missing).
  WriteFile(out / "disclosed", "400\n");
  EXPECT_FALSE(VerifyLog(fetcher, log->verifier(), {}).ok());
  WriteFile(out / "disclosed", "700\n");
  auto over = VerifyLog(fetcher, log->verifier(), {});
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("more than the checkpoint's"), std::string::npos);
}

TEST(DirectoryFetcher, RefusesNonResourcesAndOversizedFiles) {
  TempDir dir;
  DirectoryFetcher fetcher(dir.path());
  EXPECT_EQ(fetcher.Fetch("../secret").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fetcher.Fetch("checkpoint").status().code(), StatusCode::kNotFound);
  WriteFile(dir / "tile/0/000", std::string(8193, 'x'));
  auto r = fetcher.Fetch("tile/0/000");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  fs::create_directories(dir / "tile/1/000");
  EXPECT_FALSE(fetcher.Fetch("tile/1/000").ok());
}

}  // namespace
}  // namespace comity::tlog
