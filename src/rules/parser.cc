// Lexer and recursive-descent parser of the rule language (grammar in docs/rules.md).
#include <cctype>
#include <cstdlib>
#include <string>
#include <vector>

#include "rules/syntax.h"

namespace comity::rules {
namespace {

enum class T { kEnd, kIdent, kNumber, kString, kPunct };

struct Token {
  T type = T::kEnd;
  std::string text;  // identifier, punctuation, number text, raw string content
  Pos pos;
};

class Lexer {
 public:
  Lexer(std::string_view text, const std::string& file, Pos start, std::vector<RuleError>* errors)
      : text_(text), file_(file), line_(start.line), col_(start.col), errors_(errors) {}

  // Tokenizes everything; returns false (with an error) on a lexical error.
  bool Run(std::vector<Token>* out) {
    while (true) {
      SkipSpaceAndComments();
      Token t;
      t.pos = Pos{line_, col_};
      if (i_ >= text_.size()) {
        t.type = T::kEnd;
        out->push_back(std::move(t));
        return true;
      }
      char c = text_[i_];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t s = i_;
        while (i_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[i_])) ||
                                     text_[i_] == '_' || text_[i_] == '-')) {
          Advance();
        }
        t.type = T::kIdent;
        t.text = std::string(text_.substr(s, i_ - s));
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && i_ + 1 < text_.size() &&
                  std::isdigit(static_cast<unsigned char>(text_[i_ + 1])))) {
        size_t s = i_;
        Advance();
        while (i_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i_]))) Advance();
        if (i_ + 1 < text_.size() && text_[i_] == '.' &&
            std::isdigit(static_cast<unsigned char>(text_[i_ + 1]))) {
          Advance();
          while (i_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[i_]))) {
            Advance();
          }
        }
        t.type = T::kNumber;
        t.text = std::string(text_.substr(s, i_ - s));
      } else if (c == '"') {
        Advance();
        size_t s = i_;
        while (i_ < text_.size() && text_[i_] != '"') {
          if (text_[i_] == '\\' && i_ + 1 < text_.size()) Advance();
          unsigned char ch = static_cast<unsigned char>(text_[i_]);
          if (ch < 0x20 && ch != '\n' && ch != '\r' && ch != '\t') {
            Error(Pos{line_, col_},
                  "control character (byte " + std::to_string(ch) + ") in a string");
            return false;
          }
          Advance();
        }
        if (i_ >= text_.size()) {
          Error(t.pos, "unterminated string");
          return false;
        }
        t.type = T::kString;
        t.text = std::string(text_.substr(s, i_ - s));
        Advance();
      } else {
        static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">="};
        t.type = T::kPunct;
        for (std::string_view two : kTwo) {
          if (text_.substr(i_, 2) == two) t.text = std::string(two);
        }
        if (t.text.empty()) {
          static constexpr std::string_view kOne = "<>(){}[],.=";
          if (kOne.find(c) == std::string_view::npos) {
            std::string shown =
                (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f)
                    ? std::string(1, c)
                    : "byte " + std::to_string(static_cast<unsigned char>(c));
            Error(t.pos, "unexpected character '" + shown + "'");
            return false;
          }
          t.text = std::string(1, c);
        }
        for (size_t k = 0; k < t.text.size(); ++k) Advance();
      }
      out->push_back(std::move(t));
    }
  }

 private:
  void Advance() {
    if (text_[i_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++i_;
  }
  void SkipSpaceAndComments() {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        Advance();
      } else if (c == '#') {
        while (i_ < text_.size() && text_[i_] != '\n') Advance();
      } else {
        break;
      }
    }
  }
  void Error(Pos p, std::string msg) {
    errors_->push_back(RuleError{file_, p.line, p.col, std::move(msg)});
  }

  std::string_view text_;
  const std::string& file_;
  size_t i_ = 0;
  int line_, col_;
  std::vector<RuleError>* errors_;
};

