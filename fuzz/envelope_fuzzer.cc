// libFuzzer target for what a node reads from its peers: envelopes (OpenEnvelope), batches of
// them and their results (ParseEnvelopeBatch, ParseBatchResults), receipts (VerifyReceipt) and
// identity documents (ParseIdentityDocument). Beyond "never crashes", it
// checks that only what a correct sender produced is accepted:
//   - an accepted envelope comes from XA to XB, its signature verifies independently (our own
//     canonicalisation, Merkle path for one signed together, and Ed25519 check, not
//     OpenEnvelope's), its body is the sealed body
//     opened again, and id and body are those of a message the seed generator signed — the
//     fuzzer holds no signing key, so any other accepted envelope would be a forgery;
//   - an accepted receipt acknowledges one of those messages;
//   - an identity document that parses formats back to one that parses to the same fields.
// Keys are derived from fixed seeds so that the seed corpus (fuzz/corpus/envelope/) stays valid;
// COMITY_WRITE_ENVELOPE_SEEDS=DIR makes the binary write that corpus and exit.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/canonical_json.h"
#include "crypto/box.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "federation/batch.h"
#include "federation/discovery.h"
#include "federation/envelope.h"
#include "tlog/note.h"

namespace {

using namespace comity;              // NOLINT(build/namespaces)
using namespace comity::federation;  // NOLINT(build/namespaces)
namespace json = boost::json;

constexpr Timestamp kNow{1'795'000'000, 0};

template <size_t N>
std::array<uint8_t, N> Seed(uint8_t b) {
  std::array<uint8_t, N> s{};
  s.fill(b);
  return s;
}

Identity MakeIdentity(const char* state, uint8_t sign, uint8_t box) {
  return Identity{state, *crypto::Ed25519PrivateKey::FromSeed(Seed<32>(sign)),
                  *crypto::X25519PrivateKey::FromBytes(Seed<32>(box))};
}

const Identity& Xa() {
  static const Identity* id = new Identity(MakeIdentity("XA", 1, 2));
  return *id;
}
const Identity& Xb() {
  static const Identity* id = new Identity(MakeIdentity("XB", 3, 4));
  return *id;
}
PeerKeys KeysOf(const Identity& id) {
  return PeerKeys{id.state, id.sign_key.public_key(), id.box_key.public_key()};
}

// The messages the seed generator (a correct sender) signed.
struct Known {
  const char* id;
  const char* kind;
  const char* body;
};
constexpr Known kKnown[] = {
    {"0123456789abcdef0123456789abcdef", "request", R"({"schema":"comity.request/v1","n":1})"},
    {"fedcba9876543210fedcba9876543210", "decision",
     R"({"schema":"comity.answer/v1","request_id":"XB-2026-1","decision":"executed"})"},
    {"00000000000000000000000000000001", "information_reply", "{}"},
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "property violated: %s\n", what);
    std::abort();
  }
}

bool IsKnown(std::string_view id, std::string_view body) {
  for (const Known& k : kKnown) {
    if (id == k.id && (body.empty() || body == k.body)) return true;
  }
  return false;
}

std::string Sha256Of(std::string_view prefix, std::string_view a, std::string_view b = {}) {
  std::string all(prefix);
  all.append(a);
  all.append(b);
  const crypto::Sha256Digest d = crypto::Sha256(all);
  return std::string(crypto::AsChars(crypto::ByteSpan(d)));
}

