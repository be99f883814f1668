// Evaluation of a compiled rule base, and rendering of its findings into a Decision.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <string>

#include "rules/program.h"
#include "rules/rulebase.h"

namespace comity::rules {
namespace {

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  });
}

template <typename T>
bool Compare(uint8_t op, T a, T b) {
  switch (op) {
    case kEq:
      return a == b;
    case kNe:
      return a != b;
    case kLt:
      return a < b;
    case kLe:
      return a <= b;
    case kGt:
      return a > b;
    default:
      return a >= b;
  }
}

Outcome OutcomeOf(Effect e) {
  switch (e) {
    case Effect::kRefuse:
      return Outcome::kRefuse;
    case Effect::kIncomplete:
      return Outcome::kIncomplete;
    case Effect::kReview:
      return Outcome::kReview;
    default:
      return Outcome::kProceed;
  }
}

}  // namespace

Direct DirectFor(const FieldDef* f) {
  if (f->path == "offence.category") return Direct::kOffenceCategory;
  if (f->path == "measure.type") return Direct::kMeasureType;
  if (f->path == "measure.data_categories") return Direct::kMeasureDataCategories;
  return Direct::kNone;
}

size_t ItemCount(Var v, const Env& env) {
  switch (v) {
    case kOffence:
      return env.request->offences.size();
    case kMeasure:
      return env.request->measures.size();
    case kSelector:
      return env.measure().selectors.size();
    case kPerson:
      return env.request->persons.size();
    case kAttachment:
      return env.request->attachments.size();
    default:
      return 0;
  }
}

uint64_t Program::Remap(int16_t remap, uint64_t bits, bool is_set) const {
  if (remap < 0) return bits;
  const std::array<uint8_t, 64>& m = remaps[remap];
  if (!is_set) return bits < 64 && m[bits] != 0xFF ? m[bits] : 0xFF;
  uint64_t out = 0;
  for (uint64_t b = bits; b != 0; b &= b - 1) {
    uint8_t t = m[__builtin_ctzll(b)];
    if (t != 0xFF) out |= uint64_t{1} << t;
  }
  return out;
}

