#include "federation/envelope.h"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "core/canonical_json.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/sha256.h"

namespace comity::federation {
namespace {

namespace json = boost::json;

constexpr std::string_view kEnvelopeSchema = "comity.envelope/v1";
constexpr std::string_view kReceiptSchema = "comity.receipt/v1";
// Domain separation: a signature over one kind of object never verifies as another.
constexpr std::string_view kEnvelopeContext = "comity.envelope/v1 signature\n";
constexpr std::string_view kReceiptContext = "comity.receipt/v1 signature\n";

bool IsStateCode(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

bool IsHex(std::string_view s, size_t len) {
  if (s.size() != len) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The bytes a signature covers: context || canonical JSON of the object minus "signature".
StatusOr<std::string> SignedBytes(std::string_view context, json::object obj) {
  obj.erase("signature");
  ASSIGN_OR_RETURN(std::string canonical, CanonicalJson(obj));
  std::string out(context);
  out += canonical;
  return out;
}

std::string Sign(const crypto::Ed25519PrivateKey& key, std::string_view context, json::object obj) {
  // Our own objects hold only strings and booleans: canonicalisation cannot fail.
  std::string bytes = *SignedBytes(context, obj);
  crypto::Ed25519Signature sig = key.Sign(crypto::AsBytes(bytes));
  obj["signature"] = crypto::Base64Encode(crypto::ByteSpan(sig));
  return json::serialize(obj);
}

// Reads a required string member; kInvalidArgument naming it otherwise.
StatusOr<std::string> GetString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return InvalidArgumentError(fmt::format("missing \"{}\"", key));
  if (!v->is_string()) {
    return InvalidArgumentError(fmt::format("\"{}\" must be a string", key),
                                fmt::format("/{}", key));
  }
  return std::string(v->as_string());
}

Status CheckMembers(const json::object& o, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    bool known = false;
    for (std::string_view a : allowed) known = known || kv.key() == a;
    if (!known) {
      return InvalidArgumentError(fmt::format("unknown member \"{}\"", std::string_view(kv.key())),
                                  fmt::format("/{}", std::string_view(kv.key())));
    }
  }
  return OkStatus();
}

Status VerifySignature(const crypto::Ed25519PublicKey& key, std::string_view context,
                       const json::object& obj) {
  ASSIGN_OR_RETURN(std::string sig_b64, GetString(obj, "signature"));
  auto sig = crypto::Base64Decode(sig_b64);
  if (!sig.ok() || sig->size() != crypto::kEd25519SignatureSize) {
    return InvalidArgumentError("signature is not 64 bytes of base64", "/signature");
  }
  auto bytes = SignedBytes(context, obj);
  if (!bytes.ok()) return bytes.status();
  if (!crypto::Ed25519Verify(key, crypto::AsBytes(*bytes), crypto::AsBytes(*sig))) {
    return UnauthenticatedError("signature does not verify with the sender's key");
  }
  return OkStatus();
}

EnvelopeCheck Reject(EnvelopeCheck check, Rejection r, Status s) {
  check.rejection = r;
  check.status = std::move(s);
  check.envelope.reset();
  return check;
}

}  // namespace

bool IsKnownKind(std::string_view kind) {
  return kind == "request" || kind == "decision" || kind == "information_request" ||
         kind == "information_reply";
}

std::string NewMessageId() { return crypto::HexEncode(crypto::RandomString(16)); }

std::string_view RejectionName(Rejection r) {
  switch (r) {
    case Rejection::kNone:
      return "none";
    case Rejection::kOversize:
      return "oversize";
    case Rejection::kMalformed:
      return "malformed";
    case Rejection::kWrongRecipient:
      return "wrong_recipient";
    case Rejection::kUnknownSender:
      return "unknown_sender";
    case Rejection::kBadSignature:
      return "bad_signature";
    case Rejection::kStale:
      return "stale_timestamp";
    case Rejection::kUndecryptable:
      return "undecryptable";
  }
  return "unknown";
}

std::string SealEnvelope(const Identity& me, const PeerKeys& to, const Message& message,
                         Timestamp now) {
  json::object o;
  o["schema"] = kEnvelopeSchema;
  o["id"] = message.id;
  o["kind"] = message.kind;
  o["from"] = me.state;
  o["to"] = to.state;
  o["sent"] = FormatTimestamp(Timestamp{now.seconds, 0});
  o["checkpoint"] = message.checkpoint;
  o["sealed_body"] =
      crypto::Base64Encode(crypto::SealBox(to.box_key, crypto::AsBytes(message.body)));
  return Sign(me.sign_key, kEnvelopeContext, std::move(o));
}

int HttpStatusForRejection(Rejection r) {
  switch (r) {
    case Rejection::kNone:
      return 200;
    case Rejection::kOversize:
      return 413;
    case Rejection::kMalformed:
    case Rejection::kUndecryptable:
      return 400;
    case Rejection::kWrongRecipient:
      return 403;
    case Rejection::kUnknownSender:
    case Rejection::kBadSignature:
    case Rejection::kStale:
      return 401;
  }
  return 400;
}

EnvelopeCheck OpenEnvelope(std::string_view wire, const Identity& me, const TrustLookup& trust,
                           Timestamp now, const OpenOptions& options) {
  EnvelopeCheck check;
  if (wire.size() > options.max_bytes) {
    return Reject(
        std::move(check), Rejection::kOversize,
        ResourceExhaustedError("envelope of " + std::to_string(wire.size()) +
                               " bytes exceeds the limit of " + std::to_string(options.max_bytes)));
  }
  json::error_code ec;
  json::value v = json::parse(json::string_view(wire.data(), wire.size()), ec);
  if (ec || !v.is_object()) {
    return Reject(std::move(check), Rejection::kMalformed,
                  InvalidArgumentError("envelope is not a JSON object"));
  }
  const json::object& o = v.as_object();
  auto malformed = [&](Status s) { return Reject(std::move(check), Rejection::kMalformed, s); };
  Status members = CheckMembers(
      o, {"schema", "id", "kind", "from", "to", "sent", "checkpoint", "sealed_body", "signature"});
  if (!members.ok()) return malformed(members);
  auto schema = GetString(o, "schema");
  auto id = GetString(o, "id");
  auto kind = GetString(o, "kind");
  auto from = GetString(o, "from");
  auto to = GetString(o, "to");
  auto sent = GetString(o, "sent");
  auto cp = GetString(o, "checkpoint");
  auto sealed = GetString(o, "sealed_body");
  for (const auto* f : {&schema, &id, &kind, &from, &to, &sent, &cp, &sealed}) {
    if (!f->ok()) return malformed(f->status());
  }
  check.claimed_from = *from;
  check.claimed_id = *id;
  if (*schema != kEnvelopeSchema) {
    return malformed(
        InvalidArgumentError("schema must be " + std::string(kEnvelopeSchema), "/schema"));
  }
  if (!IsHex(*id, 32)) return malformed(InvalidArgumentError("id must be 32 hex digits", "/id"));
  if (!IsKnownKind(*kind)) {
    return malformed(InvalidArgumentError("unknown message kind \"" + *kind + "\"", "/kind"));
  }
  if (!IsStateCode(*from) || !IsStateCode(*to)) {
    return malformed(InvalidArgumentError("from and to must be state codes", "/from"));
  }
  auto sent_at = ParseTimestamp(*sent);
  if (!sent_at.ok()) return malformed(InvalidArgumentError("sent is not a date-time", "/sent"));

  if (*to != me.state) {
    return Reject(
        std::move(check), Rejection::kWrongRecipient,
        PermissionDeniedError("envelope addressed to " + *to + ", this node is " + me.state));
  }
  std::optional<PeerKeys> peer = trust(*from);
  if (!peer) {
    return Reject(std::move(check), Rejection::kUnknownSender,
                  UnauthenticatedError("sender " + *from + " is not in this node's trust list"));
  }
  Status sig = VerifySignature(peer->sign_key, kEnvelopeContext, o);
  if (!sig.ok()) {
    return Reject(std::move(check), Rejection::kBadSignature,
                  UnauthenticatedError("envelope from " + *from + ": " + sig.message()));
  }
  int64_t skew = now.seconds - sent_at->seconds;
  if (skew > options.max_clock_skew_seconds || -skew > options.max_clock_skew_seconds) {
    return Reject(std::move(check), Rejection::kStale,
                  UnauthenticatedError("envelope sent at " + *sent + " is outside the accepted " +
                                       std::to_string(options.max_clock_skew_seconds) +
                                       " s of this node's clock (" + FormatTimestamp(now) + ")"));
  }
  auto sealed_bytes = crypto::Base64Decode(*sealed);
  if (!sealed_bytes.ok()) {
    return malformed(InvalidArgumentError("sealed_body is not base64", "/sealed_body"));
  }
  auto body = crypto::OpenSealedBox(me.box_key, crypto::AsBytes(*sealed_bytes));
  if (!body.ok()) {
    return Reject(std::move(check), Rejection::kUndecryptable,
                  DataLossError("the body cannot be opened with this node's key"));
  }
  OpenedEnvelope env;
  env.from = *from;
  env.to = *to;
  env.sent = *sent_at;
  env.message.id = *id;
  env.message.kind = *kind;
  env.message.checkpoint = *cp;
  env.message.body = std::move(*body);
  crypto::Sha256Digest digest = crypto::Sha256(env.message.body);
  env.body_sha256 = crypto::HexEncode(crypto::ByteSpan(digest));
  check.envelope = std::move(env);
  return check;
}

std::string SignReceipt(const Identity& me, const Receipt& receipt) {
  json::object o;
  o["schema"] = kReceiptSchema;
  o["message_id"] = receipt.message_id;
  o["body_sha256"] = receipt.body_sha256;
  o["from"] = me.state;
  o["to"] = receipt.to;
  o["received"] = FormatTimestamp(Timestamp{receipt.received.seconds, 0});
  o["duplicate"] = receipt.duplicate;
  o["checkpoint"] = receipt.checkpoint;
  return Sign(me.sign_key, kReceiptContext, std::move(o));
}

StatusOr<Receipt> VerifyReceipt(std::string_view wire, const PeerKeys& signer,
                                std::string_view expected_id) {
  json::error_code ec;
  json::value v = json::parse(json::string_view(wire.data(), wire.size()), ec);
  if (ec || !v.is_object()) return InvalidArgumentError("receipt is not a JSON object");
  const json::object& o = v.as_object();
  RETURN_IF_ERROR(CheckMembers(o, {"schema", "message_id", "body_sha256", "from", "to", "received",
                                   "duplicate", "checkpoint", "signature"}));
  Receipt r;
  ASSIGN_OR_RETURN(std::string schema, GetString(o, "schema"));
  if (schema != kReceiptSchema) return InvalidArgumentError("not a receipt", "/schema");
  ASSIGN_OR_RETURN(r.message_id, GetString(o, "message_id"));
  ASSIGN_OR_RETURN(r.body_sha256, GetString(o, "body_sha256"));
  ASSIGN_OR_RETURN(r.from, GetString(o, "from"));
  ASSIGN_OR_RETURN(r.to, GetString(o, "to"));
  ASSIGN_OR_RETURN(std::string received, GetString(o, "received"));
  ASSIGN_OR_RETURN(r.received, ParseTimestamp(received));
  ASSIGN_OR_RETURN(r.checkpoint, GetString(o, "checkpoint"));
  const json::value* dup = o.if_contains("duplicate");
  if (dup == nullptr || !dup->is_bool()) {
    return InvalidArgumentError("duplicate must be a boolean", "/duplicate");
  }
  r.duplicate = dup->as_bool();
  if (r.from != signer.state) {
    return UnauthenticatedError("receipt signed as " + r.from + ", expected " + signer.state);
  }
  RETURN_IF_ERROR(VerifySignature(signer.sign_key, kReceiptContext, o));
  if (r.message_id != expected_id) {
    return InvalidArgumentError("receipt acknowledges message " + r.message_id + ", not " +
                                std::string(expected_id));
  }
  return r;
}

}  // namespace comity::federation
