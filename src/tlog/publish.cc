#include "tlog/publish.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "tlog/note.h"

namespace comity::tlog {
namespace {

std::string ErrnoText() { return std::strerror(errno); }

// Writes `data` to dir/path via a temporary file and rename.
Status WriteFileAtomically(const std::string& dir, const std::string& path, std::string_view data) {
  const std::filesystem::path full = std::filesystem::path(dir) / path;
  std::error_code ec;
  std::filesystem::create_directories(full.parent_path(), ec);
  if (ec)
    return UnavailableError("cannot create " + full.parent_path().string() + ": " + ec.message());
  const std::string tmp = full.string() + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError("cannot create " + tmp + ": " + ErrnoText());
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string err = ErrnoText();
      ::close(fd);
      ::unlink(tmp.c_str());
      return UnavailableError("write " + tmp + ": " + err);
    }
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), full.c_str()) != 0) {
    const std::string err = ErrnoText();
    ::unlink(tmp.c_str());
    return UnavailableError("rename " + tmp + ": " + err);
  }
  return OkStatus();
}

StatusOr<LogState> ReadLogState(LogStorage* storage) {
  ASSIGN_OR_RETURN(std::optional<LogState> state, storage->ReadState());
  if (!state) return NotFoundError("no log has been created in this storage");
  return *state;
}

}  // namespace

StatusOr<std::string> StorageTileReader::ReadTile(int level, uint64_t index, int width) {
  ASSIGN_OR_RETURN(std::optional<std::string> data, storage_->ReadTile(level, index));
  const std::string path = TilePath({level, index, width});
  if (!data) return NotFoundError("stored " + path + " does not exist");
  const size_t need = static_cast<size_t>(width) * kHashSize;
  if (data->size() < need) {
    return DataLossError("stored " + path + " holds only " +
                         std::to_string(data->size() / kHashSize) + " hashes");
  }
  data->resize(need);
  return *data;
}

StatusOr<std::string> LogPublisher::EntryBundle(uint64_t index, int width, const LogState& state) {
  const uint64_t first = index * kTileWidth;
  if (index > state.disclosed / kTileWidth ||
      first + static_cast<uint64_t>(width) > state.disclosed) {
    return NotFoundError("entry bundle " + EntryBundlePath(index, width) +
                         " is not disclosed (disclosed size " + std::to_string(state.disclosed) +
                         ")");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> entries,
                   storage_->ReadEntries(first, static_cast<uint64_t>(width)));
  std::string bundle;
  for (const std::string& e : entries) RETURN_IF_ERROR(AppendToEntryBundle(&bundle, AsBytes(e)));
  return bundle;
}

StatusOr<std::string> LogPublisher::Resource(std::string_view path) {
  if (path == kDisclosedPath) {
    ASSIGN_OR_RETURN(LogState state, ReadLogState(storage_));
    return std::to_string(state.disclosed) + "\n";
  }
  ASSIGN_OR_RETURN(ResourcePath p, ParseResourcePath(path));
  ASSIGN_OR_RETURN(LogState state, ReadLogState(storage_));
  switch (p.kind) {
    case ResourcePath::Kind::kCheckpoint:
      return state.checkpoint;
    case ResourcePath::Kind::kEntryBundle:
      return EntryBundle(p.tile.index, p.tile.width, state);
    case ResourcePath::Kind::kTile:
      break;
  }
  const int level = p.tile.level;
  const uint64_t hashes_at_level = level >= 8 ? 0 : state.size >> (kTileHeight * level);
  const uint64_t first = p.tile.index;
  if (first > hashes_at_level / kTileWidth ||
      first * kTileWidth + static_cast<uint64_t>(p.tile.width) > hashes_at_level) {
    return NotFoundError(std::string(path) + " is beyond the committed tree (size " +
                         std::to_string(state.size) + ")");
  }
  ASSIGN_OR_RETURN(std::optional<std::string> data, storage_->ReadTile(level, p.tile.index));
  const size_t need = static_cast<size_t>(p.tile.width) * kHashSize;
  if (!data || data->size() < need) {
    return DataLossError("stored tile for " + std::string(path) + " is missing or short");
  }
  data->resize(need);
  return *data;
}

