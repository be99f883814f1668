#include "federation/envelope.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "crypto/encoding.h"

namespace comity::federation {
namespace {

namespace json = boost::json;

Identity MakeIdentity(std::string state) {
  return Identity{std::move(state), crypto::Ed25519PrivateKey::Generate(),
                  crypto::X25519PrivateKey::Generate()};
}
PeerKeys KeysOf(const Identity& id) {
  return PeerKeys{id.state, id.sign_key.public_key(), id.box_key.public_key()};
}

class EnvelopeTest : public ::testing::Test {
 protected:
  Identity xa_ = MakeIdentity("XA");
  Identity xb_ = MakeIdentity("XB");
  Identity xc_ = MakeIdentity("XC");
  Timestamp now_{1'795'000'000, 0};
  TrustLookup trust_b_ = [this](std::string_view s) -> std::optional<PeerKeys> {
    if (s == "XA") return KeysOf(xa_);
    return std::nullopt;
  };
  Message msg_{NewMessageId(), "request", R"({"schema":"comity.request/v1"})", "cp\n"};

  std::string Seal() { return SealEnvelope(xa_, KeysOf(xb_), msg_, now_); }
};

TEST_F(EnvelopeTest, RoundTrip) {
  std::string wire = Seal();
  EnvelopeCheck c = OpenEnvelope(wire, xb_, trust_b_, now_);
  ASSERT_TRUE(c.ok()) << c.status.ToString();
  EXPECT_EQ(c.envelope->from, "XA");
  EXPECT_EQ(c.envelope->message.body, msg_.body);
  EXPECT_EQ(c.envelope->message.id, msg_.id);
  EXPECT_EQ(c.envelope->message.kind, "request");
  EXPECT_EQ(c.envelope->message.checkpoint, "cp\n");
  EXPECT_EQ(c.envelope->body_sha256.size(), 64u);
  // The body is not readable on the wire.
  EXPECT_EQ(wire.find("comity.request/v1"), std::string::npos);
}

TEST_F(EnvelopeTest, MessageIdsAreRandomHex) {
  std::string a = NewMessageId(), b = NewMessageId();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST_F(EnvelopeTest, RefusesWrongRecipient) {
  std::string wire = Seal();
  auto trust_c = [this](std::string_view s) -> std::optional<PeerKeys> {
    if (s == "XA") return KeysOf(xa_);
    return std::nullopt;
  };
  EnvelopeCheck c = OpenEnvelope(wire, xc_, trust_c, now_);
  EXPECT_EQ(c.rejection, Rejection::kWrongRecipient);
  EXPECT_EQ(c.status.message(), "envelope addressed to XB, this node is XC");
}

TEST_F(EnvelopeTest, RefusesUnknownSender) {
  std::string wire = SealEnvelope(xc_, KeysOf(xb_), msg_, now_);
  EnvelopeCheck c = OpenEnvelope(wire, xb_, trust_b_, now_);
  EXPECT_EQ(c.rejection, Rejection::kUnknownSender);
  EXPECT_EQ(c.claimed_from, "XC");
}

TEST_F(EnvelopeTest, RefusesForgedSignature) {
  // XC signs an envelope claiming to be XA.
  Identity forger = MakeIdentity("XA");
  std::string wire = SealEnvelope(forger, KeysOf(xb_), msg_, now_);
  EnvelopeCheck c = OpenEnvelope(wire, xb_, trust_b_, now_);
  EXPECT_EQ(c.rejection, Rejection::kBadSignature);
}

TEST_F(EnvelopeTest, RefusesAnyModifiedHeaderField) {
  std::string wire = Seal();
  for (const char* field : {"id", "kind", "sent", "checkpoint", "sealed_body"}) {
    json::object o = json::parse(wire).as_object();
    std::string v(o[field].as_string());
    if (std::string(field) == "kind") {
      v = "decision";
    } else if (std::string(field) == "sent") {
      v = FormatTimestamp(Timestamp{now_.seconds - 1, 0});
    } else if (std::string(field) == "id") {
      v = NewMessageId();
    } else if (std::string(field) == "sealed_body") {
      auto raw = *crypto::Base64Decode(v);
      raw[raw.size() - 1] ^= 1;
      v = crypto::Base64Encode(raw);
    } else {
      v += "x";
    }
    o[field] = v;
    EnvelopeCheck c = OpenEnvelope(json::serialize(o), xb_, trust_b_, now_);
    EXPECT_EQ(c.rejection, Rejection::kBadSignature) << field;
  }
}

TEST_F(EnvelopeTest, RefusesStaleAndFutureTimestamps) {
  std::string wire = Seal();
  EXPECT_TRUE(OpenEnvelope(wire, xb_, trust_b_, Timestamp{now_.seconds + 300, 0}).ok());
  EXPECT_EQ(OpenEnvelope(wire, xb_, trust_b_, Timestamp{now_.seconds + 301, 0}).rejection,
            Rejection::kStale);
  EXPECT_EQ(OpenEnvelope(wire, xb_, trust_b_, Timestamp{now_.seconds - 301, 0}).rejection,
            Rejection::kStale);
}

TEST_F(EnvelopeTest, RefusesMalformedAndOversize) {
  EXPECT_EQ(OpenEnvelope("not json", xb_, trust_b_, now_).rejection, Rejection::kMalformed);
  EXPECT_EQ(OpenEnvelope("[]", xb_, trust_b_, now_).rejection, Rejection::kMalformed);
  json::object o = json::parse(Seal()).as_object();
  o["extra"] = 1;
  EnvelopeCheck extra = OpenEnvelope(json::serialize(o), xb_, trust_b_, now_);
  EXPECT_EQ(extra.rejection, Rejection::kMalformed);
  EXPECT_EQ(extra.status.message(), "unknown member \"extra\"");
  o.erase("extra");
  o["kind"] = "gossip";
  EXPECT_EQ(OpenEnvelope(json::serialize(o), xb_, trust_b_, now_).rejection, Rejection::kMalformed);
  o = json::parse(Seal()).as_object();
  o.erase("sent");
  EXPECT_EQ(OpenEnvelope(json::serialize(o), xb_, trust_b_, now_).rejection, Rejection::kMalformed);
  std::string big(kMaxEnvelopeBytes + 1, ' ');
  EXPECT_EQ(OpenEnvelope(big, xb_, trust_b_, now_).rejection, Rejection::kOversize);
}

TEST_F(EnvelopeTest, RefusesBodySealedToAnotherKey) {
  // Correctly signed by XA and addressed to XB, but sealed to XC's box key.
  PeerKeys wrong = KeysOf(xb_);
  wrong.box_key = xc_.box_key.public_key();
  std::string wire = SealEnvelope(xa_, wrong, msg_, now_);
  EXPECT_EQ(OpenEnvelope(wire, xb_, trust_b_, now_).rejection, Rejection::kUndecryptable);
}

TEST_F(EnvelopeTest, ReceiptsSignAndVerify) {
  Receipt r{msg_.id, std::string(64, 'a'), "XB", "XA", now_, false, "cp-b\n"};
  std::string wire = SignReceipt(xb_, r);
  auto v = VerifyReceipt(wire, KeysOf(xb_), msg_.id);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->to, "XA");
  EXPECT_FALSE(v->duplicate);
  // Wrong message, wrong signer, modified content.
  EXPECT_FALSE(VerifyReceipt(wire, KeysOf(xb_), NewMessageId()).ok());
  PeerKeys impostor = KeysOf(xc_);
  impostor.state = "XB";
  EXPECT_EQ(VerifyReceipt(wire, impostor, msg_.id).status().code(), StatusCode::kUnauthenticated);
  json::object o = json::parse(wire).as_object();
  o["duplicate"] = true;
  EXPECT_EQ(VerifyReceipt(json::serialize(o), KeysOf(xb_), msg_.id).status().code(),
            StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace comity::federation
