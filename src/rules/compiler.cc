// Loading: rule files -> syntax trees -> checked, compiled Program.
//
// Every name, field, type and citation is checked here against the field table (fields.h)
// and the enumerations of core/enums.h; problems are collected with their positions and the
// rule base is built only when there are none.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "core/codec.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "rules/program.h"
#include "rules/rulebase.h"
#include "rules/syntax.h"

namespace comity::rules {

namespace {

struct Instrument {
  std::string_view name;
  int articles;
};
// Instruments a rule may cite, with their number of articles.
constexpr Instrument kInstruments[] = {{"UNCC", 68}};

struct Named {
  enum class K { kSet, kLexicon } kind;
  Type type;
  uint64_t bits = 0;
  const Lexicon* lexicon = nullptr;
  std::string where;  // file:line of the declaration
};

bool ValidRuleId(std::string_view id) {
  if (id.empty() || id.front() == '.' || id.back() == '.') return false;
  bool seg_start = true;
  for (char c : id) {
    if (c == '.') {
      if (seg_start) return false;
      seg_start = true;
      continue;
    }
    bool ok = (c >= 'a' && c <= 'z') ||
              (seg_start ? false : (c >= '0' && c <= '9') || c == '-' || c == '_');
    if (!ok) return false;
    seg_start = false;
  }
  return true;
}

std::string JoinNames(std::span<const std::string_view> names, size_t max = 40) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > max) out += ", ...";
  return out;
}

bool IsLiteral(const Expr& e) {
  return e.kind == Expr::K::kString || e.kind == Expr::K::kSetLiteral;
}

std::string PathText(const Expr& e) {
  std::string s;
  for (size_t i = 0; i < e.path.size(); ++i) {
    if (i > 0) s += ".";
    s += e.path[i].name;
    if (e.path[i].index) s += "[...]";
  }
  return s;
}

}  // namespace

class Compiler {
 public:
  explicit Compiler(const FileReader& read) : read_(read) {}

