// Full verification of a published log, as an outside auditor would do it.
//
//   DirectoryFetcher fetcher("/srv/log");       // or an HTTP fetcher
//   ASSIGN_OR_RETURN(auto key, ParseVerifierKey(vkey));
//   ASSIGN_OR_RETURN(VerifyReport r, VerifyLog(fetcher, *key, {.old_checkpoint = old_note}));
//   std::puts(r.Summary().c_str());
//
// Checks, stopping at the first failure: the checkpoint's signature and origin; every hash tile
// of the tree (each full tile against its parent, the right edge against the root); every
// disclosed entry bundle against the leaf hashes; and, given an older checkpoint of the same
// log, that it is a prefix of this one (a log that shrank or forked fails). Failures are
// kDataLoss / kUnauthenticated with the resource that failed; fetch errors pass through.
// Thread-compatible (the fetcher is used from the calling thread only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "tlog/tiled_tree.h"

namespace comity::tlog {

struct VerifyOptions {
  std::optional<std::string> old_checkpoint;  // a signed checkpoint note seen earlier
};

struct VerifyReport {
  Checkpoint checkpoint;
  uint64_t disclosed = 0;
  uint64_t tiles = 0;
  uint64_t bundles = 0;
  std::optional<uint64_t> old_size;
  std::string Summary() const;
};

StatusOr<VerifyReport> VerifyLog(TileFetcher& fetcher, const NoteVerifier& log_key,
                                 const VerifyOptions& options);

// Checks that `old_note` (signed by `log_key`) is consistent with `tree`; kDataLoss with both
// sizes if not, including when the old checkpoint is larger (the log shrank).
Status CheckConsistentWith(TiledTree& tree, const SignedCheckpoint& old);

}  // namespace comity::tlog
