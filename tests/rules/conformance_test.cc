// Runs every treaty conformance case (tests/conformance/README.md) against the shipped rule
// base: outcome, required citations, cites_any, respond_by; and checks each decision against
// the decision schema.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/codec.h"
#include "core/time.h"
#include "rules/fixtures.h"
#include "rules/profiles.h"
#include "rules/rulebase.h"

namespace comity::rules {
namespace {

namespace fs = std::filesystem;

std::string ConformanceDir() {
  if (const char* env = std::getenv("COMITY_CONFORMANCE_DIR"); env != nullptr && *env) {
    return env;
  }
  fs::path shared = fs::path(COMITY_SOURCE_DIR).parent_path() / "shared" / "conformance";
  std::error_code ec;
  if (fs::is_directory(shared / "cases", ec)) return shared.string();
  return (fs::path(COMITY_SOURCE_DIR) / "tests" / "conformance").string();
}

std::vector<std::string> CaseFiles() {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(fs::path(ConformanceDir()) / "cases", ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Strings(const boost::json::object& o, const char* key) {
  std::vector<std::string> out;
  if (const boost::json::value* v = o.if_contains(key)) {
    for (const boost::json::value& s : v->as_array()) out.emplace_back(s.as_string());
  }
  return out;
}

bool Cites(const Decision& d, const std::string& cite) {
  size_t space = cite.find(' ');
  std::string instrument = cite.substr(0, space);
  int article = std::atoi(cite.c_str() + space + 1);
  for (const Finding& f : d.findings) {
    for (const Citation& c : f.citations) {
      if (c.instrument == instrument && c.article == article) return true;
    }
  }
  return false;
}

class ConformanceTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConformanceTest, Case) {
  StatusOr<boost::json::value> doc = ParseJson(ReadFile(GetParam()));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  const boost::json::object& c = doc->as_object();
  StatusOr<Request> request = RequestFromJson(c.at("request"));
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  ProfileDirectory profiles((fs::path(ConformanceDir()) / "profiles").string());
  StatusOr<const StateProfile*> requesting = profiles.Get(request->requesting_state);
  StatusOr<const StateProfile*> requested = profiles.Get(request->requested_state);
  ASSERT_TRUE(requesting.ok()) << requesting.status().ToString();
  ASSERT_TRUE(requested.ok()) << requested.status().ToString();
  Decision d = testing::ShippedRules().Screen(*request, **requesting, **requested);

  std::string explained;
  for (const Finding& f : d.findings) {
    explained += "  " + std::string(EnumName(f.effect)) + " " + f.rule + ": " + f.message + "\n";
  }
  const boost::json::object& expect = c.at("expect").as_object();
  std::vector<std::string> outcomes = Strings(expect, "outcome");
  EXPECT_NE(std::find(outcomes.begin(), outcomes.end(), EnumName(d.outcome)), outcomes.end())
      << c.at("name").as_string() << ": outcome " << EnumName(d.outcome) << "\n"
      << explained;
  for (const std::string& cite : Strings(expect, "cites")) {
    EXPECT_TRUE(Cites(d, cite)) << "missing citation " << cite << "\n" << explained;
  }
  std::vector<std::string> any = Strings(expect, "cites_any");
  if (!any.empty()) {
    EXPECT_TRUE(
        std::any_of(any.begin(), any.end(), [&](const std::string& s) { return Cites(d, s); }))
        << "none of cites_any\n"
        << explained;
  }
  if (const boost::json::value* rb = expect.if_contains("respond_by")) {
    StatusOr<Timestamp> want = ParseTimestamp(std::string(rb->as_string()));
    ASSERT_TRUE(want.ok());
    ASSERT_TRUE(d.respond_by.has_value());
    EXPECT_EQ(*d.respond_by, *want) << FormatTimestamp(*d.respond_by);
  }
  Status valid = ValidateAgainstSchema("comity.decision/v1", DecisionToJson(d));
  EXPECT_TRUE(valid.ok()) << valid.ToString();
}

std::string CaseName(const ::testing::TestParamInfo<std::string>& info) {
  std::string n = fs::path(info.param).stem().string();
  for (char& ch : n) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Cases, ConformanceTest, ::testing::ValuesIn(CaseFiles()), CaseName);

TEST(Conformance, CasesWereFound) {
  EXPECT_GE(CaseFiles().size(), 14u) << "no cases under " << ConformanceDir();
}

// The shipped profiles/ are valid and each file is named after its state.
TEST(Conformance, ShippedProfilesLoad) {
  std::error_code ec;
  size_t n = 0;
  ProfileDirectory dir((fs::path(COMITY_SOURCE_DIR) / "profiles").string());
  for (const auto& e : fs::directory_iterator(fs::path(COMITY_SOURCE_DIR) / "profiles", ec)) {
    if (e.path().extension() != ".json") continue;
    std::string stem = e.path().stem().string();
    ASSERT_EQ(stem.size(), 2u) << e.path();
    StatusOr<const StateProfile*> p = dir.Get(testing::Code(stem.c_str()));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    ++n;
  }
  EXPECT_GE(n, 6u);
}

TEST(ProfileDirectory, UnknownAndMismatchedStates) {
  fs::path dir = fs::temp_directory_path() / ("comity-profiles-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::copy_file(fs::path(COMITY_SOURCE_DIR) / "profiles" / "XA.json", dir / "XQ.json",
                fs::copy_options::overwrite_existing);
  std::ofstream(dir / "XR.json") << "{\"schema\": \"comity.state/v1\"}";
  ProfileDirectory profiles(dir.string());
  StatusOr<const StateProfile*> unknown = profiles.Get(testing::Code("XP"));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(),
            "unknown state XP: no profile " + (dir / "XP.json").string());
  StatusOr<const StateProfile*> mismatch = profiles.Get(testing::Code("XQ"));
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().message(), (dir / "XQ.json").string() +
                                             ": /code: the profile is for XA, not XQ as its file "
                                             "name says");
  StatusOr<const StateProfile*> invalid = profiles.Get(testing::Code("XR"));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(invalid.status().message().find((dir / "XR.json").string()), std::string::npos)
      << invalid.status().message();
  fs::remove_all(dir);
  // Cached: the answer does not change when the files are gone.
  EXPECT_FALSE(profiles.Get(testing::Code("XQ")).ok());
}

}  // namespace
}  // namespace comity::rules
