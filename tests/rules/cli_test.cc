// `comity screen` and `comity rules` end to end: the built binary (COMITY_BINARY_DIR/bin/comity)
// run as a person or a script would, checking exit codes, stdout and stderr.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace comity {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct Result {
  int exit = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("comity-cli-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs `comity ARGS` (with stdin from `input` when given) in the temp directory.
  Result Run(const std::string& args, const std::string& input = "") {
    std::string bin = std::string(COMITY_BINARY_DIR) + "/bin/comity";
    fs::path in = dir_ / "stdin", out = dir_ / "stdout", err = dir_ / "stderr";
    std::ofstream(in) << input;
    std::string cmd = "cd '" + dir_.string() + "' && COMITY_HOME='" + COMITY_SOURCE_DIR + "' '" +
                      bin + "' " + args + " <'" + in.string() + "' >'" + out.string() + "' 2>'" +
                      err.string() + "'";
    int status = std::system(cmd.c_str());
    Result r;
    r.exit = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(out);
    r.err = Slurp(err);
    return r;
  }

  // The request of a public conformance case (tests/conformance), as compact JSON.
  static boost::json::object CaseRequest(const std::string& name) {
    std::string text =
        Slurp(fs::path(COMITY_SOURCE_DIR) / "tests" / "conformance" / "cases" / (name + ".json"));
    return boost::json::parse(text).as_object().at("request").as_object();
  }
  void Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
  }
  void WriteRequest(const std::string& name, const boost::json::object& req) {
    Write(name, boost::json::serialize(req));
  }

  fs::path dir_;
};

TEST_F(CliTest, ScreensARequestToJson) {
  WriteRequest("r.json", CaseRequest("intercept-below-requested-threshold"));
  Result r = Run("screen r.json");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_EQ(r.err, "");
  boost::json::object d = boost::json::parse(r.out).as_object();
  EXPECT_EQ(d.at("schema").as_string(), "comity.decision/v1");
  EXPECT_EQ(d.at("outcome").as_string(), "refuse");
  EXPECT_EQ(d.at("respond_by").as_string(), "2026-12-02T09:00:00Z");
  EXPECT_EQ(d.at("findings").as_array()[0].at("rule").as_string(),
            "uncc.intercept.serious-offence");
  EXPECT_THAT(std::string(d.at("rulebase").at("digest").as_string()), StartsWith("sha256:"));
}

TEST_F(CliTest, ExplicitProfilesAndRules) {
  WriteRequest("r.json", CaseRequest("clean-production"));
  Result r = Run("screen --profiles '" + std::string(COMITY_SOURCE_DIR) +
                 "/tests/conformance/profiles' --rules '" + COMITY_SOURCE_DIR + "/rules' r.json");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"outcome\":\"proceed\""));
}

TEST_F(CliTest, TextFormatExplains) {
  WriteRequest("r.json", CaseRequest("speech-offence-refused"));
  Result r = Run("screen --format text r.json");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("Request REQ-1: from Ferranian Republic (XF) to Republic of "
                                "Arcadia (XA)\nOutcome: REFUSE"));
  EXPECT_THAT(r.out, HasSubstr("REFUSE  uncc.rights.speech-offence  [UNCC 6]"));
  EXPECT_THAT(r.out, HasSubstr("REVIEW  uncc.rights.enhanced-scrutiny  [UNCC 40]"));
  EXPECT_THAT(r.out, HasSubstr("Conditions on execution:\n  - use-limitation  [UNCC 40]"));
  EXPECT_THAT(r.out, HasSubstr("Respond by: 2026-12-02T09:00:00Z"));
  Result bad = Run("screen --format yaml r.json");
  EXPECT_EQ(bad.exit, 2);
  EXPECT_EQ(bad.err, "comity: --format must be json or text, not 'yaml'\n");
}

TEST_F(CliTest, MalformedJsonIsInvalidInput) {
  Write("r.json", "{\"schema\": \"comity.request/v1\",\n");
  Result r = Run("screen r.json");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("comity: r.json: malformed JSON at line 2"));
}

