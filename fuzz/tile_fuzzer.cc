// libFuzzer target for the readers of untrusted log data: resource paths, entry bundles, hash
// tiles (through TiledTree and the full verifier), and proof verification with arbitrary 64-bit
// indices. The first byte picks the reader. Round-trip properties are checked where they exist.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>

#include "crypto/ed25519.h"
#include "tlog/checkpoint.h"
#include "tlog/merkle.h"
#include "tlog/note.h"
#include "tlog/publish.h"
#include "tlog/tile.h"
#include "tlog/tiled_tree.h"
#include "tlog/verify.h"

namespace {

using namespace comity;        // NOLINT(build/namespaces)
using namespace comity::tlog;  // NOLINT(build/namespaces)

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

uint64_t Take64(std::string_view* in) {
  uint64_t v = 0;
  const size_t n = std::min<size_t>(8, in->size());
  std::memcpy(&v, in->data(), n);
  in->remove_prefix(n);
  return v;
}

Hash TakeHash(std::string_view* in) {
  Hash h{};
  const size_t n = std::min<size_t>(32, in->size());
  std::memcpy(h.data(), in->data(), n);
  in->remove_prefix(n);
  return h;
}

// Serves every tile and bundle from consecutive slices of the input; "checkpoint" is given.
class SliceFetcher : public TileFetcher {
 public:
  SliceFetcher(std::string_view data, std::string checkpoint)
      : data_(data), checkpoint_(std::move(checkpoint)) {}
  StatusOr<std::string> Fetch(const std::string& path) override {
    if (path == "checkpoint") return checkpoint_;
    if (path == "disclosed") return NotFoundError("no disclosed");
    if (++fetches_ > 64) return UnavailableError("enough");
    auto p = ParseResourcePath(path);
    if (!p.ok()) return p.status();
    size_t want = static_cast<size_t>(p->tile.width) * kHashSize;
    if (p->kind == ResourcePath::Kind::kEntryBundle) want = data_.size() / 2;
    const size_t n = std::min(want, data_.size());
    std::string out(data_.substr(0, n));
    data_.remove_prefix(n);
    return out;
  }

 private:
  std::string_view data_;
  std::string checkpoint_;
  int fetches_ = 0;
};

const Ed25519NoteSigner& Signer() {
  static const Ed25519NoteSigner* s = [] {
    std::array<uint8_t, 32> seed{};
    seed[0] = 3;
    return new Ed25519NoteSigner("example.com/fuzz", *crypto::Ed25519PrivateKey::FromSeed(seed));
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  switch (mode % 5) {
    case 0: {  // resource paths
      auto p = ParseResourcePath(in);
      if (p.ok()) {
        std::string back = p->kind == ResourcePath::Kind::kCheckpoint ? "checkpoint"
                           : p->kind == ResourcePath::Kind::kTile
                               ? TilePath(p->tile)
                               : EntryBundlePath(p->tile.index, p->tile.width);
        Check(back == in, "path round trip");
      }
      break;
    }
    case 1: {  // entry bundles
      if (in.empty()) break;
      const int count = static_cast<uint8_t>(in[0]) + 1;
      in.remove_prefix(1);
      auto entries = ParseEntryBundle(in, count);
      if (entries.ok()) {
        std::string again;
        for (auto e : *entries) Check(AppendToEntryBundle(&again, AsBytes(e)).ok(), "re-encode");
        Check(again == in, "bundle round trip");
      }
      break;
    }
    case 2: {  // a tree of arbitrary size and root over arbitrary tile bytes
      const uint64_t tree_size = Take64(&in);
      const Hash root = TakeHash(&in);
      const uint64_t index = Take64(&in);
      const uint64_t old_size = Take64(&in);
      SliceFetcher fetcher(in, "");
      FetcherTileReader reader(fetcher);
      auto tree = TiledTree::Open(reader, tree_size, root, nullptr);
      if (tree.ok()) {
        if (tree_size > 0) {
          auto proof = (*tree)->InclusionProof(index % tree_size);
          if (proof.ok()) {
            auto leaf = (*tree)->StoredHash(0, index % tree_size);
            Check(leaf.ok() &&
                      VerifyInclusion(index % tree_size, tree_size, *leaf, *proof, root).ok(),
                  "proof from authenticated tiles verifies");
          }
        }
        auto cons = (*tree)->ConsistencyProof(old_size % (tree_size + 1));
        (void)cons;
      }
      break;
    }
    case 3: {  // proof verification with arbitrary indices and proofs
      const uint64_t a = Take64(&in);
      const uint64_t b = Take64(&in);
      const uint64_t c = Take64(&in);
      const Hash h1 = TakeHash(&in);
      const Hash h2 = TakeHash(&in);
      std::vector<Hash> proof;
      while (in.size() >= 32 && proof.size() < 70) proof.push_back(TakeHash(&in));
      (void)VerifyInclusion(a, b, h1, proof, h2);
      (void)VerifyConsistency(a, b, proof, h1, h2);
      (void)VerifySubtreeInclusion(a, b, c, h1, proof, h2);
      (void)VerifySubtreeConsistency(a, b, c, proof, h1, h2);
      (void)IsValidSubtree(a, b);
      break;
    }
    case 4: {  // the full verifier over a signed checkpoint and arbitrary tiles and bundles
      const uint64_t tree_size = Take64(&in) % 5000;
      const Hash root = TakeHash(&in);
      auto note = SignNote(FormatCheckpoint({"example.com/fuzz", tree_size, root, {}}), Signer());
      SliceFetcher fetcher(in, *note);
      const Ed25519NoteVerifier verifier = Signer().Verifier();
      (void)VerifyLog(fetcher, verifier, {});
      break;
    }
  }
  return 0;
}
