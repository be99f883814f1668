// Known answers from public projects (../shared/testdata/tlog, README there):
//  - transparency-dev/merkle proof vectors: every valid one verifies, every wantErr one is
//    rejected, indices up to 2^64 − 1;
//  - a C2SP tlog-tiles log of 15 entries written by Tessera: verifies at every size, and our
//    writer reproduces its tiles and roots byte for byte;
//  - the C2SP signed-note example.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <map>

#include "crypto/encoding.h"
#include "tests/tlog/test_util.h"
#include "tlog/checkpoint.h"
#include "tlog/log.h"
#include "tlog/merkle.h"
#include "tlog/note.h"
#include "tlog/publish.h"
#include "tlog/tiled_tree.h"
#include "tlog/verify.h"

namespace comity::tlog {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TestdataDir;

constexpr const char* kTiledLogVkey =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

uint64_t U64(const boost::json::value& v) {
  if (v.is_uint64()) return v.as_uint64();
  return static_cast<uint64_t>(v.as_int64());
}

// Decodes a base64 hash field; nullopt (with the reason) if it is not 32 bytes of base64.
std::optional<Hash> DecodeHash(const boost::json::value& v, std::string* why) {
  auto raw = crypto::Base64Decode(std::string(v.as_string()));
  if (!raw.ok()) {
    *why = raw.status().message();
    return std::nullopt;
  }
  auto h = HashFromBytes(AsBytes(*raw));
  if (!h.ok()) {
    *why = h.status().message();
    return std::nullopt;
  }
  return *h;
}

struct VectorOutcome {
  bool accepted = false;
  bool bad_hash_length = false;  // rejected before verification: a "hash" that is not 32 bytes
  std::string reason;
};

VectorOutcome RunVector(const std::string& kind, const boost::json::object& o) {
  VectorOutcome out;
  std::vector<Hash> proof;
  if (o.at("proof").is_array()) {
    for (const auto& p : o.at("proof").as_array()) {
      auto h = DecodeHash(p, &out.reason);
      if (!h) {
        out.bad_hash_length = true;
        return out;
      }
      proof.push_back(*h);
    }
  }
  auto hash = [&](const char* field) {
    auto h = DecodeHash(o.at(field), &out.reason);
    if (!h) out.bad_hash_length = true;
    return h;
  };
  Status st;
  if (kind == "inclusion" || kind == "subtreeinclusion") {
    auto root = hash("root");
    auto leaf = hash("leafHash");
    if (!root || !leaf) return out;
    if (kind == "inclusion") {
      st = VerifyInclusion(U64(o.at("leafIdx")), U64(o.at("treeSize")), *leaf, proof, *root);
    } else {
      st = VerifySubtreeInclusion(U64(o.at("leafIdx")), U64(o.at("start")), U64(o.at("end")), *leaf,
                                  proof, *root);
    }
  } else {
    auto root1 = hash("root1");
    auto root2 = hash("root2");
    if (!root1 || !root2) return out;
    if (kind == "consistency") {
      st = VerifyConsistency(U64(o.at("size1")), U64(o.at("size2")), proof, *root1, *root2);
    } else {
      st = VerifySubtreeConsistency(U64(o.at("start")), U64(o.at("end")), U64(o.at("size")), proof,
                                    *root1, *root2);
    }
  }
  out.accepted = st.ok();
  out.reason = st.message();
  return out;
}

TEST(MerkleVectors, ValidVerifyInvalidRejected) {
  const fs::path root = fs::path(TestdataDir()) / "tlog" / "merkle-vectors";
  ASSERT_TRUE(fs::exists(root)) << root;
  std::map<std::string, int> counts;
  std::vector<std::string> short_hash_valid;  // valid upstream, rejected here by design
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    const std::string rel = fs::relative(entry.path(), root).string();
    const std::string kind = rel.substr(0, rel.find('/'));
    const boost::json::object o = boost::json::parse(ReadFile(entry.path())).as_object();
    const bool want_err = o.at("wantErr").as_bool();
    const VectorOutcome r = RunVector(kind, o);
    ++counts[kind];
    if (want_err) {
      EXPECT_FALSE(r.accepted) << rel << " should be rejected";
    } else if (r.bad_hash_length) {
      // We never accept a hash that is not 32 bytes, even where the outcome would not depend
      // on it (placeholder roots of equal-size or empty trees).
      EXPECT_NE(r.reason.find("32"), std::string::npos) << rel << ": " << r.reason;
      short_hash_valid.push_back(rel);
    } else {
      EXPECT_TRUE(r.accepted) << rel << ": " << r.reason;
    }
  }
  EXPECT_GT(counts["inclusion"], 50);
  EXPECT_GT(counts["consistency"], 50);
  EXPECT_GT(counts["subtreeinclusion"], 30);
  EXPECT_GT(counts["subtreeconsistency"], 50);
  // The README's one consistency vector with non-32-byte placeholder roots is among them.
  EXPECT_NE(std::find(short_hash_valid.begin(), short_hash_valid.end(),
                      "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"),
            short_hash_valid.end());
  for (const auto& v : short_hash_valid) {
    // Only vectors about equal-size, empty or single-entry placeholders qualify.
    EXPECT_TRUE(v.find("sizes-are-equal") != std::string::npos ||
                v.find("subtree-is-empty") != std::string::npos)
        << v;
  }
}