// The root an inclusion path leads to (RFC 9162 2.1.3.2, written out again here), or "".
std::string RootOf(uint64_t index, uint64_t size, std::string leaf, const json::array& path) {
  if (index >= size) return "";
  uint64_t fn = index, sn = size - 1;
  std::string r = std::move(leaf);
  for (const json::value& p : path) {
    if (!p.is_string() || sn == 0) return "";
    auto h = crypto::Base64Decode(p.as_string());
    if (!h.ok() || h->size() != 32) return "";
    const std::string hash(h->begin(), h->end());
    if ((fn & 1) == 1 || fn == sn) {
      r = Sha256Of(std::string(1, '\x01'), hash, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = Sha256Of(std::string(1, '\x01'), r, hash);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 ? r : "";
}

// Independent check of an accepted envelope's signature, alone or signed together with others.
bool SignatureVerifies(std::string_view wire) {
  json::error_code ec;
  json::value v = json::parse(json::string_view(wire.data(), wire.size()), ec);
  if (ec || !v.is_object()) return false;
  json::object o = v.as_object();
  const json::value* sig = o.if_contains("signature");
  if (sig == nullptr || !sig->is_string()) return false;
  auto raw = crypto::Base64Decode(sig->as_string());
  if (!raw.ok()) return false;
  o.erase("signature");
  json::value batch;
  if (const json::value* b = o.if_contains("batch")) batch = *b;
  o.erase("batch");
  auto canonical = CanonicalJson(o);
  if (!canonical.ok()) return false;
  const std::string signed_bytes = "comity.envelope/v1 signature\n" + *canonical;
  if (batch.is_null()) {
    return crypto::Ed25519Verify(Xa().sign_key.public_key(), crypto::AsBytes(signed_bytes),
                                 crypto::AsBytes(*raw));
  }
  if (!batch.is_object()) return false;
  const json::object& b = batch.as_object();
  const json::value* index = b.if_contains("index");
  const json::value* size = b.if_contains("size");
  const json::value* path = b.if_contains("path");
  if (index == nullptr || size == nullptr || path == nullptr || !index->is_int64() ||
      !size->is_int64() || !path->is_array() || index->as_int64() < 0 || size->as_int64() < 2) {
    return false;
  }
  const std::string root =
      RootOf(static_cast<uint64_t>(index->as_int64()), static_cast<uint64_t>(size->as_int64()),
             Sha256Of(std::string(1, '\0'), signed_bytes), path->as_array());
  if (root.empty()) return false;
  const std::string message = "comity.envelope-batch/v1 signature\n" +
                              std::to_string(size->as_int64()) + "\n" + crypto::Base64Encode(root) +
                              "\n";
  return crypto::Ed25519Verify(Xa().sign_key.public_key(), crypto::AsBytes(message),
                               crypto::AsBytes(*raw));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* dir = std::getenv("COMITY_WRITE_ENVELOPE_SEEDS");
  if (dir == nullptr) return 0;
  int n = 0;
  for (const Known& k : kKnown) {
    const std::string wire = SealEnvelope(
        Xa(), KeysOf(Xb()), Message{k.id, k.kind, k.body, "comity/XA/main\n1\nroot=\n"}, kNow);
    std::ofstream(std::string(dir) + "/envelope-" + std::to_string(++n)) << wire;
    Receipt r{k.id,
              crypto::HexEncode(crypto::Sha256(std::string_view(k.body))),
              "XB",
              "XA",
              kNow,
              false,
              "comity/XB/main\n2\nroot=\n"};
    std::ofstream(std::string(dir) + "/receipt-" + std::to_string(n)) << SignReceipt(Xb(), r);
  }
  // The same messages signed together, their receipts signed together, and their batch.
  std::vector<Message> messages;
  std::vector<Receipt> receipts;
  for (const Known& k : kKnown) {
    messages.push_back(Message{k.id, k.kind, k.body, "comity/XA/main\n1\nroot=\n"});
    receipts.push_back(Receipt{k.id, crypto::HexEncode(crypto::Sha256(std::string_view(k.body))),
                               "XB", "XA", kNow, false, "comity/XB/main\n2\nroot=\n"});
  }
  const std::vector<std::string> together = SealEnvelopes(Xa(), KeysOf(Xb()), messages, kNow);
  const std::vector<std::string> receipted = SignReceipts(Xb(), receipts);
  for (size_t i = 0; i < together.size(); ++i) {
    std::ofstream(std::string(dir) + "/envelope-together-" + std::to_string(i + 1)) << together[i];
    std::ofstream(std::string(dir) + "/receipt-together-" + std::to_string(i + 1)) << receipted[i];
  }
  std::ofstream(std::string(dir) + "/batch-together-1") << SerializeEnvelopeBatch(together);
  IdentityDocument d{"XB",
                     "main",
                     "http://127.0.0.1:8443",
                     crypto::Base64Encode(crypto::ByteSpan(Xb().sign_key.public_key())),
                     crypto::Base64Encode(crypto::ByteSpan(Xb().box_key.public_key())),
                     "comity/XB/main",
                     tlog::Ed25519NoteSigner("comity/XB/main", Xb().sign_key).VerifierKey(),
                     ""};
  std::ofstream(std::string(dir) + "/identity-1") << FormatIdentityDocument(d);
  std::exit(0);
}

void CheckEnvelope(std::string_view in, BatchMemo* memo = nullptr) {
  TrustLookup trust = [](std::string_view state) -> std::optional<PeerKeys> {
    if (state == "XA") return KeysOf(Xa());
    return std::nullopt;
  };
  EnvelopeCheck c = OpenEnvelope(in, Xb(), trust, kNow, {}, memo);
  if (c.ok()) {
    const OpenedEnvelope& e = *c.envelope;
    Check(e.from == "XA" && e.to == "XB", "accepted envelope is from XA to XB");
    Check(SignatureVerifies(in), "accepted envelope's signature verifies independently");
    Check(IsKnown(e.message.id, e.message.body), "accepted envelope is one the sender signed");
    Check(e.body_sha256 == crypto::HexEncode(crypto::Sha256(e.message.body)), "body hash");
    Check(std::abs(e.sent.seconds - kNow.seconds) <= kMaxClockSkewSeconds, "fresh");
  } else {
    Check(!c.status.ok(), "a refusal says why");
    Check(HttpStatusForRejection(c.rejection) >= 400, "a refusal has an error status");
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckEnvelope(in);

  // A batch of envelopes (the inbox's batch path): each member is held to the same properties,
  // and what parses serialises back to the same list.
  if (auto batch = ParseEnvelopeBatch(in); batch.ok()) {
    Check(!batch->empty() && batch->size() <= kMaxBatchEnvelopes, "batch size within limits");
    auto again = ParseEnvelopeBatch(SerializeEnvelopeBatch(*batch));
    Check(again.ok() && *again == *batch, "batch round trip");
    BatchMemo memo;  // as the inbox checks a batch: each root's signature once
    for (const std::string& e : *batch) CheckEnvelope(e, &memo);
  } else {
    Check(!batch.status().ok(), "a refused batch says why");
  }
  for (size_t n = 1; n <= 3; ++n) {
    if (auto results = ParseBatchResults(in, n); results.ok()) {
      Check(results->size() == n, "one result per envelope");
      for (const BatchResult& r : *results) {
        Check(r.status >= 100 && r.status <= 599, "a result has an HTTP status");
      }
      auto again = ParseBatchResults(SerializeBatchResults(*results), n);
      Check(again.ok() && again->size() == n, "results round trip");
    }
  }

  for (const Known& k : kKnown) {
    auto r = VerifyReceipt(in, KeysOf(Xb()), k.id);
    if (r.ok()) {
      Check(r->from == "XB" && r->message_id == k.id, "accepted receipt is XB's for the message");
    }
  }

  if (auto doc = ParseIdentityDocument(in); doc.ok()) {
    auto again = ParseIdentityDocument(FormatIdentityDocument(*doc));
    Check(again.ok(), "identity round trip parses");
    Check(IdentityFingerprint(*again) == IdentityFingerprint(*doc), "identity round trip");
    Check(ConfirmFingerprint(*doc, IdentityFingerprint(*doc)).ok(), "own fingerprint confirms");
  }
  return 0;
}
