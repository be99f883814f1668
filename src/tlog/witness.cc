#include "tlog/witness.h"

#include <charconv>

#include "tlog/merkle.h"
#include "tlog/verify.h"

namespace comity::tlog {

// --- MemoryWitnessStore ----------------------------------------------------------------------

StatusOr<std::optional<std::string>> MemoryWitnessStore::Latest(std::string_view origin) {
  auto it = latest_.find(origin);
  if (it == latest_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second.second);
}

Status MemoryWitnessStore::Update(std::string_view origin, std::optional<uint64_t> expected_size,
                                  uint64_t size, std::string_view note) {
  auto it = latest_.find(origin);
  const std::optional<uint64_t> current =
      it == latest_.end() ? std::nullopt : std::optional<uint64_t>(it->second.first);
  if (current != expected_size) {
    return AbortedError("the witness state for " + std::string(origin) + " changed meanwhile");
  }
  latest_[std::string(origin)] = {size, std::string(note)};
  return OkStatus();
}

Status MemoryWitnessStore::RecordSplitView(const SplitViewEvidence& evidence) {
  split_views_.push_back(evidence);
  return OkStatus();
}

StatusOr<std::vector<SplitViewEvidence>> MemoryWitnessStore::SplitViews() { return split_views_; }

// --- Witness -----------------------------------------------------------------------------------

Witness::Witness(WitnessStore* store, std::unique_ptr<NoteSigner> signer, const Clock& clock)
    : store_(store), signer_(std::move(signer)), clock_(clock) {}

StatusOr<WitnessResult> Witness::Cosign(const SignedCheckpoint& cp,
                                        std::optional<uint64_t> previous) {
  ASSIGN_OR_RETURN(Note note, ParseNote(cp.note));
  ASSIGN_OR_RETURN(std::string sig, signer_->Sign(note.text));
  NoteSignature line{signer_->name(), signer_->key_id(), std::move(sig)};
  // Only the log's own signature is kept in what we store: other cosignatures are not ours to
  // vouch for.
  RETURN_IF_ERROR(store_->Update(cp.checkpoint.origin, previous, cp.checkpoint.size, cp.note));
  WitnessResult r;
  r.outcome = WitnessOutcome::kCosigned;
  r.checkpoint = cp.checkpoint;
  r.previous_size = previous;
  r.cosignature = FormatSignatureLine(line);
  std::erase_if(note.signatures, [&](const NoteSignature& s) {
    return s.name == line.name && s.key_id == line.key_id;
  });
  note.signatures.push_back(std::move(line));
  r.cosigned_note = FormatNote(note);
  return r;
}

StatusOr<WitnessResult> Witness::SplitView(const SignedCheckpoint& cp,
                                           const std::string& previous_note, uint64_t previous_size,
                                           std::string detail) {
  SplitViewEvidence e;
  e.origin = cp.checkpoint.origin;
  e.first_note = previous_note;
  e.second_note = cp.note;
  e.detail = std::move(detail);
  e.detected_at = clock_.Now().seconds;
  RETURN_IF_ERROR(store_->RecordSplitView(e));
  WitnessResult r;
  r.outcome = WitnessOutcome::kSplitView;
  r.checkpoint = cp.checkpoint;
  r.previous_size = previous_size;
  r.evidence = std::move(e);
  return r;
}

StatusOr<WitnessResult> Witness::Observe(std::string_view checkpoint_note,
                                         const NoteVerifier& log_key, TileFetcher& fetcher) {
  ASSIGN_OR_RETURN(SignedCheckpoint cp, OpenCheckpoint(checkpoint_note, log_key));
  ASSIGN_OR_RETURN(std::optional<std::string> prev_note, store_->Latest(cp.checkpoint.origin));
  if (!prev_note) return Cosign(cp, std::nullopt);
  ASSIGN_OR_RETURN(SignedCheckpoint prev, OpenCheckpoint(*prev_note, log_key));
  const Checkpoint& p = prev.checkpoint;
  const Checkpoint& c = cp.checkpoint;
  FetcherTileReader reader(fetcher);

  if (c.size == p.size) {
    if (c.root != p.root) {
      return SplitView(
          cp, *prev_note, p.size,
          "two checkpoints of size " + std::to_string(c.size) + " with different roots");
    }
    return Cosign(cp, p.size);
  }
  if (c.size > p.size) {
    ASSIGN_OR_RETURN(std::unique_ptr<TiledTree> tree,
                     TiledTree::Open(reader, c.size, c.root, nullptr));
    ASSIGN_OR_RETURN(Hash prefix, tree->PrefixRoot(p.size));
    if (prefix != p.root) {
      return SplitView(cp, *prev_note, p.size,
                       "the tree of size " + std::to_string(c.size) +
                           " does not extend the tree of size " + std::to_string(p.size) +
                           " (its first " + std::to_string(p.size) + " entries hash to " +
                           HashToBase64(prefix) + ")");
    }
    ASSIGN_OR_RETURN(std::vector<Hash> proof, tree->ConsistencyProof(p.size));
    RETURN_IF_ERROR(VerifyConsistency(p.size, c.size, proof, p.root, c.root));
    return Cosign(cp, p.size);
  }
  // An older checkpoint: consistent if it is a prefix of the larger one we already hold.
  ASSIGN_OR_RETURN(std::unique_ptr<TiledTree> tree,
                   TiledTree::Open(reader, p.size, p.root, nullptr));
  ASSIGN_OR_RETURN(Hash prefix, tree->PrefixRoot(c.size));
  if (prefix != c.root) {
    return SplitView(cp, *prev_note, p.size,
                     "the checkpoint of size " + std::to_string(c.size) +
                         " is not a prefix of the tree of size " + std::to_string(p.size));
  }
  WitnessResult r;
  r.outcome = WitnessOutcome::kStale;
  r.checkpoint = c;
  r.previous_size = p.size;
  return r;
}

StatusOr<WitnessResult> Witness::AddCheckpoint(std::string_view body, const NoteVerifier& log_key) {
  const auto bad = [](std::string_view why) {
    return InvalidArgumentError("malformed add-checkpoint request: " + std::string(why));
  };
  if (body.size() > kMaxNoteBytes + 64 * 64) return ResourceExhaustedError("request too large");
  // "old <size>\n", proof lines, "\n", checkpoint.
  const size_t nl = body.find('\n');
  if (nl == std::string_view::npos || body.substr(0, 4) != "old ")
    return bad("missing old size line");
  const std::string_view old_text = body.substr(4, nl - 4);
  uint64_t old_size = 0;
  auto [ptr, ec] = std::from_chars(old_text.data(), old_text.data() + old_text.size(), old_size);
  if (old_text.empty() || ec != std::errc() || ptr != old_text.data() + old_text.size() ||
      (old_text.size() > 1 && old_text[0] == '0')) {
    return bad("old size is not a decimal number");
  }
  std::vector<Hash> proof;
  size_t pos = nl + 1;
  while (true) {
    const size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) return bad("missing blank line before the checkpoint");
    const std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) break;
    if (proof.size() == kMaxWitnessProofLines) return bad("more than 63 consistency proof lines");
    auto h = HashFromBase64(line, "consistency proof line");
    if (!h.ok()) return bad(h.status().message());
    proof.push_back(*h);
  }
  const std::string_view note = body.substr(pos);
  ASSIGN_OR_RETURN(SignedCheckpoint cp, OpenCheckpoint(note, log_key));
  const Checkpoint& c = cp.checkpoint;
  if (old_size > c.size) {
    return InvalidArgumentError("old size " + std::to_string(old_size) +
                                " is larger than the checkpoint size " + std::to_string(c.size));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> prev_note, store_->Latest(c.origin));
  std::optional<SignedCheckpoint> prev;
  if (prev_note) {
    ASSIGN_OR_RETURN(prev, OpenCheckpoint(*prev_note, log_key));
  }
  const uint64_t latest = prev ? prev->checkpoint.size : 0;
  if (old_size != latest) {
    WitnessResult r;
    r.outcome = WitnessOutcome::kConflict;
    r.checkpoint = c;
    r.latest_size = latest;
    if (prev) r.previous_size = latest;
    return r;
  }
  if (!prev) {
    if (!proof.empty()) return bad("the proof must be empty when the old size is 0");
    return Cosign(cp, std::nullopt);
  }
  const Checkpoint& p = prev->checkpoint;
  if (p.size == c.size && p.root != c.root) {
    return SplitView(cp, *prev_note, p.size,
                     "two checkpoints of size " + std::to_string(c.size) + " with different roots");
  }
  Status st = VerifyConsistency(p.size, c.size, proof, p.root, c.root);
  if (!st.ok()) {
    return DataLossError("consistency proof from size " + std::to_string(p.size) + " to " +
                         std::to_string(c.size) + " does not verify: " + st.message());
  }
  return Cosign(cp, p.size);
}

}  // namespace comity::tlog
