#include "federation/envelope.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "core/canonical_json.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "tlog/hash.h"
#include "tlog/merkle.h"

namespace comity::federation {
namespace {

namespace json = boost::json;

constexpr std::string_view kEnvelopeSchema = "comity.envelope/v1";
constexpr std::string_view kReceiptSchema = "comity.receipt/v1";
// Domain separation: a signature over one kind of object never verifies as another.
constexpr std::string_view kEnvelopeContext = "comity.envelope/v1 signature\n";
constexpr std::string_view kReceiptContext = "comity.receipt/v1 signature\n";
// What a batch's one signature covers: context, the batch's size and its root (envelope.md).
constexpr std::string_view kEnvelopeBatchContext = "comity.envelope-batch/v1 signature\n";
constexpr std::string_view kReceiptBatchContext = "comity.receipt-batch/v1 signature\n";
constexpr size_t kMaxPathLength = 8;  // log2(kMaxSignedTogether)
static_assert(kMaxSignedTogether == size_t{1} << kMaxPathLength);

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

// The bytes a signature covers: context || canonical JSON of the object minus "signature" (and
// minus "batch", the inclusion path of an object signed with others).
StatusOr<std::string> SignedBytes(std::string_view context, json::object obj) {
  obj.erase("signature");
  obj.erase("batch");
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

// What a batch's signature signs: context || size "\n" || base64(root) "\n".
std::string RootMessage(std::string_view batch_context, uint64_t size, const tlog::Hash& root) {
  return fmt::format("{}{}\n{}\n", batch_context, size, tlog::HashToBase64(root));
}

// The perfect subtrees of a batch's leaves, computed once, from which tlog builds the root and
// every member's inclusion proof (as it does for the log).
class BatchTree : public tlog::HashReader {
 public:
  explicit BatchTree(std::vector<tlog::Hash> leaves) {
    levels_.push_back(std::move(leaves));
    while (levels_.back().size() > 1) {
      const std::vector<tlog::Hash>& below = levels_.back();
      std::vector<tlog::Hash> level;
      for (size_t i = 0; i + 1 < below.size(); i += 2) {
        level.push_back(tlog::NodeHash(below[i], below[i + 1]));
      }
      levels_.push_back(std::move(level));
    }
  }
  StatusOr<tlog::Hash> StoredHash(int level, uint64_t index) override {
    if (level < 0 || static_cast<size_t>(level) >= levels_.size() ||
        index >= levels_[level].size()) {
      return InternalError("no such subtree in the batch");
    }
    return levels_[level][index];
  }

 private:
  std::vector<std::vector<tlog::Hash>> levels_;  // levels_[h][i]: leaves [i·2^h, (i+1)·2^h)
};

// Signs the objects: each on its own when alone, else under one signature per
// kMaxSignedTogether, each with its inclusion path.
std::vector<std::string> SignTogether(const crypto::Ed25519PrivateKey& key,
                                      std::string_view context, std::string_view batch_context,
                                      std::vector<json::object> objects) {
  std::vector<std::string> out;
  out.reserve(objects.size());
  for (size_t begin = 0; begin < objects.size(); begin += kMaxSignedTogether) {
    const size_t n = std::min(kMaxSignedTogether, objects.size() - begin);
    if (n == 1) {
      out.push_back(Sign(key, context, std::move(objects[begin])));
      continue;
    }
    std::vector<tlog::Hash> leaves;
    leaves.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      leaves.push_back(tlog::LeafHash(crypto::AsBytes(*SignedBytes(context, objects[begin + i]))));
    }
    BatchTree tree(std::move(leaves));
    // The tree holds every subtree these read: neither can fail.
    const tlog::Hash root = *tlog::TreeHash(tree, n);
    const crypto::Ed25519Signature sig =
        key.Sign(crypto::AsBytes(RootMessage(batch_context, n, root)));
    const std::string sig_b64 = crypto::Base64Encode(crypto::ByteSpan(sig));
    for (size_t i = 0; i < n; ++i) {
      json::object& o = objects[begin + i];
      json::array path;
      const std::vector<tlog::Hash> proof = *tlog::InclusionProof(tree, i, n);
      for (const tlog::Hash& h : proof) path.emplace_back(tlog::HashToBase64(h));
      json::object batch;
      batch["index"] = static_cast<uint64_t>(i);
      batch["size"] = static_cast<uint64_t>(n);
      batch["path"] = std::move(path);
      o["batch"] = std::move(batch);
      o["signature"] = sig_b64;
      out.push_back(json::serialize(o));
    }
  }
  return out;
}

// An object's place in a signed batch (its "batch" member).
struct BatchProof {
  uint64_t index = 0;
  uint64_t size = 0;
  std::vector<tlog::Hash> path;
};

StatusOr<uint64_t> ProofNumber(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  const std::string pointer = fmt::format("/batch/{}", key);
  if (v == nullptr) return InvalidArgumentError(fmt::format("batch: missing \"{}\"", key), pointer);
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() >= 0) return static_cast<uint64_t>(v->as_int64());
  return InvalidArgumentError(fmt::format("batch: \"{}\" must be a non-negative integer", key),
                              pointer);
}

// The "batch" member, if any: {"index", "size", "path"} with 2 <= size <= kMaxSignedTogether,
// index < size, and a path of base64 SHA-256 hashes.
StatusOr<std::optional<BatchProof>> ParseBatchProof(const json::object& obj) {
  const json::value* v = obj.if_contains("batch");
  if (v == nullptr) return std::optional<BatchProof>();
  if (!v->is_object()) return InvalidArgumentError("batch must be an object", "/batch");
  const json::object& o = v->as_object();
  for (const auto& kv : o) {
    if (kv.key() != "index" && kv.key() != "size" && kv.key() != "path") {
      return InvalidArgumentError(
          fmt::format("batch: unknown member \"{}\"", std::string_view(kv.key())),
          fmt::format("/batch/{}", std::string_view(kv.key())));
    }
  }
  BatchProof p;
  ASSIGN_OR_RETURN(p.index, ProofNumber(o, "index"));
  ASSIGN_OR_RETURN(p.size, ProofNumber(o, "size"));
  if (p.size < 2 || p.size > kMaxSignedTogether) {
    return InvalidArgumentError(
        fmt::format("batch: size must be between 2 and {}", kMaxSignedTogether), "/batch/size");
  }
  if (p.index >= p.size) {
    return InvalidArgumentError("batch: index must be below size", "/batch/index");
  }
  const json::value* path = o.if_contains("path");
  if (path == nullptr || !path->is_array() || path->as_array().size() > kMaxPathLength) {
    return InvalidArgumentError(
        fmt::format("batch: path must be an array of at most {} hashes", kMaxPathLength),
        "/batch/path");
  }
  for (size_t i = 0; i < path->as_array().size(); ++i) {
    const json::value& h = path->as_array()[i];
    StatusOr<tlog::Hash> hash = h.is_string()
                                    ? tlog::HashFromBase64(std::string_view(h.as_string()))
                                    : StatusOr<tlog::Hash>(InvalidArgumentError("not a string"));
    if (!hash.ok()) {
      return InvalidArgumentError("batch: path holds a value that is not a base64 SHA-256 hash",
                                  fmt::format("/batch/path/{}", i));
    }
    p.path.push_back(*hash);
  }
  return std::optional<BatchProof>(std::move(p));
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

// Verifies `obj`'s signature: over its signed bytes, or, with a batch proof, over the root its
// path leads to (a root already verified in `memo` is not verified again).
Status VerifySignature(const crypto::Ed25519PublicKey& key, std::string_view context,
                       std::string_view batch_context, const json::object& obj,
                       const std::optional<BatchProof>& proof, BatchMemo* memo) {
  ASSIGN_OR_RETURN(std::string sig_b64, GetString(obj, "signature"));
  auto sig = crypto::Base64Decode(sig_b64);
  if (!sig.ok() || sig->size() != crypto::kEd25519SignatureSize) {
    return InvalidArgumentError("signature is not 64 bytes of base64", "/signature");
  }
  auto bytes = SignedBytes(context, obj);
  if (!bytes.ok()) return bytes.status();
  if (!proof) {
    if (!crypto::Ed25519Verify(key, crypto::AsBytes(*bytes), crypto::AsBytes(*sig))) {
      return UnauthenticatedError("signature does not verify with the sender's key");
    }
    return OkStatus();
  }
  StatusOr<tlog::Hash> root = tlog::RootFromInclusionProof(
      proof->index, proof->size, tlog::LeafHash(crypto::AsBytes(*bytes)), proof->path);
  if (!root.ok()) {
    return UnauthenticatedError("the batch path does not fit the batch's size and index");
  }
  const std::string message = RootMessage(batch_context, proof->size, *root);
  std::string remembered;
  if (memo != nullptr) {
    remembered.append(crypto::AsChars(crypto::ByteSpan(key)));
    remembered.append(*sig);
    remembered.append(message);
    if (memo->Verified(remembered)) return OkStatus();
  }
  if (!crypto::Ed25519Verify(key, crypto::AsBytes(message), crypto::AsBytes(*sig))) {
    return UnauthenticatedError("signature does not verify with the sender's key");
  }
  if (memo != nullptr) memo->AddVerified(std::move(remembered));
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

bool BatchMemo::Verified(std::string_view key) const {
  for (const std::string& k : verified_) {
    if (k == key) return true;
  }
  return false;
}

void BatchMemo::AddVerified(std::string key) {
  if (verified_.size() == kCapacity) verified_.erase(verified_.begin());
  verified_.push_back(std::move(key));
}

const crypto::BoxKey* BatchMemo::Key(const crypto::X25519PublicKey& ephemeral) const {
  for (const auto& [pk, key] : keys_) {
    if (pk == ephemeral) return &key;
  }
  return nullptr;
}

void BatchMemo::AddKey(const crypto::X25519PublicKey& ephemeral, crypto::BoxKey key) {
  if (keys_.size() == kCapacity) keys_.erase(keys_.begin());
  keys_.emplace_back(ephemeral, std::move(key));
}

namespace {

// The envelope without its signature. The body is sealed to the recipient on its own, or, with
// `batch_key` (the key agreed between the batch's `ephemeral` key and the recipient's), boxed
// under that key: base64(ephemeral public key || nonce || ciphertext) in `boxed_body`.
json::object EnvelopeObject(const Identity& me, const PeerKeys& to, const Message& message,
                            Timestamp now, const crypto::X25519PrivateKey* ephemeral = nullptr,
                            const crypto::BoxKey* batch_key = nullptr) {
  json::object o;
  o["schema"] = kEnvelopeSchema;
  o["id"] = message.id;
  o["kind"] = message.kind;
  o["from"] = me.state;
  o["to"] = to.state;
  o["sent"] = FormatTimestamp(Timestamp{now.seconds, 0});
  o["checkpoint"] = message.checkpoint;
  if (batch_key != nullptr) {
    std::string boxed(crypto::AsChars(crypto::ByteSpan(ephemeral->public_key())));
    boxed += batch_key->Box(crypto::AsBytes(message.body));
    o["boxed_body"] = crypto::Base64Encode(boxed);
  } else {
    o["sealed_body"] =
        crypto::Base64Encode(crypto::SealBox(to.box_key, crypto::AsBytes(message.body)));
  }
  return o;
}

}  // namespace

std::string SealEnvelope(const Identity& me, const PeerKeys& to, const Message& message,
                         Timestamp now) {
  return Sign(me.sign_key, kEnvelopeContext, EnvelopeObject(me, to, message, now));
}

std::vector<std::string> SealEnvelopes(const Identity& me, const PeerKeys& to,
                                       std::span<const Message> messages, Timestamp now) {
  std::vector<std::string> out;
  out.reserve(messages.size());
  for (size_t begin = 0; begin < messages.size(); begin += kMaxSignedTogether) {
    const std::span<const Message> batch =
        messages.subspan(begin, std::min(kMaxSignedTogether, messages.size() - begin));
    // One ephemeral key and one agreement for the batch; a lone message gets a sealed box (and
    // a signature) of its own, as SealEnvelope gives it.
    std::optional<crypto::X25519PrivateKey> ephemeral;
    std::optional<crypto::BoxKey> key;
    if (batch.size() > 1) {
      ephemeral = crypto::X25519PrivateKey::Generate();
      StatusOr<crypto::BoxKey> agreed = crypto::BoxKey::Agree(to.box_key, *ephemeral);
      if (agreed.ok()) key = std::move(*agreed);
    }
    std::vector<json::object> objects;
    objects.reserve(batch.size());
    for (const Message& m : batch) {
      objects.push_back(
          EnvelopeObject(me, to, m, now, key ? &*ephemeral : nullptr, key ? &*key : nullptr));
    }
    for (std::string& w :
         SignTogether(me.sign_key, kEnvelopeContext, kEnvelopeBatchContext, std::move(objects))) {
      out.push_back(std::move(w));
    }
  }
  return out;
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

namespace {

// A body boxed under its batch's key: the ephemeral public key, then the box (crypto::BoxKey).
StatusOr<std::string> OpenBoxedBody(const Identity& me, std::string_view bytes, BatchMemo* memo) {
  if (bytes.size() < crypto::kX25519KeySize + crypto::kBoxOverhead) {
    return DataLossError("boxed_body is shorter than a key and a box");
  }
  crypto::X25519PublicKey ephemeral;
  std::copy_n(bytes.begin(), ephemeral.size(), ephemeral.begin());
  const crypto::BoxKey* key = memo != nullptr ? memo->Key(ephemeral) : nullptr;
  std::optional<crypto::BoxKey> agreed;
  if (key == nullptr) {
    StatusOr<crypto::BoxKey> k = crypto::BoxKey::Agree(ephemeral, me.box_key);
    if (!k.ok()) return DataLossError("boxed_body's key agrees on nothing");
    agreed = std::move(*k);
    key = &*agreed;
  }
  StatusOr<std::string> body = key->Open(crypto::AsBytes(bytes.substr(ephemeral.size())));
  if (body.ok() && agreed && memo != nullptr) memo->AddKey(ephemeral, std::move(*agreed));
  return body;
}

}  // namespace

EnvelopeCheck OpenEnvelope(std::string_view wire, const Identity& me, const TrustLookup& trust,
                           Timestamp now, const OpenOptions& options, BatchMemo* memo) {
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
  Status members = CheckMembers(o, {"schema", "id", "kind", "from", "to", "sent", "checkpoint",
                                    "sealed_body", "boxed_body", "signature", "batch"});
  if (!members.ok()) return malformed(members);
  StatusOr<std::optional<BatchProof>> proof = ParseBatchProof(o);
  // The body: sealed on its own, or boxed under its batch's key (only in a batch).
  const bool boxed = o.contains("boxed_body");
  auto schema = GetString(o, "schema");
  auto id = GetString(o, "id");
  auto kind = GetString(o, "kind");
  auto from = GetString(o, "from");
  auto to = GetString(o, "to");
  auto sent = GetString(o, "sent");
  auto cp = GetString(o, "checkpoint");
  auto sealed = GetString(o, boxed ? "boxed_body" : "sealed_body");
  for (const auto* f : {&schema, &id, &kind, &from, &to, &sent, &cp, &sealed}) {
    if (!f->ok()) return malformed(f->status());
  }
  check.claimed_from = *from;
  check.claimed_id = *id;
  if (boxed && o.contains("sealed_body")) {
    return malformed(
        InvalidArgumentError("an envelope has sealed_body or boxed_body, not both", "/boxed_body"));
  }
  if (boxed && !o.contains("batch")) {
    return malformed(InvalidArgumentError(
        "boxed_body is only for envelopes signed together (with a batch member)", "/boxed_body"));
  }
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
  if (!proof.ok()) return malformed(proof.status());

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
  Status sig =
      VerifySignature(peer->sign_key, kEnvelopeContext, kEnvelopeBatchContext, o, *proof, memo);
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
    return malformed(boxed ? InvalidArgumentError("boxed_body is not base64", "/boxed_body")
                           : InvalidArgumentError("sealed_body is not base64", "/sealed_body"));
  }
  auto body = boxed ? OpenBoxedBody(me, *sealed_bytes, memo)
                    : crypto::OpenSealedBox(me.box_key, crypto::AsBytes(*sealed_bytes));
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

namespace {

json::object ReceiptObject(const Identity& me, const Receipt& receipt) {
  json::object o;
  o["schema"] = kReceiptSchema;
  o["message_id"] = receipt.message_id;
  o["body_sha256"] = receipt.body_sha256;
  o["from"] = me.state;
  o["to"] = receipt.to;
  o["received"] = FormatTimestamp(Timestamp{receipt.received.seconds, 0});
  o["duplicate"] = receipt.duplicate;
  o["checkpoint"] = receipt.checkpoint;
  return o;
}

}  // namespace

std::string SignReceipt(const Identity& me, const Receipt& receipt) {
  return Sign(me.sign_key, kReceiptContext, ReceiptObject(me, receipt));
}

std::vector<std::string> SignReceipts(const Identity& me, std::span<const Receipt> receipts) {
  std::vector<json::object> objects;
  objects.reserve(receipts.size());
  for (const Receipt& r : receipts) objects.push_back(ReceiptObject(me, r));
  return SignTogether(me.sign_key, kReceiptContext, kReceiptBatchContext, std::move(objects));
}

StatusOr<Receipt> VerifyReceipt(std::string_view wire, const PeerKeys& signer,
                                std::string_view expected_id, BatchMemo* memo) {
  json::error_code ec;
  json::value v = json::parse(json::string_view(wire.data(), wire.size()), ec);
  if (ec || !v.is_object()) return InvalidArgumentError("receipt is not a JSON object");
  const json::object& o = v.as_object();
  RETURN_IF_ERROR(CheckMembers(o, {"schema", "message_id", "body_sha256", "from", "to", "received",
                                   "duplicate", "checkpoint", "signature", "batch"}));
  ASSIGN_OR_RETURN(std::optional<BatchProof> proof, ParseBatchProof(o));
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
  RETURN_IF_ERROR(
      VerifySignature(signer.sign_key, kReceiptContext, kReceiptBatchContext, o, proof, memo));
  if (r.message_id != expected_id) {
    return InvalidArgumentError("receipt acknowledges message " + r.message_id + ", not " +
                                std::string(expected_id));
  }
  return r;
}

}  // namespace comity::federation
