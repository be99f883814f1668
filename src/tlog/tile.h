// C2SP tlog-tiles resources: tile coordinates and paths, hash tiles, entry bundles.
//
//   TileId t{.level = 0, .index = 1234067, .width = 5};
//   TilePath(t);                       // "tile/0/x001/x234/067.p/5"
//   EntryBundlePath(1234067, 256);     // "tile/entries/x001/x234/067"
//   StatusOr<ResourcePath> p = ParseResourcePath("tile/1/000.p/17");
//
//   std::string bundle;
//   RETURN_IF_ERROR(AppendToEntryBundle(&bundle, AsBytes("one")));
//   StatusOr<std::vector<std::string_view>> entries = ParseEntryBundle(bundle, 1);
//
// Tiles have height 8: a full tile holds 256 hashes (8192 bytes); a partial tile 1..255. The
// level-L tile N holds the hashes of tree level 8·L, positions N·256 .. N·256+width−1. An entry
// bundle is a sequence of entries, each prefixed by its length as a big-endian uint16, so an
// entry is at most 65535 bytes. Parsers are strict and bounded. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tlog/hash.h"

namespace comity::tlog {

inline constexpr int kTileHeight = 8;
inline constexpr int kTileWidth = 256;
inline constexpr size_t kFullTileBytes = kTileWidth * kHashSize;
// C2SP allows levels 0..63; a tree of 2^64 − 1 leaves needs levels 0..7.
inline constexpr int kMaxTileLevel = 63;
inline constexpr int kMaxUsedTileLevels = 8;
inline constexpr size_t kMaxEntryBytes = 65535;
inline constexpr size_t kMaxEntryBundleBytes = kTileWidth * (2 + kMaxEntryBytes);

struct TileId {
  int level = 0;           // 0..63
  uint64_t index = 0;      // N
  int width = kTileWidth;  // 1..256; 256 is a full tile
  bool operator==(const TileId&) const = default;
};

// "x001/x234/067" for 1234067.
std::string EncodeTileIndex(uint64_t index);
std::string TilePath(const TileId& tile);
std::string EntryBundlePath(uint64_t index, int width);

struct ResourcePath {
  enum class Kind { kCheckpoint, kTile, kEntryBundle };
  Kind kind = Kind::kCheckpoint;
  TileId tile;  // for kEntryBundle, level is 0 and index/width name the bundle
};
// Accepts exactly the canonical paths ("checkpoint", "tile/<L>/<N>[.p/<W>]",
// "tile/entries/<N>[.p/<W>]"); anything else is kInvalidArgument.
StatusOr<ResourcePath> ParseResourcePath(std::string_view path);

// The tiles of a tree of size `size`: the number of full tiles at `level`, and the width of the
// partial tile at `level` (0 if none).
uint64_t FullTileCount(uint64_t size, int level);
int PartialTileWidth(uint64_t size, int level);
// Number of tile levels with any hash for a tree of size `size` (0 for the empty tree).
int TileLevelCount(uint64_t size);

// kInvalidArgument naming the size and the limit if the entry is longer than 65535 bytes.
Status CheckEntrySize(size_t size);
Status AppendToEntryBundle(std::string* bundle, ByteSpan entry);
// Parses a bundle that must hold exactly `count` entries (1..256) and nothing else. The views
// point into `data`.
StatusOr<std::vector<std::string_view>> ParseEntryBundle(std::string_view data, int count);

// Checks that tile data has exactly `width` hashes; `what` names it in the error.
Status CheckTileData(std::string_view data, int width, std::string_view what);
// Hash number i (0-based) of tile data.
Hash TileHashAt(std::string_view data, int i);

}  // namespace comity::tlog
