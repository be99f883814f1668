#include "tlog/checkpoint.h"

#include <charconv>

namespace comity::tlog {
namespace {

Status BadCheckpoint(std::string_view why) {
  return InvalidArgumentError("malformed checkpoint: " + std::string(why));
}

}  // namespace

std::string FormatCheckpoint(const Checkpoint& cp) {
  std::string out = cp.origin;
  out += '\n';
  out += std::to_string(cp.size);
  out += '\n';
  out += HashToBase64(cp.root);
  out += '\n';
  for (const std::string& e : cp.extensions) {
    out += e;
    out += '\n';
  }
  return out;
}

StatusOr<Checkpoint> ParseCheckpoint(std::string_view text) {
  if (text.empty() || text.back() != '\n') return BadCheckpoint("text does not end in a newline");
  if (!IsValidNoteText(text)) {
    return BadCheckpoint("not valid UTF-8, or contains control characters");
  }
  std::vector<std::string_view> lines;
  size_t i = 0;
  while (i < text.size()) {
    const size_t nl = text.find('\n', i);
    lines.push_back(text.substr(i, nl - i));
    i = nl + 1;
  }
  if (lines.size() < 3) return BadCheckpoint("fewer than three lines (origin, size, root)");
  Checkpoint cp;
  if (lines[0].empty()) return BadCheckpoint("empty origin line");
  cp.origin = std::string(lines[0]);
  const std::string_view size = lines[1];
  auto [p, ec] = std::from_chars(size.data(), size.data() + size.size(), cp.size);
  if (size.empty() || ec != std::errc() || p != size.data() + size.size() ||
      (size.size() > 1 && size[0] == '0')) {
    return BadCheckpoint("tree size \"" + std::string(size.substr(0, 40)) +
                         "\" is not a decimal number in 0..18446744073709551615 without leading "
                         "zeros");
  }
  auto root = HashFromBase64(lines[2], "root hash");
  if (!root.ok()) return BadCheckpoint(root.status().message());
  cp.root = *root;
  for (size_t k = 3; k < lines.size(); ++k) {
    if (lines[k].empty()) return BadCheckpoint("empty extension line");
    cp.extensions.emplace_back(lines[k]);
  }
  return cp;
}

StatusOr<SignedCheckpoint> OpenCheckpoint(std::string_view note, const NoteVerifier& log_key) {
  auto opened = OpenNote(note, log_key);
  if (!opened.ok()) return opened.status().WithContext("checkpoint");
  ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpoint(opened->text));
  if (cp.origin != log_key.name()) {
    return UnauthenticatedError("checkpoint origin \"" + cp.origin.substr(0, 200) +
                                "\" does not match the log's key name \"" + log_key.name() + "\"");
  }
  SignedCheckpoint out;
  out.checkpoint = std::move(cp);
  out.note = std::string(note);
  out.cosignatures = std::move(opened->unverified);
  return out;
}

}  // namespace comity::tlog