Value Program::EvalRaw(int32_t n, Env& env) const {
  const Node& node = nodes[n];
  switch (node.op) {
    case Op::kConst:
      return node.constant;
    case Op::kField:
      return Read(node, env, 0);
    case Op::kFieldKeyed: {
      Value key = Fetch(node.a, env);
      if (!key.present) return Value::Absent();
      return Read(node, env, key.bits);
    }
    case Op::kNot:
      return Value::Bool(!Fetch(node.a, env).truthy());
    case Op::kAnd:
      return Value::Bool(Fetch(node.a, env).truthy() && Fetch(node.b, env).truthy());
    case Op::kOr:
      return Value::Bool(Fetch(node.a, env).truthy() || Fetch(node.b, env).truthy());
    case Op::kCmpNum: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      return Value::Bool(a.present && b.present && Compare(node.sub, a.num, b.num));
    }
    case Op::kCmpInt: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      return Value::Bool(a.present && b.present && Compare(node.sub, a.i, b.i));
    }
    case Op::kEqBits: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      return Value::Bool(a.present && b.present && a.bits == b.bits);
    }
    case Op::kEqMapped: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      return Value::Bool(a.present && b.present && Remap(node.remap, a.bits, false) == b.bits);
    }
    case Op::kEqStr: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      return Value::Bool(a.present && b.present && a.str() == b.str());
    }
    case Op::kInSet: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      if (!a.present || !b.present) return Value::Bool(false);
      uint64_t e = Remap(node.remap, a.bits, false);
      return Value::Bool(e < 64 && ((b.bits >> e) & 1) != 0);
    }
    case Op::kInStates: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      if (!a.present || !b.present) return Value::Bool(false);
      StateCode s = a.state();
      const auto& list = b.states();
      return Value::Bool(std::find(list.begin(), list.end(), s) != list.end());
    }
    case Op::kInStrings: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      if (!a.present || !b.present) return Value::Bool(false);
      for (const std::string& s : b.strings()) {
        if (s == a.str()) return Value::Bool(true);
      }
      return Value::Bool(false);
    }
    case Op::kIntersectsSet: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      return Value::Bool(a.present && b.present && (Remap(node.remap, a.bits, true) & b.bits) != 0);
    }
    case Op::kIntersectsStates: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      if (!a.present || !b.present) return Value::Bool(false);
      for (const StateCode& s : a.states()) {
        const auto& list = b.states();
        if (std::find(list.begin(), list.end(), s) != list.end()) return Value::Bool(true);
      }
      return Value::Bool(false);
    }
    case Op::kIntersectsStrings: {
      Value a = Fetch(node.a, env), b = Fetch(node.b, env);
      if (!a.present || !b.present) return Value::Bool(false);
      for (const std::string& s : a.strings()) {
        const auto& list = b.strings();
        if (std::find(list.begin(), list.end(), s) != list.end()) return Value::Bool(true);
      }
      return Value::Bool(false);
    }
    case Op::kIsPresent:
      return Value::Bool(Fetch(node.a, env).present);
    case Op::kIsBlank: {
      Value a = Fetch(node.a, env);
      return Value::Bool(!a.present || IsBlank(a.str()));
    }
    case Op::kIsEmptyBits: {
      Value a = Fetch(node.a, env);
      return Value::Bool(!a.present || a.bits == 0);
    }
    case Op::kIsEmptyStates: {
      Value a = Fetch(node.a, env);
      return Value::Bool(!a.present || a.states().empty());
    }
    case Op::kIsEmptyStrings: {
      Value a = Fetch(node.a, env);
      return Value::Bool(!a.present || a.strings().empty());
    }
    case Op::kAny:
    case Op::kNo: {
      Var v = static_cast<Var>(node.var);
      int16_t saved = env.idx[v];
      size_t count = ItemCount(v, env);
      bool found = false;
      for (size_t i = 0; i < count && !found; ++i) {
        env.idx[v] = static_cast<int16_t>(i);
        found = Fetch(node.a, env).truthy();
      }
      env.idx[v] = saved;
      return Value::Bool(node.op == Op::kAny ? found : !found);
    }
    case Op::kCount: {
      Value a = Fetch(node.a, env);
      if (!a.present) return Value::Number(0);
      switch (nodes[node.a].type.kind) {
        case Kind::kSet:
          return Value::Number(__builtin_popcountll(a.bits));
        case Kind::kStateList:
          return Value::Number(static_cast<double>(a.states().size()));
        case Kind::kStringList:
          return Value::Number(static_cast<double>(a.strings().size()));
        default:
          return Value::Number(static_cast<double>(a.bits));
      }
    }
    case Op::kDays: {
      Value a = Fetch(node.a, env);
      if (!a.present) return Value::Absent();
      return Value::Number(static_cast<double>(static_cast<int32_t>(a.aux)) -
                           static_cast<double>(a.i));
    }
    case Op::kMentions: {
      Value a = Fetch(node.a, env);
      return Value::Bool(a.present && node.lexicon->Matches(a.str()));
    }
    case Op::kMatched: {
      Value a = Fetch(node.a, env);
      if (!a.present) return Value::Absent();
      std::optional<std::string_view> m = node.lexicon->FirstMatch(a.str());
      return m ? Value::Str(*m) : Value::Absent();
    }
  }
  return Value::Absent();
}

// --- RuleBase --------------------------------------------------------------------------------

RuleBase::RuleBase() = default;
RuleBase::~RuleBase() = default;