// Words that begin a statement or a clause, or are operators: never a name.
bool IsReserved(const std::string& s) {
  static constexpr std::string_view kWords[] = {
      "rule", "cites", "for", "each", "when",       "then", "because", "and",
      "or",   "not",   "in",  "is",   "intersects", "any",  "no",      "where",
      "true", "false", "set", "of",   "lexicon",    "from", "version"};
  for (std::string_view w : kWords) {
    if (s == w) return true;
  }
  return false;
}

struct SyntaxError {};

class Parser {
 public:
  Parser(std::vector<Token> tokens, const std::string& file, std::vector<RuleError>* errors)
      : toks_(std::move(tokens)), file_(file), errors_(errors) {}

  std::optional<FileAst> File() {
    FileAst ast;
    ast.file = file_;
    size_t before = errors_->size();
    while (Peek().type != T::kEnd) {
      if (!Statement(&ast)) Recover();
    }
    if (errors_->size() > before) return std::nullopt;
    return ast;
  }

  ExprPtr SingleExpression() {
    ExprPtr e = Expression();
    if (!e) return nullptr;
    if (Peek().type != T::kEnd) {
      Fail(Peek().pos, "unexpected " + Describe(Peek()) + " after the expression");
      return nullptr;
    }
    return e;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t k = std::min(p_ + ahead, toks_.size() - 1);
    return toks_[k];
  }
  Token Next() {
    Token t = Peek();
    if (p_ < toks_.size() - 1) ++p_;
    return t;
  }
  bool IsWord(const Token& t, std::string_view w) const {
    return t.type == T::kIdent && t.text == w;
  }
  bool IsPunct(const Token& t, std::string_view w) const {
    return t.type == T::kPunct && t.text == w;
  }
  static std::string Describe(const Token& t) {
    switch (t.type) {
      case T::kEnd:
        return "end of file";
      case T::kString:
        return "a string";
      case T::kNumber:
        return "number " + t.text;
      default:
        return "'" + t.text + "'";
    }
  }
  void Fail(Pos p, std::string msg) {
    if (!failed_) errors_->push_back(RuleError{file_, p.line, p.col, std::move(msg)});
    failed_ = true;
  }
  // Skips to the next statement keyword after an error.
  void Recover() {
    failed_ = false;
    Next();
    while (Peek().type != T::kEnd) {
      const Token& t = Peek();
      if (IsWord(t, "rule") || IsWord(t, "set") || IsWord(t, "lexicon") || IsWord(t, "version")) {
        break;
      }
      Next();
    }
  }
  bool ExpectWord(std::string_view w, std::string_view context) {
    if (IsWord(Peek(), w)) {
      Next();
      return true;
    }
    Fail(Peek().pos,
         "expected '" + std::string(w) + "' " + std::string(context) + ", got " + Describe(Peek()));
    return false;
  }
  bool ExpectPunct(std::string_view w, std::string_view context) {
    if (IsPunct(Peek(), w)) {
      Next();
      return true;
    }
    Fail(Peek().pos,
         "expected '" + std::string(w) + "' " + std::string(context) + ", got " + Describe(Peek()));
    return false;
  }
  std::optional<Token> ExpectName(std::string_view what) {
    const Token& t = Peek();
    if (t.type == T::kIdent && !IsReserved(t.text)) return Next();
    Fail(t.pos, "expected " + std::string(what) + ", got " + Describe(t));
    return std::nullopt;
  }
  std::optional<StringAst> ExpectString(std::string_view what) {
    const Token& t = Peek();
    if (t.type != T::kString) {
      Fail(t.pos, "expected " + std::string(what) + " (a quoted string), got " + Describe(t));
      return std::nullopt;
    }
    Token s = Next();
    return StringAst{s.pos, s.text};
  }

