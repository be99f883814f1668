#include "tlog/verify.h"

#include "tlog/merkle.h"
#include "tlog/publish.h"

namespace comity::tlog {

std::string VerifyReport::Summary() const {
  std::string s = "verified " + checkpoint.origin + ": size " + std::to_string(checkpoint.size) +
                  ", root " + HashToBase64(checkpoint.root) + "; " + std::to_string(tiles) +
                  " tiles, " + std::to_string(bundles) + " entry bundles (" +
                  std::to_string(disclosed) + " entries disclosed)";
  if (old_size)
    s += "; consistent with the earlier checkpoint of size " + std::to_string(*old_size);
  return s;
}

Status CheckConsistentWith(TiledTree& tree, const SignedCheckpoint& old) {
  const Checkpoint& o = old.checkpoint;
  if (o.size > tree.size()) {
    return DataLossError("the log shrank: an earlier checkpoint has size " +
                         std::to_string(o.size) + ", the current one " +
                         std::to_string(tree.size()));
  }
  ASSIGN_OR_RETURN(std::vector<Hash> proof, tree.ConsistencyProof(o.size));
  Status st = VerifyConsistency(o.size, tree.size(), proof, o.root, tree.root());
  if (!st.ok()) {
    return DataLossError("the checkpoint of size " + std::to_string(tree.size()) +
                         " is not consistent with the earlier checkpoint of size " +
                         std::to_string(o.size) +
                         " (the log was rewritten or forked): " + st.message());
  }
  return OkStatus();
}

StatusOr<VerifyReport> VerifyLog(TileFetcher& fetcher, const NoteVerifier& log_key,
                                 const VerifyOptions& options) {
  VerifyReport report;
  ASSIGN_OR_RETURN(std::string note, fetcher.Fetch("checkpoint"));
  ASSIGN_OR_RETURN(SignedCheckpoint cp, OpenCheckpoint(note, log_key));
  report.checkpoint = cp.checkpoint;
  const uint64_t size = cp.checkpoint.size;

  report.disclosed = size;
  auto disclosed = fetcher.Fetch(std::string(kDisclosedPath));
  if (disclosed.ok()) {
    ASSIGN_OR_RETURN(report.disclosed, ParseDisclosed(*disclosed));
    if (report.disclosed > size) {
      return DataLossError("`disclosed` says " + std::to_string(report.disclosed) +
                           " entries, more than the checkpoint's " + std::to_string(size));
    }
  } else if (disclosed.status().code() != StatusCode::kNotFound) {
    return disclosed.status();
  }

  FetcherTileReader reader(fetcher);
  ASSIGN_OR_RETURN(std::unique_ptr<TiledTree> tree,
                   TiledTree::Open(reader, size, cp.checkpoint.root, nullptr));
  // Top level first, so that each tile's parent is already authenticated.
  for (int level = TileLevelCount(size) - 1; level >= 0; --level) {
    const uint64_t tiles = FullTileCount(size, level) + (PartialTileWidth(size, level) > 0);
    for (uint64_t n = 0; n < tiles; ++n) {
      auto t = tree->Tile(level, n);
      if (!t.ok()) return t.status();
      ++report.tiles;
    }
  }

  const uint64_t bundles = (report.disclosed + kTileWidth - 1) / kTileWidth;
  TreeHasher hasher;
  for (uint64_t n = 0; n < bundles; ++n) {
    const int width =
        static_cast<int>(std::min<uint64_t>(kTileWidth, report.disclosed - n * kTileWidth));
    const std::string path = EntryBundlePath(n, width);
    auto data = fetcher.Fetch(path);
    bool truncate = false;
    if (!data.ok() && data.status().code() == StatusCode::kNotFound && width < kTileWidth) {
      data = fetcher.Fetch(EntryBundlePath(n, kTileWidth));
      truncate = true;
    }
    if (!data.ok()) return data.status().WithContext(path);
    auto entries = ParseEntryBundle(*data, truncate ? kTileWidth : width);
    if (!entries.ok()) return entries.status().WithContext(path);
    ASSIGN_OR_RETURN(std::shared_ptr<const ExpandedTile> tile, tree->Tile(0, n));
    for (int i = 0; i < width; ++i) {
      if (hasher.Leaf(AsBytes((*entries)[i])) != tile->Node(0, i)) {
        return DataLossError(path + ": entry " + std::to_string(n * kTileWidth + i) +
                             " does not hash to its leaf in the tree");
      }
    }
    ++report.bundles;
  }

  if (options.old_checkpoint) {
    auto old = OpenCheckpoint(*options.old_checkpoint, log_key);
    if (!old.ok()) return old.status().WithContext("earlier checkpoint");
    RETURN_IF_ERROR(CheckConsistentWith(*tree, *old));
    report.old_size = old->checkpoint.size;
  }
  return report;
}

}  // namespace comity::tlog
