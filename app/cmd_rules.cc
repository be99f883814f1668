// `comity rules check|list|explain`: validate and read the rule base.
//
//   comity rules check [DIR]          exit 0 and a summary, or file:line:column errors, exit 2
//   comity rules list [--json]        id, effect, citations of every rule
//   comity rules explain ID           the rule's text, citations and what it means
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "app/command.h"
#include "rules/rulebase.h"
#include "rules/text.h"

namespace comity::app {
namespace {

std::string DefaultRules() { return (std::filesystem::path(DataHome()) / "rules").string(); }

// Loads DIR or prints its errors ("DIR/file:line:column: message") and returns null.
std::shared_ptr<const rules::RuleBase> LoadOrReport(const std::string& dir) {
  rules::LoadResult r = rules::RuleBase::LoadDirectory(dir);
  if (r.ok()) return r.rulebase;
  for (const rules::RuleError& e : r.errors) {
    rules::RuleError shown = e;
    if (e.line > 0) shown.file = (std::filesystem::path(dir) / e.file).generic_string();
    std::fprintf(stderr, "%s\n", shown.ToString().c_str());
  }
  std::fprintf(stderr, "comity: the rule base in %s has %zu error%s and was not loaded\n",
               dir.c_str(), r.errors.size(), r.errors.size() == 1 ? "" : "s");
  return nullptr;
}

std::string Citations(const std::vector<Citation>& cs) {
  std::string out;
  for (const Citation& c : cs) out += (out.empty() ? "" : ", ") + rules::CitationText(c);
  return out;
}

int Check(const std::string& dir) {
  auto rb = LoadOrReport(dir);
  if (!rb) return 2;
  std::set<std::string> files;
  for (const rules::RuleInfo& r : rb->rules()) files.insert(r.file);
  std::printf("%s: %zu rules in %zu files, %zu named sets and lexicons; version %s, %s\n",
              dir.c_str(), rb->rules().size(), files.size(), rb->Names().size(),
              rb->id().version.c_str(), rb->id().digest.c_str());
  return 0;
}

int List(const std::string& dir, bool as_json) {
  auto rb = LoadOrReport(dir);
  if (!rb) return 2;
  if (as_json) {
    boost::json::array rules;
    for (const rules::RuleInfo& r : rb->rules()) {
      boost::json::object o;
      o["id"] = r.id;
      o["effect"] = r.effect;
      if (!r.condition_code.empty()) o["condition"] = r.condition_code;
      boost::json::array cites;
      for (const Citation& c : r.citations) {
        boost::json::object co;
        co["instrument"] = c.instrument;
        co["article"] = c.article;
        if (c.paragraph) co["paragraph"] = *c.paragraph;
        cites.push_back(std::move(co));
      }
      o["citations"] = std::move(cites);
      o["file"] = r.file;
      o["line"] = r.line;
      rules.push_back(std::move(o));
    }
    boost::json::object doc;
    doc["version"] = rb->id().version;
    doc["digest"] = rb->id().digest;
    doc["rules"] = std::move(rules);
    std::printf("%s\n", boost::json::serialize(doc).c_str());
    return 0;
  }
  size_t width = 0;
  for (const rules::RuleInfo& r : rb->rules()) width = std::max(width, r.id.size());
  for (const rules::RuleInfo& r : rb->rules()) {
    std::string effect = r.effect.find('.') != std::string::npos ? "(policy)" : r.effect;
    std::printf("%-*s  %-10s  %s\n", static_cast<int>(width), r.id.c_str(), effect.c_str(),
                Citations(r.citations).c_str());
  }
  return 0;
}

std::string_view EffectMeaning(const std::string& effect) {
  if (effect == "refuse") return "the engine recommends refusing the request";
  if (effect == "incomplete") return "the request goes back for the missing information";
  if (effect == "review") return "a person must review the request before it is executed";
  if (effect == "condition") return "execution is subject to the condition stated";
  if (effect == "note") return "recorded for the reviewer; it does not change the outcome";
  return "taken from the requested state's profile";
}

int Explain(const std::string& dir, const std::string& id) {
  auto rb = LoadOrReport(dir);
  if (!rb) return 2;
  const rules::RuleInfo* r = rb->FindRule(id);
  if (!r) {
    std::fprintf(stderr, "comity: unknown rule '%s'; `comity rules list` shows the ids\n",
                 id.c_str());
    return 2;
  }
  std::printf("%s  (%s:%d)\n\n", r->id.c_str(), r->file.c_str(), r->line);
  std::printf("Effect:    %s: %s\n", r->effect.c_str(),
              std::string(EffectMeaning(r->effect)).c_str());
  if (!r->condition_code.empty()) std::printf("Condition: %s\n", r->condition_code.c_str());
  std::printf("Cites:     %s\n", Citations(r->citations).c_str());
  std::string scope = "once per request";
  if (!r->loops.empty()) {
    scope = "once for each ";
    for (size_t i = 0; i < r->loops.size(); ++i) {
      scope += (i > 0 ? " and each " : "") + r->loops[i];
    }
    scope += " of the request";
  }
  std::printf("Checked:   %s; every binding that matches is a finding\n", scope.c_str());
  if (!r->because.empty()) std::printf("\nWhy: %s\n", r->because.c_str());
  std::printf("\nAs written:\n\n%s", r->source.c_str());
  return 0;
}

// Option values live for the whole run (the parser writes them, the callbacks read them).
struct RulesOptions {
  std::string check_dir, list_dir, explain_dir, explain_id;
  bool list_json = false;
};
RulesOptions& Opts() {
  static RulesOptions o;
  return o;
}

Registrar reg("rules", [](CLI::App& app, Context& ctx) {
  RulesOptions& o = Opts();
  auto* rules = app.add_subcommand("rules", "Check, list and explain the rule base");
  rules->require_subcommand(1);

  auto* check = rules->add_subcommand(
      "check", "Validate a rule base; print file:line:column errors (exit 2) or a summary");
  check->add_option("DIR", o.check_dir, "Rule base directory (default: the shipped rules/)");
  check->callback(
      [&ctx, &o] { ctx.exit_code = Check(o.check_dir.empty() ? DefaultRules() : o.check_dir); });

  auto* list = rules->add_subcommand("list", "List the rules: id, effect, citations");
  list->add_option("--rules", o.list_dir, "Rule base directory (default: the shipped rules/)");
  list->add_flag("--json", o.list_json, "Print JSON instead of a table");
  list->callback([&ctx, &o] {
    ctx.exit_code = List(o.list_dir.empty() ? DefaultRules() : o.list_dir, o.list_json);
  });

  auto* explain = rules->add_subcommand("explain", "Show a rule, its citations and its meaning");
  explain->add_option("ID", o.explain_id, "Rule id, e.g. uncc.intercept.serious-offence")
      ->required();
  explain->add_option("--rules", o.explain_dir,
                      "Rule base directory (default: the shipped rules/)");
  explain->callback([&ctx, &o] {
    ctx.exit_code = Explain(o.explain_dir.empty() ? DefaultRules() : o.explain_dir, o.explain_id);
  });
});

}  // namespace
}  // namespace comity::app
