// Decisions written as JSON straight from an Evaluation (RuleBase::AppendDecisionJson), without
// building a Decision: the hot path of `comity screen --batch`.
//
// The bytes must be exactly those of AppendDecision(ToDecision(...)) in core/codec.cc; the
// rules tests compare both on generated and conformance requests. What makes it fast: every
// constant part of a finding (rule id, effect key, citations, the literal text of its message,
// its pointer patterns) is escaped and rendered once, at load time, by PrepareDecisionJson; per
// request only the values interpolated in messages, the bound indices of pointers, the request
// id and the answer deadline are written.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "core/codec.h"
#include "rules/program.h"
#include "rules/rulebase.h"

namespace comity::rules {
namespace {

std::string CitationsJson(const std::vector<Citation>& cs) {
  // Through the model's own serialiser, so that both paths share one rendering of citations.
  Decision d;
  d.findings.emplace_back();
  d.findings[0].citations = cs;
  std::string text = SerializeDecision(d);
  std::string_view key = "\"citations\":";
  size_t start = text.find(key) + key.size();
  size_t end = text.find(",\"message\":", start);
  return text.substr(start, end - start);
}

std::vector<PointerPiece> SplitPointer(std::string_view pattern) {
  std::vector<PointerPiece> pieces(1);
  std::string literal;
  size_t i = 0;
  while (i < pattern.size()) {
    size_t open = pattern.find('{', i);
    size_t close = open == std::string_view::npos ? open : pattern.find('}', open);
    if (close == std::string_view::npos) {
      literal.append(pattern.substr(i));
      break;
    }
    literal.append(pattern.substr(i, open - i));
    std::optional<Var> v = ParseVar(pattern.substr(open + 1, close - open - 1));
    if (v) {
      AppendJsonStringContent(&pieces.back().json, literal);
      literal.clear();
      pieces.back().var = static_cast<int8_t>(*v);
      pieces.emplace_back();
    } else {
      literal.append("-1");  // as ToDecision renders a name that is not a variable
    }
    i = close + 1;
  }
  AppendJsonStringContent(&pieces.back().json, literal);
  return pieces;
}

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(r.ptr - buf));
}

// A value shown in a message, escaped for a JSON string. Strings (the request's own text) are
// escaped straight from the request; enum names and integral numbers are plain ASCII letters,
// digits, spaces and '-', which need no escaping; everything else goes through AppendValue.
void AppendValueJson(std::string* out, Type t, const Value& v, std::string* scratch) {
  if (v.present) {
    switch (t.kind) {
      case Kind::kString:
        AppendJsonStringContent(out, v.str());
        return;
      case Kind::kEnum:
        AppendValue(out, t, v);
        return;
      case Kind::kNumber:
        if (std::isfinite(v.num) && v.num == std::floor(v.num) && std::fabs(v.num) < 1e15) {
          AppendValue(out, t, v);
          return;
        }
        break;
      default:
        break;
    }
  }
  scratch->clear();
  AppendValue(scratch, t, v);
  AppendJsonStringContent(out, *scratch);
}

// A condition already written: its code and where its message's JSON text lies in `out`.
struct WrittenCondition {
  const CompiledRule* rule;
  size_t begin, end;
};

}  // namespace

void PrepareDecisionJson(Program* program) {
  for (CompiledRule& rule : program->rules) {
    rule.json_rule = "{\"rule\":";
    AppendJsonString(&rule.json_rule, rule.id);
    rule.json_rule += ",\"effect\":\"";
    std::string citations = CitationsJson(rule.citations);
    rule.json_citations = "\",\"citations\":" + citations + ",\"message\":\"";
    for (MessagePiece& piece : rule.message) {
      piece.json.clear();
      if (piece.node < 0) AppendJsonStringContent(&piece.json, piece.text);
    }
    rule.json_pointers.clear();
    for (const FieldDef* f : rule.pointers) rule.json_pointers.push_back(SplitPointer(f->pointer));
    rule.json_condition = "{\"code\":";
    AppendJsonString(&rule.json_condition, rule.condition_code);
    rule.json_condition += ",\"text\":\"";
    rule.json_condition_citations =
        rule.citations.empty() ? "\"}" : "\",\"citations\":" + citations + "}";
  }
}

