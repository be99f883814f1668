// Signed notes, verifier keys, checkpoints and cosignatures.
#include "tlog/note.h"

#include <gtest/gtest.h>

#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "tests/tlog/test_util.h"
#include "tlog/checkpoint.h"

namespace comity::tlog {
namespace {

// From Go's golang.org/x/mod/sumdb/note tests: a signer key (base64 of 0x01 || seed), its vkey,
// and the exact signed note it produces.
constexpr const char* kPeterVkey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr const char* kPeterSeedB64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr const char* kPeterText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr const char* kPeterSigned =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

Ed25519NoteSigner PeterSigner() {
  auto raw = crypto::Base64Decode(kPeterSeedB64);
  auto key = crypto::Ed25519PrivateKey::FromSeed(AsBytes(raw->substr(1)));
  return Ed25519NoteSigner("PeterNeumann", *key);
}

TEST(Note, SignsExactlyLikeGoReference) {
  Ed25519NoteSigner signer = PeterSigner();
  EXPECT_EQ(signer.key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer.VerifierKey(), kPeterVkey);
  auto signed_note = SignNote(kPeterText, signer);
  ASSERT_TRUE(signed_note.ok());
  EXPECT_EQ(*signed_note, kPeterSigned);
  auto v = ParseVerifierKey(kPeterVkey);
  ASSERT_TRUE(v.ok());
  auto opened = OpenNote(kPeterSigned, **v);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->text, kPeterText);
}

TEST(Note, ParseFormatRoundTrip) {
  auto note = ParseNote(kPeterSigned);
  ASSERT_TRUE(note.ok());
  EXPECT_EQ(note->text, kPeterText);
  ASSERT_EQ(note->signatures.size(), 1u);
  EXPECT_EQ(note->signatures[0].name, "PeterNeumann");
  EXPECT_EQ(FormatNote(*note), kPeterSigned);
}

TEST(Note, EveryManglingOfAVerifierKeyIsRejected) {
  const std::string vkey = kPeterVkey;
  ASSERT_TRUE(ParseVerifierKey(vkey).ok());
  for (size_t i = 0; i <= vkey.size(); ++i) {
    for (size_t j = i + 1; j <= vkey.size(); ++j) {
      if (i == 0 && j == vkey.size()) continue;
      EXPECT_FALSE(ParseVerifierKey(vkey.substr(i, j - i)).ok()) << vkey.substr(i, j - i);
    }
  }
  for (size_t i = 0; i < vkey.size(); ++i) {
    std::string b = vkey;
    ++b[i];
    EXPECT_FALSE(ParseVerifierKey(b).ok()) << b;
  }
  // Wrong key length and unknown algorithm, each with a key id adjusted to match.
  EXPECT_FALSE(
      ParseVerifierKey("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==")
          .ok());
  auto unknown =
      ParseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unsupported signature type"), std::string::npos);
  auto noname = ParseVerifierKey("+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  ASSERT_FALSE(noname.ok());
  EXPECT_NE(noname.status().message().find("key name"), std::string::npos);
}

TEST(Note, OpenIgnoresUnknownKeysAndRejectsBadKnownSignatures) {
  Ed25519NoteSigner peter = PeterSigner();
  Ed25519NoteSigner other("other.example/key", crypto::Ed25519PrivateKey::Generate());
  const NoteSigner* both[] = {&other, &peter};
  auto note = SignNote(kPeterText, both);
  ASSERT_TRUE(note.ok());
  Ed25519NoteVerifier pv = peter.Verifier();
  auto opened = OpenNote(*note, pv);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->verified.size(), 1u);
  ASSERT_EQ(opened->unverified.size(), 1u);
  EXPECT_EQ(opened->unverified[0].name, "other.example/key");

  // Signed only by an unknown key: unauthenticated, and the message names the trusted key.
  auto only_other = SignNote(kPeterText, other);
  auto r = OpenNote(*only_other, pv);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find("PeterNeumann+c74f20a3"), std::string::npos);

  // A same-name key with a different id is just another unknown key.
  Ed25519NoteSigner impostor("PeterNeumann", crypto::Ed25519PrivateKey::Generate());
  auto fake = SignNote(kPeterText, impostor);
  EXPECT_EQ(OpenNote(*fake, pv).status().code(), StatusCode::kUnauthenticated);

