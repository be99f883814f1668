// Creating and opening a node's data directory.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "crypto/keyfile.h"
#include "node/node.h"
#include "tests/node/test_util.h"

namespace comity::node {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

InitOptions Options(const std::string& dir, const std::string& state = "XA") {
  InitOptions o;
  o.data_dir = dir;
  o.state = state;
  o.listen = "127.0.0.1:0";
  o.profiles_dir = testing::SourceDir() + "/profiles";
  return o;
}

unsigned Mode(const std::string& path) {
  struct stat st {};
  ::stat(path.c_str(), &st);
  return st.st_mode & 0777;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(InitTest, CreatesEverythingAndOpens) {
  ::unsetenv("COMITY_KEY_PASSPHRASE");
  TempDir tmp;
  const std::string dir = tmp / "node";
  auto r = InitNode(Options(dir));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.origin, "comity/XA/main");
  EXPECT_EQ(r->profiles, 6);
  EXPECT_TRUE(IsWellFormedToken(r->admin_token));
  EXPECT_EQ(r->log_vkey.rfind("comity/XA/main+", 0), 0u);
  EXPECT_EQ(Mode(dir), 0700u);
  EXPECT_EQ(Mode(dir + "/log.key"), 0600u);
  EXPECT_EQ(Mode(dir + "/box.key"), 0600u);
  EXPECT_EQ(Mode(dir + "/comity.db"), 0600u);
  EXPECT_TRUE(fs::exists(dir + "/comity.toml"));
  // The token is printed, never stored: only its hash is in the database.
  const std::string db_bytes = testing::ReadFile(dir + "/comity.db");
  EXPECT_EQ(db_bytes.find(r->admin_token), std::string::npos);
  EXPECT_EQ(db_bytes.find(r->admin_token.substr(7)), std::string::npos);

  testing::TestClock clock;
  auto node = OpenNode(dir, testing::SourceDir() + "/rules", &clock);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  auto who = (*node)->service->Authenticate(r->admin_token);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->role, Role::kAdmin);
  EXPECT_EQ((*node)->service->ListProfiles().value().size(), 6u);
  EXPECT_EQ((*node)->service->LogVerifierKey(), r->log_vkey);
  EXPECT_EQ(Describe((*node)->identity).sign_key, r->identity.sign_key);
}

TEST(InitTest, RefusesANonEmptyDirectoryAndBadArguments) {
  TempDir tmp;
  std::ofstream(tmp / "something") << "x";
  auto r = InitNode(Options(tmp.path()));
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(fs::exists(tmp / "something"));
  EXPECT_FALSE(fs::exists(tmp / "log.key"));

  EXPECT_EQ(InitNode(Options(tmp / "a", "xa")).status().code(), StatusCode::kInvalidArgument);
  InitOptions bad_listen = Options(tmp / "b");
  bad_listen.listen = "nowhere";
  EXPECT_EQ(InitNode(bad_listen).status().code(), StatusCode::kInvalidArgument);
  InitOptions bad_db = Options(tmp / "c");
  bad_db.database = "oracle://x";
  EXPECT_EQ(InitNode(bad_db).status().code(), StatusCode::kInvalidArgument);
  InitOptions no_profiles = Options(tmp / "d");
  no_profiles.profiles_dir = tmp / "none";
  EXPECT_EQ(InitNode(no_profiles).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(tmp / "d"));  // nothing left behind
  InitOptions bad_admin = Options(tmp / "e");
  bad_admin.admin_name = "Root User";
  EXPECT_EQ(InitNode(bad_admin).status().code(), StatusCode::kInvalidArgument);
}

TEST(InitTest, AnInvalidProfileLeavesNothingBehind) {
  TempDir tmp;
  fs::create_directories(tmp / "profiles");
  fs::copy_file(testing::SourceDir() + "/profiles/XA.json", tmp / "profiles/XA.json");
  std::ofstream(tmp / "profiles/XB.json") << "{\"schema\": \"comity.state/v1\"}";
  InitOptions o = Options(tmp / "node");
  o.profiles_dir = tmp / "profiles";
  auto r = InitNode(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("XB.json"), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(tmp / "node"));
}

TEST(InitTest, AnUnreachablePostgresqlIsRefusedBeforeAnythingIsWritten) {
  TempDir tmp;
  InitOptions o = Options(tmp / "node");
  o.database = "postgresql://comity@127.0.0.1:1/comity";  // nothing listens on port 1
  auto r = InitNode(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("cannot connect"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp / "node"));
}

TEST(InitTest, PassphraseProtectsTheKeys) {
  TempDir tmp;
  const std::string dir = tmp / "node";
  {
    ScopedEnv env("COMITY_KEY_PASSPHRASE", "correct horse battery staple");
    ASSERT_TRUE(InitNode(Options(dir)).ok());
    EXPECT_TRUE(crypto::SecretKeyIsProtected(crypto::ReadSecretKeyFile(dir + "/log.key").value()));
    EXPECT_TRUE(crypto::SecretKeyIsProtected(crypto::ReadSecretKeyFile(dir + "/box.key").value()));
  }
  ::unsetenv("COMITY_KEY_PASSPHRASE");
  auto locked = OpenNode(dir, testing::SourceDir() + "/rules");
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(locked.status().message().find("COMITY_KEY_PASSPHRASE"), std::string::npos);
  {
    ScopedEnv env("COMITY_KEY_PASSPHRASE", "Hunter2-Sekret");
    auto wrong = OpenNode(dir, testing::SourceDir() + "/rules");
    EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(wrong.status().message().find("Hunter2"), std::string::npos);  // never echoed
  }
  ScopedEnv env("COMITY_KEY_PASSPHRASE", "correct horse battery staple");
  auto opened = OpenNode(dir, testing::SourceDir() + "/rules");
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
}

TEST(InitTest, OpenChecksTheDirectory) {
  TempDir tmp;
  EXPECT_EQ(OpenNode(tmp.path(), testing::SourceDir() + "/rules").status().code(),
            StatusCode::kNotFound);
  const std::string dir = tmp / "node";
  ASSERT_TRUE(InitNode(Options(dir)).ok());
  // A broken rule base is refused with its errors.
  fs::create_directories(tmp / "rules");
  std::ofstream(tmp / "rules/bad.rules") << "rule x\n";
  auto r = OpenNode(dir, tmp / "rules");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bad.rules"), std::string::npos);
  // The directory without its database.
  fs::remove(dir + "/comity.db");
  EXPECT_EQ(OpenNodeDirectory(dir).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace comity::node
