// Proof computation and verification against a reference Merkle tree, exhaustively for small
// trees, and the verifiers' behaviour at the edges of the 64-bit range.
#include "tlog/merkle.h"

#include <gtest/gtest.h>

#include <limits>

#include "tests/tlog/test_util.h"

namespace comity::tlog {
namespace {

using testing::LeafHashReader;
using testing::MakeLeaves;
using testing::ReferenceHash;
using testing::ReferenceRoot;

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(Merkle, EmptyTreeRootIsSha256OfEmptyString) {
  EXPECT_EQ(HashToBase64(EmptyRootHash()), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  // RFC 6962 domain separation: a leaf and a node over the same bytes differ.
  Hash a = LeafHash(AsBytes(""));
  EXPECT_NE(a, EmptyRootHash());
  EXPECT_NE(NodeHash(a, a),
            LeafHash(AsBytes(std::string(HashBytes(a)) + std::string(HashBytes(a)))));
}

TEST(Merkle, InclusionProofsForEveryLeafOfSmallTrees) {
  const auto leaves = MakeLeaves(100);
  LeafHashReader reader(&leaves);
  for (uint64_t n = 1; n <= 100; ++n) {
    const Hash root = ReferenceRoot(leaves, n);
    for (uint64_t i = 0; i < n; ++i) {
      auto proof = InclusionProof(reader, i, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyInclusion(i, n, leaves[i], *proof, root).ok()) << i << " in " << n;
      // Wrong leaf, wrong index, truncated or extended proofs fail.
      EXPECT_FALSE(VerifyInclusion(i, n, leaves[(i + 1) % 100], *proof, root).ok());
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion((i + 1) % n, n, leaves[i], *proof, root).ok());
      }
      if (!proof->empty()) {
        auto shorter = *proof;
        shorter.pop_back();
        EXPECT_FALSE(VerifyInclusion(i, n, leaves[i], shorter, root).ok());
        auto flipped = *proof;
        flipped[0][7] ^= 1;
        EXPECT_FALSE(VerifyInclusion(i, n, leaves[i], flipped, root).ok());
      }
      auto longer = *proof;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(i, n, leaves[i], longer, root).ok());
    }
  }
}

TEST(Merkle, ConsistencyProofsForEveryPairOfSmallTrees) {
  const auto leaves = MakeLeaves(70);
  LeafHashReader reader(&leaves);
  for (uint64_t n = 0; n <= 70; ++n) {
    const Hash root2 = ReferenceRoot(leaves, n);
    for (uint64_t m = 0; m <= n; ++m) {
      const Hash root1 = ReferenceRoot(leaves, m);
      auto proof = ConsistencyProof(reader, m, n);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyConsistency(m, n, *proof, root1, root2).ok()) << m << " -> " << n;
      if (m > 0) {
        // The general subtree verifier agrees with RFC 9162's on prefixes.
        EXPECT_TRUE(VerifySubtreeConsistency(0, m, n, *proof, root1, root2).ok()) << m << " " << n;
      }
      if (m > 0 && m < n) {
        Hash other = root1;
        other[0] ^= 1;
        EXPECT_FALSE(VerifyConsistency(m, n, *proof, other, root2).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, *proof, root1, other).ok());
        auto bad = *proof;
        bad.back()[31] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(m, n, bad, root1, root2).ok());
        EXPECT_FALSE(VerifyConsistency(m, n, {}, root1, root2).ok());
        if (m + 1 < n) {
          EXPECT_FALSE(VerifyConsistency(m + 1, n, *proof, root1, root2).ok());
        }
      }
    }
  }
}

TEST(Merkle, SubtreeProofsForEveryValidSubtree) {
  const auto leaves = MakeLeaves(40);
  LeafHashReader reader(&leaves);
  int checked = 0;
  for (uint64_t n = 1; n <= 40; ++n) {
    const Hash root = ReferenceRoot(leaves, n);
    for (uint64_t start = 0; start < n; ++start) {
      for (uint64_t end = start + 1; end <= n; ++end) {
        if (!IsValidSubtree(start, end)) continue;
        const Hash sub = ReferenceHash(leaves, start, end);
        auto proof = SubtreeConsistencyProof(reader, start, end, n);
        ASSERT_TRUE(proof.ok());
        ASSERT_TRUE(VerifySubtreeConsistency(start, end, n, *proof, sub, root).ok())
            << "[" << start << "," << end << ") in " << n;
        Hash wrong = sub;
        wrong[3] ^= 1;
        EXPECT_FALSE(VerifySubtreeConsistency(start, end, n, *proof, wrong, root).ok());
        for (uint64_t i = start; i < end; ++i) {
          auto ip = SubtreeInclusionProof(reader, i, start, end);
          ASSERT_TRUE(ip.ok());
          EXPECT_TRUE(VerifySubtreeInclusion(i, start, end, leaves[i], *ip, sub).ok());
        }
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 500);
  EXPECT_FALSE(IsValidSubtree(3, 5));
  EXPECT_FALSE(IsValidSubtree(5, 5));
  EXPECT_TRUE(IsValidSubtree(4, 6));
  EXPECT_TRUE(IsValidSubtree(0, kMax));
  EXPECT_FALSE(IsValidSubtree(1, (uint64_t{1} << 63) + 2));
}

TEST(Merkle, ExtremeIndicesNeverCrash) {
  const Hash h = LeafHash(AsBytes("x"));
  std::vector<Hash> proof64(64, h);
  std::vector<Hash> proof65(65, h);
  const uint64_t cases[][2] = {
      {kMax, kMax}, {kMax - 1, kMax},         {0, kMax}, {kMax >> 1, kMax}, {0, 1},
      {kMax, 0},    {uint64_t{1} << 63, kMax}};
  for (const auto& c : cases) {
    for (const auto* p : {&proof64, &proof65}) {
      Status st = VerifyInclusion(c[0], c[1], h, *p, h);
      EXPECT_FALSE(st.ok());
      st = VerifyConsistency(c[0], c[1], *p, h, h);
      EXPECT_FALSE(st.ok());
      st = VerifySubtreeConsistency(c[0], c[1], kMax, *p, h, h);
      EXPECT_FALSE(st.ok());
      st = VerifySubtreeInclusion(c[0], c[0], c[1], h, *p, h);
      EXPECT_FALSE(st.ok());
    }
  }
  auto st = VerifyInclusion(kMax, kMax, h, {}, h);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  st = VerifyInclusion(0, 1, h, proof65, h);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("64"), std::string::npos);
  // A single-leaf tree: the leaf is the root and the proof is empty.
  EXPECT_TRUE(VerifyInclusion(0, 1, h, {}, h).ok());
  st = VerifyConsistency(5, 4, {}, h, h);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("never shrinks"), std::string::npos);
}

TEST(Merkle, EmptyTreeConsistency) {
  const Hash h = LeafHash(AsBytes("x"));
  EXPECT_TRUE(VerifyConsistency(0, 5, {}, EmptyRootHash(), h).ok());
  const std::vector<Hash> one = {h};
  EXPECT_FALSE(VerifyConsistency(0, 5, one, EmptyRootHash(), h).ok());
  EXPECT_FALSE(VerifyConsistency(0, 5, {}, h, h).ok());
  EXPECT_TRUE(VerifyConsistency(0, 0, {}, EmptyRootHash(), EmptyRootHash()).ok());
  EXPECT_FALSE(VerifyConsistency(0, 0, {}, h, h).ok());
}

}  // namespace
}  // namespace comity::tlog