  bool Statement(FileAst* ast) {
    const Token& t = Peek();
    if (IsWord(t, "rule")) return Rule(ast);
    if (IsWord(t, "set")) return Set(ast);
    if (IsWord(t, "lexicon")) return LexiconDecl(ast);
    if (IsWord(t, "version")) {
      Pos p = Next().pos;
      auto s = ExpectString("the rule base's version");
      if (!s) return false;
      if (ast->version) {
        Fail(p, "version is given twice in this file");
        return false;
      }
      ast->version = *s;
      ast->version_pos = p;
      return true;
    }
    Fail(t.pos, "expected 'rule', 'set', 'lexicon' or 'version', got " + Describe(t));
    return false;
  }

  bool Set(FileAst* ast) {
    SetAst s;
    s.pos = Next().pos;
    auto name = ExpectName("the set's name");
    if (!name) return false;
    s.name = name->text;
    if (!ExpectWord("of", "after the set's name (set NAME of FIELD = {...})")) return false;
    s.of = Primary(0);
    if (!s.of) return false;
    if (!ExpectPunct("=", "after the set's field")) return false;
    if (!ExpectPunct("{", "to open the set's members")) return false;
    while (!IsPunct(Peek(), "}")) {
      const Token& m = Peek();
      if (m.type != T::kString) {
        Fail(m.pos, "expected a quoted member, got " + Describe(m));
        return false;
      }
      s.members.emplace_back(m.text, m.pos);
      Next();
      if (IsPunct(Peek(), ",")) {
        Next();
      } else if (!IsPunct(Peek(), "}")) {
        Fail(Peek().pos, "expected ',' or '}' in the set, got " + Describe(Peek()));
        return false;
      }
    }
    Next();
    ast->sets.push_back(std::move(s));
    return true;
  }

  bool LexiconDecl(FileAst* ast) {
    LexiconAst l;
    l.pos = Next().pos;
    auto name = ExpectName("the lexicon's name");
    if (!name) return false;
    l.name = name->text;
    if (!ExpectWord("from", "after the lexicon's name (lexicon NAME from \"FILE\")")) {
      return false;
    }
    auto f = ExpectString("the lexicon's file");
    if (!f) return false;
    l.file = *f;
    ast->lexicons.push_back(std::move(l));
    return true;
  }

  bool Rule(FileAst* ast) {
    RuleAst r;
    Token kw = Next();
    r.pos = kw.pos;
    r.first_line = kw.pos.line;
    // The id: name {"." name}, written without spaces.
    auto first = ExpectName("the rule's id");
    if (!first) return false;
    r.id = first->text;
    r.id_pos = first->pos;
    while (IsPunct(Peek(), ".")) {
      Next();
      auto seg = ExpectName("the next part of the rule's id");
      if (!seg) return false;
      r.id += "." + seg->text;
    }
    if (!ExpectWord("cites", "after the rule's id: every rule cites its articles")) return false;
    do {
      CitationAst c;
      const Token& inst = Peek();
      c.pos = inst.pos;
      if (inst.type != T::kIdent) {
        Fail(inst.pos, "expected a citation such as 'UNCC 46', got " + Describe(inst));
        return false;
      }
      c.instrument = Next().text;
      const Token& art = Peek();
      if (art.type != T::kNumber) {
        Fail(art.pos,
             "expected an article number after '" + c.instrument + "', got " + Describe(art));
        return false;
      }
      if (art.text.find_first_not_of("0123456789") != std::string::npos || art.text.size() > 4) {
        Fail(art.pos, "article must be a whole number, got " + art.text);
        return false;
      }
      c.article = std::strtol(art.text.c_str(), nullptr, 10);
      Next();
      bool first_para = true;
      while (IsPunct(Peek(), "(")) {
        Next();
        const Token& para = Peek();
        bool ok = (para.type == T::kNumber &&
                   para.text.find_first_not_of("0123456789") == std::string::npos) ||
                  (para.type == T::kIdent &&
                   para.text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") ==
                       std::string::npos);
        if (!ok) {
          Fail(para.pos, "expected a paragraph such as '(1)' or '(h)', got " + Describe(para));
          return false;
        }
        c.paragraph += first_para ? para.text : "(" + para.text + ")";
        first_para = false;
        Next();
        if (!ExpectPunct(")", "to close the paragraph")) return false;
      }
      r.citations.push_back(std::move(c));
      if (!IsPunct(Peek(), ",")) break;
      Next();
    } while (true);
    if (IsWord(Peek(), "for")) {
      Next();
      if (!ExpectWord("each", "after 'for'")) return false;
      do {
        auto v = ExpectName(
            "what to iterate over (offence, measure, selector, person, "
            "attachment)");
        if (!v) return false;
        r.loops.emplace_back(v->text, v->pos);
        if (!IsPunct(Peek(), ",")) break;
        Next();
      } while (true);
    }
    if (!ExpectWord("when", "to start the rule's condition")) return false;
    r.when = Expression();
    if (!r.when) return false;
    if (!ExpectWord("then", "after the condition")) return false;
    const Token& eff = Peek();
    r.effect_pos = eff.pos;
    if (eff.type != T::kIdent) {
      Fail(eff.pos, "expected an effect (refuse, incomplete, review, condition, note), got " +
                        Describe(eff));
      return false;
    }
    if (IsPunct(Peek(1), ".")) {
      r.effect_path = Primary(0);
      if (!r.effect_path) return false;
    } else {
      r.effect = Next().text;
      if (r.effect == "condition") {
        auto code = ExpectName("the condition's code (e.g. use-limitation)");
        if (!code) return false;
        r.condition_code = code->text;
        r.condition_pos = code->pos;
      }
    }
    auto msg = ExpectString("the finding's message");
    if (!msg) return false;
    r.message = *msg;
    r.last_line = LastLine(msg->pos, msg->raw);
    if (IsWord(Peek(), "because")) {
      Next();
      auto b = ExpectString("the rule's explanation");
      if (!b) return false;
      r.because = *b;
      r.last_line = LastLine(b->pos, b->raw);
    }
    ast->rules.push_back(std::move(r));
    return true;
  }

