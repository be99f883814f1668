#include "tlog/tile.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace comity::tlog {
namespace {

std::string Three(uint64_t v) {
  char buf[4];
  buf[0] = static_cast<char>('0' + v / 100);
  buf[1] = static_cast<char>('0' + v / 10 % 10);
  buf[2] = static_cast<char>('0' + v % 10);
  buf[3] = '\0';
  return buf;
}

std::string WidthSuffix(int width) {
  return width == kTileWidth ? std::string() : ".p/" + std::to_string(width);
}

// Parses a decimal with no sign and no leading zeros ("0" itself is fine).
bool ParseCanonicalDecimal(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

Status BadPath(std::string_view path, std::string_view why) {
  std::string shown(path.substr(0, 200));
  return InvalidArgumentError("malformed log resource path \"" + shown + "\": " + std::string(why));
}

// Parses "x001/x234/067[.p/W]" (the part after "tile/<L>/" or "tile/entries/").
Status ParseIndexAndWidth(std::string_view path, std::string_view rest, TileId* tile) {
  tile->width = kTileWidth;
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= rest.size()) {
    size_t j = rest.find('/', i);
    if (j == std::string_view::npos) j = rest.size();
    parts.push_back(rest.substr(i, j - i));
    i = j + 1;
  }
  // A partial tile ends in "<NNN>.p/<W>".
  if (parts.size() >= 2 && parts[parts.size() - 2].size() == 5 &&
      parts[parts.size() - 2].substr(3) == ".p") {
    uint64_t w = 0;
    if (!ParseCanonicalDecimal(parts.back(), &w) || w < 1 || w > 255) {
      return BadPath(path, "partial width must be 1..255 without leading zeros");
    }
    tile->width = static_cast<int>(w);
    parts.pop_back();
    parts.back() = parts.back().substr(0, 3);
  }
  if (parts.empty() || parts.size() > 7) return BadPath(path, "bad tile index");
  uint64_t n = 0;
  for (size_t k = 0; k < parts.size(); ++k) {
    std::string_view p = parts[k];
    const bool last = k + 1 == parts.size();
    if (!last) {
      if (p.size() != 4 || p[0] != 'x') return BadPath(path, "index groups are x-prefixed");
      p.remove_prefix(1);
    }
    if (p.size() != 3 ||
        !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return BadPath(path, "index groups are three digits");
    }
    const uint64_t group =
        static_cast<uint64_t>((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'));
    if (n > (UINT64_MAX - group) / 1000) return BadPath(path, "tile index overflows 64 bits");
    n = n * 1000 + group;
  }
  tile->index = n;
  // Canonical form only: no superfluous leading "x000/" groups.
  if (EncodeTileIndex(n) + WidthSuffix(tile->width) != rest) {
    return BadPath(path, "tile index is not in canonical form");
  }
  return OkStatus();
}

}  // namespace

std::string EncodeTileIndex(uint64_t index) {
  // Groups from the least significant, then reversed: "067", "x234/", "x001/".
  std::vector<std::string> groups;
  groups.push_back(Three(index % 1000));
  index /= 1000;
  while (index > 0) {
    groups.push_back(Three(index % 1000));
    index /= 1000;
  }
  std::string out;
  for (size_t i = groups.size(); i-- > 1;) {
    out += 'x';
    out += groups[i];
    out += '/';
  }
  out += groups[0];
  return out;
}

std::string TilePath(const TileId& tile) {
  return "tile/" + std::to_string(tile.level) + "/" + EncodeTileIndex(tile.index) +
         WidthSuffix(tile.width);
}

std::string EntryBundlePath(uint64_t index, int width) {
  return "tile/entries/" + EncodeTileIndex(index) + WidthSuffix(width);
}

StatusOr<ResourcePath> ParseResourcePath(std::string_view path) {
  ResourcePath out;
  if (path == "checkpoint") return out;
  if (path.substr(0, 5) != "tile/") return BadPath(path, "expected \"checkpoint\" or \"tile/...\"");
  std::string_view rest = path.substr(5);
  if (rest.substr(0, 8) == "entries/") {
    out.kind = ResourcePath::Kind::kEntryBundle;
    RETURN_IF_ERROR(ParseIndexAndWidth(path, rest.substr(8), &out.tile));
    return out;
  }
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return BadPath(path, "missing tile index");
  uint64_t level = 0;
  if (!ParseCanonicalDecimal(rest.substr(0, slash), &level) || level > kMaxTileLevel) {
    return BadPath(path, "tile level must be 0..63 without leading zeros");
  }
  out.kind = ResourcePath::Kind::kTile;
  out.tile.level = static_cast<int>(level);
  RETURN_IF_ERROR(ParseIndexAndWidth(path, rest.substr(slash + 1), &out.tile));
  return out;
}

uint64_t FullTileCount(uint64_t size, int level) {
  const int shift = kTileHeight * (level + 1);
  return shift >= 64 ? 0 : size >> shift;
}

int PartialTileWidth(uint64_t size, int level) {
  const int shift = kTileHeight * level;
  return shift >= 64 ? 0 : static_cast<int>((size >> shift) & (kTileWidth - 1));
}

int TileLevelCount(uint64_t size) {
  int levels = 0;
  while (levels < kMaxUsedTileLevels && (size >> (kTileHeight * levels)) > 0) ++levels;
  return levels;
}

Status CheckEntrySize(size_t size) {
  if (size > kMaxEntryBytes) {
    return InvalidArgumentError("entry of " + std::to_string(size) +
                                " bytes exceeds the limit of 65535 bytes (entry bundles use "
                                "16-bit lengths)");
  }
  return OkStatus();
}

Status AppendToEntryBundle(std::string* bundle, ByteSpan entry) {
  RETURN_IF_ERROR(CheckEntrySize(entry.size()));
  bundle->push_back(static_cast<char>(entry.size() >> 8));
  bundle->push_back(static_cast<char>(entry.size() & 0xff));
  bundle->append(crypto::AsChars(entry));
  return OkStatus();
}

StatusOr<std::vector<std::string_view>> ParseEntryBundle(std::string_view data, int count) {
  if (count < 1 || count > kTileWidth) {
    return InvalidArgumentError("an entry bundle holds 1..256 entries, not " +
                                std::to_string(count));
  }
  std::vector<std::string_view> out;
  out.reserve(static_cast<size_t>(count));
  size_t pos = 0;
  while (pos < data.size()) {
    if (static_cast<int>(out.size()) == count) {
      return DataLossError("entry bundle has " + std::to_string(data.size() - pos) +
                           " bytes after its " + std::to_string(count) + " entries");
    }
    if (data.size() - pos < 2) {
      return DataLossError("entry bundle is truncated inside the length of entry " +
                           std::to_string(out.size()));
    }
    const size_t len = (static_cast<uint8_t>(data[pos]) << 8) | static_cast<uint8_t>(data[pos + 1]);
    pos += 2;
    if (data.size() - pos < len) {
      return DataLossError("entry bundle is truncated inside entry " + std::to_string(out.size()) +
                           " (" + std::to_string(len) + " bytes announced, " +
                           std::to_string(data.size() - pos) + " left)");
    }
    out.push_back(data.substr(pos, len));
    pos += len;
  }
  if (static_cast<int>(out.size()) != count) {
    return DataLossError("entry bundle has " + std::to_string(out.size()) + " entries, expected " +
                         std::to_string(count));
  }
  return out;
}

Status CheckTileData(std::string_view data, int width, std::string_view what) {
  if (data.size() != static_cast<size_t>(width) * kHashSize) {
    return DataLossError(std::string(what) + " is " + std::to_string(data.size()) +
                         " bytes; a tile of width " + std::to_string(width) + " is " +
                         std::to_string(width * kHashSize));
  }
  return OkStatus();
}

Hash TileHashAt(std::string_view data, int i) {
  Hash h;
  std::memcpy(h.data(), data.data() + static_cast<size_t>(i) * kHashSize, kHashSize);
  return h;
}

}  // namespace comity::tlog
