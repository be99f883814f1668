// A Merkle tree of a given size and root, read through its hash tiles, every tile
// authenticated before use; proofs computed from it.
//
//   DirectoryFetcher fetcher("/srv/log");               // or any TileFetcher / TileReader
//   FetcherTileReader reader(fetcher);
//   TileCache cache(1024);                              // optional, shareable, thread-safe
//   ASSIGN_OR_RETURN(auto tree, TiledTree::Open(reader, cp.size, cp.root, &cache));
//   ASSIGN_OR_RETURN(std::vector<Hash> proof, tree->InclusionProof(42));
//   ASSIGN_OR_RETURN(std::vector<Hash> cons, tree->ConsistencyProof(old_size));
//
// Open() reads the right edge (the partial tile of each level) and checks that it hashes to
// the root. Any other tile is checked against the hash its parent tile holds for it, so no hash
// is ever returned that does not chain up to the root (kDataLoss otherwise). Tiles enter the
// cache only once authenticated. Each tile is expanded once (all its internal nodes computed),
// which makes every stored hash an O(1) lookup.
//
// TileCache is thread-safe. TiledTree is thread-compatible (one per thread, or guard it).
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "tlog/hash.h"
#include "tlog/merkle.h"
#include "tlog/tile.h"

namespace comity::tlog {

// A tile with all its internal nodes: at height j (0..8) there are width >> j complete nodes.
class ExpandedTile {
 public:
  // `data` must hold exactly `width` hashes (checked by the caller).
  static std::shared_ptr<const ExpandedTile> Build(std::string_view data, int width);
  int width() const { return width_; }
  // Node at height j (0..8) and position k < (width >> j).
  const Hash& Node(int j, uint64_t k) const { return nodes_[offset_[j] + k]; }
  // The hashes at height 0, as tile data.
  std::string Data() const;

 private:
  int width_ = 0;
  std::array<uint32_t, kTileHeight + 1> offset_{};
  std::vector<Hash> nodes_;
};

// Where tile data comes from. Returns exactly width * 32 bytes, or an error (kNotFound when the
// tile does not exist).
class TileReader {
 public:
  virtual ~TileReader() = default;
  virtual StatusOr<std::string> ReadTile(int level, uint64_t index, int width) = 0;
};

// Fetches a log resource by its C2SP path ("checkpoint", "tile/0/x001/234.p/5",
// "tile/entries/000"); kNotFound when absent.
class TileFetcher {
 public:
  virtual ~TileFetcher() = default;
  virtual StatusOr<std::string> Fetch(const std::string& path) = 0;
};

// Reads tiles through a TileFetcher; a missing partial tile falls back to the full tile
// (tlog-tiles allows logs to delete partial tiles once the full one exists).
class FetcherTileReader : public TileReader {
 public:
  explicit FetcherTileReader(TileFetcher& fetcher) : fetcher_(fetcher) {}
  StatusOr<std::string> ReadTile(int level, uint64_t index, int width) override;

 private:
  TileFetcher& fetcher_;
};

// LRU cache of authenticated, expanded tiles keyed by (level, index, width). Thread-safe.
class TileCache {
 public:
  explicit TileCache(size_t max_tiles) : max_tiles_(max_tiles) {}
  std::shared_ptr<const ExpandedTile> Get(int level, uint64_t index, int width);
  void Put(int level, uint64_t index, int width, std::shared_ptr<const ExpandedTile> tile);
  size_t size() const;

 private:
  struct Key {
    uint64_t index;
    uint32_t level_width;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<uint64_t>()(k.index * 1031 + k.level_width);
    }
  };
  using Lru = std::list<std::pair<Key, std::shared_ptr<const ExpandedTile>>>;
  static Key MakeKey(int level, uint64_t index, int width) {
    return {index, static_cast<uint32_t>(level) << 16 | static_cast<uint32_t>(width)};
  }
  const size_t max_tiles_;
  mutable std::mutex mu_;
  Lru lru_;                                              // most recent first; guarded by mu_
  std::unordered_map<Key, Lru::iterator, KeyHash> map_;  // guarded by mu_
};

class TiledTree : public HashReader {
 public:
  // kDataLoss if the right-edge tiles do not hash to `root`; reader errors pass through.
  // `cache` may be null; it must outlive the tree.
  static StatusOr<std::unique_ptr<TiledTree>> Open(TileReader& reader, uint64_t size,
                                                   const Hash& root, TileCache* cache);

  uint64_t size() const { return size_; }
  const Hash& root() const { return root_; }

  // The authenticated tile (level, index) of this tree: full, or the partial right-edge tile.
  StatusOr<std::shared_ptr<const ExpandedTile>> Tile(int level, uint64_t index);
  StatusOr<Hash> StoredHash(int level, uint64_t index) override;

  StatusOr<std::vector<Hash>> InclusionProof(uint64_t index);
  StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size);
  // Root of the tree's prefix of size `old_size` ≤ size().
  StatusOr<Hash> PrefixRoot(uint64_t old_size);

 private:
  TiledTree(TileReader& reader, uint64_t size, const Hash& root, TileCache* cache)
      : reader_(reader), size_(size), root_(root), cache_(cache) {}
  StatusOr<std::shared_ptr<const ExpandedTile>> FullTile(int level, uint64_t index);

  TileReader& reader_;
  const uint64_t size_;
  const Hash root_;
  TileCache* cache_;
  std::array<std::shared_ptr<const ExpandedTile>, kMaxUsedTileLevels> edge_;
  // Full tiles already authenticated in this tree (bounded; cleared when full).
  std::unordered_map<uint64_t, std::shared_ptr<const ExpandedTile>> verified_[kMaxUsedTileLevels];
  size_t verified_count_ = 0;
};

// Root of a tree given the hashes of its right-edge partial tiles (edge[level], possibly null),
// as perfect subtrees combined right to left. The empty-tree hash if all are null.
Hash RootFromEdge(const std::array<std::shared_ptr<const ExpandedTile>, kMaxUsedTileLevels>& edge);

}  // namespace comity::tlog
