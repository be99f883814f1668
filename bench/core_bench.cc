// Benchmarks of the core JSON layer on the hot path of `comity screen --batch`: parse +
// validate + convert a request, and serialise a decision. Targets (one core): a typical 1-2.5 KB
// request in <= 3 us, a decision in <= 1 us.
//
//   build/bin/bench_core --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/canonical_json.h"
#include "core/codec.h"
#include "core/internal/json_parse.h"

namespace comity {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A conformance request, compact (as one line of a --batch file).
std::string CompactRequest() {
  std::string text = ReadFile(std::string(COMITY_SOURCE_DIR) +
                              "/tests/core/testdata/cases/journalist-target.json");
  return boost::json::serialize(boost::json::parse(text).as_object().at("request"));
}

// The same request indented two spaces per level, as the conformance files are.
std::string PrettyRequest() {
  std::string compact = CompactRequest();
  std::string out;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < compact.size(); ++i) {
    char c = compact[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\') {
        out.push_back(compact[++i]);
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        out.push_back(c);
        break;
      case '{':
      case '[':
        out.push_back(c);
        out.push_back('\n');
        out.append(static_cast<size_t>(2 * ++depth), ' ');
        break;
      case '}':
      case ']':
        out.push_back('\n');
        out.append(static_cast<size_t>(2 * --depth), ' ');
        out.push_back(c);
        break;
      case ',':
        out.append(",\n");
        out.append(static_cast<size_t>(2 * depth), ' ');
        break;
      case ':':
        out += ": ";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void ParseRequestBench(benchmark::State& state, const std::string& text) {
  if (!ParseRequest(text).ok()) {
    state.SkipWithError("the benchmark request does not parse");
    return;
  }
  for (auto _ : state) {
    auto r = ParseRequest(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(text.size());
}

void BM_ParseRequestCompact(benchmark::State& state) { ParseRequestBench(state, CompactRequest()); }
BENCHMARK(BM_ParseRequestCompact);

void BM_ParseRequestPretty(benchmark::State& state) { ParseRequestBench(state, PrettyRequest()); }
BENCHMARK(BM_ParseRequestPretty);

// The parts of ParseRequest, to see where the time goes.
void BM_ParseJsonOnly(benchmark::State& state) {
  std::string text = CompactRequest();
  for (auto _ : state) {
    auto v = ParseJson(text);
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseJsonOnly);

// The tokenizer and DOM alone, into an arena as ParseRequest does.
void BM_ParseJsonArena(benchmark::State& state) {
  std::string text = CompactRequest();
  core_internal::JsonParser parser;
  std::vector<unsigned char> buffer(64 * 1024);
  for (auto _ : state) {
    boost::json::monotonic_resource mr(buffer.data(), buffer.size());
    auto v = parser.Parse(text, boost::json::storage_ptr(&mr));
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseJsonArena);

// Boost.JSON's own parser, for comparison.
void BM_BoostParserArena(benchmark::State& state) {
  std::string text = CompactRequest();
  boost::json::parser parser;
  std::vector<unsigned char> buffer(64 * 1024);
  for (auto _ : state) {
    boost::json::monotonic_resource mr(buffer.data(), buffer.size());
    parser.reset(&mr);
    boost::json::error_code ec;
    parser.write(text, ec);
    auto v = parser.release();
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BoostParserArena);

void BM_ValidateOnly(benchmark::State& state) {
  boost::json::value v = *ParseJson(CompactRequest());
  for (auto _ : state) {
    Status s = ValidateAgainstSchema("comity.request/v1", v);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ValidateOnly);

void BM_RequestFromJson(benchmark::State& state) {
  boost::json::value v = *ParseJson(CompactRequest());
  for (auto _ : state) {
    auto r = RequestFromJson(v);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RequestFromJson);

void BM_InvalidRequest(benchmark::State& state) {
  std::string text = CompactRequest();
  text.replace(text.find("\"routine\""), 9, "\"soon\"");
  for (auto _ : state) {
    auto r = ParseRequest(text);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InvalidRequest);

// A decision as the rule base produces it for a request with several findings.
Decision TypicalDecision() {
  Decision d;
  d.request_id = "REQ-2026-000123";
  d.outcome = Outcome::kRefuse;
  d.findings.push_back(
      {"uncc.intercept.serious-offence",
       Effect::kRefuse,
       {{"UNCC", 46, std::nullopt}, {"UNCC", 30, std::nullopt}},
       "Interception of content is available here only for offences punished with at least 4 "
       "years; computer_fraud carries 3 under the Republic of Arcadia's law.",
       {"/offences/0/max_penalty_years", "/measures/0/type"}});
  d.findings.push_back({"uncc.protected-status.review",
                        Effect::kReview,
                        {{"UNCC", 6, std::nullopt}, {"UNCC", 40, "8"}},
                        "A person concerned is a journalist: a reviewer must look at the request "
                        "before it is executed.",
                        {"/persons/0/status"}});
  d.findings.push_back({"uncc.use-limitation",
                        Effect::kCondition,
                        {{"UNCC", 48, std::nullopt}},
                        "The evidence may be used only for the proceedings named in the request.",
                        {}});
  d.conditions.push_back({"use-limitation",
                          "Use only for the proceedings named in the request.",
                          {{"UNCC", 48, std::nullopt}}});
  d.respond_by = Timestamp{1796288400, 0};
  d.rulebase = {"2026.11.0",
                "sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"};
  return d;
}

void BM_SerializeDecision(benchmark::State& state) {
  Decision d = TypicalDecision();
  size_t bytes = 0;
  for (auto _ : state) {
    std::string s = SerializeDecision(d);
    bytes = s.size();
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SerializeDecision);

void BM_DecisionToJsonAndSerialize(benchmark::State& state) {
  Decision d = TypicalDecision();
  for (auto _ : state) {
    std::string s = boost::json::serialize(DecisionToJson(d));
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecisionToJsonAndSerialize);

void BM_CanonicalJsonRequest(benchmark::State& state) {
  boost::json::value v = *ParseJson(CompactRequest());
  for (auto _ : state) {
    auto s = CanonicalJson(v);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CanonicalJsonRequest);

}  // namespace
}  // namespace comity

BENCHMARK_MAIN();