TEST_F(CliTest, SchemaViolationNamesThePointer) {
  boost::json::object req = CaseRequest("clean-production");
  req["measures"].as_array()[0].as_object()["duration_days"] = "30";
  WriteRequest("r.json", req);
  Result r = Run("screen r.json");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.err,
            "comity: r.json: /measures/0/duration_days: expected an integer, got a "
            "string\n");
}

TEST_F(CliTest, UnknownStateIsInvalidInput) {
  boost::json::object req = CaseRequest("clean-production");
  req["requested_state"] = "XQ";
  WriteRequest("r.json", req);
  Result r = Run("screen --profiles '" + std::string(COMITY_SOURCE_DIR) + "/profiles' r.json");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.err, "comity: r.json: /requested_state: unknown state XQ: no profile " +
                       std::string(COMITY_SOURCE_DIR) + "/profiles/XQ.json\n");
}

TEST_F(CliTest, InvalidProfileNamesTheFile) {
  fs::create_directories(dir_ / "p");
  fs::copy_file(fs::path(COMITY_SOURCE_DIR) / "profiles" / "XB.json", dir_ / "p" / "XB.json");
  Write("p/XA.json", "{\"schema\": \"comity.state/v1\", \"code\": \"XA\"}");
  WriteRequest("r.json", CaseRequest("clean-production"));
  Result r = Run("screen --profiles p r.json");
  EXPECT_EQ(r.exit, 2);
  EXPECT_THAT(r.err, StartsWith("comity: r.json: /requested_state: p/XA.json: "));
  // A profile whose code is not its file name.
  fs::copy_file(fs::path(COMITY_SOURCE_DIR) / "profiles" / "XB.json", dir_ / "p" / "XA.json",
                fs::copy_options::overwrite_existing);
  r = Run("screen --profiles p r.json");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.err,
            "comity: r.json: /requested_state: p/XA.json: /code: the profile is for XB, "
            "not XA as its file name says\n");
}

TEST_F(CliTest, MissingAndOversizedRequestFiles) {
  Result r = Run("screen nope.json");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.err, "comity: nope.json: cannot open: No such file or directory\n");
  Write("big.json", std::string((1 << 20) + 1, ' '));
  r = Run("screen big.json");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.err, "comity: big.json: larger than 1048576 bytes\n");
  r = Run("screen");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.err, "comity: give either a REQUEST.json or --batch FILE.jsonl\n");
}

TEST_F(CliTest, BrokenRuleBaseScreensNothing) {
  fs::create_directories(dir_ / "rules");
  Write("rules/a.rules",
        "version \"x\"\nrule a.b\n  cites UNCC 40\n  when request.fact is blank\n"
        "  then incomplete \"x\"\n");
  WriteRequest("r.json", CaseRequest("clean-production"));
  Result r = Run("screen --rules rules r.json");
  EXPECT_EQ(r.exit, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "rules/a.rules:4:16: unknown field request.fact; did you mean request.facts?\n"
            "comity: the rule base in rules has errors; nothing was screened\n");
}

