#include "federation/envelope.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>
#include <vector>

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
// --- Signed together ------------------------------------------------------------------------

std::vector<Message> Messages(size_t n) {
  std::vector<Message> ms;
  for (size_t i = 0; i < n; ++i) {
    ms.push_back({NewMessageId(), i % 2 == 0 ? "request" : "decision",
                  R"({"n":)" + std::to_string(i) + "}", "cp\n"});
  }
  return ms;
}

TEST_F(EnvelopeTest, EnvelopesSignedTogetherEachOpenOnTheirOwn) {
  for (size_t n : {2u, 3u, 5u, 8u, 13u, 256u}) {
    const std::vector<Message> ms = Messages(n);
    const std::vector<std::string> wires = SealEnvelopes(xa_, KeysOf(xb_), ms, now_);
    ASSERT_EQ(wires.size(), n);
    std::string signature;
    BatchMemo memo;
    for (size_t i = 0; i < n; ++i) {
      const json::object o = json::parse(wires[i]).as_object();
      ASSERT_TRUE(o.contains("batch")) << n;
      EXPECT_EQ(o.at("batch").at("index").as_int64(), static_cast<int64_t>(i));
      EXPECT_EQ(o.at("batch").at("size").as_int64(), static_cast<int64_t>(n));
      // One signature for the whole batch.
      if (i == 0) signature = std::string(o.at("signature").as_string());
      EXPECT_EQ(o.at("signature").as_string(), signature);
      // Alone, and with the roots verified so far.
      EnvelopeCheck alone = OpenEnvelope(wires[i], xb_, trust_b_, now_);
      ASSERT_TRUE(alone.ok()) << n << " #" << i << ": " << alone.status.ToString();
      EXPECT_EQ(alone.envelope->message.id, ms[i].id);
      EXPECT_EQ(alone.envelope->message.body, ms[i].body);
      EXPECT_EQ(alone.envelope->message.kind, ms[i].kind);
      EXPECT_TRUE(OpenEnvelope(wires[i], xb_, trust_b_, now_, {}, &memo).ok());
    }
  }
  // One message alone is signed as SealEnvelope signs it: no batch member.
  const std::vector<std::string> one = SealEnvelopes(xa_, KeysOf(xb_), Messages(1), now_);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_FALSE(json::parse(one[0]).as_object().contains("batch"));
  EXPECT_TRUE(OpenEnvelope(one[0], xb_, trust_b_, now_).ok());
  EXPECT_TRUE(SealEnvelopes(xa_, KeysOf(xb_), {}, now_).empty());
}

TEST_F(EnvelopeTest, MoreThanTheLimitAreSignedInSeveralBatches) {
  const std::vector<Message> ms = Messages(kMaxSignedTogether + 3);
  const std::vector<std::string> wires = SealEnvelopes(xa_, KeysOf(xb_), ms, now_);
  ASSERT_EQ(wires.size(), ms.size());
  const json::object first = json::parse(wires.front()).as_object();
  const json::object last = json::parse(wires.back()).as_object();
  EXPECT_EQ(first.at("batch").at("size").as_int64(), static_cast<int64_t>(kMaxSignedTogether));
  EXPECT_EQ(last.at("batch").at("size").as_int64(), 3);
  EXPECT_EQ(last.at("batch").at("index").as_int64(), 2);
  BatchMemo memo;
  for (const std::string& w : wires) {
    EXPECT_TRUE(OpenEnvelope(w, xb_, trust_b_, now_, {}, &memo).ok());
  }
}