  // A bad signature by the known key rejects the whole note.
  std::string tampered = std::string(kPeterSigned);
  // (The first six base64 characters encode the key id; change a later one.)
  tampered.replace(tampered.find("ZInNIuGU"), 8, "ZInNIuGV");
  auto t = OpenNote(tampered, pv);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kDataLoss);
}

TEST(Note, RejectsMalformedNotes) {
  const std::string sig =
      "\xe2\x80\x94 PeterNeumann "
      "x08go/ZJkuBS9UG/"
      "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
  const std::pair<std::string, std::string> cases[] = {
      {"text\n", "no blank line"},
      {"text\n\n", "no signature lines"},
      {"text\n\n" + sig.substr(0, sig.size() - 1), "does not end in a newline"},
      {"text\n\n- PeterNeumann AAAAAAA=\n", "em dash"},
      {"text\n\n\xe2\x80\x94 PeterNeumann\n", "no signature"},
      {"text\n\n\xe2\x80\x94 Peter+Neumann AAAAAAA=\n", "invalid key name"},
      {"text\n\n\xe2\x80\x94 PeterNeumann AAAA\n", "shorter than a key id"},
      {"text\n\n\xe2\x80\x94 PeterNeumann AAAAAA==A\n", "base64"},
      {"te\x01xt\n\n" + sig, "control characters"},
      {"te\xffxt\n\n" + sig, "UTF-8"},
      {"te\xc0\xafxt\n\n" + sig, "UTF-8"},  // overlong encoding of '/'
      {"text\r\n\n" + sig, "control characters"},
  };
  for (const auto& [note, why] : cases) {
    auto r = ParseNote(note);
    ASSERT_FALSE(r.ok()) << note;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  }
  std::string many = "text\n\n";
  for (size_t i = 0; i <= kMaxNoteSignatures; ++i) many += sig;
  auto r = ParseNote(many);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  auto huge = ParseNote(std::string(kMaxNoteBytes + 1, 'a'));
  EXPECT_EQ(huge.status().code(), StatusCode::kResourceExhausted);
}

TEST(Note, KeyNames) {
  EXPECT_TRUE(IsValidKeyName("example.com/log"));
  EXPECT_TRUE(IsValidKeyName("\xc3\xa9t\xc3\xa9"));
  EXPECT_FALSE(IsValidKeyName(""));
  EXPECT_FALSE(IsValidKeyName("a b"));
  EXPECT_FALSE(IsValidKeyName("a+b"));
  EXPECT_FALSE(
      IsValidKeyName("a\xc2\xa0"
                     "b"));  // no-break space
  EXPECT_FALSE(
      IsValidKeyName("a\xe3\x80\x80"
                     "b"));  // ideographic space
  EXPECT_FALSE(IsValidKeyName("a\xff"));
}

TEST(Checkpoint, FormatParseAndStrictness) {
  Checkpoint cp{"example.com/log", 20852163, LeafHash(AsBytes("x")), {}};
  const std::string text = FormatCheckpoint(cp);
  auto parsed = ParseCheckpoint(text);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, cp);
  Checkpoint ext = cp;
  ext.extensions = {"ext one", "two"};
  EXPECT_EQ(*ParseCheckpoint(FormatCheckpoint(ext)), ext);
  auto max = ParseCheckpoint("o\n18446744073709551615\n" + HashToBase64(cp.root) + "\n");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(max->size, 18446744073709551615u);

  const std::string root = HashToBase64(cp.root);
  const std::pair<std::string, std::string> cases[] = {
      {"o\n1\n" + root, "newline"},
      {"o\n1\n", "three lines"},
      {"\n1\n" + root + "\n", "empty origin"},
      {"o\n01\n" + root + "\n", "leading"},
      {"o\n-1\n" + root + "\n", "decimal"},
      {"o\n18446744073709551616\n" + root + "\n", "decimal"},
      {"o\n1 \n" + root + "\n", "decimal"},
      {"o\n1\nZG9uJ3QgY2FyZSAx\n", "32"},
      {"o\n1\n" + root + "\n\n", "empty extension"},
  };
  for (const auto& [t, why] : cases) {
    auto r = ParseCheckpoint(t);
    ASSERT_FALSE(r.ok()) << t;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
  }
}

