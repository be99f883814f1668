// `comity screen --batch` gives, line for line, exactly what `comity screen REQUEST.json` prints
// for each request on its own. The batch writes decisions with its own fast path (direct JSON,
// reused buffers, in-place lines); one request goes through the Decision model and the codec's
// serialiser. Runs the built binary (COMITY_BINARY_DIR/bin/comity) a few hundred times.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/codec.h"
#include "rules/generator.h"

namespace comity {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// JSON text with a space after every ':' and ',' outside strings (as a person might write it).
std::string Spaced(const std::string& json) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    out.push_back(c);
    if (in_string) {
      if (c == '\\') {
        out.push_back(json[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == ':' || c == ',') {
      out.push_back(' ');
    }
  }
  return out;
}

class BatchCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("comity-batch-cli-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int Shell(const std::string& script) {
    std::string cmd = "cd '" + dir_.string() + "' && COMITY_HOME='" + COMITY_SOURCE_DIR + "' " +
                      "COMITY='" + std::string(COMITY_BINARY_DIR) + "/bin/comity' sh -c '" +
                      script + "'";
    int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  fs::path dir_;
};

TEST_F(BatchCliTest, BatchEqualsEachRequestScreenedAlone) {
  const std::vector<std::string> states = {"XA", "XB", "XC", "XD", "XF", "XZ"};
  std::vector<std::string> lines;
  for (auto mix : {rules::testing::RequestGenerator::Mix::kRealistic,
                   rules::testing::RequestGenerator::Mix::kAdversarial}) {
    rules::testing::RequestGenerator gen(2026, states, mix);
    for (int i = 0; i < 150; ++i) {
      boost::json::value json = RequestToJson(gen.Next());
      if (i % 10 == 3) json.as_object()["facts"] = "Quoted \"facts\" \\ with\ta tab, \u00e9 \u20ac";
      std::string text = boost::json::serialize(json);
      lines.push_back(i % 7 == 5 ? Spaced(text) : text);
    }
  }
  // Lines that are not valid requests: each is an error line in the batch, exit 2 alone.
  const std::vector<size_t> invalid = {0, 17, 150, 299};
  lines[0] = "{not json";
  lines[17].insert(1, "\"extra\":1,");
  lines[150] = lines[150].substr(0, lines[150].size() / 2);
  lines[299].replace(lines[299].find("\"urgency\":"), 10, "\"urgency\":\"soon\",\"x\":");

  std::string batch;
  for (size_t i = 0; i < lines.size(); ++i) {
    batch += lines[i] + "\n";
    std::ofstream(dir_ / ("req" + std::to_string(i) + ".json"), std::ios::binary) << lines[i];
  }
  std::ofstream(dir_ / "batch.jsonl", std::ios::binary) << batch;

  ASSERT_EQ(Shell("\"$COMITY\" screen --batch batch.jsonl > batch.out"), 0);
  ASSERT_EQ(Shell("i=0; while [ $i -lt " + std::to_string(lines.size()) +
                  " ]; do \"$COMITY\" screen req$i.json > out$i 2> err$i; echo $? > rc$i; "
                  "i=$((i + 1)); done"),
            0);

  std::vector<std::string> out;
  std::stringstream ss(Slurp(dir_ / "batch.out"));
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  ASSERT_EQ(out.size(), lines.size());
  size_t decisions = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE("line " + std::to_string(i + 1) + ": " + lines[i].substr(0, 100));
    std::string alone = Slurp(dir_ / ("out" + std::to_string(i)));
    std::string rc = Slurp(dir_ / ("rc" + std::to_string(i)));
    if (std::find(invalid.begin(), invalid.end(), i) != invalid.end()) {
      EXPECT_EQ(rc, "2\n") << Slurp(dir_ / ("err" + std::to_string(i)));
      EXPECT_EQ(alone, "");
      EXPECT_EQ(out[i].rfind("{\"error\":{\"code\":\"invalid_argument\",\"message\":", 0), 0u)
          << out[i];
      continue;
    }
    ASSERT_EQ(rc, "0\n") << Slurp(dir_ / ("err" + std::to_string(i)));
    EXPECT_EQ(out[i] + "\n", alone);
    ++decisions;
  }
  EXPECT_EQ(decisions, lines.size() - invalid.size());
}

}  // namespace
}  // namespace comity
