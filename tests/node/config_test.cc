#include "node/config.h"

#include <gtest/gtest.h>

#include "node/node.h"
#include "tests/node/test_util.h"

namespace comity::node {
namespace {

using testing::TempDir;

TEST(ConfigTest, DefaultsRoundTripThroughTheFile) {
  NodeConfig c = DefaultConfig("XA", "main").value();
  EXPECT_EQ(c.origin, "comity/XA/main");
  EXPECT_EQ(c.embargo_days, 90);
  EXPECT_EQ(c.disclosure, Disclosure::kEmbargo);
  c.listen_port = 0;
  c.disclosure = Disclosure::kImmediate;
  c.max_failures = 3;
  auto parsed = ParseConfig(FormatConfig(c), "comity.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->state.str(), "XA");
  EXPECT_EQ(parsed->listen_host, "127.0.0.1");
  EXPECT_EQ(parsed->listen_port, 0);
  EXPECT_EQ(parsed->disclosure, Disclosure::kImmediate);
  EXPECT_EQ(parsed->max_failures, 3);
  EXPECT_EQ(parsed->origin, "comity/XA/main");
}

TEST(ConfigTest, MinimalFileTakesDefaults) {
  auto c = ParseConfig("[node]\nstate = \"XB\"\n", "c.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->origin, "comity/XB/main");
  EXPECT_EQ(c->database, "sqlite");
  EXPECT_EQ(c->max_body_bytes, 1 << 20);
  EXPECT_EQ(c->PublicUrl(8443), "http://127.0.0.1:8443");
}

TEST(ConfigTest, PostgresqlUrlIsAcceptedAndErrorsHideItsPassword) {
  auto c = ParseConfig(
      "[node]\nstate = \"XA\"\ndatabase = \"postgresql://comity:secret@127.0.0.1:1/comity\"\n",
      "c.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->is_postgresql());
  // Nothing listens on port 1: the database cannot be opened, and the error says where without
  // the password.
  auto db = OpenNodeDatabase(*c, "/nonexistent");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(db.status().message().find("postgresql://comity:***@127.0.0.1:1/comity"),
            std::string::npos)
      << db.status().message();
  EXPECT_EQ(db.status().message().find("secret"), std::string::npos);
  auto short_scheme = ParseConfig(
      "[node]\nstate = \"XA\"\ndatabase = \"postgres://db.example/comity\"\n", "c.toml");
  ASSERT_TRUE(short_scheme.ok()) << short_scheme.status().ToString();
  EXPECT_TRUE(short_scheme->is_postgresql());
  auto other = ParseConfig("[node]\nstate = \"XA\"\ndatabase = \"mysql://root:secret@db/comity\"\n",
                           "c.toml");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().message().find("secret"), std::string::npos);
}

struct BadConfig {
  const char* text;
  const char* expect;  // substring of the error
};

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, IsRefusedNamingTheKeyAndWhy) {
  auto c = ParseConfig(GetParam().text, "comity.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(GetParam().expect), std::string::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("comity.toml"), std::string::npos);
}

// Readable test names: the case's index.
std::string CaseName(const ::testing::TestParamInfo<BadConfig>& info) {
  return "case" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadConfig{"[node]\nname = \"x\"\n", "node.state is required"},
        BadConfig{"[node]\nstate = \"xa\"\n", "node.state must be a two-letter code"},
        BadConfig{"[node]\nstate = \"XA\"\nstat = 1\n", "unknown key node.stat"},
        BadConfig{"[nodes]\nstate = \"XA\"\n", "unknown table [nodes]"},
        BadConfig{"[node]\nstate = 42\n", "node.state must be a string"},
        BadConfig{"[node]\nstate = \"XA\"\n[limits]\nmax_body_bytes = \"big\"\n",
                  "limits.max_body_bytes must be an integer"},
        BadConfig{"[node]\nstate = \"XA\"\n[limits]\nmax_body_bytes = 10\n",
                  "limits.max_body_bytes must be between 1024 and 67108864, not 10"},
        BadConfig{"[node]\nstate = \"XA\"\n[limits]\nthreads = 0\n", "limits.threads"},
        BadConfig{"[node]\nstate = \"XA\"\n[log]\nembargo_days = -1\n", "log.embargo_days"},
        BadConfig{"[node]\nstate = \"XA\"\n[log]\ndisclosure = \"later\"\n", "log.disclosure"},
        BadConfig{"[node]\nstate = \"XA\"\n[log]\norigin = \"has space\"\n", "log.origin"},
        BadConfig{"[node]\nstate = \"XA\"\nlisten = \"localhost\"\n", "must be host:port"},
        BadConfig{"[node]\nstate = \"XA\"\nlisten = \"127.0.0.1:99999\"\n", "invalid port"},
        BadConfig{"[node]\nstate = \"XA\"\ndatabase = \"mysql://x\"\n", "node.database"},
        BadConfig{"[node]\nstate = \"XA\"\npublic_url = \"ftp://x\"\n", "node.public_url"},
        BadConfig{"[node]\nstate = \"XA\"\n[federation]\nretry_initial_seconds = 60\n"
                  "retry_max_seconds = 10\n",
                  "must not exceed"},
        BadConfig{"[node]\nstate = \"XA\"\n[auth]\nmax_failures = 0\n", "auth.max_failures"},
        BadConfig{"[node\nstate = \"XA\"\n", "comity.toml:1:"}),
    CaseName);

TEST(ConfigTest, ListenAcceptsIpv6AndPortZero) {
  NodeConfig c;
  ASSERT_TRUE(ParseListen("[::1]:0", &c).ok());
  EXPECT_EQ(c.listen_host, "::1");
  EXPECT_EQ(c.listen_port, 0);
  EXPECT_EQ(c.PublicUrl(1234), "http://[::1]:1234");
  EXPECT_FALSE(ParseListen(":80", &c).ok());
  EXPECT_FALSE(ParseListen("[::1]80", &c).ok());
}

TEST(ConfigTest, WriteRefusesToOverwriteAndLoadReadsBack) {
  TempDir dir;
  NodeConfig c = DefaultConfig("XD", "east").value();
  const std::string path = dir / "comity.toml";
  ASSERT_TRUE(WriteConfig(path, c).ok());
  Status again = WriteConfig(path, c);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  auto loaded = LoadConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->origin, "comity/XD/east");
  EXPECT_EQ(LoadConfig(dir / "missing.toml").status().code(), StatusCode::kNotFound);
}

TEST(ConfigTest, OversizeFileIsRefused) {
  TempDir dir;
  const std::string path = dir / "big.toml";
  std::ofstream(path) << "[node]\nstate = \"XA\"\n" << std::string(kMaxConfigBytes, '#') << "\n";
  auto c = LoadConfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("larger than"), std::string::npos);
}

TEST(ConfigTest, DefaultConfigChecksItsArguments) {
  EXPECT_FALSE(DefaultConfig("X", "main").ok());
  EXPECT_FALSE(DefaultConfig("XA", "Main").ok());
  EXPECT_FALSE(DefaultConfig("XA", std::string(33, 'a')).ok());
}

}  // namespace
}  // namespace comity::node