TEST(Checkpoint, OpenRequiresTheLogKeyAndMatchingOrigin) {
  Ed25519NoteSigner log("example.com/log", crypto::Ed25519PrivateKey::Generate());
  Ed25519NoteSigner other("example.com/other", crypto::Ed25519PrivateKey::Generate());
  Checkpoint cp{"example.com/log", 3, LeafHash(AsBytes("x")), {}};
  auto note = SignNote(FormatCheckpoint(cp), log);
  auto opened = OpenCheckpoint(*note, log.Verifier());
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->checkpoint, cp);
  EXPECT_EQ(OpenCheckpoint(*note, other.Verifier()).status().code(), StatusCode::kUnauthenticated);
  // Signed by the right key but naming another origin.
  Checkpoint wrong = cp;
  wrong.origin = "example.com/elsewhere";
  auto misnamed = SignNote(FormatCheckpoint(wrong), log);
  auto r = OpenCheckpoint(*misnamed, log.Verifier());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("does not match the log's key name"), std::string::npos);
}

TEST(Cosignature, V1FormatFollowsTheSpec) {
  testing::FixedClock clock(1679315147);
  auto key = crypto::Ed25519PrivateKey::Generate();
  CosignatureV1Signer signer("witness.example/w1", key, clock);
  // Key id uses signature type 0x04.
  EXPECT_EQ(signer.key_id(), KeyId("witness.example/w1", 0x04, key.public_key()));
  EXPECT_NE(signer.key_id(), KeyId("witness.example/w1", 0x01, key.public_key()));
  const std::string text =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  auto sig = signer.Sign(text);
  ASSERT_TRUE(sig.ok());
  ASSERT_EQ(sig->size(), 72u);
  EXPECT_EQ(sig->substr(0, 8), std::string("\x00\x00\x00\x00\x64\x18\x50\xcb", 8));
  // Independently: Ed25519 over "cosignature/v1\ntime <t>\n" || text.
  const std::string msg = "cosignature/v1\ntime 1679315147\n" + text;
  EXPECT_TRUE(crypto::Ed25519Verify(key.public_key(), AsBytes(msg), AsBytes(sig->substr(8))));
  EXPECT_EQ(*CosignatureV1Verifier::Timestamp(*sig), 1679315147u);

  auto vkey = ParseVerifierKey(signer.VerifierKey());
  ASSERT_TRUE(vkey.ok());
  EXPECT_TRUE((*vkey)->Verify(text, *sig));
  EXPECT_FALSE((*vkey)->Verify(text + "x\n", *sig));
  std::string later = *sig;
  later[7] ^= 1;  // a different timestamp
  EXPECT_FALSE((*vkey)->Verify(text, later));
  EXPECT_FALSE((*vkey)->Verify(text, sig->substr(0, 71)));
  std::string future(72, '\xff');
  EXPECT_FALSE(CosignatureV1Verifier::Timestamp(future).ok());
}

TEST(Cosignature, AddNoteSignaturesReplacesOwnAndKeepsOthers) {
  testing::FixedClock clock(100);
  Ed25519NoteSigner log("example.com/log", crypto::Ed25519PrivateKey::Generate());
  CosignatureV1Signer w("witness.example/w1", crypto::Ed25519PrivateKey::Generate(), clock);
  auto note = SignNote(FormatCheckpoint({"example.com/log", 1, LeafHash(AsBytes("a")), {}}), log);
  const NoteSigner* ws[] = {&w};
  auto once = AddNoteSignatures(*note, ws);
  clock.Set(200);
  auto twice = AddNoteSignatures(*once, ws);
  ASSERT_TRUE(twice.ok());
  auto parsed = ParseNote(*twice);
  ASSERT_EQ(parsed->signatures.size(), 2u);
  EXPECT_EQ(*CosignatureV1Verifier::Timestamp(parsed->signatures[1].signature), 200u);
  auto wv = ParseVerifierKey(w.VerifierKey());
  const NoteVerifier* known[] = {wv->get()};
  auto opened = OpenNote(*twice, known);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->verified.size(), 1u);
}

}  // namespace
}  // namespace comity::tlog
