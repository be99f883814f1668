#include "core/pattern.h"

#include <algorithm>
#include <array>
#include <memory>
#include <utility>

namespace comity {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr int kMaxNesting = 32;
constexpr int kInfinite = -1;
constexpr int kMaxRepeat = 1000;

// Decodes one UTF-8 code point at s[*i], advancing *i. Invalid sequences yield U+FFFD and
// advance one byte.
uint32_t DecodeUtf8(std::string_view s, size_t* i) {
  const auto b0 = static_cast<unsigned char>(s[*i]);
  if (b0 < 0x80) {
    ++*i;
    return b0;
  }
  int len = 0;
  uint32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + static_cast<size_t>(len) > s.size()) {
    ++*i;
    return 0xFFFD;
  }
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[*i + static_cast<size_t>(k)]);
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *i += static_cast<size_t>(len);
  return cp;
}

struct Node {
  enum Kind { kEmpty, kClass, kBol, kEol, kConcat, kAlt, kRepeat } kind = kEmpty;
  uint32_t cls = 0;
  int min = 0;
  int max = 0;
  std::vector<std::unique_ptr<Node>> kids;
};

using Ranges = std::vector<Pattern::Range>;

Ranges Normalise(Ranges r) {
  std::sort(r.begin(), r.end(), [](auto& a, auto& b) { return a.lo < b.lo; });
  Ranges out;
  for (const auto& x : r) {
    if (!out.empty() && x.lo <= out.back().hi + 1) {
      out.back().hi = std::max(out.back().hi, x.hi);
    } else {
      out.push_back(x);
    }
  }
  return out;
}

Ranges Complement(const Ranges& in) {
  Ranges r = Normalise(in);
  Ranges out;
  uint32_t next = 0;
  for (const auto& x : r) {
    if (x.lo > next) out.push_back({next, x.lo - 1});
    next = x.hi + 1;
  }
  if (next <= kMaxCodePoint) out.push_back({next, kMaxCodePoint});
  return out;
}