namespace {

// True when every conjunct hoisted to `level` holds.
inline bool Pass(const Program& p, const CompiledRule& rule, size_t level, Env& env) {
  for (uint16_t k = rule.level_begin[level], end = rule.level_begin[level + 1]; k < end; ++k) {
    const Test& t = rule.conds[k];
    bool r;
    switch (t.kind) {
      case Test::kInConst: {
        Value v = p.Fetch(t.node, env);
        r = v.present && v.bits < 64 && ((t.bits >> v.bits) & 1) != 0;
        break;
      }
      case Test::kEqConst: {
        Value v = p.Fetch(t.node, env);
        r = v.present && v.bits == t.bits;
        break;
      }
      case Test::kPresent:
        r = p.Fetch(t.node, env).present;
        break;
      case Test::kCmpConst: {
        Value v = p.Fetch(t.node, env);
        r = v.present && Compare(t.cmp, v.num, t.num);
        break;
      }
      default:
        r = p.Fetch(t.node, env).truthy();
    }
    if (r == t.neg) return false;
  }
  return true;
}

inline void Record(const Program& p, uint16_t rule_index, Env& env, std::vector<Hit>* hits,
                   Outcome* outcome) {
  const CompiledRule& rule = p.rules[rule_index];
  Effect effect = rule.effect;
  if (rule.effect_node >= 0) {
    Value v = p.Eval(rule.effect_node, env);
    uint64_t e = v.present ? p.Remap(rule.effect_remap, v.bits, false) : 0xFF;
    // An effect field that is absent or names no effect is treated as `review`: a person
    // decides.
    effect = e < EnumCount<Effect>() ? static_cast<Effect>(e) : Effect::kReview;
  }
  Hit h;
  h.rule = rule_index;
  h.effect = effect;
  h.idx = env.idx;
  hits->push_back(h);
  *outcome = MaxOutcome(*outcome, OutcomeOf(effect));
}

// Any number of loops (the common depths 0-2 are unrolled in Evaluate).
void Run(const Program& p, uint16_t rule_index, size_t depth, Env& env, std::vector<Hit>* hits,
         Outcome* outcome) {
  const CompiledRule& rule = p.rules[rule_index];
  if (!Pass(p, rule, depth, env)) return;
  if (depth == rule.loops.size()) {
    Record(p, rule_index, env, hits, outcome);
    return;
  }
  Var v = rule.loops[depth];
  size_t count = ItemCount(v, env);
  for (size_t i = 0; i < count; ++i) {
    env.idx[v] = static_cast<int16_t>(i);
    Run(p, rule_index, depth + 1, env, hits, outcome);
  }
  env.idx[v] = -1;
}

void RenderPointer(std::string_view pattern, const std::array<int16_t, kVarCount>& idx,
                   std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      size_t close = pattern.find('}', i);
      std::optional<Var> v = ParseVar(pattern.substr(i + 1, close - i - 1));
      char buf[8];
      auto r = std::to_chars(buf, buf + sizeof buf, v ? idx[*v] : -1);
      out->append(buf, r.ptr);
      i = close + 1;
    } else {
      out->push_back(pattern[i++]);
    }
  }
}

}  // namespace

void RuleBase::Evaluate(const Request& request, const StateProfile& requesting,
                        const StateProfile& requested, Evaluation* out) const {
  out->hits_.clear();
  out->outcome_ = Outcome::kProceed;
  Env env;
  env.request = &request;
  env.requesting = &requesting;
  env.requested = &requested;
  const Program& p = *program_;
  std::vector<Hit>* hits = &out->hits_;
  Outcome* outcome = &out->outcome_;
  for (size_t i = 0; i < p.rules.size(); ++i) {
    const CompiledRule& rule = p.rules[i];
    uint16_t ri = static_cast<uint16_t>(i);
    switch (rule.loops.size()) {
      case 0:
        if (Pass(p, rule, 0, env)) Record(p, ri, env, hits, outcome);
        break;
      case 1: {
        if (!Pass(p, rule, 0, env)) break;
        Var v0 = rule.loops[0];
        size_t n0 = ItemCount(v0, env);
        for (size_t a = 0; a < n0; ++a) {
          env.idx[v0] = static_cast<int16_t>(a);
          if (Pass(p, rule, 1, env)) Record(p, ri, env, hits, outcome);
        }
        env.idx[v0] = -1;
        break;
      }
      case 2: {
        if (!Pass(p, rule, 0, env)) break;
        Var v0 = rule.loops[0], v1 = rule.loops[1];
        size_t n0 = ItemCount(v0, env);
        for (size_t a = 0; a < n0; ++a) {
          env.idx[v0] = static_cast<int16_t>(a);
          if (!Pass(p, rule, 1, env)) continue;
          size_t n1 = ItemCount(v1, env);
          for (size_t b = 0; b < n1; ++b) {
            env.idx[v1] = static_cast<int16_t>(b);
            if (Pass(p, rule, 2, env)) Record(p, ri, env, hits, outcome);
          }
          env.idx[v1] = -1;
        }
        env.idx[v0] = -1;
        break;
      }
      default:
        Run(p, ri, 0, env, hits, outcome);
    }
  }
}

namespace {

void RunReference(const Program& p, uint16_t rule_index, size_t depth, Env& env,
                  std::vector<Hit>* hits, Outcome* outcome) {
  const CompiledRule& rule = p.rules[rule_index];
  if (depth == rule.loops.size()) {
    if (p.Eval(rule.when, env).truthy()) Record(p, rule_index, env, hits, outcome);
    return;
  }
  Var v = rule.loops[depth];
  size_t count = ItemCount(v, env);
  for (size_t i = 0; i < count; ++i) {
    env.idx[v] = static_cast<int16_t>(i);
    RunReference(p, rule_index, depth + 1, env, hits, outcome);
  }
  env.idx[v] = -1;
}

}  // namespace

