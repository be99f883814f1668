#include "tlog/merkle.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <string>

namespace comity::tlog {
namespace {

// No tree of 64-bit size needs more than 64 proof hashes (65 with a prepended seed).
constexpr size_t kMaxProofHashes = 64;

std::string U(uint64_t v) { return std::to_string(v); }

Status ProofTooLong(size_t n) {
  return DataLossError("proof has " + U(n) + " hashes; no proof needs more than 64");
}

// The steps from the root of [0, size) down to the node [start, end), which must be a valid
// subtree (or a prefix [0, end)). `straddle` marks a left sibling that is also the left part of
// the subtree itself (only when start == lo).
struct Step {
  bool sibling_on_right;
  bool straddle;
};

std::vector<Step> PathToSubtree(uint64_t start, uint64_t end, uint64_t size, bool* known) {
  std::vector<Step> steps;
  uint64_t lo = 0;
  uint64_t hi = size;
  *known = true;
  while (!(start == lo && end == hi)) {
    const uint64_t k = LargestPowerOfTwoBelow(hi - lo);
    if (end <= lo + k) {
      steps.push_back({true, false});
      hi = lo + k;
    } else if (start >= lo + k) {
      steps.push_back({false, false});
      lo += k;
    } else {
      // start == lo < lo + k < end: the subtree spans both children.
      steps.push_back({false, true});
      lo += k;
      start = lo;
      *known = false;
    }
  }
  return steps;
}

}  // namespace

uint64_t LargestPowerOfTwoBelow(uint64_t n) { return std::bit_floor(n - 1); }

bool IsValidSubtree(uint64_t start, uint64_t end) {
  if (start >= end) return false;
  const uint64_t n = end - start;
  if (n > (uint64_t{1} << 63)) return start == 0;  // bit_ceil(n) would be 2^64
  return start % std::bit_ceil(n) == 0;
}

StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf,
                                      std::span<const Hash> proof) {
  if (index >= size) {
    return InvalidArgumentError("leaf index " + U(index) + " is not below tree size " + U(size));
  }
  if (proof.size() > kMaxProofHashes) return ProofTooLong(proof.size());
  // RFC 9162 section 2.1.3.2.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf;
  TreeHasher h;
  for (const Hash& p : proof) {
    if (sn == 0) return DataLossError("inclusion proof is longer than the tree is deep");
    if ((fn & 1) != 0 || fn == sn) {
      r = h.Node(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = h.Node(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return DataLossError("inclusion proof is too short for the tree size");
  return r;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                       const Hash& root) {
  ASSIGN_OR_RETURN(Hash computed, RootFromInclusionProof(index, size, leaf, proof));
  if (computed != root) {
    return DataLossError("inclusion proof for leaf " + U(index) + " in tree of size " + U(size) +
                         " leads to root " + HashToBase64(computed) + ", not " +
                         HashToBase64(root));
  }
  return OkStatus();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2) {
  if (size1 > size2) {
    return InvalidArgumentError("old tree size " + U(size1) + " is larger than new tree size " +
                                U(size2) + ": a log never shrinks");
  }
  if (size1 == size2) {
    if (!proof.empty()) return DataLossError("trees of equal size need an empty proof");
    if (root1 != root2) {
      return DataLossError("two trees of size " + U(size1) + " have different roots");
    }
    if (size1 == 0 && root1 != EmptyRootHash()) {
      return DataLossError("the root of the empty tree is SHA-256 of the empty string");
    }
    return OkStatus();
  }
  if (size1 == 0) {
    if (!proof.empty()) {
      return DataLossError("a consistency proof from the empty tree must be empty");
    }
    if (root1 != EmptyRootHash()) {
      return DataLossError("the root of the empty tree is SHA-256 of the empty string");
    }
    return OkStatus();
  }
  if (proof.empty()) return DataLossError("consistency proof is empty");
  if (proof.size() > kMaxProofHashes) return ProofTooLong(proof.size());

  // RFC 9162 section 2.1.4.2.
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  TreeHasher h;
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) return DataLossError("consistency proof is longer than the tree is deep");
    if ((fn & 1) != 0 || fn == sn) {
      fr = h.Node(c, fr);
      sr = h.Node(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = h.Node(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return DataLossError("consistency proof is too short for the tree sizes");
  if (fr != root1) {
    return DataLossError("consistency proof does not lead to the old root (size " + U(size1) + ")");
  }
  if (sr != root2) {
    return DataLossError("consistency proof does not lead to the new root (size " + U(size2) + ")");
  }
  return OkStatus();
}

Status VerifySubtreeInclusion(uint64_t index, uint64_t start, uint64_t end, const Hash& leaf,
                              std::span<const Hash> proof, const Hash& subtree_hash) {
  if (!IsValidSubtree(start, end)) {
    return InvalidArgumentError(fmt::format("[{}, {}) is not a valid subtree", start, end));
  }
  if (index < start || index >= end) {
    return InvalidArgumentError(
        fmt::format("leaf index {} is outside the subtree [{}, {})", index, start, end));
  }
  return VerifyInclusion(index - start, end - start, leaf, proof, subtree_hash);
}

Status VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                std::span<const Hash> proof, const Hash& subtree_hash,
                                const Hash& root) {
  if (start == end) {
    if (end > size) {
      return InvalidArgumentError("empty subtree at " + U(start) + " is beyond tree size " +
                                  U(size));
    }
    if (!proof.empty()) return DataLossError("an empty subtree needs an empty proof");
    if (subtree_hash != EmptyRootHash()) {
      return DataLossError("the hash of an empty subtree is SHA-256 of the empty string");
    }
    return OkStatus();
  }
  if (!IsValidSubtree(start, end)) {
    return InvalidArgumentError(fmt::format("[{}, {}) is not a valid subtree", start, end));
  }
  if (end > size) {
    return InvalidArgumentError("subtree end " + U(end) + " is beyond tree size " + U(size));
  }
  if (proof.size() > kMaxProofHashes) return ProofTooLong(proof.size());
  bool known = true;
  const std::vector<Step> steps = PathToSubtree(start, end, size, &known);
  if (proof.size() != steps.size() + (known ? 0 : 1)) {
    return DataLossError("subtree consistency proof has " + U(proof.size()) + " hashes, expected " +
                         U(steps.size() + (known ? 0 : 1)));
  }
  size_t pos = 0;
  Hash hs = known ? subtree_hash : proof[pos++];
  Hash hf = hs;
  TreeHasher h;
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    const Hash& p = proof[pos++];
    if (it->sibling_on_right) {
      hf = h.Node(hf, p);
    } else {
      hf = h.Node(p, hf);
      if (it->straddle) hs = h.Node(p, hs);
    }
  }
  if (hs != subtree_hash) {
    return DataLossError("subtree consistency proof does not lead to the subtree hash");
  }
  if (hf != root) return DataLossError("subtree consistency proof does not lead to the root");
  return OkStatus();
}

// --- Computation ----------------------------------------------------------------------------

StatusOr<Hash> SubtreeHash(HashReader& reader, uint64_t begin, uint64_t end) {
  if (begin >= end) {
    return InvalidArgumentError(fmt::format("empty range [{}, {})", begin, end));
  }
  const uint64_t n = end - begin;
  if (std::has_single_bit(n) && begin % n == 0) {
    return reader.StoredHash(std::countr_zero(n), begin >> std::countr_zero(n));
  }
  const uint64_t k = LargestPowerOfTwoBelow(n);
  ASSIGN_OR_RETURN(Hash left, SubtreeHash(reader, begin, begin + k));
  ASSIGN_OR_RETURN(Hash right, SubtreeHash(reader, begin + k, end));
  return NodeHash(left, right);
}

StatusOr<Hash> TreeHash(HashReader& reader, uint64_t size) {
  if (size == 0) return EmptyRootHash();
  return SubtreeHash(reader, 0, size);
}

StatusOr<std::vector<Hash>> SubtreeInclusionProof(HashReader& reader, uint64_t index,
                                                  uint64_t start, uint64_t end) {
  if (!IsValidSubtree(start, end)) {
    return InvalidArgumentError(fmt::format("[{}, {}) is not a valid subtree", start, end));
  }
  if (index < start || index >= end) {
    return InvalidArgumentError(
        fmt::format("leaf index {} is outside the subtree [{}, {})", index, start, end));
  }
  // RFC 9162 PATH(m, D[n]), siblings collected top-down then reversed.
  std::vector<Hash> path;
  uint64_t lo = start;
  uint64_t hi = end;
  while (hi - lo > 1) {
    const uint64_t k = LargestPowerOfTwoBelow(hi - lo);
    if (index < lo + k) {
      ASSIGN_OR_RETURN(Hash sib, SubtreeHash(reader, lo + k, hi));
      path.push_back(sib);
      hi = lo + k;
    } else {
      ASSIGN_OR_RETURN(Hash sib, SubtreeHash(reader, lo, lo + k));
      path.push_back(sib);
      lo += k;
    }
  }
  std::reverse(path.begin(), path.end());
  return path;
}

StatusOr<std::vector<Hash>> InclusionProof(HashReader& reader, uint64_t index, uint64_t size) {
  if (index >= size) {
    return InvalidArgumentError("leaf index " + U(index) + " is not below tree size " + U(size));
  }
  // RFC 9162 PATH(m, D[n]), bottom-up: at each height the sibling of the leaf's ancestor is a
  // complete node, the incomplete right-border subtree, or absent (nothing to the right).
  std::vector<Hash> path;
  path.reserve(64);
  for (int h = 0; h < 64; ++h) {
    const uint64_t a = index >> h;
    if (a == 0 && (uint64_t{1} << h) >= size) break;
    const uint64_t complete = size >> h;
    if ((a & 1) != 0) {
      ASSIGN_OR_RETURN(Hash sib, reader.StoredHash(h, a - 1));
      path.push_back(sib);
    } else if (a + 1 < complete) {
      ASSIGN_OR_RETURN(Hash sib, reader.StoredHash(h, a + 1));
      path.push_back(sib);
    } else if (a + 1 == complete && (complete << h) < size) {
      // The right sibling is the incomplete last node at this height.
      ASSIGN_OR_RETURN(Hash sib, SubtreeHash(reader, complete << h, size));
      path.push_back(sib);
    }  // else the ancestor is itself that last node: no sibling at this height.
  }
  return path;
}

StatusOr<std::vector<Hash>> SubtreeConsistencyProof(HashReader& reader, uint64_t start,
                                                    uint64_t end, uint64_t size) {
  if (start == end) {
    if (end > size) return InvalidArgumentError("empty subtree beyond the tree size");
    return std::vector<Hash>{};
  }
  if (!IsValidSubtree(start, end)) {
    return InvalidArgumentError(fmt::format("[{}, {}) is not a valid subtree", start, end));
  }
  if (end > size) {
    return InvalidArgumentError("subtree end " + U(end) + " is beyond tree size " + U(size));
  }
  bool known = true;
  const std::vector<Step> steps = PathToSubtree(start, end, size, &known);
  // Re-walk to learn each sibling's range; hashes are emitted bottom-up.
  std::vector<Hash> siblings;
  uint64_t lo = 0;
  uint64_t hi = size;
  uint64_t s = start;
  for (const Step& step : steps) {
    const uint64_t k = LargestPowerOfTwoBelow(hi - lo);
    if (step.sibling_on_right) {
      ASSIGN_OR_RETURN(Hash sib, SubtreeHash(reader, lo + k, hi));
      siblings.push_back(sib);
      hi = lo + k;
    } else {
      ASSIGN_OR_RETURN(Hash sib, SubtreeHash(reader, lo, lo + k));
      siblings.push_back(sib);
      lo += k;
      if (step.straddle) s = lo;
    }
  }
  std::vector<Hash> proof;
  if (!known) {
    ASSIGN_OR_RETURN(Hash node, SubtreeHash(reader, s, end));
    proof.push_back(node);
  }
  proof.insert(proof.end(), siblings.rbegin(), siblings.rend());
  return proof;
}

StatusOr<std::vector<Hash>> ConsistencyProof(HashReader& reader, uint64_t size1, uint64_t size2) {
  if (size1 > size2) {
    return InvalidArgumentError("old tree size " + U(size1) + " is larger than new tree size " +
                                U(size2));
  }
  if (size1 == 0 || size1 == size2) return std::vector<Hash>{};
  return SubtreeConsistencyProof(reader, 0, size1, size2);
}

}  // namespace comity::tlog
