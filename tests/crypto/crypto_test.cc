// Known-answer and misuse tests for the crypto wrappers.
#include <gtest/gtest.h>

#include <string>

#include "crypto/aead.h"
#include "crypto/box.h"
#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "crypto/kdf.h"
#include "crypto/random.h"
#include "crypto/secretstream.h"
#include "crypto/sha256.h"

namespace comity::crypto {
namespace {

std::string Hex(ByteSpan b) { return HexEncode(b); }
std::string Unhex(std::string_view h) { return HexDecode(h).value(); }

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Hex(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256Hasher h;
  std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) h.Update(chunk);
  EXPECT_EQ(Hex(h.Finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalMatchesOneShotAtEverySplit) {
  std::string msg = RandomString(200);
  Sha256Digest want = Sha256(msg);
  Sha256Hasher h;
  for (size_t split = 0; split <= msg.size(); ++split) {
    h.Update(std::string_view(msg).substr(0, split));
    h.Update(std::string_view(msg).substr(split));
    ASSERT_EQ(h.Finish(), want) << "split at " << split;
  }
  h.Update("junk");
  h.Reset();
  EXPECT_EQ(h.Finish(), Sha256(""));
}

TEST(Encoding, Base64Rfc4648Vectors) {
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [raw, enc] : vectors) {
    EXPECT_EQ(Base64Encode(raw), enc);
    auto dec = Base64Decode(enc);
    ASSERT_TRUE(dec.ok()) << enc;
    EXPECT_EQ(*dec, raw);
  }
}

TEST(Encoding, Base64RejectsNonCanonicalInput) {
  for (std::string_view bad :
       {"Zg", "Zh==", "Zg= =", "Z===", "Zm9v\n", " Zm9v", "Zm-_", "Zm9vYg=", "Zm9vYg===", "=Zm9"}) {
    auto r = Base64Decode(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("base64"), std::string::npos);
    }
  }
}

TEST(Encoding, Hex) {
  EXPECT_EQ(HexEncode(std::string_view("\x01\xab\xff", 3)), "01abff");
  EXPECT_EQ(*HexDecode("01ABff"), std::string("\x01\xab\xff", 3));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
  EXPECT_FALSE(HexDecode("0x").ok());
}

TEST(Encoding, ConstantTimeEqual) {
  EXPECT_TRUE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abc")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("abd")));
  EXPECT_FALSE(ConstantTimeEqual(AsBytes("abc"), AsBytes("ab")));
  EXPECT_TRUE(ConstantTimeEqual(AsBytes(""), AsBytes("")));
}

TEST(Random, ProducesDistinctValues) {
  EXPECT_NE(RandomArray<32>(), RandomArray<32>());
  EXPECT_EQ(RandomString(17).size(), 17u);
}

// RFC 8032 section 7.1, TEST 1 and TEST 2.
TEST(Ed25519, Rfc8032Vectors) {
  struct Vector {
    const char* seed;
    const char* pub;
    const char* msg;
    const char* sig;
  };
  const Vector vectors[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
       "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
       "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
  };
  for (const Vector& v : vectors) {
    auto key = Ed25519PrivateKey::FromSeed(AsBytes(Unhex(v.seed)));
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(Hex(key->public_key()), v.pub);
    std::string msg = Unhex(v.msg);
    Ed25519Signature sig = key->Sign(AsBytes(msg));
    EXPECT_EQ(Hex(sig), v.sig);
    EXPECT_TRUE(Ed25519Verify(key->public_key(), AsBytes(msg), sig));
    EXPECT_EQ(Hex(key->seed()), v.seed);
  }
}

TEST(Ed25519, RejectsWrongMessageKeyOrSignature) {
  auto key = Ed25519PrivateKey::Generate();
  auto other = Ed25519PrivateKey::Generate();
  Ed25519Signature sig = key.Sign(AsBytes("message"));
  EXPECT_TRUE(Ed25519Verify(key.public_key(), AsBytes("message"), sig));
  EXPECT_FALSE(Ed25519Verify(key.public_key(), AsBytes("messagf"), sig));
  EXPECT_FALSE(Ed25519Verify(other.public_key(), AsBytes("message"), sig));
  for (size_t i = 0; i < sig.size(); i += 7) {
    Ed25519Signature bad = sig;
    bad[i] ^= 0x01;
    EXPECT_FALSE(Ed25519Verify(key.public_key(), AsBytes("message"), bad)) << i;
  }
  EXPECT_FALSE(Ed25519Verify(key.public_key(), AsBytes("message"), ByteSpan(sig).first(63)));
  auto bad_seed = Ed25519PrivateKey::FromSeed(AsBytes("short"));
  ASSERT_FALSE(bad_seed.ok());
  EXPECT_EQ(bad_seed.status().code(), StatusCode::kInvalidArgument);
}

// RFC 7748 section 6.1: Alice's key pair.
TEST(X25519, Rfc7748PublicKey) {
  auto key = X25519PrivateKey::FromBytes(
      AsBytes(Unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(Hex(key->public_key()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_FALSE(X25519PrivateKey::FromBytes(AsBytes("x")).ok());
}

TEST(SealedBox, RoundTripAndRefusals) {
  auto alice = X25519PrivateKey::Generate();
  auto mallory = X25519PrivateKey::Generate();
  std::string sealed = SealBox(alice.public_key(), AsBytes("data key"));
  EXPECT_EQ(sealed.size(), 8 + kSealedBoxOverhead);
  auto opened = OpenSealedBox(alice, AsBytes(sealed));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, "data key");

  auto wrong = OpenSealedBox(mallory, AsBytes(sealed));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kDataLoss);
  std::string tampered = sealed;
  tampered[tampered.size() - 1] ^= 1;
  EXPECT_FALSE(OpenSealedBox(alice, AsBytes(tampered)).ok());
  auto shortbox = OpenSealedBox(alice, AsBytes(sealed.substr(0, 47)));
  ASSERT_FALSE(shortbox.ok());
  EXPECT_NE(shortbox.status().message().find("shorter"), std::string::npos);
  // Empty plaintext is fine.
  EXPECT_EQ(*OpenSealedBox(alice, AsBytes(SealBox(alice.public_key(), AsBytes("")))), "");
}

TEST(BoxKey, BothSidesAgreeAndEachBoxOpensOnlyWithTheKey) {
  auto recipient = X25519PrivateKey::Generate();
  auto ephemeral = X25519PrivateKey::Generate();
  auto mallory = X25519PrivateKey::Generate();
  auto sender = BoxKey::Agree(recipient.public_key(), ephemeral);
  auto receiver = BoxKey::Agree(ephemeral.public_key(), recipient);
  ASSERT_TRUE(sender.ok() && receiver.ok());
  const std::string one = sender->Box(AsBytes("one"));
  const std::string two = sender->Box(AsBytes("one"));
  EXPECT_EQ(one.size(), 3 + kBoxOverhead);
  EXPECT_NE(one, two);  // a fresh nonce for every box
  EXPECT_EQ(*receiver->Open(AsBytes(one)), "one");
  EXPECT_EQ(*receiver->Open(AsBytes(two)), "one");
  EXPECT_EQ(*receiver->Open(AsBytes(sender->Box(AsBytes("")))), "");
  // Another key pair's agreement, a changed byte (nonce or ciphertext), a short box.
  auto other = BoxKey::Agree(ephemeral.public_key(), mallory);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->Open(AsBytes(one)).status().code(), StatusCode::kDataLoss);
  for (size_t at : {size_t{0}, kBoxNonceSize, one.size() - 1}) {
    std::string tampered = one;
    tampered[at] ^= 1;
    EXPECT_EQ(receiver->Open(AsBytes(tampered)).status().code(), StatusCode::kDataLoss) << at;
  }
  auto shortbox = receiver->Open(AsBytes(one.substr(0, kBoxOverhead - 1)));
  ASSERT_FALSE(shortbox.ok());
  EXPECT_NE(shortbox.status().message().find("shorter"), std::string::npos);
  // A public key of small order (here all zeros) agrees on nothing.
  EXPECT_EQ(BoxKey::Agree(X25519PublicKey{}, recipient).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Aead, RoundTripAndTamperDetection) {
  AeadKey key = RandomArray<kAeadKeySize>();
  AeadNonce nonce = RandomArray<kAeadNonceSize>();
  std::string ct = AeadSeal(key, nonce, AsBytes("secret"), AsBytes("ad"));
  EXPECT_EQ(*AeadOpen(key, nonce, AsBytes(ct), AsBytes("ad")), "secret");
  EXPECT_FALSE(AeadOpen(key, nonce, AsBytes(ct), AsBytes("ae")).ok());
  AeadNonce other_nonce = nonce;
  other_nonce[0] ^= 1;
  EXPECT_FALSE(AeadOpen(key, other_nonce, AsBytes(ct), AsBytes("ad")).ok());
  ct[0] ^= 1;
  auto r = AeadOpen(key, nonce, AsBytes(ct), AsBytes("ad"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(AeadOpen(key, nonce, AsBytes("short"), AsBytes("")).ok());
}

TEST(SecretStream, RoundTrip) {
  SecretStreamKey key = RandomArray<kSecretStreamKeySize>();
  SecretStreamWriter w(key);
  std::string c1 = *w.Push(AsBytes("first part"), false);
  std::string c2 = *w.Push(AsBytes(""), false);
  std::string c3 = *w.Push(AsBytes("last"), true);
  EXPECT_EQ(c1.size(), 10 + kSecretStreamOverhead);
  auto again = w.Push(AsBytes("more"), false);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);

  auto r = SecretStreamReader::Create(key, w.header());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r->Pull(AsBytes(c1)), "first part");
  EXPECT_FALSE(r->finished());
  EXPECT_EQ(*r->Pull(AsBytes(c2)), "");
  EXPECT_EQ(*r->Pull(AsBytes(c3)), "last");
  EXPECT_TRUE(r->finished());
  EXPECT_FALSE(r->Pull(AsBytes(c3)).ok());
}

TEST(SecretStream, DetectsTamperingReorderingTruncationAndWrongKey) {
  SecretStreamKey key = RandomArray<kSecretStreamKeySize>();
  SecretStreamWriter w(key);
  std::string c1 = *w.Push(AsBytes("one"), false);
  std::string c2 = *w.Push(AsBytes("two"), true);
  {
    auto r = SecretStreamReader::Create(key, w.header());
    auto out = r->Pull(AsBytes(c2));  // reordered
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
  }
  {
    auto r = SecretStreamReader::Create(key, w.header());
    std::string bad = c1;
    bad[5] ^= 0x20;
    EXPECT_FALSE(r->Pull(AsBytes(bad)).ok());
  }
  {
    auto r = SecretStreamReader::Create(key, w.header());
    ASSERT_TRUE(r->Pull(AsBytes(c1)).ok());
    EXPECT_FALSE(r->finished());  // a stream cut here is detectably truncated
  }
  {
    SecretStreamKey other = RandomArray<kSecretStreamKeySize>();
    auto r = SecretStreamReader::Create(other, w.header());
    EXPECT_FALSE(r->Pull(AsBytes(c1)).ok());
  }
  EXPECT_FALSE(SecretStreamReader::Create(key, AsBytes("short header")).ok());
  auto r = SecretStreamReader::Create(key, w.header());
  EXPECT_FALSE(r->Pull(AsBytes("tiny")).ok());
}

TEST(Argon2id, DeterministicAndSaltSensitive) {
  const Argon2idParams fast{1, 8 << 10};
  auto salt = RandomArray<kArgon2idSaltSize>();
  auto k1 = DeriveKeyArgon2id("passphrase", salt, fast);
  auto k2 = DeriveKeyArgon2id("passphrase", salt, fast);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(*k1, *k2);
  EXPECT_NE(*k1, *DeriveKeyArgon2id("passphrasf", salt, fast));
  auto salt2 = salt;
  salt2[0] ^= 1;
  EXPECT_NE(*k1, *DeriveKeyArgon2id("passphrase", salt2, fast));
  EXPECT_NE(*k1, *DeriveKeyArgon2id("passphrase", salt, Argon2idParams{2, 8 << 10}));
}

TEST(Argon2id, RefusesOutOfRangeParameters) {
  auto salt = RandomArray<kArgon2idSaltSize>();
  auto r = DeriveKeyArgon2id("p", salt, Argon2idParams{0, 8 << 10});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("opslimit"), std::string::npos);
  r = DeriveKeyArgon2id("p", salt, Argon2idParams{1, 1024});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("memlimit"), std::string::npos);
  r = DeriveKeyArgon2id("p", salt, Argon2idParams{1, uint64_t{8} << 30});
  ASSERT_FALSE(r.ok());
  r = DeriveKeyArgon2id("p", AsBytes("short"), Argon2idParams{1, 8 << 10});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("salt"), std::string::npos);
  r = DeriveKeyArgon2id(std::string(kMaxPassphraseBytes + 1, 'x'), salt,
                        Argon2idParams{1, 8 << 10});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("passphrase"), std::string::npos);
}

}  // namespace
}  // namespace comity::crypto
