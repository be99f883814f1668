#include "tlog/tiled_tree.h"

#include <bit>

namespace comity::tlog {
namespace {

// Authenticated full tiles remembered per tree: pointers only, the tiles are shared with the
// cache. 65,536 covers a log of 16 million entries.
constexpr size_t kMaxVerifiedTiles = 65536;

std::string TileName(int level, uint64_t index, int width) {
  return "tile " + TilePath({level, index, width}).substr(5);
}

}  // namespace

std::shared_ptr<const ExpandedTile> ExpandedTile::Build(std::string_view data, int width) {
  auto t = std::make_shared<ExpandedTile>();
  t->width_ = width;
  uint32_t total = 0;
  for (int j = 0; j <= kTileHeight; ++j) {
    t->offset_[j] = total;
    total += static_cast<uint32_t>(width >> j);
  }
  t->nodes_.resize(total);
  for (int i = 0; i < width; ++i) t->nodes_[i] = TileHashAt(data, i);
  TreeHasher h;
  for (int j = 1; j <= kTileHeight; ++j) {
    const uint32_t n = static_cast<uint32_t>(width >> j);
    for (uint32_t k = 0; k < n; ++k) {
      t->nodes_[t->offset_[j] + k] =
          h.Node(t->nodes_[t->offset_[j - 1] + 2 * k], t->nodes_[t->offset_[j - 1] + 2 * k + 1]);
    }
  }
  return t;
}

std::string ExpandedTile::Data() const {
  std::string out;
  out.reserve(static_cast<size_t>(width_) * kHashSize);
  for (int i = 0; i < width_; ++i) out.append(HashBytes(nodes_[i]));
  return out;
}

StatusOr<std::string> FetcherTileReader::ReadTile(int level, uint64_t index, int width) {
  const std::string path = TilePath({level, index, width});
  auto data = fetcher_.Fetch(path);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound && width < kTileWidth) {
    auto full = fetcher_.Fetch(TilePath({level, index, kTileWidth}));
    if (full.ok()) {
      RETURN_IF_ERROR(CheckTileData(*full, kTileWidth, TilePath({level, index, kTileWidth})));
      full->resize(static_cast<size_t>(width) * kHashSize);
      return full;
    }
  }
  if (!data.ok()) return data.status();
  RETURN_IF_ERROR(CheckTileData(*data, width, path));
  return data;
}

