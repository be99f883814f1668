// Transparency log throughput in memory: appending and hashing leaves, and inclusion proofs
// computed from tiles. The Go peer (x/mod/sumdb/tlog) is measured by bench/go/ in
// bench/tlog_durable.sh, on the same entries, in the same run.
//
// Entries are 100..300 bytes (a canonical-JSON log leaf is about that size), the same
// pseudo-random sequence as bench/go/main.go.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "tlog/log.h"
#include "tlog/publish.h"
#include "tlog/tiled_tree.h"

namespace comity::tlog {
namespace {

std::vector<std::string> MakeEntries(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    std::string e = "{\"i\":" + std::to_string(i) + ",\"pad\":\"";
    const size_t len = 100 + rng() % 201;
    while (e.size() + 2 < len) e.push_back(static_cast<char>('a' + rng() % 26));
    e += "\"}";
    out.push_back(std::move(e));
  }
  return out;
}

const crypto::Ed25519PrivateKey& Key() {
  static const crypto::Ed25519PrivateKey key = crypto::Ed25519PrivateKey::Generate();
  return key;
}

// Log::Append into in-memory storage: leaf hashing, tile building, storage writes and the
// checkpoint signature, one batch per iteration.
void BM_LogAppendInMemory(benchmark::State& state) {
  const size_t batch = static_cast<size_t>(state.range(0));
  const std::vector<std::string> entries = MakeEntries(batch, 1);
  for (auto _ : state) {
    state.PauseTiming();
    auto storage = std::make_unique<MemoryLogStorage>();
    auto log = Log::Create(storage.get(), "bench.example/log", Key(), {});
    state.ResumeTiming();
    auto r = (*log)->Append(entries);
    benchmark::DoNotOptimize(r);
    state.PauseTiming();
    log->reset();
    storage.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(batch));
}
BENCHMARK(BM_LogAppendInMemory)
    ->Arg(1 << 16)
    ->Arg(1 << 20)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The hashing alone: leaf hashes and the right edge of the tiles (the ceiling of the above).
void BM_RightEdgeAppend(benchmark::State& state) {
  const std::vector<std::string> entries = MakeEntries(1 << 16, 1);
  TreeHasher hasher;
  std::vector<RightEdge::CompletedTile> completed;
  for (auto _ : state) {
    RightEdge edge;
    completed.clear();
    for (const auto& e : entries) edge.AppendLeaf(hasher.Leaf(AsBytes(e)), hasher, &completed);
    benchmark::DoNotOptimize(edge.Root(hasher));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * (1 << 16));
}
BENCHMARK(BM_RightEdgeAppend)->Unit(benchmark::kMillisecond);

// A 1,048,576-leaf log, built once.
struct ProofFixture {
  MemoryLogStorage storage;
  LogState state;
  ProofFixture() {
    auto log = Log::Create(&storage, "bench.example/log", Key(), {});
    (void)(*log)->Append(MakeEntries(1 << 20, 2));
    state = *(*log)->State();
  }
};
ProofFixture& Fixture() {
  static ProofFixture* f = new ProofFixture();
  return *f;
}

// Inclusion proofs from the tiles (through the tile cache, every tile authenticated), for
// uniformly random leaves of a 2^20-leaf log.
void BM_InclusionProofFromTiles(benchmark::State& state) {
  ProofFixture& f = Fixture();
  StorageTileReader reader(&f.storage);
  TileCache cache(8192);
  auto tree = TiledTree::Open(reader, f.state.size, f.state.root, &cache);
  uint64_t x = 3;  // splitmix64: cheap enough not to show in the measurement
  for (auto _ : state) {
    x += 0x9e3779b97f4a7c15;
    uint64_t z = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    auto proof = (*tree)->InclusionProof((z ^ (z >> 31)) % f.state.size);
    benchmark::DoNotOptimize(proof);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_InclusionProofFromTiles)->UseRealTime();

// Verifying an inclusion proof (hashing only).
void BM_VerifyInclusionProof(benchmark::State& state) {
  ProofFixture& f = Fixture();
  StorageTileReader reader(&f.storage);
  auto tree = TiledTree::Open(reader, f.state.size, f.state.root, nullptr);
  const uint64_t index = 123456;
  auto proof = (*tree)->InclusionProof(index);
  auto leaf = (*tree)->StoredHash(0, index);
  for (auto _ : state) {
    benchmark::DoNotOptimize(VerifyInclusion(index, f.state.size, *leaf, *proof, f.state.root));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_VerifyInclusionProof);

}  // namespace
}  // namespace comity::tlog

BENCHMARK_MAIN();
