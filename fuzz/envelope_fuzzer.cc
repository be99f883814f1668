// libFuzzer target for what a node reads from its peers: envelopes (OpenEnvelope), batches of
// them and their results (ParseEnvelopeBatch, ParseBatchResults), receipts (VerifyReceipt) and
// identity documents (ParseIdentityDocument). Beyond "never crashes", it
// checks that only what a correct sender produced is accepted:
//   - an accepted envelope comes from XA to XB, its signature verifies independently (our own
//     canonicalisation and Ed25519 check, not OpenEnvelope's), its body is the sealed body
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

// Independent check of an accepted envelope's signature.
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
  auto canonical = CanonicalJson(o);
  if (!canonical.ok()) return false;
  const std::string signed_bytes = "comity.envelope/v1 signature\n" + *canonical;
  return crypto::Ed25519Verify(Xa().sign_key.public_key(), crypto::AsBytes(signed_bytes),
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

void CheckEnvelope(std::string_view in) {
  TrustLookup trust = [](std::string_view state) -> std::optional<PeerKeys> {
    if (state == "XA") return KeysOf(Xa());
    return std::nullopt;
  };
  EnvelopeCheck c = OpenEnvelope(in, Xb(), trust, kNow);
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
    for (const std::string& e : *batch) CheckEnvelope(e);
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
