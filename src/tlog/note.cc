#include "tlog/note.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include "crypto/encoding.h"
#include "crypto/sha256.h"

namespace comity::tlog {
namespace {

constexpr std::string_view kSigPrefix = "\xe2\x80\x94 ";  // U+2014 EM DASH, space
constexpr std::string_view kCosignatureHeader = "cosignature/v1\n";

// Decodes one UTF-8 code point at s[i]; returns its length (0 if invalid).
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint8_t>(s[i + k]); };
  const uint8_t c = b(0);
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  size_t len;
  uint32_t min;
  if ((c & 0xe0) == 0xc0) {
    len = 2;
    *cp = c & 0x1f;
    min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    *cp = c & 0x0f;
    min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4;
    *cp = c & 0x07;
    min = 0x10000;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(k) & 0xc0) != 0x80) return 0;
    *cp = (*cp << 6) | (b(k) & 0x3f);
  }
  if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff)) return 0;
  return len;
}

// Go's unicode.IsSpace: ASCII white space, U+0085, U+00A0 and the Z categories.
bool IsUnicodeSpace(uint32_t cp) {
  switch (cp) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200a;
  }
}

uint32_t ReadBigEndian32(std::string_view s) {
  return (uint32_t{static_cast<uint8_t>(s[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[2])} << 8) | uint32_t{static_cast<uint8_t>(s[3])};
}

void AppendBigEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::string KeyIdHex(uint32_t id) {
  std::string raw;
  AppendBigEndian(&raw, id, 4);
  return crypto::HexEncode(raw);
}

std::string CosignedMessage(uint64_t timestamp, std::string_view text) {
  std::string msg(kCosignatureHeader);
  msg += "time " + std::to_string(timestamp) + "\n";
  msg.append(text);
  return msg;
}

Status BadNote(std::string_view why) {
  return InvalidArgumentError("malformed note: " + std::string(why));
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(name, i, &cp);
    if (n == 0 || IsUnicodeSpace(cp) || cp == '+') return false;
    i += n;
  }
  return true;
}

bool IsValidNoteText(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(text, i, &cp);
    if (n == 0 || (cp < 0x20 && cp != '\n')) return false;
    i += n;
  }
  return true;
}

uint32_t KeyId(std::string_view name, uint8_t type, crypto::ByteSpan public_key) {
  crypto::Sha256Hasher h;
  h.Update(name);
  const uint8_t sep[2] = {'\n', type};
  h.Update(crypto::ByteSpan(sep, 2));
  h.Update(public_key);
  const crypto::Sha256Digest d = h.Finish();
  return ReadBigEndian32(crypto::AsChars(d));
}

