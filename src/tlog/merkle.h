// Merkle tree proofs (RFC 9162 section 2.1): computing them from stored subtree hashes, and
// verifying them. Also the "subtree" generalisation (a proof about an aligned range
// [start, end) of leaves rather than a prefix), as in the Merkle Tree Certificates draft.
//
//   // Verify that `leaf` is entry 5 of the tree of size 8 with root `root`:
//   Status st = VerifyInclusion(5, 8, leaf, proof, root);
//   // Verify that the tree of size 6 is a prefix of the tree of size 8:
//   Status st2 = VerifyConsistency(6, 8, proof2, root6, root8);
//
//   // Compute proofs from any source of stored hashes (tiles, memory):
//   StatusOr<std::vector<Hash>> p = InclusionProof(reader, 5, 8);
//
// Indices and sizes are uint64_t over their whole range (2^64 − 1 included); no input makes
// these functions crash or loop. Errors: kInvalidArgument for requests that make no sense
// (index ≥ size, size1 > size2, a misaligned subtree), kDataLoss when a proof does not verify.
// Thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "tlog/hash.h"

namespace comity::tlog {

// Source of stored hashes: the hash of the perfect subtree of height `level` at position
// `index`, covering leaves [index << level, (index + 1) << level).
class HashReader {
 public:
  virtual ~HashReader() = default;
  virtual StatusOr<Hash> StoredHash(int level, uint64_t index) = 0;
};

// Largest power of two strictly below n (n ≥ 2).
uint64_t LargestPowerOfTwoBelow(uint64_t n);

// True iff [start, end) is a valid subtree: start < end and start is a multiple of the
// smallest power of two ≥ end − start.
bool IsValidSubtree(uint64_t start, uint64_t end);

// --- Verification -------------------------------------------------------------------------

StatusOr<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf,
                                      std::span<const Hash> proof);
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, std::span<const Hash> proof,
                       const Hash& root);

// A tree of size 0 is consistent with every tree (the proof is empty); equal sizes need equal
// roots and an empty proof.
Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2);

// `subtree_hash` is MTH(D[start:end]); start ≤ index < end.
Status VerifySubtreeInclusion(uint64_t index, uint64_t start, uint64_t end, const Hash& leaf,
                              std::span<const Hash> proof, const Hash& subtree_hash);
// The subtree [start, end) with hash `subtree_hash` is part of the tree of size `size` with
// root `root`. An empty subtree (start == end ≤ size) is valid iff its hash is the empty-tree
// hash and the proof is empty.
Status VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                std::span<const Hash> proof, const Hash& subtree_hash,
                                const Hash& root);

// --- Computation from stored hashes --------------------------------------------------------

// MTH(D[begin:end]) for a range of the RFC 6962 decomposition (begin aligned to the largest
// power of two ≤ end − begin, or begin == 0). begin < end.
StatusOr<Hash> SubtreeHash(HashReader& reader, uint64_t begin, uint64_t end);
// MTH(D[0:size]); the empty-tree hash for size 0.
StatusOr<Hash> TreeHash(HashReader& reader, uint64_t size);
StatusOr<std::vector<Hash>> InclusionProof(HashReader& reader, uint64_t index, uint64_t size);
// Empty for size1 == 0 or size1 == size2.
StatusOr<std::vector<Hash>> ConsistencyProof(HashReader& reader, uint64_t size1, uint64_t size2);
StatusOr<std::vector<Hash>> SubtreeInclusionProof(HashReader& reader, uint64_t index,
                                                  uint64_t start, uint64_t end);
StatusOr<std::vector<Hash>> SubtreeConsistencyProof(HashReader& reader, uint64_t start,
                                                    uint64_t end, uint64_t size);

}  // namespace comity::tlog