void RuleBase::EvaluateReference(const Request& request, const StateProfile& requesting,
                                 const StateProfile& requested, Evaluation* out) const {
  out->hits_.clear();
  out->outcome_ = Outcome::kProceed;
  Env env;
  env.request = &request;
  env.requesting = &requesting;
  env.requested = &requested;
  for (size_t i = 0; i < program_->rules.size(); ++i) {
    RunReference(*program_, static_cast<uint16_t>(i), 0, env, &out->hits_, &out->outcome_);
  }
}

Decision RuleBase::ToDecision(const Evaluation& evaluation, const Request& request,
                              const StateProfile& requesting, const StateProfile& requested) const {
  Decision d;
  ToDecision(evaluation, request, requesting, requested, &d);
  return d;
}

void RuleBase::ToDecision(const Evaluation& evaluation, const Request& request,
                          const StateProfile& requesting, const StateProfile& requested,
                          Decision* out) const {
  const Program& p = *program_;
  Decision& d = *out;
  d.request_id = request.id;
  d.outcome = evaluation.outcome();
  d.rulebase = id_;
  d.respond_by = RespondBy(request, requested);
  Env env;
  env.request = &request;
  env.requesting = &requesting;
  env.requested = &requested;
  const std::vector<Hit>& hits = evaluation.hits();
  d.findings.resize(hits.size());
  size_t conditions = 0;
  for (size_t k = 0; k < hits.size(); ++k) {
    const Hit& h = hits[k];
    const CompiledRule& rule = p.rules[h.rule];
    env.idx = h.idx;
    Finding& f = d.findings[k];
    f.rule.assign(rule.id);
    f.effect = h.effect;
    f.citations = rule.citations;
    f.message.clear();
    for (const MessagePiece& piece : rule.message) {
      if (piece.node < 0) {
        f.message.append(piece.text);
      } else {
        AppendValue(&f.message, p.nodes[piece.node].type, p.Eval(piece.node, env));
      }
    }
    f.pointers.resize(rule.pointers.size());
    for (size_t i = 0; i < rule.pointers.size(); ++i) {
      RenderPointer(rule.pointers[i]->pointer, h.idx, &f.pointers[i]);
    }
    if (h.effect == Effect::kCondition) {
      // One condition per code: the first binding's text, the rule's citations.
      bool seen = false;
      for (size_t c = 0; c < conditions; ++c)
        seen = seen || d.conditions[c].code == rule.condition_code;
      if (!seen) {
        if (d.conditions.size() <= conditions) d.conditions.emplace_back();
        Condition& c = d.conditions[conditions++];
        c.code.assign(rule.condition_code);
        c.text.assign(f.message);
        c.citations = rule.citations;
      }
    }
  }
  d.conditions.resize(conditions);
}

Decision RuleBase::Screen(const Request& request, const StateProfile& requesting,
                          const StateProfile& requested) const {
  Evaluation ev;
  Evaluate(request, requesting, requested, &ev);
  return ToDecision(ev, request, requesting, requested);
}

const RuleInfo* RuleBase::FindRule(std::string_view id) const {
  for (const RuleInfo& r : infos_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

std::vector<std::pair<std::string, std::string>> RuleBase::Names() const { return program_->names; }

std::string LoadResult::ErrorText() const {
  std::string out;
  for (const RuleError& e : errors) out += e.ToString() + "\n";
  return out;
}

std::optional<Timestamp> RespondBy(const Request& request, const StateProfile& requested) {
  if (!request.created || !requested.policy.response_days) return std::nullopt;
  const ResponseDays& rd = *requested.policy.response_days;
  int64_t seconds = 0;
  switch (request.urgency) {
    case Urgency::kRoutine:
      if (!rd.routine) return std::nullopt;
      seconds = int64_t{*rd.routine} * 86400;
      break;
    case Urgency::kUrgent:
      if (!rd.urgent) return std::nullopt;
      seconds = int64_t{*rd.urgent} * 86400;
      break;
    case Urgency::kEmergency:
      if (!rd.emergency_hours) return std::nullopt;
      seconds = int64_t{*rd.emergency_hours} * 3600;
      break;
  }
  Timestamp t = *request.created;
  t.seconds += seconds;
  return t;
}

}  // namespace comity::rules
