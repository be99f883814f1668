// C2SP tlog-checkpoint: the signed note body naming a log's origin, size and root hash.
//
//   Checkpoint cp{.origin = "example.com/log", .size = 15, .root = root};
//   std::string text = FormatCheckpoint(cp);     // "example.com/log\n15\n<base64 root>\n"
//   StatusOr<std::string> note = SignNote(text, signer);
//
//   // A client that trusts the log's vkey:
//   ASSIGN_OR_RETURN(SignedCheckpoint sc, OpenCheckpoint(*note, *verifier));
//   // sc.checkpoint.size, sc.checkpoint.root, sc.note (the whole signed note)
//
// OpenCheckpoint requires a valid signature by the verifier, and the origin line to equal the
// verifier's key name (our logs name their key after their origin). Parsing is strict: size in
// canonical decimal (0..2^64−1), root exactly 32 bytes of canonical base64, extension lines
// non-empty. Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tlog/hash.h"
#include "tlog/note.h"

namespace comity::tlog {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;
  bool operator==(const Checkpoint&) const = default;
};

// Note text: origin, size and root lines, then extension lines, each ending in a newline.
std::string FormatCheckpoint(const Checkpoint& cp);
StatusOr<Checkpoint> ParseCheckpoint(std::string_view text);

struct SignedCheckpoint {
  Checkpoint checkpoint;
  std::string note;                         // the signed note as received
  std::vector<NoteSignature> cosignatures;  // signatures by other (unknown) keys, unverified
};

StatusOr<SignedCheckpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& log_key);

}  // namespace comity::tlog