TEST_F(EnvelopeTest, AnEnvelopeSignedTogetherRefusesAnyChange) {
  const std::vector<Message> ms = Messages(5);
  const std::vector<std::string> wires = SealEnvelopes(xa_, KeysOf(xb_), ms, now_);
  BatchMemo memo;  // holding the batch's root: no help to a forgery
  ASSERT_TRUE(OpenEnvelope(wires[0], xb_, trust_b_, now_, {}, &memo).ok());
  auto open = [&](const json::object& o) {
    return OpenEnvelope(json::serialize(o), xb_, trust_b_, now_, {}, &memo).rejection;
  };
  for (const char* field : {"id", "kind", "sent", "checkpoint", "boxed_body"}) {
    json::object o = json::parse(wires[3]).as_object();
    std::string v(o[field].as_string());
    if (std::string(field) == "kind") {
      v = "information_reply";
    } else if (std::string(field) == "sent") {
      v = FormatTimestamp(Timestamp{now_.seconds - 1, 0});
    } else if (std::string(field) == "id") {
      v = NewMessageId();
    } else if (std::string(field) == "boxed_body") {
      v = json::parse(wires[2]).as_object().at("boxed_body").as_string();  // another's body
    } else {
      v += "x";
    }
    o[field] = v;
    EXPECT_EQ(open(o), Rejection::kBadSignature) << field;
  }
  // Another member's place in the batch, a changed hash of the path, a wrong size.
  json::object o = json::parse(wires[3]).as_object();
  o["batch"] = json::parse(wires[2]).as_object().at("batch");
  EXPECT_EQ(open(o), Rejection::kBadSignature);
  o = json::parse(wires[3]).as_object();
  json::array& path = o["batch"].as_object()["path"].as_array();
  path[0] = json::parse(wires[1]).as_object().at("batch").at("path").at(0);
  EXPECT_EQ(open(o), Rejection::kBadSignature);
  o = json::parse(wires[3]).as_object();
  o["batch"].as_object()["size"] = 6;
  EXPECT_EQ(open(o), Rejection::kBadSignature);
  o = json::parse(wires[3]).as_object();
  o["batch"].as_object()["path"].as_array().pop_back();
  EXPECT_EQ(open(o), Rejection::kBadSignature);
  // The batch signature of another sender's key, or a single signature with a path.
  const std::vector<std::string> forged = SealEnvelopes(xc_, KeysOf(xb_), ms, now_);
  o = json::parse(wires[3]).as_object();
  o["signature"] = json::parse(forged[3]).as_object().at("signature");
  EXPECT_EQ(open(o), Rejection::kBadSignature);
  o = json::parse(Seal()).as_object();
  o["batch"] = json::parse(wires[0]).as_object().at("batch");
  EXPECT_EQ(open(o), Rejection::kBadSignature);
}

// The bodies of a batch are boxed under one key agreed between the batch's ephemeral key and
// the recipient's: only the recipient opens them, each on its own or with the key remembered.
TEST_F(EnvelopeTest, TheBodiesOfABatchAreBoxedUnderOneAgreedKey) {
  const std::vector<Message> ms = Messages(4);
  const std::vector<std::string> wires = SealEnvelopes(xa_, KeysOf(xb_), ms, now_);
  std::string ephemeral;
  for (const std::string& w : wires) {
    const json::object o = json::parse(w).as_object();
    EXPECT_FALSE(o.contains("sealed_body"));
    const std::string boxed = *crypto::Base64Decode(o.at("boxed_body").as_string());
    if (ephemeral.empty()) ephemeral = boxed.substr(0, 32);
    EXPECT_EQ(boxed.substr(0, 32), ephemeral);       // one ephemeral key for the batch
    EXPECT_EQ(w.find("\"n\":"), std::string::npos);  // not readable on the wire
  }
  BatchMemo memo;
  for (size_t i = 0; i < wires.size(); ++i) {
    EnvelopeCheck c = OpenEnvelope(wires[i], xb_, trust_b_, now_, {}, &memo);
    ASSERT_TRUE(c.ok()) << c.status.ToString();
    EXPECT_EQ(c.envelope->message.body, ms[i].body);
  }
  // Another batch has another ephemeral key.
  const std::string other =
      *crypto::Base64Decode(json::parse(SealEnvelopes(xa_, KeysOf(xb_), ms, now_)[0])
                                .as_object()
                                .at("boxed_body")
                                .as_string());
  EXPECT_NE(other.substr(0, 32), ephemeral);
  // Boxed for another box key: undecryptable, alone and with a memo.
  PeerKeys wrong = KeysOf(xb_);
  wrong.box_key = xc_.box_key.public_key();
  BatchMemo memo2;
  for (const std::string& w : SealEnvelopes(xa_, wrong, ms, now_)) {
    EXPECT_EQ(OpenEnvelope(w, xb_, trust_b_, now_).rejection, Rejection::kUndecryptable);
    EXPECT_EQ(OpenEnvelope(w, xb_, trust_b_, now_, {}, &memo2).rejection,
              Rejection::kUndecryptable);
  }
  // Both bodies, neither, a boxed body outside a batch: malformed, saying where.
  auto malformed = [&](const json::object& o, const char* pointer) {
    EnvelopeCheck c = OpenEnvelope(json::serialize(o), xb_, trust_b_, now_);
    EXPECT_EQ(c.rejection, Rejection::kMalformed) << json::serialize(o).substr(0, 80);
    EXPECT_EQ(c.status.pointer(), pointer) << c.status.ToString();
  };
  json::object o = json::parse(wires[0]).as_object();
  o["sealed_body"] = json::parse(Seal()).as_object().at("sealed_body");
  malformed(o, "/boxed_body");
  o = json::parse(wires[0]).as_object();
  o.erase("boxed_body");
  malformed(o, "");  // missing "sealed_body"
  o = json::parse(Seal()).as_object();
  o["boxed_body"] = o["sealed_body"];
  o.erase("sealed_body");
  malformed(o, "/boxed_body");
}

