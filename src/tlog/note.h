// C2SP signed notes (signed-note), verifier keys ("vkeys"), Ed25519 note signatures (type 0x01)
// and Ed25519 witness cosignatures (tlog-cosignature "cosignature/v1", type 0x04).
//
//   Ed25519NoteSigner signer("example.com/log", key);
//   std::string vkey = signer.VerifierKey();      // "example.com/log+1a2b3c4d+AXs..."
//   StatusOr<std::string> note = SignNote("hello\n", signer);
//
//   ASSIGN_OR_RETURN(std::unique_ptr<NoteVerifier> v, ParseVerifierKey(vkey));
//   ASSIGN_OR_RETURN(OpenedNote opened, OpenNote(*note, *v));   // opened.text == "hello\n"
//
// A note is text ending in a newline, a blank line, and signature lines
// "— <key name> <base64(key id || signature)>". Parsing is strict (valid UTF-8, no control
// characters but newline, canonical base64) and bounded: kMaxNoteBytes, kMaxNoteSignatures.
// OpenNote ignores signatures from unknown keys, rejects the note if a known key's signature
// does not verify (kDataLoss), and requires at least one verified signature (kUnauthenticated).
// Signers and verifiers are immutable after construction and thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "crypto/ed25519.h"

namespace comity::tlog {

inline constexpr size_t kMaxNoteBytes = 1 << 20;
inline constexpr size_t kMaxNoteSignatures = 100;
inline constexpr uint8_t kSignatureTypeEd25519 = 0x01;
inline constexpr uint8_t kSignatureTypeCosignatureV1 = 0x04;

// Non-empty, valid UTF-8, no Unicode white space, no '+'.
bool IsValidKeyName(std::string_view name);
// Valid UTF-8 without ASCII control characters other than newline.
bool IsValidNoteText(std::string_view text);
// SHA-256(name || 0x0A || type || public key)[:4], big-endian.
uint32_t KeyId(std::string_view name, uint8_t type, crypto::ByteSpan public_key);

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // raw bytes after the key id
  bool operator==(const NoteSignature&) const = default;
};

struct Note {
  std::string text;  // ends with a newline
  std::vector<NoteSignature> signatures;
};

StatusOr<Note> ParseNote(std::string_view message);
std::string FormatNote(const Note& note);
std::string FormatSignatureLine(const NoteSignature& sig);

class NoteVerifier {
 public:
  virtual ~NoteVerifier() = default;
  virtual const std::string& name() const = 0;
  virtual uint32_t key_id() const = 0;
  virtual bool Verify(std::string_view text, std::string_view signature) const = 0;
  // The C2SP vkey.
  virtual std::string VerifierKey() const = 0;
};

class NoteSigner {
 public:
  virtual ~NoteSigner() = default;
  virtual const std::string& name() const = 0;
  virtual uint32_t key_id() const = 0;
  virtual StatusOr<std::string> Sign(std::string_view text) const = 0;
  virtual std::string VerifierKey() const = 0;
};

class Ed25519NoteVerifier : public NoteVerifier {
 public:
  Ed25519NoteVerifier(std::string name, const crypto::Ed25519PublicKey& key);
  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  bool Verify(std::string_view text, std::string_view signature) const override;
  std::string VerifierKey() const override;
  const crypto::Ed25519PublicKey& public_key() const { return key_; }

 private:
  std::string name_;
  crypto::Ed25519PublicKey key_;
  uint32_t key_id_;
};

class Ed25519NoteSigner : public NoteSigner {
 public:
  // The name must satisfy IsValidKeyName (checked by callers that take names from input).
  Ed25519NoteSigner(std::string name, crypto::Ed25519PrivateKey key);
  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  StatusOr<std::string> Sign(std::string_view text) const override;
  std::string VerifierKey() const override;
  Ed25519NoteVerifier Verifier() const { return Ed25519NoteVerifier(name_, key_.public_key()); }

 private:
  std::string name_;
  crypto::Ed25519PrivateKey key_;
  uint32_t key_id_;
};

// cosignature/v1: the signature is timestamp (uint64 big-endian, POSIX seconds) || Ed25519
// signature of "cosignature/v1\ntime <timestamp>\n" || note text.
class CosignatureV1Verifier : public NoteVerifier {
 public:
  CosignatureV1Verifier(std::string name, const crypto::Ed25519PublicKey& key);
  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  bool Verify(std::string_view text, std::string_view signature) const override;
  std::string VerifierKey() const override;
  // The timestamp of a cosignature (not verified here); kInvalidArgument if malformed.
  static StatusOr<uint64_t> Timestamp(std::string_view signature);

 private:
  std::string name_;
  crypto::Ed25519PublicKey key_;
  uint32_t key_id_;
};

class CosignatureV1Signer : public NoteSigner {
 public:
  // `clock` must outlive the signer.
  CosignatureV1Signer(std::string name, crypto::Ed25519PrivateKey key, const Clock& clock);
  const std::string& name() const override { return name_; }
  uint32_t key_id() const override { return key_id_; }
  StatusOr<std::string> Sign(std::string_view text) const override;
  std::string VerifierKey() const override;

 private:
  std::string name_;
  crypto::Ed25519PrivateKey key_;
  const Clock& clock_;
  uint32_t key_id_;
};

// "<name>+<8 hex digits>+<base64(type || public key)>".
std::string FormatVerifierKey(std::string_view name, uint8_t type, crypto::ByteSpan public_key);
// Accepts Ed25519 (0x01) and cosignature/v1 (0x04) keys; checks that the key id matches.
StatusOr<std::unique_ptr<NoteVerifier>> ParseVerifierKey(std::string_view vkey);

struct OpenedNote {
  std::string text;
  std::vector<NoteSignature> verified;
  std::vector<NoteSignature> unverified;  // from keys not in `known`
};
StatusOr<OpenedNote> OpenNote(std::string_view message, std::span<const NoteVerifier* const> known);
StatusOr<OpenedNote> OpenNote(std::string_view message, const NoteVerifier& known);

// Signs `text` (which must be valid note text ending in a newline).
StatusOr<std::string> SignNote(std::string_view text, std::span<const NoteSigner* const> signers);
StatusOr<std::string> SignNote(std::string_view text, const NoteSigner& signer);
// Adds signatures to an existing note, replacing any earlier signature by the same key.
StatusOr<std::string> AddNoteSignatures(std::string_view message,
                                        std::span<const NoteSigner* const> signers);

}  // namespace comity::tlog
