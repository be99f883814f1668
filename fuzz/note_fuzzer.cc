// libFuzzer target for everything that parses signed notes: notes, checkpoints, verifier keys,
// cosignature timestamps and witness add-checkpoint requests. Checks round trips, not just the
// absence of crashes: whatever parses must format back to the exact input.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/time.h"
#include "crypto/ed25519.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "tlog/witness.h"

namespace {

using namespace comity;        // NOLINT(build/namespaces)
using namespace comity::tlog;  // NOLINT(build/namespaces)

class FuzzClock : public Clock {
 public:
  Timestamp Now() const override { return {1700000000, 0}; }
};

const Ed25519NoteSigner& LogSigner() {
  static const Ed25519NoteSigner* s = [] {
    std::array<uint8_t, 32> seed{};
    seed[0] = 1;
    return new Ed25519NoteSigner("example.com/log", *crypto::Ed25519PrivateKey::FromSeed(seed));
  }();
  return *s;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  if (auto note = ParseNote(in); note.ok()) {
    Check(FormatNote(*note) == in, "note round trip");
    Check(!note->text.empty() && note->text.back() == '\n', "note text ends in a newline");
  }
  if (auto cp = ParseCheckpoint(in); cp.ok()) {
    Check(FormatCheckpoint(*cp) == in, "checkpoint round trip");
  }
  if (auto v = ParseVerifierKey(in); v.ok()) {
    auto again = ParseVerifierKey((*v)->VerifierKey());
    Check(again.ok() && (*again)->name() == (*v)->name() && (*again)->key_id() == (*v)->key_id(),
          "vkey round trip");
  }
  (void)CosignatureV1Verifier::Timestamp(in);

  // Opening with a known key: accepted only if really signed by it.
  const Ed25519NoteVerifier verifier = LogSigner().Verifier();
  if (auto cp = OpenCheckpoint(in, verifier); cp.ok()) {
    Check(cp->checkpoint.origin == "example.com/log", "origin matches key");
  }
  // The same bytes as a checkpoint text, signed: must open to the same checkpoint.
  if (auto cp = ParseCheckpoint(in); cp.ok() && size < 4096) {
    if (auto note = SignNote(in, LogSigner()); note.ok() && cp->origin == "example.com/log") {
      auto opened = OpenCheckpoint(*note, verifier);
      Check(opened.ok() && opened->checkpoint == *cp, "signed checkpoint opens");
    }
  }
  // A witness fed the input as an add-checkpoint request.
  static FuzzClock clock;
  MemoryWitnessStore store;
  std::array<uint8_t, 32> seed{};
  seed[0] = 2;
  Witness w(&store,
            std::make_unique<CosignatureV1Signer>(
                "witness.example/w", *crypto::Ed25519PrivateKey::FromSeed(seed), clock),
            clock);
  (void)w.AddCheckpoint(in, verifier);
  return 0;
}
