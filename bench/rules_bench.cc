// Benchmarks of the safeguards engine (make bench): evaluation of pre-parsed requests against
// the full shipped rule base, with and without rendering the explained decision.
//
// Requests come from the seeded generator of the property test in its two mixes: realistic
// (the distribution of bench/gen_requests, mostly complete requests) and adversarial (every
// field uniformly varied, problems everywhere); profiles are the shipped fictional states.
#include <benchmark/benchmark.h>

#include <boost/json/serialize.hpp>
#include <filesystem>

#include "core/codec.h"
#include "rules/generator.h"
#include "rules/lexicon.h"
#include "rules/profiles.h"
#include "rules/rulebase.h"

namespace comity::rules {
namespace {

struct Fixture {
  std::shared_ptr<const RuleBase> rules;
  ProfileDirectory profiles{(std::filesystem::path(COMITY_SOURCE_DIR) / "profiles").string()};
  struct Item {
    Request request;
    const StateProfile* requesting;
    const StateProfile* requested;
  };
  std::vector<Item> items;

  explicit Fixture(testing::RequestGenerator::Mix mix) {
    LoadResult r = RuleBase::LoadDirectory(std::string(COMITY_SOURCE_DIR) + "/rules");
    if (!r.ok()) {
      std::fprintf(stderr, "%s", r.ErrorText().c_str());
      std::abort();
    }
    rules = r.rulebase;
    testing::RequestGenerator gen(7, {"XA", "XB", "XC", "XD", "XF", "XZ"}, mix);
    for (int i = 0; i < 4096; ++i) {
      Request req = gen.Next();
      StatusOr<const StateProfile*> a = profiles.Get(req.requesting_state);
      StatusOr<const StateProfile*> b = profiles.Get(req.requested_state);
      if (!a.ok() || !b.ok()) std::abort();
      items.push_back(Item{std::move(req), *a, *b});
    }
  }
};

Fixture& F(testing::RequestGenerator::Mix mix = testing::RequestGenerator::Mix::kRealistic) {
  static Fixture realistic(testing::RequestGenerator::Mix::kRealistic);
  static Fixture adversarial(testing::RequestGenerator::Mix::kAdversarial);
  return mix == testing::RequestGenerator::Mix::kRealistic ? realistic : adversarial;
}

void EvaluateMix(benchmark::State& state, testing::RequestGenerator::Mix mix) {
  Fixture& f = F(mix);
  Evaluation ev;
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    const Fixture::Item& it = f.items[i++ & (f.items.size() - 1)];
    f.rules->Evaluate(it.request, *it.requesting, *it.requested, &ev);
    hits += ev.hits().size();
    benchmark::DoNotOptimize(ev.outcome());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["findings_per_request"] =
      static_cast<double>(hits) / static_cast<double>(state.iterations());
}
void BM_Evaluate(benchmark::State& state) {
  EvaluateMix(state, testing::RequestGenerator::Mix::kRealistic);
}
BENCHMARK(BM_Evaluate);
void BM_EvaluateAdversarial(benchmark::State& state) {
  EvaluateMix(state, testing::RequestGenerator::Mix::kAdversarial);
}
BENCHMARK(BM_EvaluateAdversarial);

void BM_EvaluateClean(benchmark::State& state) {
  Fixture& f = F();
  Evaluation ev;
  // The first generated request that proceeds: the common case of a well-formed request.
  const Fixture::Item* clean = nullptr;
  for (const auto& it : f.items) {
    f.rules->Evaluate(it.request, *it.requesting, *it.requested, &ev);
    if (ev.outcome() == Outcome::kProceed) {
      clean = &it;
      break;
    }
  }
  if (clean == nullptr) std::abort();
  for (auto _ : state) {
    f.rules->Evaluate(clean->request, *clean->requesting, *clean->requested, &ev);
    benchmark::DoNotOptimize(ev.outcome());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateClean);

void BM_EvaluateAndExplain(benchmark::State& state) {
  Fixture& f = F();
  Evaluation ev;
  Decision d;
  size_t i = 0;
  for (auto _ : state) {
    const Fixture::Item& it = f.items[i++ & (f.items.size() - 1)];
    f.rules->Evaluate(it.request, *it.requesting, *it.requested, &ev);
    // As `comity screen --batch` does: one Decision reused from request to request.
    f.rules->ToDecision(ev, it.request, *it.requesting, *it.requested, &d);
    benchmark::DoNotOptimize(d.findings.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EvaluateAndExplain);

// The other stages of `comity screen --batch`, for the breakdown of the end-to-end figure:
// parsing and validating a request (core codec) and serializing its decision.
void BM_ParseRequest(benchmark::State& state) {
  Fixture& f = F();
  std::vector<std::string> lines;
  for (size_t i = 0; i < 1024; ++i) {
    lines.push_back(boost::json::serialize(RequestToJson(f.items[i].request)));
  }
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& line = lines[i++ & 1023];
    StatusOr<Request> r = ParseRequest(line);
    bytes += line.size();
    benchmark::DoNotOptimize(r.ok());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_ParseRequest);

void BM_SerializeDecision(benchmark::State& state) {
  Fixture& f = F();
  std::vector<Decision> decisions;
  for (size_t i = 0; i < 1024; ++i) {
    const Fixture::Item& it = f.items[i];
    decisions.push_back(f.rules->Screen(it.request, *it.requesting, *it.requested));
  }
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    std::string s = SerializeDecision(decisions[i++ & 1023]);
    bytes += s.size();
    benchmark::DoNotOptimize(s.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}
BENCHMARK(BM_SerializeDecision);

void BM_LexiconScan(benchmark::State& state) {
  std::vector<RuleError> errors;
  std::string text =
      "Public dissemination, under the guise of reliable reports, of deliberately misleading "
      "statements concerning the use of the armed forces, committed by a person using his "
      "official position, by a group of persons, with artificial creation of evidence.";
  std::optional<Lexicon> lex =
      Lexicon::Parse("en: nothing that matches\nru: фейк*\nfr: fausses nouvelles\n", "l", &errors);
  for (auto _ : state) benchmark::DoNotOptimize(lex->Matches(text));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_LexiconScan);

}  // namespace
}  // namespace comity::rules

BENCHMARK_MAIN();