// A fetcher over the tiled-log-15 directory that serves checkpoint.N as "checkpoint".
class SizedFetcher : public TileFetcher {
 public:
  SizedFetcher(std::string dir, int size) : inner_(dir), dir_(std::move(dir)), size_(size) {}
  StatusOr<std::string> Fetch(const std::string& path) override {
    if (path == "checkpoint") return ReadFile(dir_ + "/checkpoint." + std::to_string(size_));
    return inner_.Fetch(path);
  }

 private:
  DirectoryFetcher inner_;
  std::string dir_;
  int size_;
};

std::string TiledLogDir() { return TestdataDir() + "/tlog/tiled-log-15"; }

TEST(TiledLog15, VerifiesWithItsKeyAtEverySize) {
  auto key = ParseVerifierKey(kTiledLogVkey);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  for (int n = 0; n <= 15; ++n) {
    SizedFetcher fetcher(TiledLogDir(), n);
    auto report = VerifyLog(fetcher, **key, {});
    ASSERT_TRUE(report.ok()) << "size " << n << ": " << report.status().ToString();
    EXPECT_EQ(report->checkpoint.size, static_cast<uint64_t>(n));
    EXPECT_EQ(report->disclosed, static_cast<uint64_t>(n));
    EXPECT_EQ(report->tiles, n > 0 ? 1u : 0u);
    EXPECT_EQ(report->bundles, n > 0 ? 1u : 0u);
    // And every earlier checkpoint is consistent with it.
    for (int m = 0; m <= n; ++m) {
      VerifyOptions opts;
      opts.old_checkpoint = ReadFile(TiledLogDir() + "/checkpoint." + std::to_string(m));
      auto r = VerifyLog(fetcher, **key, opts);
      ASSERT_TRUE(r.ok()) << m << " -> " << n << ": " << r.status().ToString();
      EXPECT_EQ(r->old_size, static_cast<uint64_t>(m));
    }
  }
  // The latest checkpoint is checkpoint.15.
  EXPECT_EQ(ReadFile(TiledLogDir() + "/checkpoint"), ReadFile(TiledLogDir() + "/checkpoint.15"));
}