std::shared_ptr<const ExpandedTile> TileCache::Get(int level, uint64_t index, int width) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = map_.find(MakeKey(level, index, width));
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void TileCache::Put(int level, uint64_t index, int width,
                    std::shared_ptr<const ExpandedTile> tile) {
  if (max_tiles_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  const Key key = MakeKey(level, index, width);
  auto it = map_.find(key);
  if (it != map_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(key, std::move(tile));
  map_[key] = lru_.begin();
  while (lru_.size() > max_tiles_) {
    map_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

size_t TileCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.size();
}

Hash RootFromEdge(const std::array<std::shared_ptr<const ExpandedTile>, kMaxUsedTileLevels>& edge) {
  // Perfect subtrees from left (highest level, largest) to right.
  std::vector<const Hash*> parts;
  for (int level = kMaxUsedTileLevels - 1; level >= 0; --level) {
    const ExpandedTile* t = edge[level].get();
    if (t == nullptr) continue;
    uint64_t offset = 0;
    for (int b = kTileHeight - 1; b >= 0; --b) {
      if ((t->width() >> b) & 1) {
        parts.push_back(&t->Node(b, offset >> b));
        offset += uint64_t{1} << b;
      }
    }
  }
  if (parts.empty()) return EmptyRootHash();
  TreeHasher h;
  Hash r = *parts.back();
  for (size_t i = parts.size() - 1; i-- > 0;) r = h.Node(*parts[i], r);
  return r;
}

StatusOr<std::unique_ptr<TiledTree>> TiledTree::Open(TileReader& reader, uint64_t size,
                                                     const Hash& root, TileCache* cache) {
  std::unique_ptr<TiledTree> tree(new TiledTree(reader, size, root, cache));
  const int levels = TileLevelCount(size);
  for (int level = 0; level < levels; ++level) {
    const int width = PartialTileWidth(size, level);
    if (width == 0) continue;
    const uint64_t index = FullTileCount(size, level);
    std::shared_ptr<const ExpandedTile> t = cache ? cache->Get(level, index, width) : nullptr;
    if (t == nullptr) {
      ASSIGN_OR_RETURN(std::string data, reader.ReadTile(level, index, width));
      RETURN_IF_ERROR(CheckTileData(data, width, TileName(level, index, width)));
      t = ExpandedTile::Build(data, width);
    }
    tree->edge_[level] = std::move(t);
  }
  const Hash computed = RootFromEdge(tree->edge_);
  if (computed != root) {
    return DataLossError("the right-edge tiles of the tree of size " + std::to_string(size) +
                         " hash to " + HashToBase64(computed) + ", not to the checkpoint's root " +
                         HashToBase64(root));
  }
  if (cache != nullptr) {
    for (int level = 0; level < levels; ++level) {
      if (tree->edge_[level]) {
        cache->Put(level, FullTileCount(size, level), tree->edge_[level]->width(),
                   tree->edge_[level]);
      }
    }
  }
  return tree;
}

StatusOr<std::shared_ptr<const ExpandedTile>> TiledTree::FullTile(int level, uint64_t index) {
  auto& memo = verified_[level];
  if (auto it = memo.find(index); it != memo.end()) return it->second;
  std::shared_ptr<const ExpandedTile> t = cache_ ? cache_->Get(level, index, kTileWidth) : nullptr;
  if (t == nullptr) {
    ASSIGN_OR_RETURN(std::string data, reader_.ReadTile(level, index, kTileWidth));
    RETURN_IF_ERROR(CheckTileData(data, kTileWidth, TileName(level, index, kTileWidth)));
    t = ExpandedTile::Build(data, kTileWidth);
  }
  // The parent tile holds this tile's root at height 8·(level+1), position `index`.
  ASSIGN_OR_RETURN(Hash expected, StoredHash(kTileHeight * (level + 1), index));
  if (t->Node(kTileHeight, 0) != expected) {
    return DataLossError(TileName(level, index, kTileWidth) +
                         " does not match the hash its parent tile holds for it");
  }
  if (cache_ != nullptr) cache_->Put(level, index, kTileWidth, t);
  if (verified_count_ >= kMaxVerifiedTiles) {
    for (auto& m : verified_) m.clear();
    verified_count_ = 0;
  }
  verified_[level].emplace(index, t);
  ++verified_count_;
  return t;
}

StatusOr<std::shared_ptr<const ExpandedTile>> TiledTree::Tile(int level, uint64_t index) {
  if (level < 0 || level >= kMaxUsedTileLevels) {
    return InvalidArgumentError("tile level " + std::to_string(level) + " is out of range");
  }
  const uint64_t full = FullTileCount(size_, level);
  if (index < full) return FullTile(level, index);
  if (index == full && edge_[level]) return edge_[level];
  return OutOfRangeError("tile " + std::to_string(level) + "/" + std::to_string(index) +
                         " does not exist in a tree of size " + std::to_string(size_));
}

StatusOr<Hash> TiledTree::StoredHash(int level, uint64_t index) {
  if (level < 0 || level >= 64 || index >= (size_ >> level)) {
    return OutOfRangeError("no complete subtree at height " + std::to_string(level) +
                           ", position " + std::to_string(index) + " in a tree of size " +
                           std::to_string(size_));
  }
  const int tile_level = level / kTileHeight;
  const int j = level % kTileHeight;
  const uint64_t tile_index = index >> (kTileHeight - j);
  const uint64_t k = index & ((uint64_t{kTileWidth} >> j) - 1);
  if (tile_index < FullTileCount(size_, tile_level)) {
    ASSIGN_OR_RETURN(std::shared_ptr<const ExpandedTile> t, FullTile(tile_level, tile_index));
    return t->Node(j, k);
  }
  // The node is complete, so it lies in the right-edge partial tile of its level.
  const ExpandedTile* t = edge_[tile_level].get();
  if (t == nullptr || k >= static_cast<uint64_t>(t->width() >> j)) {
    return InternalError("tile arithmetic: node missing from the right edge");
  }
  return t->Node(j, k);
}

StatusOr<std::vector<Hash>> TiledTree::InclusionProof(uint64_t index) {
  if (index >= size_) {
    return InvalidArgumentError("leaf index " + std::to_string(index) + " is not below tree size " +
                                std::to_string(size_));
  }
  // tlog::InclusionProof's bottom-up walk, reading each tile once: the siblings at heights
  // 8·L .. 8·L+7 all lie in the same tile of level L.
  std::vector<Hash> path;
  path.reserve(64);
  std::shared_ptr<const ExpandedTile> tile;
  int tile_level = -1;
  for (int h = 0; h < 64; ++h) {
    const uint64_t a = index >> h;
    if (a == 0 && (uint64_t{1} << h) >= size_) break;
    const uint64_t complete = size_ >> h;
    uint64_t sib;
    if ((a & 1) != 0) {
      sib = a - 1;
    } else if (a + 1 < complete) {
      sib = a + 1;
    } else {
      if (a + 1 == complete && (complete << h) < size_) {
        ASSIGN_OR_RETURN(Hash border, SubtreeHash(*this, complete << h, size_));
        path.push_back(border);
      }
      continue;
    }
    const int level = h / kTileHeight;
    const int j = h % kTileHeight;
    if (level != tile_level) {
      ASSIGN_OR_RETURN(tile, Tile(level, sib >> (kTileHeight - j)));
      tile_level = level;
    }
    path.push_back(tile->Node(j, sib & ((uint64_t{kTileWidth} >> j) - 1)));
  }
  return path;
}

StatusOr<std::vector<Hash>> TiledTree::ConsistencyProof(uint64_t old_size) {
  return tlog::ConsistencyProof(*this, old_size, size_);
}

StatusOr<Hash> TiledTree::PrefixRoot(uint64_t old_size) {
  if (old_size > size_) {
    return InvalidArgumentError("size " + std::to_string(old_size) + " is beyond the tree size " +
                                std::to_string(size_));
  }
  if (old_size == size_) return root_;
  return TreeHash(*this, old_size);
}

}  // namespace comity::tlog