  static int LastLine(Pos start, const std::string& raw) {
    int line = start.line;
    for (char c : raw) {
      if (c == '\n') ++line;
    }
    return line;
  }

  // --- expressions ---------------------------------------------------------------------------

  ExprPtr Expression(int depth = 0) { return Or(depth); }

  bool TooDeep(int depth) {
    if (depth > kMaxDepth) {
      Fail(Peek().pos, "expression nested more than " + std::to_string(kMaxDepth) + " levels deep");
      return true;
    }
    return false;
  }

  ExprPtr Binary(Expr::K kind, Pos pos, ExprPtr a, ExprPtr b) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->pos = pos;
    e->kids.push_back(std::move(a));
    e->kids.push_back(std::move(b));
    return e;
  }

  ExprPtr Or(int depth) {
    if (TooDeep(depth)) return nullptr;
    ExprPtr left = And(depth + 1);
    while (left && IsWord(Peek(), "or")) {
      Pos p = Next().pos;
      ExprPtr right = And(depth + 1);
      if (!right) return nullptr;
      left = Binary(Expr::K::kOr, p, std::move(left), std::move(right));
    }
    return left;
  }

  ExprPtr And(int depth) {
    ExprPtr left = Not(depth + 1);
    while (left && IsWord(Peek(), "and")) {
      Pos p = Next().pos;
      ExprPtr right = Not(depth + 1);
      if (!right) return nullptr;
      left = Binary(Expr::K::kAnd, p, std::move(left), std::move(right));
    }
    return left;
  }

  ExprPtr Not(int depth) {
    if (TooDeep(depth)) return nullptr;
    if (IsWord(Peek(), "not")) {
      Pos p = Next().pos;
      ExprPtr inner = Not(depth + 1);
      if (!inner) return nullptr;
      auto e = std::make_unique<Expr>();
      e->kind = Expr::K::kNot;
      e->pos = p;
      e->kids.push_back(std::move(inner));
      return e;
    }
    return Comparison(depth + 1);
  }

  ExprPtr Comparison(int depth) {
    ExprPtr left = Primary(depth + 1);
    if (!left) return nullptr;
    const Token& t = Peek();
    if (t.type == T::kPunct && (t.text == "==" || t.text == "!=" || t.text == "<" ||
                                t.text == "<=" || t.text == ">" || t.text == ">=")) {
      Token op = Next();
      ExprPtr right = Primary(depth + 1);
      if (!right) return nullptr;
      auto e = Binary(Expr::K::kCompare, op.pos, std::move(left), std::move(right));
      e->op = op.text;
      return e;
    }
    if (IsPunct(t, "=")) {
      Fail(t.pos, "use '==' to compare");
      return nullptr;
    }
    if (IsWord(t, "in") || (IsWord(t, "not") && IsWord(Peek(1), "in"))) {
      Pos p = t.pos;
      bool negated = IsWord(t, "not");
      Next();
      if (negated) Next();
      ExprPtr right = Primary(depth + 1);
      if (!right) return nullptr;
      auto e = Binary(Expr::K::kIn, p, std::move(left), std::move(right));
      e->negated = negated;
      return e;
    }
    if (IsWord(t, "intersects")) {
      Pos p = Next().pos;
      ExprPtr right = Primary(depth + 1);
      if (!right) return nullptr;
      return Binary(Expr::K::kIntersects, p, std::move(left), std::move(right));
    }
    if (IsWord(t, "is")) {
      Pos p = Next().pos;
      bool negated = false;
      if (IsWord(Peek(), "not")) {
        Next();
        negated = true;
      }
      const Token& what = Peek();
      if (what.type != T::kIdent || (what.text != "present" && what.text != "absent" &&
                                     what.text != "blank" && what.text != "empty")) {
        Fail(what.pos,
             "expected 'present', 'absent', 'blank' or 'empty' after 'is', got " + Describe(what));
        return nullptr;
      }
      auto e = std::make_unique<Expr>();
      e->kind = Expr::K::kIs;
      e->pos = p;
      e->op = Next().text;
      e->negated = negated;
      e->kids.push_back(std::move(left));
      return e;
    }
    return left;
  }

  ExprPtr Primary(int depth) {
    if (TooDeep(depth)) return nullptr;
    const Token& t = Peek();
    auto e = std::make_unique<Expr>();
    e->pos = t.pos;
    switch (t.type) {
      case T::kNumber:
        e->kind = Expr::K::kNumber;
        e->number = std::strtod(t.text.c_str(), nullptr);
        e->text = t.text;
        Next();
        return e;
      case T::kString:
        e->kind = Expr::K::kString;
        e->text = t.text;
        Next();
        return e;
      case T::kEnd:
        Fail(t.pos, "unexpected end of file in an expression");
        return nullptr;
      case T::kPunct:
        if (t.text == "(") {
          Next();
          ExprPtr inner = Expression(depth + 1);
          if (!inner) return nullptr;
          if (!ExpectPunct(")", "to close '('")) return nullptr;
          return inner;
        }
        if (t.text == "{") {
          Next();
          e->kind = Expr::K::kSetLiteral;
          while (!IsPunct(Peek(), "}")) {
            const Token& m = Peek();
            if (m.type != T::kString) {
              Fail(m.pos, "expected a quoted member, got " + Describe(m));
              return nullptr;
            }
            auto item = std::make_unique<Expr>();
            item->kind = Expr::K::kString;
            item->pos = m.pos;
            item->text = m.text;
            e->kids.push_back(std::move(item));
            Next();
            if (IsPunct(Peek(), ",")) {
              Next();
            } else if (!IsPunct(Peek(), "}")) {
              Fail(Peek().pos, "expected ',' or '}' in the set, got " + Describe(Peek()));
              return nullptr;
            }
          }
          Next();
          return e;
        }
        Fail(t.pos, "unexpected " + Describe(t) + " in an expression");
        return nullptr;
      case T::kIdent:
        break;
    }
    if (t.text == "true" || t.text == "false") {
      e->kind = Expr::K::kBool;
      e->boolean = t.text == "true";
      Next();
      return e;
    }
    if ((t.text == "any" || t.text == "no") && Peek(1).type == T::kIdent) {
      e->kind = Expr::K::kQuantifier;
      e->op = Next().text;
      Token var = Next();
      e->text = var.text;
      e->var_pos = var.pos;
      if (!ExpectWord("where", "after '" + e->op + " " + e->text + "'")) return nullptr;
      if (!ExpectPunct("(", "around the condition of '" + e->op + "' (any X where (...))")) {
        return nullptr;
      }
      ExprPtr inner = Expression(depth + 1);
      if (!inner) return nullptr;
      if (!ExpectPunct(")", "to close the condition")) return nullptr;
      e->kids.push_back(std::move(inner));
      return e;
    }
    if (IsReserved(t.text)) {
      Fail(t.pos, "unexpected '" + t.text + "' in an expression");
      return nullptr;
    }
    Token name = Next();
    if (IsPunct(Peek(), "(")) {
      e->kind = Expr::K::kCall;
      e->text = name.text;
      Next();
      if (!IsPunct(Peek(), ")")) {
        do {
          ExprPtr arg = Expression(depth + 1);
          if (!arg) return nullptr;
          e->kids.push_back(std::move(arg));
          if (!IsPunct(Peek(), ",")) break;
          Next();
        } while (true);
      }
      if (!ExpectPunct(")", "to close the call of " + e->text + "()")) return nullptr;
      return e;
    }
    e->path.push_back(PathSegment{name.text, name.pos, nullptr});
    while (true) {
      if (IsPunct(Peek(), ".")) {
        Next();
        const Token& seg = Peek();
        if (seg.type != T::kIdent) {
          Fail(seg.pos, "expected a field name after '.', got " + Describe(seg));
          return nullptr;
        }
        e->path.push_back(PathSegment{seg.text, seg.pos, nullptr});
        Next();
      } else if (IsPunct(Peek(), "[")) {
        Pos p = Next().pos;
        if (e->path.back().index) {
          Fail(p, "only one index per field");
          return nullptr;
        }
        e->path.back().index = Expression(depth + 1);
        if (!e->path.back().index) return nullptr;
        if (!ExpectPunct("]", "to close '['")) return nullptr;
      } else {
        break;
      }
    }
    e->kind = (e->path.size() == 1 && !e->path[0].index) ? Expr::K::kName : Expr::K::kPath;
    if (e->kind == Expr::K::kName) e->text = e->path[0].name;
    return e;
  }

  std::vector<Token> toks_;
  size_t p_ = 0;
  const std::string& file_;
  std::vector<RuleError>* errors_;
  bool failed_ = false;
};

}  // namespace