  LoadResult Run(std::vector<SourceFile> files) {
    LoadResult result;
    std::sort(files.begin(), files.end(),
              [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
    if (files.empty()) {
      errors_.push_back(RuleError{"(rule base)", 0, 0, "no rule files (*.rules) found"});
    }
    if (files.size() > RuleBase::kMaxFiles) {
      errors_.push_back(RuleError{
          "(rule base)", 0, 0, "more than " + std::to_string(RuleBase::kMaxFiles) + " rule files"});
    }
    std::vector<FileAst> asts;
    for (const SourceFile& f : files) {
      std::optional<FileAst> ast = ParseRuleFile(f.content, f.path, &errors_);
      if (ast) asts.push_back(std::move(*ast));
      digest_files_.push_back(f);
    }
    program_ = std::make_unique<Program>();
    // Version: exactly once in the rule base.
    const FileAst* version_file = nullptr;
    for (const FileAst& a : asts) {
      if (!a.version) continue;
      if (version_file) {
        Error(a.file, a.version_pos,
              "the version is already given in " + version_file->file + ":" +
                  std::to_string(version_file->version_pos.line));
      } else {
        version_file = &a;
        version_ = UnescapeString(a.version->raw);
      }
    }
    if (!version_file && !asts.empty() && errors_.empty()) {
      Error(asts.front().file, Pos{1, 1},
            "the rule base states no version: add 'version \"...\"' to one file");
    }
    // Names first (a rule may use a set declared in another file), then rules.
    for (const FileAst& a : asts) {
      for (const LexiconAst& l : a.lexicons) DeclareLexicon(a.file, l);
      for (const SetAst& s : a.sets) DeclareSet(a.file, s);
    }
    size_t rule_count = 0;
    for (const FileAst& a : asts) rule_count += a.rules.size();
    if (rule_count > RuleBase::kMaxRules) {
      errors_.push_back(RuleError{"(rule base)", 0, 0,
                                  "more than " + std::to_string(RuleBase::kMaxRules) + " rules"});
    }
    std::map<std::string, std::string> ids;
    for (const FileAst& a : asts) {
      const SourceFile* src = nullptr;
      for (const SourceFile& f : files) {
        if (f.path == a.file) src = &f;
      }
      for (const RuleAst& r : a.rules) {
        if (!ValidRuleId(r.id)) {
          Error(
              a.file, r.id_pos,
              "rule id '" + r.id +
                  "' must be lowercase words separated by dots, e.g. uncc.intercept.serious-crime");
        }
        auto [it, inserted] = ids.emplace(r.id, a.file + ":" + std::to_string(r.pos.line));
        if (!inserted) {
          Error(a.file, r.id_pos, "duplicate rule id '" + r.id + "' (first at " + it->second + ")");
          continue;
        }
        CompileRule(a.file, src ? src->content : std::string_view(), r);
      }
    }
    if (!errors_.empty()) {
      result.errors = std::move(errors_);
      return result;
    }
    auto rb = std::shared_ptr<RuleBase>(new RuleBase());
    PrepareDecisionJson(program_.get());
    rb->program_ = std::move(program_);
    rb->infos_ = std::move(infos_);
    rb->id_.version = version_;
    rb->id_.digest = DigestFiles(std::move(digest_files_));
    rb->json_tail_ = ",\"rulebase\":{\"version\":";
    AppendJsonString(&rb->json_tail_, rb->id_.version);
    rb->json_tail_ += ",\"digest\":";
    AppendJsonString(&rb->json_tail_, rb->id_.digest);
    rb->json_tail_ += "}}";
    result.rulebase = std::move(rb);
    return result;
  }

 private:
  struct Typed {
    int32_t node = -1;
    Type type;
    bool ok() const { return node >= 0; }
  };
  struct Scope {
    const std::string* file = nullptr;
    uint8_t bound = 0;  // variables bound by loops or quantifiers
    uint8_t loops = 0;  // variables bound by the rule's `for each`
    CompiledRule* rule = nullptr;
    bool collect_pointers = false;
  };

  void Error(const std::string& file, Pos p, std::string msg) {
    errors_.push_back(RuleError{file, p.line, p.col, std::move(msg)});
  }
  void Error(const Scope& s, Pos p, std::string msg) { Error(*s.file, p, std::move(msg)); }

  int32_t Add(Node n) {
    program_->nodes.push_back(n);
    return static_cast<int32_t>(program_->nodes.size() - 1);
  }
  Typed Const(Type t, Value v) {
    Node n;
    n.op = Op::kConst;
    n.type = t;
    n.constant = v;
    return Typed{Add(n), t};
  }
  Typed Make(Op op, Type t, int32_t a, int32_t b = -1, uint8_t sub = 0) {
    Node n;
    n.op = op;
    n.type = t;
    n.a = a;
    n.b = b;
    n.sub = sub;
    return Typed{Add(n), t};
  }
  // `not x`: flips the result flag of the node computing x when it is an operator (saving one
  // dispatch at run time); leaves (constants, fields) get a kNot node.
  Typed Negate(Typed t) {
    if (!t.ok()) return t;
    Node& n = program_->nodes[t.node];
    if (n.op != Op::kConst && n.op != Op::kField && n.op != Op::kFieldKeyed) {
      n.neg = !n.neg;
      return t;
    }
    return Make(Op::kNot, Type::Of(Kind::kBool), t.node);
  }

  int16_t RemapFor(EnumId from, EnumId to) {
    if (from == to) return -1;
    std::array<uint8_t, 64> m;
    m.fill(0xFF);
    auto src = EnumNames(from);
    auto dst = EnumNames(to);
    for (size_t i = 0; i < src.size(); ++i) {
      for (size_t j = 0; j < dst.size(); ++j) {
        if (src[i] == dst[j]) m[i] = static_cast<uint8_t>(j);
      }
    }
    program_->remaps.push_back(m);
    return static_cast<int16_t>(program_->remaps.size() - 1);
  }

  // --- declarations --------------------------------------------------------------------------

  bool CheckNewName(const std::string& file, Pos p, const std::string& name) {
    if (ParseVar(name) || name == "request" || name == "requesting" || name == "requested") {
      Error(file, p, "'" + name + "' is reserved for fields and cannot name a set or lexicon");
      return false;
    }
    if (auto it = names_.find(name); it != names_.end()) {
      Error(file, p, "'" + name + "' is already declared at " + it->second.where);
      return false;
    }
    return true;
  }

  void DeclareSet(const std::string& file, const SetAst& s) {
    if (!CheckNewName(file, s.pos, s.name)) return;
    Scope scope;
    scope.file = &file;
    scope.bound = 0xFF;  // the field only gives the members' type
    if (s.of->kind != Expr::K::kPath) {
      Error(file, s.of->pos, "expected a field after 'of' (e.g. offence.category)");
      return;
    }
    Typed of = Path(*s.of, scope);
    if (!of.ok()) return;
    if (of.type.kind == Kind::kSet) of.type = Type::Enum(of.type.en);
    if (of.type.kind != Kind::kEnum) {
      Error(file, s.of->pos,
            "a set holds codes of an enumeration, but " + PathText(*s.of) + " is a " +
                TypeName(of.type));
      return;
    }
    uint64_t bits = 0;
    std::set<std::string> seen;
    for (const auto& [member, pos] : s.members) {
      std::optional<uint64_t> o = Ordinal(of.type.en, member);
      if (!o) {
        Error(file, pos, UnknownMember(of.type.en, member));
        continue;
      }
      if (!seen.insert(member).second) {
        Error(file, pos, "'" + member + "' is listed twice");
        continue;
      }
      bits |= uint64_t{1} << *o;
    }
    Named n{Named::K::kSet, Type::Set(of.type.en), bits, nullptr,
            file + ":" + std::to_string(s.pos.line)};
    names_.emplace(s.name, n);
    std::string members;
    for (const auto& m : s.members) members += (members.empty() ? "" : ", ") + m.first;
    program_->names.emplace_back(s.name,
                                 "set of " + std::string(EnumLabel(of.type.en)) + ": " + members);
  }

  void DeclareLexicon(const std::string& file, const LexiconAst& l) {
    if (!CheckNewName(file, l.pos, l.name)) return;
    std::string rel = UnescapeString(l.file.raw);
    // Relative to the directory of the declaring file's rule base root.
    std::filesystem::path p(rel);
    bool escapes = p.is_absolute() || rel.empty();
    for (const auto& part : p) {
      if (part == "..") escapes = true;
    }
    if (escapes) {
      Error(file, l.file.pos,
            "lexicon file '" + rel + "' must be a path relative to the rule base, inside it");
      return;
    }
    StatusOr<std::string> content = read_(rel);
    if (!content.ok()) {
      Error(file, l.file.pos,
            "cannot read lexicon file '" + rel + "': " + content.status().message());
      return;
    }
    if (content->size() > kMaxFileBytes) {
      Error(
          file, l.file.pos,
          "lexicon file '" + rel + "' is larger than " + std::to_string(kMaxFileBytes) + " bytes");
      return;
    }
    std::optional<Lexicon> lex = Lexicon::Parse(*content, rel, &errors_);
    if (!lex) return;
    bool already = std::any_of(digest_files_.begin(), digest_files_.end(),
                               [&](const SourceFile& f) { return f.path == rel; });
    if (!already) digest_files_.push_back(SourceFile{rel, *content});
    program_->lexicons.push_back(std::make_unique<Lexicon>(std::move(*lex)));
    const Lexicon* ptr = program_->lexicons.back().get();
    names_.emplace(l.name, Named{Named::K::kLexicon, Type::Of(Kind::kLexicon), 0, ptr,
                                 file + ":" + std::to_string(l.pos.line)});
    std::string langs;
    for (const std::string& lang : ptr->Languages()) langs += (langs.empty() ? "" : ", ") + lang;
    program_->names.emplace_back(l.name, "lexicon of " + std::to_string(ptr->size()) +
                                             " phrases (" + langs + ") from " + rel);
  }

  static std::optional<uint64_t> Ordinal(EnumId e, std::string_view name) {
    auto names = EnumNames(e);
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return i;
    }
    return std::nullopt;
  }
  static std::string UnknownMember(EnumId e, std::string_view name) {
    return "unknown " + std::string(EnumLabel(e)) + " \"" + std::string(name) +
           "\"; expected one of: " + JoinNames(EnumNames(e));
  }

  // --- rules ---------------------------------------------------------------------------------

  void CompileRule(const std::string& file, std::string_view source, const RuleAst& r) {
    CompiledRule rule;
    RuleInfo info;
    rule.id = r.id;
    info.id = r.id;
    info.file = file;
    info.line = r.pos.line;
    size_t errors_before = errors_.size();
    for (const CitationAst& c : r.citations) {
      const Instrument* inst = nullptr;
      for (const Instrument& i : kInstruments) {
        if (i.name == c.instrument) inst = &i;
      }
      if (!inst) {
        Error(file, c.pos, "unknown instrument '" + c.instrument + "' in citation; known: UNCC");
        continue;
      }
      if (c.article < 1 || c.article > inst->articles) {
        Error(file, c.pos,
              std::string(inst->name) + " has articles 1 to " + std::to_string(inst->articles) +
                  ", not " + std::to_string(c.article));
        continue;
      }
      Citation cite{std::string(inst->name), static_cast<int>(c.article), std::nullopt};
      if (!c.paragraph.empty()) cite.paragraph = c.paragraph;
      rule.citations.push_back(cite);
    }
    Scope scope;
    scope.file = &file;
    scope.rule = &rule;
    for (const auto& [name, pos] : r.loops) {
      std::optional<Var> v = ParseVar(name);
      if (!v) {
        Error(file, pos,
              "cannot iterate over '" + name +
                  "': expected offence, measure, selector, person or attachment");
        continue;
      }
      if (scope.loops & (1 << *v)) {
        Error(file, pos, "'" + name + "' is iterated twice");
        continue;
      }
      if (*v == kSelector && !(scope.loops & (1 << kMeasure))) {
        Error(file, pos, "a selector belongs to a measure: write 'for each measure, selector'");
        continue;
      }
      scope.loops |= static_cast<uint8_t>(1 << *v);
      rule.loops.push_back(*v);
      info.loops.push_back(name);
    }
    scope.bound = scope.loops;
    scope.collect_pointers = true;
    Typed when = Compile(*r.when, scope);
    scope.collect_pointers = false;
    if (when.ok() && when.type.kind != Kind::kBool) {
      Error(file, r.when->pos,
            "the condition must be true or false, but this is a " + TypeName(when.type));
    }
    rule.when = when.node;
    if (when.ok()) Hoist(&rule);
    // Effect.
    if (r.effect_path) {
      Typed eff = Compile(*r.effect_path, scope);
      if (eff.ok()) {
        if (eff.type.kind != Kind::kEnum || !EnumsCompatible(eff.type.en, EnumId::kEffect)) {
          Error(file, r.effect_path->pos,
                "the effect must be refuse, incomplete, review, condition or note, or a profile "
                "field that names one; " +
                    PathText(*r.effect_path) + " is a " + TypeName(eff.type));
        } else {
          rule.effect_node = eff.node;
          rule.effect_remap = RemapFor(eff.type.en, EnumId::kEffect);
        }
      }
      info.effect = PathText(*r.effect_path);
    } else {
      std::optional<uint64_t> e = Ordinal(EnumId::kEffect, r.effect);
      if (!e) {
        Error(file, r.effect_pos,
              "unknown effect '" + r.effect +
                  "'; expected refuse, incomplete, review, condition or note");
      } else {
        rule.effect = static_cast<Effect>(*e);
      }
      info.effect = r.effect;
      rule.condition_code = r.condition_code;
      info.condition_code = r.condition_code;
    }
    // Message.
    CompileMessage(file, r.message, scope, &rule.message);
    if (r.because) info.because = UnescapeString(r.because->raw);
    // Source text, for `comity rules explain`.
    info.source = SourceLines(source, r.first_line, r.last_line);
    info.citations = rule.citations;
    if (errors_.size() == errors_before) {
      program_->rules.push_back(std::move(rule));
      infos_.push_back(std::move(info));
    }
  }

  // Variables an expression reads (a quantifier's own variable excluded).
  uint8_t VarsOf(int32_t n) const {
    if (n < 0) return 0;
    const Node& node = program_->nodes[n];
    uint8_t m = node.field ? node.field->vars : 0;
    m |= VarsOf(node.a) | VarsOf(node.b);
    if (node.op == Op::kAny || node.op == Op::kNo) {
      m = static_cast<uint8_t>(m & ~(1u << node.var));
    }
    return m;
  }

  void Conjuncts(int32_t n, std::vector<int32_t>* out) const {
    const Node& node = program_->nodes[n];
    if (node.op == Op::kAnd && !node.neg) {
      Conjuncts(node.a, out);
      Conjuncts(node.b, out);
    } else {
      out->push_back(n);
    }
  }

  Test MakeTest(int32_t n) const {
    const std::vector<Node>& nodes = program_->nodes;
    const Node& node = nodes[n];
    Test t;
    t.node = n;
    // kGeneric evaluates the whole node, whose own flag already applies the negation.
    t.neg = false;
    auto is_field = [&](int32_t k) { return k >= 0 && nodes[k].op == Op::kField; };
    auto is_const = [&](int32_t k) { return k >= 0 && nodes[k].op == Op::kConst; };
    if (node.op == Op::kInSet && node.remap < 0 && is_field(node.a) && is_const(node.b)) {
      t.kind = Test::kInConst;
      t.neg = node.neg;
      t.node = node.a;
      t.bits = nodes[node.b].constant.bits;
    } else if (node.op == Op::kEqBits && is_field(node.a) && is_const(node.b)) {
      t.kind = Test::kEqConst;
      t.neg = node.neg;
      t.node = node.a;
      t.bits = nodes[node.b].constant.bits;
    } else if (node.op == Op::kIsPresent && is_field(node.a)) {
      t.kind = Test::kPresent;
      t.neg = node.neg;
      t.node = node.a;
    } else if (node.op == Op::kField && node.type.kind == Kind::kBool) {
      t.kind = Test::kTruthy;
    } else if (node.op == Op::kCmpNum && is_field(node.a) && is_const(node.b)) {
      t.kind = Test::kCmpConst;
      t.neg = node.neg;
      t.node = node.a;
      t.cmp = node.sub;
      t.num = nodes[node.b].constant.num;
    }
    return t;
  }

  void Hoist(CompiledRule* rule) const {
    std::vector<int32_t> conjuncts;
    Conjuncts(rule->when, &conjuncts);
    rule->levels.assign(rule->loops.size() + 1, {});
    for (int32_t c : conjuncts) {
      uint8_t need = VarsOf(c);
      uint8_t bound = 0;
      size_t level = 0;
      while ((need & ~bound) != 0 && level < rule->loops.size()) {
        bound |= static_cast<uint8_t>(1u << rule->loops[level]);
        ++level;
      }
      rule->levels[level].push_back(c);
    }
    rule->conds.clear();
    for (size_t d = 0; d < rule->levels.size(); ++d) {
      rule->level_begin[d] = static_cast<uint16_t>(rule->conds.size());
      for (int32_t n : rule->levels[d]) rule->conds.push_back(MakeTest(n));
    }
    rule->level_begin[rule->levels.size()] = static_cast<uint16_t>(rule->conds.size());
  }

  static std::string SourceLines(std::string_view source, int first, int last) {
    std::string out;
    int line = 1;
    size_t pos = 0;
    while (pos <= source.size() && line <= last) {
      size_t nl = source.find('\n', pos);
      if (nl == std::string_view::npos) nl = source.size();
      if (line >= first) {
        out += source.substr(pos, nl - pos);
        out += "\n";
      }
      pos = nl + 1;
      ++line;
    }
    return out;
  }

  void CompileMessage(const std::string& file, const StringAst& msg, Scope& scope,
                      std::vector<MessagePiece>* out) {
    // Interpolations become \x01 in a copy of the raw text, which is then unescaped and folded
    // as a whole (so line breaks around an interpolation fold correctly) and split again.
    std::string skeleton;
    std::vector<int32_t> nodes;
    const std::string& raw = msg.raw;
    int line = msg.pos.line, col = msg.pos.col + 1;
    auto advance = [&](char c) {
      if (c == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    };
    bool ok = true;
    for (size_t i = 0; i < raw.size(); ++i) {
      char c = raw[i];
      if (c == '\\' && i + 1 < raw.size()) {
        skeleton.push_back(c);
        skeleton.push_back(raw[i + 1]);
        advance(c);
        advance(raw[++i]);
        continue;
      }
      if (c == '}') {
        Error(file, Pos{line, col}, "unmatched '}' in the message; write \\} for a brace");
        ok = false;
        break;
      }
      if (c == '{') {
        size_t close = raw.find('}', i);
        if (close == std::string::npos) {
          Error(file, Pos{line, col}, "unclosed '{' in the message");
          ok = false;
          break;
        }
        advance(c);
        Pos start{line, col};
        std::string_view inner = std::string_view(raw).substr(i + 1, close - i - 1);
        ExprPtr e = ParseExpression(inner, file, start, &errors_);
        if (!e) {
          ok = false;
        } else {
          Typed t = Compile(*e, scope);
          if (!t.ok()) {
            ok = false;
          } else if (t.type.kind == Kind::kLexicon) {
            Error(file, e->pos, "a lexicon cannot be shown in a message");
            ok = false;
          } else {
            nodes.push_back(t.node);
          }
        }
        for (size_t k = i + 1; k <= close; ++k) advance(raw[k]);
        i = close;
        skeleton.push_back('\x01');
        continue;
      }
      skeleton.push_back(c);
      advance(c);
    }
    if (!ok) return;
    std::string text = UnescapeString(skeleton);
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (text.find_first_not_of("\x01 ") == std::string::npos && nodes.empty()) {
      Error(file, msg.pos, "the message is empty: say what was found, naming the values");
      return;
    }
    size_t k = 0;
    std::string current;
    for (char c : text) {
      if (c == '\x01') {
        if (!current.empty()) out->push_back(MessagePiece{current, -1});
        current.clear();
        out->push_back(MessagePiece{"", nodes[k++]});
      } else {
        current.push_back(c);
      }
    }
    if (!current.empty()) out->push_back(MessagePiece{current, -1});
  }

  // --- expressions ---------------------------------------------------------------------------

  Typed Compile(const Expr& e, Scope& s) {
    switch (e.kind) {
      case Expr::K::kNumber:
        return Const(Type::Of(Kind::kNumber), Value::Number(e.number));
      case Expr::K::kBool:
        return Const(Type::Of(Kind::kBool), Value::Bool(e.boolean));
      case Expr::K::kString:
        Error(s, e.pos,
              "a quoted value must be compared with a field (e.g. measure.type == \"intercept\")");
        return {};
      case Expr::K::kSetLiteral:
        Error(s, e.pos,
              "a set of values must be compared with a field (e.g. measure.type in "
              "{\"intercept\", \"realtime_traffic\"})");
        return {};
      case Expr::K::kName:
        return Name(e, s);
      case Expr::K::kPath:
        return Path(e, s);
      case Expr::K::kNot: {
        return Negate(Bool(*e.kids[0], s, "'not'"));
      }
      case Expr::K::kAnd:
      case Expr::K::kOr: {
        const char* word = e.kind == Expr::K::kAnd ? "'and'" : "'or'";
        Typed a = Bool(*e.kids[0], s, word);
        Typed b = Bool(*e.kids[1], s, word);
        if (!a.ok() || !b.ok()) return {};
        return Make(e.kind == Expr::K::kAnd ? Op::kAnd : Op::kOr, Type::Of(Kind::kBool), a.node,
                    b.node);
      }
      case Expr::K::kCompare:
        return CompareExpr(e, s);
      case Expr::K::kIn:
        return InExpr(e, s);
      case Expr::K::kIntersects:
        return IntersectsExpr(e, s);
      case Expr::K::kIs:
        return IsExpr(e, s);
      case Expr::K::kCall:
        return Call(e, s);
      case Expr::K::kQuantifier:
        return Quantifier(e, s);
    }
    return {};
  }

  Typed Bool(const Expr& e, Scope& s, const char* context) {
    Typed t = Compile(e, s);
    if (t.ok() && t.type.kind != Kind::kBool) {
      Error(s, e.pos,
            std::string(context) + " needs true or false, but this is a " + TypeName(t.type));
      return {};
    }
    return t;
  }

  Typed Name(const Expr& e, Scope& s) {
    if (auto it = names_.find(e.text); it != names_.end()) {
      const Named& n = it->second;
      if (n.kind == Named::K::kLexicon) {
        Node node;
        node.op = Op::kConst;
        node.type = n.type;
        node.lexicon = n.lexicon;
        return Typed{Add(node), n.type};
      }
      return Const(n.type, Value::Ordinal(n.bits));
    }
    if (ParseVar(e.text)) {
      Error(s, e.pos,
            "'" + e.text + "' is an item, not a value: use one of its fields, such as " + e.text +
                "." + (e.text == "offence" ? "category" : "type"));
      return {};
    }
    if (e.text == "request" || e.text == "requesting" || e.text == "requested") {
      Error(s, e.pos,
            "use a field of " + e.text + ", e.g. " + e.text +
                (e.text == "request" ? ".facts" : ".policy.dual_criminality"));
      return {};
    }
    std::string msg = "unknown name '" + e.text + "'";
    std::string best;
    for (const auto& [name, _] : names_) {
      if (best.empty() &&
          (name.find(e.text) != std::string::npos || e.text.find(name) != std::string::npos)) {
        best = name;
      }
    }
    if (!best.empty())
      msg += "; did you mean '" + best + "'?";
    else
      msg += " (not a declared set or lexicon)";
    Error(s, e.pos, msg);
    return {};
  }

  Typed Path(const Expr& e, Scope& s) {
    const std::string& root = e.path[0].name;
    std::optional<Var> var = ParseVar(root);
    if (!var && root != "request" && root != "requesting" && root != "requested") {
      Error(s, e.pos,
            "unknown field " + PathText(e) +
                ": a field starts with request, requesting, requested, offence, "
                "measure, selector, person or attachment");
      return {};
    }
    std::string key;
    const Expr* index = nullptr;
    Pos index_pos;
    for (size_t i = 0; i < e.path.size(); ++i) {
      if (i > 0) key += ".";
      key += e.path[i].name;
      if (e.path[i].index) {
        key += "[]";
        index = e.path[i].index.get();
        index_pos = e.path[i].pos;
      }
    }
    const FieldDef* f = FindField(key);
    if (!f) {
      std::string plain = key;
      if (size_t b = plain.find("[]"); b != std::string::npos) plain.erase(b, 2);
      std::string shown = key;
      if (size_t b = shown.find("[]"); b != std::string::npos) shown.replace(b, 2, "[...]");
      if (index && FindField(plain)) {
        Error(s, index_pos, shown.substr(0, shown.find("[")) + " cannot be indexed");
        return {};
      }
      // Point at the first segment that makes the path unknown.
      Pos where = e.path[0].pos;
      std::string prefix;
      for (size_t i = 0; i < e.path.size(); ++i) {
        prefix += (i > 0 ? "." : "") + e.path[i].name + (e.path[i].index ? "[]" : "");
        bool known_prefix = false;
        for (const FieldDef& fd : Fields()) {
          if (fd.path == prefix || fd.path.starts_with(prefix + ".") ||
              fd.path.starts_with(prefix + "[]")) {
            known_prefix = true;
            break;
          }
        }
        if (!known_prefix) {
          where = e.path[i].pos;
          break;
        }
      }
      std::string msg = "unknown field " + shown;
      std::string_view suggestion = SuggestField(key);
      if (!suggestion.empty()) {
        std::string sug(suggestion);
        if (size_t b = sug.find("[]"); b != std::string::npos) sug.replace(b, 2, "[...]");
        msg += "; did you mean " + sug + "?";
      }
      Error(s, where, msg);
      return {};
    }
    uint8_t missing = static_cast<uint8_t>(f->vars & ~s.bound);
    if (missing) {
      Var v = static_cast<Var>(__builtin_ctz(missing));
      std::string name(VarName(v));
      if (v == kMeasure && var == kSelector) {
        Error(s, e.pos, "a selector belongs to a measure: write 'for each measure, selector'");
      } else {
        Error(s, e.pos,
              "'" + name + "' is not bound here: add 'for each " + name +
                  "' to the rule or use 'any " + name + " where (...)'");
      }
      return {};
    }
    Node n;
    n.field = f;
    n.root = f->root;
    n.direct = DirectFor(f);
    n.get = f->get;
    n.profile_get = f->profile_get;
    n.type = f->type;
    if (f->key != EnumId::kNone) {
      if (!index) {
        Error(s, e.pos,
              std::string(f->path.substr(0, f->path.find("[]"))) + " needs an index: [" +
                  std::string(EnumLabel(f->key)) + "]");
        return {};
      }
      Typed k;
      if (IsLiteral(*index)) {
        k = Literal(*index, Type::Enum(f->key), s);
      } else {
        k = Compile(*index, s);
      }
      if (!k.ok()) return {};
      if (k.type != Type::Enum(f->key)) {
        Error(s, index->pos,
              "the index of " + std::string(f->path.substr(0, f->path.find("[]"))) +
                  " must be an " + std::string(EnumLabel(f->key)) + ", not a " + TypeName(k.type));
        return {};
      }
      n.op = Op::kFieldKeyed;
      n.a = k.node;
    } else {
      n.op = Op::kField;
    }
    if (s.collect_pointers && s.rule && !f->pointer.empty() && (f->vars & ~s.loops) == 0) {
      auto& ptrs = s.rule->pointers;
      if (std::find(ptrs.begin(), ptrs.end(), f) == ptrs.end()) ptrs.push_back(f);
    }
    return Typed{Add(n), f->type};
  }

  // A quoted value or a {set} of them, given the type it is compared with.
  Typed Literal(const Expr& e, Type want, Scope& s) {
    if (e.kind == Expr::K::kSetLiteral) {
      if (want.kind != Kind::kSet) {
        Error(s, e.pos, "a set of values cannot be compared with a " + TypeName(want));
        return {};
      }
      uint64_t bits = 0;
      for (const ExprPtr& item : e.kids) {
        std::optional<uint64_t> o = Ordinal(want.en, item->text);
        if (!o) {
          Error(s, item->pos, UnknownMember(want.en, item->text));
          return {};
        }
        bits |= uint64_t{1} << *o;
      }
      return Const(want, Value::Ordinal(bits));
    }
    switch (want.kind) {
      case Kind::kEnum: {
        std::optional<uint64_t> o = Ordinal(want.en, e.text);
        if (!o) {
          Error(s, e.pos, UnknownMember(want.en, e.text));
          return {};
        }
        return Const(want, Value::Ordinal(*o));
      }
      case Kind::kString: {
        program_->strings.push_back(UnescapeString(e.text));
        return Const(want, Value::Str(program_->strings.back()));
      }
      case Kind::kState: {
        const std::string& t = e.text;
        if (t.size() != 2 || t[0] < 'A' || t[0] > 'Z' || t[1] < 'A' || t[1] > 'Z') {
          Error(s, e.pos, "\"" + t + "\" is not a state code (two capital letters, e.g. \"XA\")");
          return {};
        }
        StateCode code;
        code.c[0] = t[0];
        code.c[1] = t[1];
        return Const(want, Value::State(code));
      }
      default:
        Error(s, e.pos,
              "type mismatch: a " + TypeName(want) + " cannot be compared with text \"" + e.text +
                  "\"");
        return {};
    }
  }

  // Compiles both sides of a binary operator, typing a literal side by the other side.
  // `elem_of_right`: the left side is an element of the right (for `in`).
  bool Operands(const Expr& e, Scope& s, Typed* a, Typed* b, bool elem_of_right) {
    const Expr& l = *e.kids[0];
    const Expr& r = *e.kids[1];
    if (IsLiteral(l) && IsLiteral(r)) {
      Error(s, e.pos, "compare a field with a value, not two values");
      return false;
    }
    if (IsLiteral(l)) {
      *b = Compile(r, s);
      if (!b->ok()) return false;
      Type want = b->type;
      if (elem_of_right) {
        if (want.kind == Kind::kSet)
          want = Type::Enum(want.en);
        else if (want.kind == Kind::kStateList)
          want = Type::Of(Kind::kState);
        else if (want.kind == Kind::kStringList)
          want = Type::Of(Kind::kString);
      }
      *a = Literal(l, want, s);
      return a->ok();
    }
    *a = Compile(l, s);
    if (!a->ok()) return false;
    if (IsLiteral(r)) {
      Type want = a->type;
      if (elem_of_right && want.kind == Kind::kEnum) want = Type::Set(want.en);
      if (e.kind == Expr::K::kIntersects && want.kind == Kind::kSet) want = a->type;
      *b = Literal(r, want, s);
      return b->ok();
    }
    *b = Compile(r, s);
    return b->ok();
  }

  Typed CompareExpr(const Expr& e, Scope& s) {
    Typed a, b;
    if (!Operands(e, s, &a, &b, false)) return {};
    static constexpr std::pair<std::string_view, CmpOp> kOps[] = {
        {"==", kEq}, {"!=", kNe}, {"<", kLt}, {"<=", kLe}, {">", kGt}, {">=", kGe}};
    CmpOp op = kEq;
    for (const auto& [text, o] : kOps) {
      if (e.op == text) op = o;
    }
    bool equality = op == kEq || op == kNe;
    const Type bool_t = Type::Of(Kind::kBool);
    auto mismatch = [&]() {
      Error(s, e.pos,
            "type mismatch: cannot compare a " + TypeName(a.type) + " with a " + TypeName(b.type) +
                " using " + e.op);
      return Typed{};
    };
    Kind ka = a.type.kind, kb = b.type.kind;
    // `!=` is `not ==` for every type, so an absent value is "different" from any value.
    if (ka == Kind::kNumber && kb == Kind::kNumber) {
      Typed t = Make(Op::kCmpNum, bool_t, a.node, b.node, op == kNe ? kEq : op);
      return op == kNe ? Negate(t) : t;
    }
    if ((ka == Kind::kDate || ka == Kind::kTimestamp) && ka == kb) {
      Typed t = Make(Op::kCmpInt, bool_t, a.node, b.node, op == kNe ? kEq : op);
      return op == kNe ? Negate(t) : t;
    }
    if (!equality) return mismatch();
    Typed eq;
    if (ka == Kind::kEnum && kb == Kind::kEnum) {
      if (!EnumsCompatible(a.type.en, b.type.en)) return mismatch();
      if (a.type.en == b.type.en) {
        eq = Make(Op::kEqBits, bool_t, a.node, b.node);
      } else {
        eq = Make(Op::kEqMapped, bool_t, a.node, b.node);
        program_->nodes[eq.node].remap = RemapFor(a.type.en, b.type.en);
      }
    } else if ((ka == Kind::kBool || ka == Kind::kState) && ka == kb) {
      eq = Make(Op::kEqBits, bool_t, a.node, b.node);
    } else if (ka == Kind::kString && kb == Kind::kString) {
      eq = Make(Op::kEqStr, bool_t, a.node, b.node);
    } else {
      if (ka == Kind::kSet || kb == Kind::kSet) {
        Error(s, e.pos,
              "type mismatch: a " + TypeName(ka == Kind::kSet ? a.type : b.type) +
                  " is compared with 'in' or 'intersects', not " + e.op);
        return {};
      }
      return mismatch();
    }
    return op == kNe ? Negate(eq) : eq;
  }

  Typed InExpr(const Expr& e, Scope& s) {
    Typed a, b;
    if (!Operands(e, s, &a, &b, true)) return {};
    const Type bool_t = Type::Of(Kind::kBool);
    Typed t;
    const Node& bn = program_->nodes[b.node];
    const FieldDef* keyed = nullptr;
    if (bn.op == Op::kField && a.type.kind == Kind::kEnum && b.type.kind == Kind::kSet &&
        a.type.en == b.type.en) {
      keyed = FindField(std::string(bn.field->path) + "[]");
      if (keyed && keyed->key != a.type.en) keyed = nullptr;
    }
    if (keyed) {
      // `x in requested.criminalizes` is `requested.criminalizes[x] is present`: one lookup
      // instead of building the set.
      Node k = bn;
      k.op = Op::kFieldKeyed;
      k.field = keyed;
      k.root = keyed->root;
      k.get = keyed->get;
      k.profile_get = keyed->profile_get;
      k.type = keyed->type;
      k.a = a.node;
      int32_t kn = Add(k);
      t = Make(Op::kIsPresent, bool_t, kn);
    } else if (a.type.kind == Kind::kEnum && b.type.kind == Kind::kSet &&
               EnumsCompatible(a.type.en, b.type.en)) {
      t = Make(Op::kInSet, bool_t, a.node, b.node);
      program_->nodes[t.node].remap = RemapFor(a.type.en, b.type.en);
    } else if (a.type.kind == Kind::kState && b.type.kind == Kind::kStateList) {
      t = Make(Op::kInStates, bool_t, a.node, b.node);
    } else if (a.type.kind == Kind::kString && b.type.kind == Kind::kStringList) {
      t = Make(Op::kInStrings, bool_t, a.node, b.node);
    } else {
      std::string hint = a.type.kind == Kind::kSet ? " (to compare two sets use 'intersects')" : "";
      Error(s, e.pos,
            "type mismatch: cannot look for a " + TypeName(a.type) + " in a " + TypeName(b.type) +
                hint);
      return {};
    }
    return e.negated ? Negate(t) : t;
  }

  Typed IntersectsExpr(const Expr& e, Scope& s) {
    Typed a, b;
    if (!Operands(e, s, &a, &b, false)) return {};
    const Type bool_t = Type::Of(Kind::kBool);
    if (a.type.kind == Kind::kSet && b.type.kind == Kind::kSet &&
        EnumsCompatible(a.type.en, b.type.en)) {
      Typed t = Make(Op::kIntersectsSet, bool_t, a.node, b.node);
      program_->nodes[t.node].remap = RemapFor(a.type.en, b.type.en);
      return t;
    }
    if (a.type.kind == Kind::kStateList && b.type.kind == Kind::kStateList) {
      return Make(Op::kIntersectsStates, bool_t, a.node, b.node);
    }
    if (a.type.kind == Kind::kStringList && b.type.kind == Kind::kStringList) {
      return Make(Op::kIntersectsStrings, bool_t, a.node, b.node);
    }
    Error(s, e.pos,
          "type mismatch: 'intersects' needs two sets or lists of the same kind, got a " +
              TypeName(a.type) + " and a " + TypeName(b.type));
    return {};
  }

  Typed IsExpr(const Expr& e, Scope& s) {
    const Expr& inner = *e.kids[0];
    if (IsLiteral(inner) || inner.kind == Expr::K::kNumber || inner.kind == Expr::K::kBool) {
      Error(s, e.pos, "'is " + e.op + "' applies to a field, not to a value");
      return {};
    }
    Typed a = Compile(inner, s);
    if (!a.ok()) return {};
    const Type bool_t = Type::Of(Kind::kBool);
    Typed t;
    Kind k = a.type.kind;
    if (e.op == "present" || e.op == "absent") {
      if (k == Kind::kLexicon) {
        Error(s, e.pos, "a lexicon is always present");
        return {};
      }
      t = Make(Op::kIsPresent, bool_t, a.node);
      if (e.op == "absent") t = Negate(t);
    } else if (e.op == "blank") {
      if (k != Kind::kString) {
        Error(s, e.pos, "'is blank' applies to text, not to a " + TypeName(a.type));
        return {};
      }
      t = Make(Op::kIsBlank, bool_t, a.node);
    } else {  // empty
      if (k == Kind::kSet || k == Kind::kList) {
        t = Make(Op::kIsEmptyBits, bool_t, a.node);
      } else if (k == Kind::kStateList) {
        t = Make(Op::kIsEmptyStates, bool_t, a.node);
      } else if (k == Kind::kStringList) {
        t = Make(Op::kIsEmptyStrings, bool_t, a.node);
      } else {
        Error(s, e.pos,
              "'is empty' applies to sets and lists, not to a " + TypeName(a.type) +
                  (k == Kind::kString ? " (use 'is blank')" : ""));
        return {};
      }
    }
    return e.negated ? Negate(t) : t;
  }

  Typed Call(const Expr& e, Scope& s) {
    struct Fn {
      std::string_view name;
      size_t arity;
    };
    static constexpr Fn kFns[] = {{"count", 1}, {"days", 1}, {"mentions", 2}, {"matched", 2}};
    const Fn* fn = nullptr;
    for (const Fn& f : kFns) {
      if (f.name == e.text) fn = &f;
    }
    if (!fn) {
      Error(s, e.pos, "unknown function '" + e.text + "'; known: count, days, mentions, matched");
      return {};
    }
    if (e.kids.size() != fn->arity) {
      Error(s, e.pos,
            e.text + "() takes " + std::to_string(fn->arity) + " argument" +
                (fn->arity > 1 ? "s" : "") + ", got " + std::to_string(e.kids.size()));
      return {};
    }
    Typed a = Compile(*e.kids[0], s);
    if (!a.ok()) return {};
    Kind k = a.type.kind;
    if (e.text == "count") {
      if (k != Kind::kList && k != Kind::kSet && k != Kind::kStateList && k != Kind::kStringList) {
        Error(s, e.kids[0]->pos, "count() needs a set or a list, not a " + TypeName(a.type));
        return {};
      }
      return Make(Op::kCount, Type::Of(Kind::kNumber), a.node);
    }
    if (e.text == "days") {
      if (k != Kind::kPeriod) {
        Error(s, e.kids[0]->pos, "days() needs a period, not a " + TypeName(a.type));
        return {};
      }
      return Make(Op::kDays, Type::Of(Kind::kNumber), a.node);
    }
    if (k != Kind::kString) {
      Error(s, e.kids[0]->pos, e.text + "() needs text first, not a " + TypeName(a.type));
      return {};
    }
    const Expr& lex = *e.kids[1];
    auto it = lex.kind == Expr::K::kName ? names_.find(lex.text) : names_.end();
    if (it == names_.end() || it->second.kind != Named::K::kLexicon) {
      Error(s, lex.pos, e.text + "() needs a declared lexicon as its second argument");
      return {};
    }
    bool mentions = e.text == "mentions";
    Typed t = Make(mentions ? Op::kMentions : Op::kMatched,
                   Type::Of(mentions ? Kind::kBool : Kind::kString), a.node);
    program_->nodes[t.node].lexicon = it->second.lexicon;
    return t;
  }

  Typed Quantifier(const Expr& e, Scope& s) {
    std::optional<Var> v = ParseVar(e.text);
    if (!v) {
      Error(s, e.var_pos,
            "cannot iterate over '" + e.text +
                "': expected offence, measure, selector, person or attachment");
      return {};
    }
    if (s.bound & (1 << *v)) {
      Error(s, e.var_pos, "'" + e.text + "' is already bound here");
      return {};
    }
    if (*v == kSelector && !(s.bound & (1 << kMeasure))) {
      Error(s, e.var_pos, "a selector belongs to a measure: bind a measure first");
      return {};
    }
    uint8_t saved = s.bound;
    s.bound |= static_cast<uint8_t>(1 << *v);
    Typed body = Bool(*e.kids[0], s, "'where'");
    s.bound = saved;
    if (!body.ok()) return {};
    Typed t = Make(e.op == "any" ? Op::kAny : Op::kNo, Type::Of(Kind::kBool), body.node);
    program_->nodes[t.node].var = static_cast<uint8_t>(*v);
    return t;
  }

  const FileReader& read_;
  std::vector<RuleError> errors_;
  std::unique_ptr<Program> program_;
  std::vector<RuleInfo> infos_;
  std::map<std::string, Named> names_;
  std::vector<SourceFile> digest_files_;
  std::string version_;
};

LoadResult RuleBase::Compile(std::vector<SourceFile> rule_files, const FileReader& read) {
  return Compiler(read).Run(std::move(rule_files));
}

namespace {

StatusOr<std::string> ReadLimited(const std::filesystem::path& p) {
  std::error_code ec;
  auto size = std::filesystem::file_size(p, ec);
  if (ec) return NotFoundError(ec.message());
  if (size > kMaxFileBytes) {
    return ResourceExhaustedError("larger than " + std::to_string(kMaxFileBytes) + " bytes");
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) return NotFoundError("cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

LoadResult RuleBase::LoadDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  LoadResult result;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    result.errors.push_back(RuleError{dir, 0, 0, "not a directory"});
    return result;
  }
  std::vector<SourceFile> files;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) {
    result.errors.push_back(RuleError{dir, 0, 0, "cannot list: " + ec.message()});
    return result;
  }
  for (; it != end; it.increment(ec)) {
    if (ec) {
      result.errors.push_back(RuleError{dir, 0, 0, "cannot list: " + ec.message()});
      return result;
    }
    const fs::path& p = it->path();
    std::string name = p.filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || p.extension() != ".rules") continue;
    std::string rel = fs::relative(p, dir, ec).generic_string();
    if (files.size() >= kMaxFiles) {
      result.errors.push_back(
          RuleError{dir, 0, 0, "more than " + std::to_string(kMaxFiles) + " rule files"});
      return result;
    }
    StatusOr<std::string> content = ReadLimited(p);
    if (!content.ok()) {
      result.errors.push_back(RuleError{rel, 0, 0, content.status().message()});
      continue;
    }
    files.push_back(SourceFile{rel, std::move(*content)});
  }
  if (!result.errors.empty()) return result;
  fs::path root(dir);
  FileReader reader = [root](const std::string& rel) { return ReadLimited(root / rel); };
  return Compile(std::move(files), reader);
}

std::string DigestFiles(std::vector<SourceFile> files) {
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.path < b.path; });
  crypto::Sha256Hasher h;
  for (const SourceFile& f : files) {
    h.Update(f.path);
    h.Update(std::string_view("\0", 1));
    h.Update(std::to_string(f.content.size()));
    h.Update(std::string_view("\0", 1));
    h.Update(f.content);
  }
  crypto::Sha256Digest digest = h.Finish();
  return "sha256:" + crypto::HexEncode(crypto::ByteSpan(digest.data(), digest.size()));
}

}  // namespace comity::rules