StatusOr<Note> ParseNote(std::string_view message) {
  if (message.size() > kMaxNoteBytes) {
    return ResourceExhaustedError("note of " + std::to_string(message.size()) +
                                  " bytes exceeds the limit of " + std::to_string(kMaxNoteBytes));
  }
  if (!IsValidNoteText(message)) {
    return BadNote("not valid UTF-8, or contains control characters other than newline");
  }
  const size_t split = message.rfind("\n\n");
  if (split == std::string_view::npos) return BadNote("no blank line before the signatures");
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  std::string_view sigs = message.substr(split + 2);
  if (sigs.empty()) return BadNote("no signature lines");
  if (sigs.back() != '\n') return BadNote("the last signature line does not end in a newline");
  while (!sigs.empty()) {
    const size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (line.substr(0, kSigPrefix.size()) != kSigPrefix) {
      return BadNote("signature line does not start with an em dash and a space");
    }
    line.remove_prefix(kSigPrefix.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return BadNote("signature line has no signature");
    NoteSignature sig;
    sig.name = std::string(line.substr(0, space));
    if (!IsValidKeyName(sig.name)) return BadNote("invalid key name in a signature line");
    auto raw = crypto::Base64Decode(line.substr(space + 1));
    if (!raw.ok()) return BadNote("signature is not canonical base64");
    if (raw->size() < 5) return BadNote("signature is shorter than a key id and one byte");
    if (note.signatures.size() == kMaxNoteSignatures) {
      return ResourceExhaustedError("note has more than " + std::to_string(kMaxNoteSignatures) +
                                    " signatures");
    }
    sig.key_id = ReadBigEndian32(*raw);
    sig.signature = raw->substr(4);
    note.signatures.push_back(std::move(sig));
  }
  return note;
}

std::string FormatSignatureLine(const NoteSignature& sig) {
  std::string raw;
  AppendBigEndian(&raw, sig.key_id, 4);
  raw += sig.signature;
  std::string line(kSigPrefix);
  line += sig.name;
  line += ' ';
  line += crypto::Base64Encode(raw);
  line += '\n';
  return line;
}

std::string FormatNote(const Note& note) {
  std::string out = note.text;
  out += '\n';
  for (const NoteSignature& s : note.signatures) out += FormatSignatureLine(s);
  return out;
}

// --- Ed25519 ------------------------------------------------------------------------------

Ed25519NoteVerifier::Ed25519NoteVerifier(std::string name, const crypto::Ed25519PublicKey& key)
    : name_(std::move(name)), key_(key), key_id_(KeyId(name_, kSignatureTypeEd25519, key_)) {}

bool Ed25519NoteVerifier::Verify(std::string_view text, std::string_view signature) const {
  return crypto::Ed25519Verify(key_, crypto::AsBytes(text), crypto::AsBytes(signature));
}

std::string Ed25519NoteVerifier::VerifierKey() const {
  return FormatVerifierKey(name_, kSignatureTypeEd25519, key_);
}

Ed25519NoteSigner::Ed25519NoteSigner(std::string name, crypto::Ed25519PrivateKey key)
    : name_(std::move(name)),
      key_(std::move(key)),
      key_id_(KeyId(name_, kSignatureTypeEd25519, key_.public_key())) {}

StatusOr<std::string> Ed25519NoteSigner::Sign(std::string_view text) const {
  const crypto::Ed25519Signature sig = key_.Sign(crypto::AsBytes(text));
  return std::string(crypto::AsChars(sig));
}

std::string Ed25519NoteSigner::VerifierKey() const {
  return FormatVerifierKey(name_, kSignatureTypeEd25519, key_.public_key());
}

// --- cosignature/v1 -----------------------------------------------------------------------

CosignatureV1Verifier::CosignatureV1Verifier(std::string name, const crypto::Ed25519PublicKey& key)
    : name_(std::move(name)), key_(key), key_id_(KeyId(name_, kSignatureTypeCosignatureV1, key_)) {}

StatusOr<uint64_t> CosignatureV1Verifier::Timestamp(std::string_view signature) {
  if (signature.size() != 8 + crypto::kEd25519SignatureSize) {
    return InvalidArgumentError("a cosignature/v1 signature is 72 bytes, got " +
                                std::to_string(signature.size()));
  }
  uint64_t ts = 0;
  for (int i = 0; i < 8; ++i) ts = (ts << 8) | static_cast<uint8_t>(signature[i]);
  if (ts > (uint64_t{1} << 63) - 1) {
    return InvalidArgumentError("cosignature timestamp exceeds 2^63 - 1");
  }
  return ts;
}

bool CosignatureV1Verifier::Verify(std::string_view text, std::string_view signature) const {
  auto ts = Timestamp(signature);
  if (!ts.ok()) return false;
  const std::string msg = CosignedMessage(*ts, text);
  return crypto::Ed25519Verify(key_, crypto::AsBytes(msg), crypto::AsBytes(signature.substr(8)));
}

std::string CosignatureV1Verifier::VerifierKey() const {
  return FormatVerifierKey(name_, kSignatureTypeCosignatureV1, key_);
}

CosignatureV1Signer::CosignatureV1Signer(std::string name, crypto::Ed25519PrivateKey key,
                                         const Clock& clock)
    : name_(std::move(name)),
      key_(std::move(key)),
      clock_(clock),
      key_id_(KeyId(name_, kSignatureTypeCosignatureV1, key_.public_key())) {}

StatusOr<std::string> CosignatureV1Signer::Sign(std::string_view text) const {
  const Timestamp now = clock_.Now();
  if (now.seconds < 0) return InternalError("clock is before 1970");
  const uint64_t ts = static_cast<uint64_t>(now.seconds);
  const crypto::Ed25519Signature sig = key_.Sign(crypto::AsBytes(CosignedMessage(ts, text)));
  std::string out;
  AppendBigEndian(&out, ts, 8);
  out.append(crypto::AsChars(sig));
  return out;
}

std::string CosignatureV1Signer::VerifierKey() const {
  return FormatVerifierKey(name_, kSignatureTypeCosignatureV1, key_.public_key());
}

// --- vkeys ---------------------------------------------------------------------------------

std::string FormatVerifierKey(std::string_view name, uint8_t type, crypto::ByteSpan public_key) {
  std::string raw(1, static_cast<char>(type));
  raw.append(crypto::AsChars(public_key));
  std::string out(name);
  out += '+';
  out += KeyIdHex(KeyId(name, type, public_key));
  out += '+';
  out += crypto::Base64Encode(raw);
  return out;
}

StatusOr<std::unique_ptr<NoteVerifier>> ParseVerifierKey(std::string_view vkey) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid verifier key \"" + std::string(vkey.substr(0, 300)) +
                                "\": " + std::string(why));
  };
  const size_t p1 = vkey.find('+');
  if (p1 == std::string_view::npos) return bad("expected <name>+<key id>+<key>");
  const size_t p2 = vkey.find('+', p1 + 1);
  if (p2 == std::string_view::npos) return bad("expected <name>+<key id>+<key>");
  const std::string name(vkey.substr(0, p1));
  if (!IsValidKeyName(name)) return bad("the key name is empty or contains spaces");
  const std::string_view id_hex = vkey.substr(p1 + 1, p2 - p1 - 1);
  uint32_t id = 0;
  auto [ptr, ec] = std::from_chars(id_hex.data(), id_hex.data() + id_hex.size(), id, 16);
  if (id_hex.size() != 8 || ec != std::errc() || ptr != id_hex.data() + id_hex.size()) {
    return bad("the key id is not 8 hex digits");
  }
  auto raw = crypto::Base64Decode(vkey.substr(p2 + 1));
  if (!raw.ok() || raw->empty()) return bad("the key is not base64");
  const uint8_t type = static_cast<uint8_t>((*raw)[0]);
  if (type != kSignatureTypeEd25519 && type != kSignatureTypeCosignatureV1) {
    return bad("unsupported signature type " + std::to_string(type) +
               " (supported: 1 Ed25519, 4 cosignature/v1)");
  }
  if (raw->size() != 1 + crypto::kEd25519PublicKeySize) {
    return bad("an Ed25519 public key is 32 bytes");
  }
  crypto::Ed25519PublicKey key;
  std::memcpy(key.data(), raw->data() + 1, key.size());
  if (KeyId(name, type, key) != id) return bad("the key id does not match the name and key");
  if (type == kSignatureTypeEd25519)
    return std::unique_ptr<NoteVerifier>(new Ed25519NoteVerifier(name, key));
  return std::unique_ptr<NoteVerifier>(new CosignatureV1Verifier(name, key));
}