std::optional<FileAst> ParseRuleFile(std::string_view text, const std::string& file,
                                     std::vector<RuleError>* errors) {
  if (text.size() > kMaxFileBytes) {
    errors->push_back(
        RuleError{file, 1, 1, "file is larger than " + std::to_string(kMaxFileBytes) + " bytes"});
    return std::nullopt;
  }
  std::vector<Token> tokens;
  if (!Lexer(text, file, Pos{1, 1}, errors).Run(&tokens)) return std::nullopt;
  return Parser(std::move(tokens), file, errors).File();
}

ExprPtr ParseExpression(std::string_view text, const std::string& file, Pos start,
                        std::vector<RuleError>* errors) {
  std::vector<Token> tokens;
  if (!Lexer(text, file, start, errors).Run(&tokens)) return nullptr;
  return Parser(std::move(tokens), file, errors).SingleExpression();
}

std::string UnescapeString(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      char n = raw[++i];
      out.push_back(n == 'n' ? '\n' : n);
      continue;
    }
    if (c == '\n' || c == '\r') {
      // A line break and the indentation around it become one space.
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      while (i + 1 < raw.size() && (raw[i + 1] == ' ' || raw[i + 1] == '\t' || raw[i + 1] == '\n' ||
                                    raw[i + 1] == '\r')) {
        ++i;
      }
      if (!out.empty()) out.push_back(' ');
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace comity::rules
