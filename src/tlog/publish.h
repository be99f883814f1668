// Publishing a log: its C2SP resources read from storage (for an HTTP server) or written out
// as a static directory; and reading such a directory back.
//
//   LogPublisher pub(&storage);
//   StatusOr<std::string> body = pub.Resource("tile/0/000.p/7");   // serve at /tile/0/000.p/7
//   RETURN_IF_ERROR(pub.Export("/srv/log"));                        // static layout
//
//   DirectoryFetcher fetcher("/srv/log");    // a TileFetcher over such a directory
//
// What is published: `checkpoint` (the latest signed checkpoint), hash tiles of the committed
// tree (full tiles, and partial tiles of any width up to what the committed size has), entry
// bundles only up to the disclosed size, and `disclosed` — a Comity addition, the disclosed size
// in decimal and a newline, so that clients know how far bundles exist. Anything else is
// kNotFound. Export writes each file to a temporary name and renames it, the checkpoint last, so
// a concurrent reader never sees a checkpoint without its tiles.
//
// LogPublisher is thread-compatible (it shares the storage's connection); DirectoryFetcher is
// thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "tlog/storage.h"
#include "tlog/tiled_tree.h"

namespace comity::tlog {

inline constexpr std::string_view kDisclosedPath = "disclosed";

struct ExportStats {
  uint64_t tiles = 0;
  uint64_t bundles = 0;
  uint64_t size = 0;
  uint64_t disclosed = 0;
};

class LogPublisher {
 public:
  explicit LogPublisher(LogStorage* storage) : storage_(storage) {}
  StatusOr<std::string> Resource(std::string_view path);
  StatusOr<std::string> EntryBundle(uint64_t index, int width, const LogState& state);
  StatusOr<ExportStats> Export(const std::string& dir);

 private:
  LogStorage* storage_;
};

// Serves tiles straight from storage (the log's own data: for proofs by the log itself).
class StorageTileReader : public TileReader {
 public:
  explicit StorageTileReader(LogStorage* storage) : storage_(storage) {}
  StatusOr<std::string> ReadTile(int level, uint64_t index, int width) override;

 private:
  LogStorage* storage_;
};

// A TileFetcher over a LogPublisher: what an HTTP client of this log would see, in process.
class PublisherFetcher : public TileFetcher {
 public:
  explicit PublisherFetcher(LogPublisher* publisher) : publisher_(publisher) {}
  StatusOr<std::string> Fetch(const std::string& path) override {
    return publisher_->Resource(path);
  }

 private:
  LogPublisher* publisher_;
};

// Reads resources from a directory laid out as the C2SP static layout. Refuses paths that are
// not log resources, and files larger than the resource can be (kDataLoss).
class DirectoryFetcher : public TileFetcher {
 public:
  explicit DirectoryFetcher(std::string root) : root_(std::move(root)) {}
  StatusOr<std::string> Fetch(const std::string& path) override;

 private:
  std::string root_;
};

// Upper bound on the size of a resource at `path` (0 if it is not a log resource).
size_t MaxResourceBytes(std::string_view path);
// Parses the `disclosed` resource.
StatusOr<uint64_t> ParseDisclosed(std::string_view body);

}  // namespace comity::tlog