void RuleBase::AppendDecisionJson(const Evaluation& evaluation, const Request& request,
                                  const StateProfile& requesting, const StateProfile& requested,
                                  std::string* out) const {
  const Program& p = *program_;
  out->append("{\"schema\":\"comity.decision/v1\"");
  if (request.id) {
    out->append(",\"request_id\":");
    AppendJsonString(out, *request.id);
  }
  out->append(",\"outcome\":\"");
  out->append(EnumName(evaluation.outcome()));
  out->append("\",\"findings\":[");

  Env env;
  env.request = &request;
  env.requesting = &requesting;
  env.requested = &requested;
  std::string scratch;
  // Conditions are few (one per code); a rule base with more than fit here spills to the heap.
  std::array<WrittenCondition, 32> fixed;
  std::vector<WrittenCondition> spilled;
  size_t conditions = 0;
  auto condition = [&](size_t i) -> WrittenCondition& {
    return i < fixed.size() ? fixed[i] : spilled[i - fixed.size()];
  };

  const std::vector<Hit>& hits = evaluation.hits();
  for (size_t k = 0; k < hits.size(); ++k) {
    const Hit& h = hits[k];
    const CompiledRule& rule = p.rules[h.rule];
    env.idx = h.idx;
    if (k > 0) out->push_back(',');
    out->append(rule.json_rule);
    out->append(EnumName(h.effect));
    out->append(rule.json_citations);
    const size_t message_begin = out->size();
    for (const MessagePiece& piece : rule.message) {
      if (piece.node < 0) {
        out->append(piece.json);
      } else {
        AppendValueJson(out, p.nodes[piece.node].type, p.Eval(piece.node, env), &scratch);
      }
    }
    const size_t message_end = out->size();
    out->push_back('"');
    if (!rule.json_pointers.empty()) {
      out->append(",\"pointers\":[");
      for (size_t i = 0; i < rule.json_pointers.size(); ++i) {
        if (i > 0) out->push_back(',');
        out->push_back('"');
        for (const PointerPiece& piece : rule.json_pointers[i]) {
          out->append(piece.json);
          if (piece.var >= 0) AppendInt(out, h.idx[static_cast<size_t>(piece.var)]);
        }
        out->push_back('"');
      }
      out->push_back(']');
    }
    out->push_back('}');
    if (h.effect == Effect::kCondition) {
      // One condition per code: the first binding's text, the rule's citations.
      bool seen = false;
      for (size_t c = 0; c < conditions && !seen; ++c) {
        seen = condition(c).rule->condition_code == rule.condition_code;
      }
      if (!seen) {
        if (conditions >= fixed.size()) spilled.emplace_back();
        condition(conditions++) = {&rule, message_begin, message_end};
      }
    }
  }
  out->push_back(']');
  if (conditions > 0) {
    out->append(",\"conditions\":[");
    for (size_t c = 0; c < conditions; ++c) {
      const WrittenCondition& w = condition(c);
      if (c > 0) out->push_back(',');
      out->append(w.rule->json_condition);
      // The finding's message, already escaped, copied from earlier in `out`. Reserve first:
      // append must not read from storage that its own growth frees.
      out->reserve(out->size() + (w.end - w.begin) + w.rule->json_condition_citations.size());
      out->append(out->data() + w.begin, w.end - w.begin);
      out->append(w.rule->json_condition_citations);
    }
    out->push_back(']');
  }
  if (std::optional<Timestamp> respond_by = RespondBy(request, requested)) {
    out->append(",\"respond_by\":\"");
    AppendTimestamp(*respond_by, out);
    out->push_back('"');
  }
  out->append(json_tail_);
}

}  // namespace comity::rules
