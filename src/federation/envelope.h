// Envelopes: the signed, encrypted messages that nodes exchange, and the signed receipts that
// acknowledge them. Format: docs/formats/envelope.md.
//
//   std::string wire = SealEnvelope(me, peer, {.id = NewMessageId(), .kind = "request",
//                                              .body = json, .checkpoint = cp}, clock.Now());
//   // ... POST to the peer's /federation/v1/inbox ...
//   EnvelopeCheck check = OpenEnvelope(wire, me, trust, clock.Now());
//   if (!check.ok()) RecordSecurityEvent(check.rejection, check.status);
//
// The envelope's header (sender, recipient, id, kind, time, checkpoint) is in the clear; the
// body is sealed to the recipient's X25519 key; the whole (RFC 8785 canonical JSON without the
// signature) is signed with the sender's Ed25519 key. A receiver refuses, in this order:
// oversize, malformed, wrong recipient, unknown sender, bad signature, stale or future time,
// undecryptable body. Deduplication by message id needs storage and is the inbox's job.
//
// Several envelopes (or receipts) made together may share one signature (SealEnvelopes,
// SignReceipts): the sender signs the root of a Merkle tree (RFC 9162) over their signed bytes,
// and each carries its inclusion path in a `batch` member, so each still verifies on its own,
// for anyone with the signer's key. Their bodies are boxed under one key agreed between an
// ephemeral key of the batch and the recipient's (`boxed_body`) instead of one sealed box each.
// A receiver that checks a batch passes a BatchMemo to verify that root's signature and agree on
// that key once.
//
// Thread-safe: free functions over immutable inputs (a BatchMemo belongs to one caller).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "crypto/box.h"
#include "crypto/ed25519.h"

namespace comity::federation {

inline constexpr size_t kMaxEnvelopeBytes = 2 << 20;  // 2 MiB on the wire
inline constexpr int64_t kMaxClockSkewSeconds = 300;  // accepted |sent - now|

// This node's identity: its state and private keys.
struct Identity {
  std::string state;  // "XA"
  crypto::Ed25519PrivateKey sign_key;
  crypto::X25519PrivateKey box_key;
};

// What we trust about a peer.
struct PeerKeys {
  std::string state;
  crypto::Ed25519PublicKey sign_key{};
  crypto::X25519PublicKey box_key{};
};

inline constexpr size_t kMaxSignedTogether = 256;  // envelopes or receipts under one signature

// What the members of one batch share, worked out once: the batch signatures verified (so that
// the other members' signatures are not verified again) and the box keys agreed with a batch's
// ephemeral key (so that each body is opened without an agreement of its own). Bounded (the
// oldest is forgotten); one per batch being checked; thread-compatible.
class BatchMemo {
 public:
  bool Verified(std::string_view key) const;
  void AddVerified(std::string key);
  const crypto::BoxKey* Key(const crypto::X25519PublicKey& ephemeral) const;
  void AddKey(const crypto::X25519PublicKey& ephemeral, crypto::BoxKey key);

 private:
  static constexpr size_t kCapacity = 8;
  std::vector<std::string> verified_;
  std::vector<std::pair<crypto::X25519PublicKey, crypto::BoxKey>> keys_;
};

// Looks up a peer by state code; nullopt for an unknown sender.
using TrustLookup = std::function<std::optional<PeerKeys>(std::string_view state)>;

struct Message {
  std::string id;          // 32 lowercase hex digits (NewMessageId)
  std::string kind;        // request, decision, information_request, information_reply
  std::string body;        // JSON text, encrypted on the wire
  std::string checkpoint;  // the sender's latest signed checkpoint (C2SP note text)
};

// The kinds of message a node accepts.
bool IsKnownKind(std::string_view kind);

// 128 random bits as 32 hex digits.
std::string NewMessageId();

std::string SealEnvelope(const Identity& me, const PeerKeys& to, const Message& message,
                         Timestamp now);
// The same envelopes as SealEnvelope would make, in order — but when there are two or more,
// signed together (at most kMaxSignedTogether under one signature; more in several batches) and
// their bodies boxed under one key agreed for the batch (`boxed_body`).
std::vector<std::string> SealEnvelopes(const Identity& me, const PeerKeys& to,
                                       std::span<const Message> messages, Timestamp now);

enum class Rejection {
  kNone,
  kOversize,
  kMalformed,
  kWrongRecipient,
  kUnknownSender,
  kBadSignature,
  kStale,
  kUndecryptable,
};
std::string_view RejectionName(Rejection r);  // "oversize", "bad_signature", ...

struct OpenedEnvelope {
  std::string from;
  std::string to;
  Timestamp sent;
  Message message;          // body decrypted
  std::string body_sha256;  // hex SHA-256 of the decrypted body: the content, for dedupe
};

struct EnvelopeCheck {
  Rejection rejection = Rejection::kNone;
  Status status;             // the reason, for the security event and the HTTP answer
  std::string claimed_from;  // as read from the header, if it could be read
  std::string claimed_id;
  std::optional<OpenedEnvelope> envelope;  // set iff ok()
  bool ok() const { return rejection == Rejection::kNone; }
};

// Limits a receiver applies; the defaults are the format's (docs/formats/envelope.md).
struct OpenOptions {
  size_t max_bytes = kMaxEnvelopeBytes;
  int64_t max_clock_skew_seconds = kMaxClockSkewSeconds;
};

// `memo`, if set, remembers what one batch's envelopes share (BatchMemo).
EnvelopeCheck OpenEnvelope(std::string_view wire, const Identity& me, const TrustLookup& trust,
                           Timestamp now, const OpenOptions& options = {},
                           BatchMemo* memo = nullptr);

// The HTTP status an inbox answers for a rejection (413, 400, 403, 401; 200 for kNone).
int HttpStatusForRejection(Rejection r);

// --- Receipts -------------------------------------------------------------------------------

struct Receipt {
  std::string message_id;
  std::string body_sha256;  // what was received
  std::string from;         // the receiver, who signs
  std::string to;           // the sender of the message
  Timestamp received;
  bool duplicate = false;  // the message had been received before (same content)
  std::string checkpoint;  // the receiver's latest checkpoint
};

std::string SignReceipt(const Identity& me, const Receipt& receipt);
// As SignReceipt for each, in order, under one signature when there are two or more.
std::vector<std::string> SignReceipts(const Identity& me, std::span<const Receipt> receipts);
// Verifies a receipt's signature against `signer` and that it answers `expected_id`; `memo` as
// for OpenEnvelope.
StatusOr<Receipt> VerifyReceipt(std::string_view wire, const PeerKeys& signer,
                                std::string_view expected_id, BatchMemo* memo = nullptr);

}  // namespace comity::federation