TEST(TiledLog15, ProofsFromItsTilesVerify) {
  auto key = ParseVerifierKey(kTiledLogVkey);
  ASSERT_TRUE(key.ok());
  DirectoryFetcher fetcher(TiledLogDir());
  auto cp = OpenCheckpoint(ReadFile(TiledLogDir() + "/checkpoint"), **key);
  ASSERT_TRUE(cp.ok());
  FetcherTileReader reader(fetcher);
  auto tree = TiledTree::Open(reader, 15, cp->checkpoint.root, nullptr);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  const std::string bundle_data = ReadFile(TiledLogDir() + "/tile/entries/000.p/15");
  auto bundle = ParseEntryBundle(bundle_data, 15);
  ASSERT_TRUE(bundle.ok());
  for (uint64_t i = 0; i < 15; ++i) {
    auto proof = (*tree)->InclusionProof(i);
    ASSERT_TRUE(proof.ok());
    Status st =
        VerifyInclusion(i, 15, LeafHash(AsBytes((*bundle)[i])), *proof, cp->checkpoint.root);
    EXPECT_TRUE(st.ok()) << "leaf " << i << ": " << st.ToString();
  }
}

TEST(TiledLog15, OurWriterProducesIdenticalTilesAndRoots) {
  auto bundle_data = ReadFile(TiledLogDir() + "/tile/entries/000.p/15");
  auto entries = ParseEntryBundle(bundle_data, 15);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ((*entries)[0], "one");
  EXPECT_EQ((*entries)[14], "fivten");  // sic, in the upstream data

  MemoryLogStorage storage;
  auto log = Log::Create(&storage, "example.com/log/testdata",
                         crypto::Ed25519PrivateKey::Generate(), {.disclose_immediately = true});
  ASSERT_TRUE(log.ok());
  for (int n = 1; n <= 15; ++n) {
    std::vector<std::string> batch = {std::string((*entries)[n - 1])};
    auto r = (*log)->Append(batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size, static_cast<uint64_t>(n));
    const std::string theirs = ReadFile(TiledLogDir() + "/checkpoint." + std::to_string(n));
    auto their_note = ParseNote(theirs);
    ASSERT_TRUE(their_note.ok());
    auto our_note = ParseNote(r->checkpoint);
    ASSERT_TRUE(our_note.ok());
    EXPECT_EQ(our_note->text, their_note->text) << "checkpoint body at size " << n;
    auto tile = storage.ReadTile(0, 0);
    ASSERT_TRUE(tile.ok() && tile->has_value());
    EXPECT_EQ(**tile, ReadFile(TiledLogDir() + "/tile/0/000.p/" + std::to_string(n)))
        << "level-0 tile at size " << n;
  }
  // The exported layout matches file for file (except the checkpoint's signature).
  testing::TempDir out;
  LogPublisher pub(&storage);
  auto stats = pub.Export(out.path());
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(ReadFile(out / "tile/0/000.p/15"), ReadFile(TiledLogDir() + "/tile/0/000.p/15"));
  EXPECT_EQ(ReadFile(out / "tile/entries/000.p/15"), bundle_data);
  // Batching does not change anything either: all 15 at once.
  MemoryLogStorage storage2;
  auto log2 =
      Log::Create(&storage2, "example.com/log/testdata", crypto::Ed25519PrivateKey::Generate(), {});
  std::vector<std::string> all((*entries).begin(), (*entries).end());
  auto r2 = (*log2)->Append(all);
  ASSERT_TRUE(r2.ok());
  auto theirs =
      OpenCheckpoint(ReadFile(TiledLogDir() + "/checkpoint"), **ParseVerifierKey(kTiledLogVkey));
  ASSERT_TRUE(theirs.ok());
  EXPECT_EQ(r2->root, theirs->checkpoint.root);
}

TEST(SignedNote, C2spExampleVerifies) {
  auto key =
      ParseVerifierKey("example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  const std::string note =
      "This is an example message.\n\n\xe2\x80\x94 example.com/foo "
      "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM="
      "\n";
  auto opened = OpenNote(note, **key);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->text, "This is an example message.\n");
  ASSERT_EQ(opened->verified.size(), 1u);
  EXPECT_EQ(opened->verified[0].key_id, 0x530d903au);
  // One changed byte of text breaks it.
  std::string bad = note;
  bad[0] = 't';
  auto r = OpenNote(bad, **key);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  // The vkey re-encodes to itself.
  EXPECT_EQ((*key)->VerifierKey(),
            "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k");
}

}  // namespace
}  // namespace comity::tlog
