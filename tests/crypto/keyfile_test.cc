// Secret key files: encoding, passphrase protection, file permissions.
#include "crypto/keyfile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "crypto/ed25519.h"

namespace comity::crypto {
namespace {

const Argon2idParams kFast{1, 8 << 10};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "comity-keyfile-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

TEST(KeyFile, PlainRoundTrip) {
  auto key = Ed25519PrivateKey::Generate();
  std::string text = EncodeSecretKey(SecretKeyType::kEd25519, key.seed());
  EXPECT_EQ(text.rfind("comity-secret-key/v1 ed25519 plain ", 0), 0u);
  EXPECT_FALSE(SecretKeyIsProtected(text));
  auto m = DecodeSecretKey(text, std::nullopt);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, SecretKeyType::kEd25519);
  EXPECT_EQ(m->key, key.seed());
}

TEST(KeyFile, PassphraseRoundTripAndRefusals) {
  std::array<uint8_t, 32> secret{};
  secret[0] = 7;
  auto text = EncodeSecretKeyWithPassphrase(SecretKeyType::kX25519, secret, "hunter2", kFast);
  ASSERT_TRUE(text.ok());
  EXPECT_TRUE(SecretKeyIsProtected(*text));
  EXPECT_EQ(text->find(std::string(reinterpret_cast<char*>(secret.data()), 32)), std::string::npos);

  auto m = DecodeSecretKey(*text, "hunter2");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, SecretKeyType::kX25519);
  EXPECT_EQ(m->key, secret);

  auto wrong = DecodeSecretKey(*text, "hunter3");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);

  auto none = DecodeSecretKey(*text, std::nullopt);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);

  // Changing the declared key type is detected (it is authenticated data).
  std::string swapped = *text;
  swapped.replace(swapped.find("x25519"), 6, "ed25519");
  auto sw = DecodeSecretKey(swapped, "hunter2");
  ASSERT_FALSE(sw.ok());
  EXPECT_EQ(sw.status().code(), StatusCode::kPermissionDenied);

  // Absurd work factors written into a file are refused before any work is done.
  std::string greedy = *text;
  greedy.replace(greedy.find(" 8192 "), 6, " 99999999999 ");
  auto g = DecodeSecretKey(greedy, "hunter2");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);

  EXPECT_FALSE(EncodeSecretKeyWithPassphrase(SecretKeyType::kX25519, secret, "", kFast).ok());
}

TEST(KeyFile, MalformedInputsAreRefusedWithReasons) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "one line"},
      {"comity-secret-key/v1 ed25519 plain AAAA", "one line"},
      {"comity-secret-key/v2 ed25519 plain AAAA\n", "comity-secret-key/v1"},
      {"comity-secret-key/v1 rsa plain AAAA\n", "unknown key type"},
      {"comity-secret-key/v1 ed25519 rot13 AAAA\n", "unknown protection"},
      {"comity-secret-key/v1 ed25519 plain AAAA\n", "32 bytes"},
      {"comity-secret-key/v1 ed25519 plain AAAA extra\n", "extra"},
      {"comity-secret-key/v1 ed25519 argon2id 1 8192 AAAA\n", "8 fields"},
      {"a\nb\n", "one line"},
  };
  for (const auto& [text, reason] : cases) {
    auto r = DecodeSecretKey(text, "x");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.status().message().find(reason), std::string::npos)
        << text << " -> " << r.status().message();
  }
}

TEST(KeyFile, FilesAreCreatedPrivateAndNeverOverwritten) {
  TempDir dir;
  const std::string path = dir.path("log.key");
  auto key = Ed25519PrivateKey::Generate();
  std::string text = EncodeSecretKey(SecretKeyType::kEd25519, key.seed());
  ASSERT_TRUE(WriteSecretKeyFile(path, text).ok());
  struct stat sb;
  ASSERT_EQ(::stat(path.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  auto again = WriteSecretKeyFile(path, text);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);

  auto read = ReadSecretKeyFile(path);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, text);

  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto open = ReadSecretKeyFile(path);
  ASSERT_FALSE(open.ok());
  EXPECT_EQ(open.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(open.status().message().find("chmod 600"), std::string::npos);

  auto missing = ReadSecretKeyFile(dir.path("absent.key"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace comity::crypto