// --- open / sign ---------------------------------------------------------------------------

StatusOr<OpenedNote> OpenNote(std::string_view message,
                              std::span<const NoteVerifier* const> known) {
  ASSIGN_OR_RETURN(Note note, ParseNote(message));
  OpenedNote out;
  out.text = note.text;
  for (NoteSignature& sig : note.signatures) {
    const NoteVerifier* v = nullptr;
    for (const NoteVerifier* k : known) {
      if (k->name() == sig.name && k->key_id() == sig.key_id) v = k;
    }
    if (v == nullptr) {
      if (std::find(out.unverified.begin(), out.unverified.end(), sig) == out.unverified.end()) {
        out.unverified.push_back(std::move(sig));
      }
      continue;
    }
    if (!v->Verify(note.text, sig.signature)) {
      return DataLossError("signature by " + sig.name + "+" + KeyIdHex(sig.key_id) +
                           " does not verify: the note was modified or forged");
    }
    if (std::find(out.verified.begin(), out.verified.end(), sig) == out.verified.end()) {
      out.verified.push_back(std::move(sig));
    }
  }
  if (out.verified.empty()) {
    std::string names;
    for (const NoteVerifier* k : known) {
      if (!names.empty()) names += ", ";
      names += k->name() + "+" + KeyIdHex(k->key_id());
    }
    return UnauthenticatedError("note is not signed by any trusted key (" + names + ")");
  }
  return out;
}

StatusOr<OpenedNote> OpenNote(std::string_view message, const NoteVerifier& known) {
  const NoteVerifier* list[] = {&known};
  return OpenNote(message, list);
}

StatusOr<std::string> SignNote(std::string_view text, std::span<const NoteSigner* const> signers) {
  if (text.empty() || text.back() != '\n') return BadNote("text must end with a newline");
  if (!IsValidNoteText(text)) {
    return BadNote("text is not valid UTF-8 or contains control characters");
  }
  Note note;
  note.text = std::string(text);
  for (const NoteSigner* s : signers) {
    if (!IsValidKeyName(s->name())) return InvalidArgumentError("invalid signer key name");
    ASSIGN_OR_RETURN(std::string sig, s->Sign(note.text));
    note.signatures.push_back({s->name(), s->key_id(), std::move(sig)});
  }
  std::string out = FormatNote(note);
  if (out.size() > kMaxNoteBytes)
    return ResourceExhaustedError("signed note exceeds the size limit");
  return out;
}

StatusOr<std::string> SignNote(std::string_view text, const NoteSigner& signer) {
  const NoteSigner* list[] = {&signer};
  return SignNote(text, list);
}

StatusOr<std::string> AddNoteSignatures(std::string_view message,
                                        std::span<const NoteSigner* const> signers) {
  ASSIGN_OR_RETURN(Note note, ParseNote(message));
  for (const NoteSigner* s : signers) {
    std::erase_if(note.signatures, [&](const NoteSignature& sig) {
      return sig.name == s->name() && sig.key_id == s->key_id();
    });
    ASSIGN_OR_RETURN(std::string sig, s->Sign(note.text));
    note.signatures.push_back({s->name(), s->key_id(), std::move(sig)});
  }
  std::string out = FormatNote(note);
  if (out.size() > kMaxNoteBytes)
    return ResourceExhaustedError("signed note exceeds the size limit");
  return out;
}

}  // namespace comity::tlog