Ranges DigitRanges() { return {{'0', '9'}}; }
Ranges WordRanges() { return {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; }
Ranges SpaceRanges() {
  // ECMA-262 WhiteSpace and LineTerminator.
  return {{0x09, 0x0D},     {0x20, 0x20},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
          {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
}

}  // namespace

bool Pattern::CharClass::Contains(uint32_t cp) const {
  if (cp < 128) return (ascii[cp >> 6] >> (cp & 63)) & 1;
  for (const auto& r : wide) {
    if (cp < r.lo) return false;
    if (cp <= r.hi) return true;
  }
  return false;
}

class PatternCompiler {
 public:
  explicit PatternCompiler(std::string_view src) : src_(src) {}

  StatusOr<Pattern> Run() {
    std::unique_ptr<Node> root = ParseAlt(0);
    if (!error_.empty()) return Fail();
    if (pos_ < src_.size()) {
      // Only an unmatched ')' stops ParseAlt at depth 0.
      SetError("unmatched ')'");
      return Fail();
    }
    Emit(*root);
    if (!error_.empty()) return Fail();
    Add({Pattern::Op::kMatch});
    if (!error_.empty()) return Fail();
    p_.source_ = std::string(src_);
    p_.anchored_start_ = !p_.prog_.empty() && p_.prog_[0].op == Pattern::Op::kBol;
    DetectSimple(*root);
    return std::move(p_);
  }

 private:
  Status Fail() const {
    return InvalidArgumentError("pattern \"" + std::string(src_) + "\" at offset " +
                                std::to_string(error_pos_) + ": " + error_);
  }

  void SetError(std::string msg) {
    if (error_.empty()) {
      error_ = std::move(msg);
      error_pos_ = pos_;
    }
  }

  bool AtEnd() const { return pos_ >= src_.size(); }
  char Peek() const { return src_[pos_]; }

  uint32_t AddClass(const Ranges& ranges) {
    Pattern::CharClass c;
    for (const auto& r : Normalise(ranges)) {
      for (uint32_t cp = r.lo; cp <= std::min<uint32_t>(r.hi, 127); ++cp) {
        c.ascii[cp >> 6] |= uint64_t{1} << (cp & 63);
      }
      if (r.hi >= 128) c.wide.push_back({std::max<uint32_t>(r.lo, 128), r.hi});
    }
    p_.classes_.push_back(std::move(c));
    return static_cast<uint32_t>(p_.classes_.size() - 1);
  }

  std::unique_ptr<Node> ClassNode(const Ranges& ranges) {
    auto n = std::make_unique<Node>();
    n->kind = Node::kClass;
    n->cls = AddClass(ranges);
    return n;
  }

  std::unique_ptr<Node> ParseAlt(int depth) {
    if (depth > kMaxNesting) {
      SetError("groups nested deeper than " + std::to_string(kMaxNesting));
      return std::make_unique<Node>();
    }
    auto first = ParseConcat(depth);
    if (AtEnd() || Peek() != '|') return first;
    auto alt = std::make_unique<Node>();
    alt->kind = Node::kAlt;
    alt->kids.push_back(std::move(first));
    while (error_.empty() && !AtEnd() && Peek() == '|') {
      ++pos_;
      alt->kids.push_back(ParseConcat(depth));
    }
    return alt;
  }

  std::unique_ptr<Node> ParseConcat(int depth) {
    auto cat = std::make_unique<Node>();
    cat->kind = Node::kConcat;
    while (error_.empty() && !AtEnd() && Peek() != '|' && Peek() != ')') {
      auto atom = ParseAtom(depth);
      if (!error_.empty()) break;
      ParseQuantifier(&atom);
      cat->kids.push_back(std::move(atom));
    }
    return cat;
  }

  // Reads {n}, {n,}, {n,m}; false (pos unchanged) if the text there is not a quantifier.
  bool ParseBraces(int* min, int* max) {
    size_t p = pos_ + 1;
    auto number = [&](int* out) {
      size_t start = p;
      long v = 0;
      while (p < src_.size() && src_[p] >= '0' && src_[p] <= '9') {
        v = v * 10 + (src_[p] - '0');
        if (v > kMaxRepeat) v = kMaxRepeat + 1;
        ++p;
      }
      *out = static_cast<int>(v);
      return p > start;
    };
    if (!number(min)) return false;
    *max = *min;
    if (p < src_.size() && src_[p] == ',') {
      ++p;
      if (!number(max)) *max = kInfinite;
    }
    if (p >= src_.size() || src_[p] != '}') return false;
    pos_ = p + 1;
    return true;
  }

  void ParseQuantifier(std::unique_ptr<Node>* atom) {
    if (AtEnd()) return;
    int min = 0, max = 0;
    char c = Peek();
    if (c == '*') {
      min = 0, max = kInfinite;
      ++pos_;
    } else if (c == '+') {
      min = 1, max = kInfinite;
      ++pos_;
    } else if (c == '?') {
      min = 0, max = 1;
      ++pos_;
    } else if (c == '{') {
      if (!ParseBraces(&min, &max)) {
        SetError("'{' does not start a quantifier {n}, {n,} or {n,m}");
        return;
      }
      if (min > kMaxRepeat || max > kMaxRepeat) {
        SetError("repetition count above " + std::to_string(kMaxRepeat));
        return;
      }
      if (max != kInfinite && max < min) {
        SetError("quantifier {n,m} with m < n");
        return;
      }
    } else {
      return;
    }
    if ((*atom)->kind == Node::kBol || (*atom)->kind == Node::kEol) {
      SetError("nothing to repeat");
      return;
    }
    if (!AtEnd() && Peek() == '?') ++pos_;  // lazy: same language
    if (!AtEnd() && (Peek() == '*' || Peek() == '+' || Peek() == '?' || Peek() == '{')) {
      SetError("nothing to repeat");
      return;
    }
    auto rep = std::make_unique<Node>();
    rep->kind = Node::kRepeat;
    rep->min = min;
    rep->max = max;
    rep->kids.push_back(std::move(*atom));
    *atom = std::move(rep);
  }

  // Parses an escape after '\'. Returns true and sets *ranges for class escapes (\d ...) or a
  // single code point.
  bool ParseEscape(bool in_class, Ranges* ranges) {
    if (AtEnd()) {
      SetError("'\\' at the end of the pattern");
      return false;
    }
    char c = Peek();
    ++pos_;
    auto hex = [&](int n, uint32_t* out) {
      uint32_t v = 0;
      for (int i = 0; i < n; ++i) {
        if (AtEnd()) return false;
        char h = Peek();
        uint32_t d;
        if (h >= '0' && h <= '9') {
          d = static_cast<uint32_t>(h - '0');
        } else if (h >= 'a' && h <= 'f') {
          d = static_cast<uint32_t>(h - 'a' + 10);
        } else if (h >= 'A' && h <= 'F') {
          d = static_cast<uint32_t>(h - 'A' + 10);
        } else {
          return false;
        }
        v = v * 16 + d;
        ++pos_;
      }
      *out = v;
      return true;
    };
    uint32_t cp = 0;
    switch (c) {
      case 'd':
        *ranges = DigitRanges();
        return true;
      case 'D':
        *ranges = Complement(DigitRanges());
        return true;
      case 'w':
        *ranges = WordRanges();
        return true;
      case 'W':
        *ranges = Complement(WordRanges());
        return true;
      case 's':
        *ranges = SpaceRanges();
        return true;
      case 'S':
        *ranges = Complement(SpaceRanges());
        return true;
      case 't':
        cp = '\t';
        break;
      case 'n':
        cp = '\n';
        break;
      case 'r':
        cp = '\r';
        break;
      case 'f':
        cp = '\f';
        break;
      case 'v':
        cp = '\v';
        break;
      case '0':
        cp = 0;
        break;
      case 'b':
        if (!in_class) {
          SetError("word boundaries (\\b) are not supported");
          return false;
        }
        cp = '\b';
        break;
      case 'x':
        if (!hex(2, &cp)) {
          SetError("\\x needs two hexadecimal digits");
          return false;
        }
        break;
      case 'u':
        if (!hex(4, &cp)) {
          SetError("\\u needs four hexadecimal digits");
          return false;
        }
        break;
      default:
        if (std::string_view("^$\\.*+?()[]{}|/-").find(c) != std::string_view::npos) {
          cp = static_cast<unsigned char>(c);
          break;
        }
        --pos_;
        SetError(std::string("unsupported escape \\") + c);
        return false;
    }
    *ranges = {{cp, cp}};
    return true;
  }

  std::unique_ptr<Node> ParseClass() {
    // At '['.
    ++pos_;
    bool negate = false;
    if (!AtEnd() && Peek() == '^') {
      negate = true;
      ++pos_;
    }
    Ranges ranges;
    while (true) {
      if (AtEnd()) {
        SetError("unterminated character class");
        return std::make_unique<Node>();
      }
      if (Peek() == ']') {
        ++pos_;
        break;
      }
      Ranges item;
      if (!ParseClassAtom(&item)) return std::make_unique<Node>();
      if (item.size() == 1 && item[0].lo == item[0].hi && pos_ + 1 < src_.size() && Peek() == '-' &&
          src_[pos_ + 1] != ']') {
        ++pos_;
        Ranges hi;
        if (!ParseClassAtom(&hi)) return std::make_unique<Node>();
        if (hi.size() != 1 || hi[0].lo != hi[0].hi) {
          SetError("a class escape cannot end a range");
          return std::make_unique<Node>();
        }
        if (hi[0].lo < item[0].lo) {
          SetError("range out of order in character class");
          return std::make_unique<Node>();
        }
        item[0].hi = hi[0].lo;
      }
      ranges.insert(ranges.end(), item.begin(), item.end());
    }
    return ClassNode(negate ? Complement(ranges) : ranges);
  }

  bool ParseClassAtom(Ranges* out) {
    if (Peek() == '\\') {
      ++pos_;
      return ParseEscape(/*in_class=*/true, out);
    }
    uint32_t cp = DecodeUtf8(src_, &pos_);
    *out = {{cp, cp}};
    return true;
  }

  std::unique_ptr<Node> ParseAtom(int depth) {
    char c = Peek();
    switch (c) {
      case '(': {
        ++pos_;
        if (!AtEnd() && Peek() == '?') {
          if (pos_ + 1 < src_.size() && src_[pos_ + 1] == ':') {
            pos_ += 2;
          } else {
            SetError("only (?:...) groups are supported (no look-around or named groups)");
            return std::make_unique<Node>();
          }
        }
        auto inner = ParseAlt(depth + 1);
        if (!error_.empty()) return inner;
        if (AtEnd() || Peek() != ')') {
          SetError("unterminated group");
          return inner;
        }
        ++pos_;
        return inner;
      }
      case '[':
        return ParseClass();
      case '.':
        ++pos_;
        // ECMA-262: any code point except line terminators.
        return ClassNode(Complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
      case '^': {
        ++pos_;
        auto n = std::make_unique<Node>();
        n->kind = Node::kBol;
        return n;
      }
      case '$': {
        ++pos_;
        auto n = std::make_unique<Node>();
        n->kind = Node::kEol;
        return n;
      }
      case '\\': {
        ++pos_;
        if (!AtEnd() && Peek() >= '1' && Peek() <= '9') {
          SetError("back references are not supported");
          return std::make_unique<Node>();
        }
        Ranges r;
        if (!ParseEscape(/*in_class=*/false, &r)) return std::make_unique<Node>();
        return ClassNode(r);
      }
      case '*':
      case '+':
      case '?':
        SetError("nothing to repeat");
        return std::make_unique<Node>();
      case '{':
      case '}':
      case ']':
        SetError(std::string("unescaped '") + c + "'");
        return std::make_unique<Node>();
      default: {
        uint32_t cp = DecodeUtf8(src_, &pos_);
        return ClassNode({{cp, cp}});
      }
    }
  }

  static bool Disjoint(const Pattern::CharClass& a, const Pattern::CharClass& b) {
    if ((a.ascii[0] & b.ascii[0]) != 0 || (a.ascii[1] & b.ascii[1]) != 0) return false;
    for (const auto& x : a.wide) {
      for (const auto& y : b.wide) {
        if (x.lo <= y.hi && y.lo <= x.hi) return false;
      }
    }
    return true;
  }

  // Recognises ^ atom* $ with each atom a class or a counted class, and no repeated atom whose
  // class overlaps a later atom's: then greedy matching is exact.
  void DetectSimple(const Node& root) {
    if (root.kind != Node::kConcat || root.kids.size() < 2 ||
        root.kids.front()->kind != Node::kBol || root.kids.back()->kind != Node::kEol) {
      return;
    }
    std::vector<Pattern::Atom> atoms;
    for (size_t i = 1; i + 1 < root.kids.size(); ++i) {
      const Node& k = *root.kids[i];
      if (k.kind == Node::kClass) {
        atoms.push_back({k.cls, 1, 1});
      } else if (k.kind == Node::kRepeat && k.kids[0]->kind == Node::kClass) {
        atoms.push_back({k.kids[0]->cls, static_cast<uint32_t>(k.min),
                         k.max == kInfinite ? UINT32_MAX : static_cast<uint32_t>(k.max)});
      } else {
        return;
      }
    }
    for (size_t i = 0; i < atoms.size(); ++i) {
      if (atoms[i].min == atoms[i].max) continue;
      for (size_t j = i + 1; j < atoms.size(); ++j) {
        if (!Disjoint(p_.classes_[atoms[i].cls], p_.classes_[atoms[j].cls])) return;
      }
    }
    p_.simple_ = std::move(atoms);
    p_.is_simple_ = true;
  }

  uint32_t Add(Pattern::Inst inst) {
    if (p_.prog_.size() >= Pattern::kMaxInstructions) {
      SetError("pattern too large (over " + std::to_string(Pattern::kMaxInstructions) +
               " instructions once repetitions are expanded)");
      return 0;
    }
    p_.prog_.push_back(inst);
    return static_cast<uint32_t>(p_.prog_.size() - 1);
  }
  uint32_t Here() const { return static_cast<uint32_t>(p_.prog_.size()); }

  void Emit(const Node& n) {
    if (!error_.empty()) return;
    switch (n.kind) {
      case Node::kEmpty:
        return;
      case Node::kClass:
        Add({Pattern::Op::kClass, n.cls});
        return;
      case Node::kBol:
        Add({Pattern::Op::kBol});
        return;
      case Node::kEol:
        Add({Pattern::Op::kEol});
        return;
      case Node::kConcat:
        for (const auto& k : n.kids) Emit(*k);
        return;
      case Node::kAlt: {
        std::vector<uint32_t> jumps;
        for (size_t i = 0; i < n.kids.size(); ++i) {
          if (i + 1 < n.kids.size()) {
            uint32_t split = Add({Pattern::Op::kSplit});
            if (!error_.empty()) return;
            p_.prog_[split].x = Here();
            Emit(*n.kids[i]);
            jumps.push_back(Add({Pattern::Op::kJmp}));
            if (!error_.empty()) return;
            p_.prog_[split].y = Here();
          } else {
            Emit(*n.kids[i]);
          }
        }
        if (!error_.empty()) return;
        for (uint32_t j : jumps) p_.prog_[j].x = Here();
        return;
      }
      case Node::kRepeat: {
        const Node& body = *n.kids[0];
        for (int i = 0; i < n.min; ++i) Emit(body);
        if (n.max == kInfinite) {
          uint32_t split = Add({Pattern::Op::kSplit});
          if (!error_.empty()) return;
          p_.prog_[split].x = Here();
          Emit(body);
          Add({Pattern::Op::kJmp, split});
          if (!error_.empty()) return;
          p_.prog_[split].y = Here();
          return;
        }
        std::vector<uint32_t> splits;
        for (int i = n.min; i < n.max; ++i) {
          uint32_t split = Add({Pattern::Op::kSplit});
          if (!error_.empty()) return;
          p_.prog_[split].x = Here();
          splits.push_back(split);
          Emit(body);
        }
        if (!error_.empty()) return;
        for (uint32_t s : splits) p_.prog_[s].y = Here();
        return;
      }
    }
  }

  std::string_view src_;
  size_t pos_ = 0;
  std::string error_;
  size_t error_pos_ = 0;
  Pattern p_;
};

StatusOr<Pattern> Pattern::Compile(std::string_view source) {
  return PatternCompiler(source).Run();
}

bool Pattern::MatchesSimple(std::string_view text) const {
  size_t pos = 0;
  for (const Atom& a : simple_) {
    const CharClass& c = classes_[a.cls];
    uint32_t count = 0;
    while (count < a.max && pos < text.size()) {
      size_t next = pos;
      uint32_t cp = DecodeUtf8(text, &next);
      if (!c.Contains(cp)) break;
      pos = next;
      ++count;
    }
    if (count < a.min) return false;
  }
  return pos == text.size();
}

bool Pattern::Matches(std::string_view text) const {
  if (is_simple_) return MatchesSimple(text);
  const size_t n = prog_.size();
  // Scratch: two thread lists, a generation mark per instruction, and the closure stack.
  constexpr size_t kInline = 512;
  std::array<uint32_t, kInline * 6> inline_buf;
  std::vector<uint32_t> heap_buf;
  uint32_t* buf = inline_buf.data();
  if (n > kInline) {
    heap_buf.resize(n * 6);
    buf = heap_buf.data();
  }
  uint32_t* clist = buf;
  uint32_t* nlist = buf + n;
  uint32_t* mark = buf + 2 * n;
  uint32_t* stack = buf + 3 * n;  // 3n entries; a closure pushes at most 2n + 1
  std::fill(mark, mark + n, 0);
  size_t csize = 0, nsize = 0;
  uint32_t gen = 1;
  bool matched = false;

  // Adds pc and its epsilon closure at input position `pos` to list/size.
  auto add = [&](uint32_t* list, size_t* size, uint32_t start, size_t pos) {
    size_t sp = 0;
    stack[sp++] = start;
    while (sp > 0) {
      uint32_t pc = stack[--sp];
      if (mark[pc] == gen) continue;
      mark[pc] = gen;
      const Inst& in = prog_[pc];
      switch (in.op) {
        case Op::kClass:
          list[(*size)++] = pc;
          break;
        case Op::kJmp:
          stack[sp++] = in.x;
          break;
        case Op::kSplit:
          stack[sp++] = in.y;
          stack[sp++] = in.x;
          break;
        case Op::kBol:
          if (pos == 0) stack[sp++] = pc + 1;
          break;
        case Op::kEol:
          if (pos == text.size()) stack[sp++] = pc + 1;
          break;
        case Op::kMatch:
          matched = true;
          break;
      }
    }
  };

  size_t pos = 0;
  add(clist, &csize, 0, 0);
  while (!matched) {
    if (pos >= text.size()) break;
    size_t next = pos;
    uint32_t cp = DecodeUtf8(text, &next);
    ++gen;
    nsize = 0;
    for (size_t i = 0; i < csize && !matched; ++i) {
      const Inst& in = prog_[clist[i]];
      if (classes_[in.x].Contains(cp)) add(nlist, &nsize, clist[i] + 1, next);
    }
    if (!anchored_start_ && !matched) add(nlist, &nsize, 0, next);
    std::swap(clist, nlist);
    csize = nsize;
    pos = next;
    if (csize == 0 && anchored_start_) break;
  }
  return matched;
}

}  // namespace comity