TEST_F(CliTest, BatchKeepsOrderAndGoesOnAfterABadLine) {
  std::string good1 = boost::json::serialize(CaseRequest("clean-production"));
  std::string good2 = boost::json::serialize(CaseRequest("bulk-request"));
  boost::json::object unknown = CaseRequest("clean-production");
  unknown["requesting_state"] = "XQ";
  Write("batch.jsonl", good1 + "\n{not json\n" + good2 + "\n\n" + boost::json::serialize(unknown) +
                           "\r\n" + good1);
  Result r = Run("screen --batch batch.jsonl");
  ASSERT_EQ(r.exit, 0) << r.err;
  std::vector<std::string> lines;
  std::stringstream ss(r.out);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 6u) << r.out;
  EXPECT_EQ(boost::json::parse(lines[0]).at("outcome").as_string(), "proceed");
  boost::json::object e = boost::json::parse(lines[1]).at("error").as_object();
  EXPECT_EQ(e.at("code").as_string(), "invalid_argument");
  EXPECT_THAT(std::string(e.at("message").as_string()), StartsWith("malformed JSON"));
  EXPECT_EQ(boost::json::parse(lines[2]).at("outcome").as_string(), "refuse");
  EXPECT_EQ(lines[3],
            "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"line 4: empty line\"}}");
  boost::json::object u = boost::json::parse(lines[4]).at("error").as_object();
  EXPECT_EQ(u.at("pointer").as_string(), "/requesting_state");
  EXPECT_THAT(std::string(u.at("message").as_string()), HasSubstr("unknown state XQ"));
  EXPECT_EQ(lines[5], lines[0]);
  // The same through stdin.
  Result s = Run("screen --batch -", Slurp(dir_ / "batch.jsonl"));
  EXPECT_EQ(s.exit, 0);
  EXPECT_EQ(s.out, r.out);
}

TEST_F(CliTest, BatchSkipsAnOversizedLine) {
  std::string good = boost::json::serialize(CaseRequest("clean-production"));
  Write("batch.jsonl", good + "\n" + std::string((1 << 20) + 10, 'x') + "\n" + good + "\n");
  Result r = Run("screen --batch batch.jsonl");
  ASSERT_EQ(r.exit, 0) << r.err;
  std::vector<std::string> lines;
  std::stringstream ss(r.out);
  for (std::string l; std::getline(ss, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1],
            "{\"error\":{\"code\":\"resource_exhausted\",\"message\":\"line 2: larger than "
            "1048576 bytes\"}}");
  EXPECT_EQ(lines[2], lines[0]);
}

TEST_F(CliTest, RulesCheck) {
  Result r = Run("rules check");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(": 37 rules in 6 files"));
  EXPECT_THAT(r.out, HasSubstr("sha256:"));
  fs::create_directories(dir_ / "bad");
  Write("bad/x.rules",
        "version \"1\"\nrule x.y\n  cites UNCC 70\n  when true\n  then note \"n\"\n");
  r = Run("rules check bad");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.err,
            "bad/x.rules:3:9: UNCC has articles 1 to 68, not 70\n"
            "comity: the rule base in bad has 1 error and was not loaded\n");
  r = Run("rules check nowhere");
  EXPECT_EQ(r.exit, 2);
  EXPECT_EQ(r.err,
            "nowhere: not a directory\ncomity: the rule base in nowhere has 1 error and was not "
            "loaded\n");
}

TEST_F(CliTest, RulesListAndExplain) {
  Result r = Run("rules list");
  ASSERT_EQ(r.exit, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("uncc.intercept.serious-offence"));
  EXPECT_THAT(r.out, HasSubstr("UNCC 35(1)(c), UNCC 2(h)"));
  Result j = Run("rules list --json");
  ASSERT_EQ(j.exit, 0);
  boost::json::object doc = boost::json::parse(j.out).as_object();
  EXPECT_EQ(doc.at("rules").as_array().size(), 37u);
  EXPECT_EQ(doc.at("rules").as_array()[0].at("citations").as_array()[0].at("instrument"), "UNCC");
  Result e = Run("rules explain uncc.rights.refugee");
  ASSERT_EQ(e.exit, 0);
  EXPECT_THAT(e.out, StartsWith("uncc.rights.refugee  (human-rights.rules:"));
  EXPECT_THAT(e.out, HasSubstr("Effect:    refuse: the engine recommends refusing the request"));
  EXPECT_THAT(e.out, HasSubstr("Cites:     UNCC 40"));
  EXPECT_THAT(e.out, HasSubstr("Checked:   once for each person of the request"));
  EXPECT_THAT(e.out, HasSubstr("rule uncc.rights.refugee"));
  Result u = Run("rules explain no.such");
  EXPECT_EQ(u.exit, 2);
  EXPECT_EQ(u.err, "comity: unknown rule 'no.such'; `comity rules list` shows the ids\n");
}

}  // namespace
}  // namespace comity