TEST_F(EnvelopeTest, AMalformedBatchMemberIsRefusedAsMalformedAndSaysWhere) {
  const std::vector<std::string> wires = SealEnvelopes(xa_, KeysOf(xb_), Messages(4), now_);
  struct Case {
    const char* what;
    std::function<void(json::object&)> change;
    const char* pointer;
  };
  const std::vector<Case> cases = {
      {"not an object",
       [](json::object& b) {
         b = json::object{{"x", 1}};
       },
       "/batch/x"},
      {"index missing", [](json::object& b) { b.erase("index"); }, "/batch/index"},
      {"negative index", [](json::object& b) { b["index"] = -1; }, "/batch/index"},
      {"index a string", [](json::object& b) { b["index"] = "1"; }, "/batch/index"},
      {"index past the end", [](json::object& b) { b["index"] = 4; }, "/batch/index"},
      {"size 1", [](json::object& b) { b["size"] = 1; }, "/batch/size"},
      {"size over the limit", [](json::object& b) { b["size"] = kMaxSignedTogether + 1; },
       "/batch/size"},
      {"path not an array", [](json::object& b) { b["path"] = "x"; }, "/batch/path"},
      {"path too long",
       [](json::object& b) {
         json::array p;
         for (int i = 0; i < 9; ++i) p.push_back(b["path"].as_array()[0]);
         b["path"] = p;
       },
       "/batch/path"},
      {"a hash not base64", [](json::object& b) { b["path"].as_array()[1] = "!!"; },
       "/batch/path/1"},
      {"a hash of 31 bytes",
       [](json::object& b) {
         b["path"].as_array()[0] = crypto::Base64Encode(std::string(31, 'h'));
       },
       "/batch/path/0"},
      {"an extra member", [](json::object& b) { b["root"] = "x"; }, "/batch/root"},
  };
  for (const Case& c : cases) {
    json::object o = json::parse(wires[1]).as_object();
    c.change(o["batch"].as_object());
    EnvelopeCheck check = OpenEnvelope(json::serialize(o), xb_, trust_b_, now_);
    EXPECT_EQ(check.rejection, Rejection::kMalformed) << c.what;
    EXPECT_EQ(check.status.pointer(), c.pointer) << c.what << ": " << check.status.ToString();
  }
  json::object o = json::parse(wires[1]).as_object();
  o["batch"] = "0/4";
  EnvelopeCheck check = OpenEnvelope(json::serialize(o), xb_, trust_b_, now_);
  EXPECT_EQ(check.rejection, Rejection::kMalformed);
  EXPECT_EQ(check.status.pointer(), "/batch");
}

TEST_F(EnvelopeTest, ReceiptsSignedTogetherEachVerifyOnTheirOwn) {
  std::vector<Receipt> rs;
  for (int i = 0; i < 7; ++i) {
    rs.push_back({NewMessageId(), std::string(64, 'a' + i), "XB", "XA", now_, i == 3, "cp-b\n"});
  }
  const std::vector<std::string> wires = SignReceipts(xb_, rs);
  ASSERT_EQ(wires.size(), rs.size());
  BatchMemo memo;
  for (size_t i = 0; i < rs.size(); ++i) {
    EXPECT_TRUE(json::parse(wires[i]).as_object().contains("batch"));
    auto alone = VerifyReceipt(wires[i], KeysOf(xb_), rs[i].message_id);
    ASSERT_TRUE(alone.ok()) << alone.status().ToString();
    EXPECT_EQ(alone->body_sha256, rs[i].body_sha256);
    EXPECT_EQ(alone->duplicate, i == 3);
    EXPECT_TRUE(VerifyReceipt(wires[i], KeysOf(xb_), rs[i].message_id, &memo).ok());
    // Another message's receipt, even from the same batch, proves nothing about this one.
    EXPECT_FALSE(
        VerifyReceipt(wires[(i + 1) % rs.size()], KeysOf(xb_), rs[i].message_id, &memo).ok());
  }
  // Changed content, another signer, an index that is not a number.
  json::object o = json::parse(wires[2]).as_object();
  o["duplicate"] = true;
  EXPECT_EQ(VerifyReceipt(json::serialize(o), KeysOf(xb_), rs[2].message_id, &memo).status().code(),
            StatusCode::kUnauthenticated);
  PeerKeys impostor = KeysOf(xc_);
  impostor.state = "XB";
  EXPECT_EQ(VerifyReceipt(wires[2], impostor, rs[2].message_id).status().code(),
            StatusCode::kUnauthenticated);
  o = json::parse(wires[2]).as_object();
  o["batch"].as_object()["index"] = "2";
  EXPECT_EQ(VerifyReceipt(json::serialize(o), KeysOf(xb_), rs[2].message_id).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace comity::federation