StatusOr<ExportStats> LogPublisher::Export(const std::string& dir) {
  ASSIGN_OR_RETURN(LogState state, ReadLogState(storage_));
  ExportStats stats;
  stats.size = state.size;
  stats.disclosed = state.disclosed;
  for (int level = 0; level < TileLevelCount(state.size); ++level) {
    const uint64_t full = FullTileCount(state.size, level);
    const int partial = PartialTileWidth(state.size, level);
    for (uint64_t n = 0; n <= full; ++n) {
      const int width = n < full ? kTileWidth : partial;
      if (width == 0) continue;
      ASSIGN_OR_RETURN(std::optional<std::string> data, storage_->ReadTile(level, n));
      const size_t need = static_cast<size_t>(width) * kHashSize;
      const std::string path = TilePath({level, n, width});
      if (!data || data->size() < need)
        return DataLossError("stored " + path + " is missing or short");
      data->resize(need);
      RETURN_IF_ERROR(WriteFileAtomically(dir, path, *data));
      ++stats.tiles;
    }
  }
  const uint64_t full_bundles = state.disclosed / kTileWidth;
  const int partial_bundle = static_cast<int>(state.disclosed % kTileWidth);
  for (uint64_t n = 0; n <= full_bundles; ++n) {
    const int width = n < full_bundles ? kTileWidth : partial_bundle;
    if (width == 0) continue;
    ASSIGN_OR_RETURN(std::string bundle, EntryBundle(n, width, state));
    RETURN_IF_ERROR(WriteFileAtomically(dir, EntryBundlePath(n, width), bundle));
    ++stats.bundles;
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir, std::string(kDisclosedPath),
                                      std::to_string(state.disclosed) + "\n"));
  RETURN_IF_ERROR(WriteFileAtomically(dir, "checkpoint", state.checkpoint));
  return stats;
}

size_t MaxResourceBytes(std::string_view path) {
  if (path == kDisclosedPath) return 32;
  auto p = ParseResourcePath(path);
  if (!p.ok()) return 0;
  switch (p->kind) {
    case ResourcePath::Kind::kCheckpoint:
      return kMaxNoteBytes;
    case ResourcePath::Kind::kTile:
      return kFullTileBytes;
    case ResourcePath::Kind::kEntryBundle:
      return kMaxEntryBundleBytes;
  }
  return 0;
}

StatusOr<uint64_t> ParseDisclosed(std::string_view body) {
  uint64_t v = 0;
  if (body.empty() || body.back() != '\n') return DataLossError("`disclosed` is not one line");
  body.remove_suffix(1);
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (body.empty() || ec != std::errc() || p != body.data() + body.size() ||
      (body.size() > 1 && body[0] == '0')) {
    return DataLossError("`disclosed` is not a decimal size");
  }
  return v;
}

StatusOr<std::string> DirectoryFetcher::Fetch(const std::string& path) {
  const size_t limit = MaxResourceBytes(path);
  if (limit == 0) return InvalidArgumentError("\"" + path + "\" is not a log resource path");
  const std::string full = root_ + "/" + path;
  int fd = ::open(full.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError(full + " does not exist");
    return UnavailableError("cannot open " + full + ": " + ErrnoText());
  }
  struct stat sb;
  if (::fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    ::close(fd);
    return DataLossError(full + " is not a regular file");
  }
  if (static_cast<uint64_t>(sb.st_size) > limit) {
    ::close(fd);
    return DataLossError(full + " is " + std::to_string(sb.st_size) + " bytes, more than a " +
                         "resource of its kind can be (" + std::to_string(limit) + ")");
  }
  std::string out(static_cast<size_t>(sb.st_size), '\0');
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::read(fd, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string err = ErrnoText();
      ::close(fd);
      return UnavailableError("read " + full + ": " + err);
    }
    if (n == 0) break;
    off += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(off);
  return out;
}

}  // namespace comity::tlog
