#include "rules/lexicon.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>

#include <algorithm>
#include <array>
#include <memory>
#include <set>

#include "rules/error.h"

namespace comity::rules {
namespace {

constexpr uint32_t kSeparator = 0;
constexpr uint32_t kSkip = 0xFFFFFFFF;  // combining marks: dropped, not a boundary
constexpr uint32_t kTableSize = 0x3000;

// Folds one code point: kSeparator for anything but letters and digits, kSkip for combining
// marks, else the case-folded base letter.
uint32_t FoldSlow(UChar32 c) {
  int8_t cat = u_charType(c);
  if (cat == U_NON_SPACING_MARK || cat == U_ENCLOSING_MARK || cat == U_COMBINING_SPACING_MARK) {
    return kSkip;
  }
  if (!u_isalnum(c)) return kSeparator;
  UChar32 f = u_foldCase(c, U_FOLD_CASE_DEFAULT);
  UErrorCode err = U_ZERO_ERROR;
  const UNormalizer2* nfd = unorm2_getNFDInstance(&err);
  if (U_SUCCESS(err)) {
    UChar buf[16];
    int32_t n = unorm2_getDecomposition(nfd, f, buf, 16, &err);
    if (U_SUCCESS(err) && n > 0) {
      UChar32 base;
      U16_GET(buf, 0, 0, n, base);
      if (u_isalnum(base)) f = u_foldCase(base, U_FOLD_CASE_DEFAULT);
    }
  }
  return static_cast<uint32_t>(f);
}

const std::array<uint32_t, kTableSize>& FoldTable() {
  static const std::unique_ptr<std::array<uint32_t, kTableSize>> table = [] {
    auto t = std::make_unique<std::array<uint32_t, kTableSize>>();
    for (uint32_t c = 0; c < kTableSize; ++c) (*t)[c] = FoldSlow(static_cast<UChar32>(c));
    return t;
  }();
  return *table;
}

inline uint32_t FoldCodePoint(uint32_t c) {
  if (c < kTableSize) return FoldTable()[c];
  if (c > 0x10FFFF) return kSeparator;
  return FoldSlow(static_cast<UChar32>(c));
}

// Decodes one UTF-8 code point at text[i]; invalid bytes decode as U+FFFD (a separator).
inline uint32_t NextCodePoint(std::string_view text, size_t* i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  uint8_t c0 = b(*i);
  if (c0 < 0x80) {
    ++*i;
    return c0;
  }
  int len = (c0 >> 5) == 0x6 ? 2 : (c0 >> 4) == 0xE ? 3 : (c0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || *i + len > text.size()) {
    ++*i;
    return 0xFFFD;
  }
  uint32_t cp = c0 & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    uint8_t ck = b(*i + k);
    if ((ck & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (ck & 0x3F);
  }
  *i += len;
  return cp;
}

inline int EncodeUtf8(uint32_t cp, char out[4]) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

// Streams the folded form of `text` to `sink(byte)`: a leading space, folded letters and
// digits, one space per run of other characters, a trailing space. Returns early when the
// sink returns true.
template <typename Sink>
bool FoldStream(std::string_view text, Sink&& sink) {
  bool last_space = true;
  if (sink(' ')) return true;
  size_t i = 0;
  while (i < text.size()) {
    uint32_t f = FoldCodePoint(NextCodePoint(text, &i));
    if (f == kSkip) continue;
    if (f == kSeparator) {
      if (!last_space) {
        last_space = true;
        if (sink(' ')) return true;
      }
      continue;
    }
    char buf[4];
    int n = EncodeUtf8(f, buf);
    last_space = false;
    for (int k = 0; k < n; ++k) {
      if (sink(buf[k])) return true;
    }
  }
  if (!last_space) return sink(' ');
  return false;
}

bool IsLanguage(std::string_view s) {
  if (s.size() < 2 || s.size() > 3) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

std::string_view Trim(std::string_view s, size_t* lead = nullptr) {
  size_t a = 0;
  while (a < s.size() && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  size_t b = s.size();
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  if (lead) *lead = a;
  return s.substr(a, b - a);
}

}  // namespace

std::string Lexicon::Fold(std::string_view text) {
  std::string out;
  FoldStream(text, [&out](char c) {
    out.push_back(c);
    return false;
  });
  return out;
}

std::optional<Lexicon> Lexicon::Parse(std::string_view text, const std::string& file,
                                      std::vector<RuleError>* errors) {
  Lexicon lex;
  std::vector<std::string> patterns;
  std::vector<int> first_line;
  size_t errors_before = errors->size();
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    size_t line_start = pos;
    pos = nl + 1;
    ++line_no;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    size_t lead = 0;
    std::string_view content = Trim(line, &lead);
    if (content.empty()) {
      if (nl == text.size()) break;
      continue;
    }
    int col = static_cast<int>(lead) + 1;
    auto fail = [&](int column, std::string msg) {
      errors->push_back(RuleError{file, line_no, column, std::move(msg)});
    };
    (void)line_start;
    size_t colon = content.find(':');
    if (colon == std::string_view::npos) {
      fail(col, "expected '<language>: <phrase>', e.g. 'en: false news'");
      continue;
    }
    std::string_view lang = Trim(content.substr(0, colon));
    if (!IsLanguage(lang)) {
      fail(col,
           "language must be a 2- or 3-letter lowercase code, got '" + std::string(lang) + "'");
      continue;
    }
    size_t phrase_lead = 0;
    std::string_view phrase = Trim(content.substr(colon + 1), &phrase_lead);
    int phrase_col = col + static_cast<int>(colon + 1 + phrase_lead);
    if (phrase.empty()) {
      fail(phrase_col, "empty phrase");
      continue;
    }
    if (phrase.size() > kMaxPhraseBytes) {
      fail(phrase_col, "phrase longer than " + std::to_string(kMaxPhraseBytes) + " bytes");
      continue;
    }
    bool stem = phrase.back() == '*';
    std::string_view body = stem ? Trim(phrase.substr(0, phrase.size() - 1)) : phrase;
    if (size_t star = body.find('*'); star != std::string_view::npos) {
      fail(phrase_col + static_cast<int>(star), "'*' is allowed only at the end of a phrase");
      continue;
    }
    std::string folded = Fold(body);
    if (folded.find_first_not_of(' ') == std::string::npos) {
      fail(phrase_col, "phrase has no letters or digits");
      continue;
    }
    if (stem) folded.pop_back();  // no boundary after the last word: match any ending
    // The same wording may belong to several languages ("propaganda"); it is matched once.
    // Within one language a repeated phrase is a mistake in the data.
    auto dup = std::find(patterns.begin(), patterns.end(), folded);
    if (dup != patterns.end()) {
      size_t k = static_cast<size_t>(dup - patterns.begin());
      if (lex.entries_[k].language == lang) {
        fail(phrase_col, "duplicate phrase '" + std::string(phrase) + "' (first on line " +
                             std::to_string(first_line[k]) + ")");
      }
      continue;
    }
    if (patterns.size() >= kMaxEntries) {
      fail(col, "more than " + std::to_string(kMaxEntries) + " entries");
      break;
    }
    patterns.push_back(std::move(folded));
    first_line.push_back(line_no);
    lex.entries_.push_back(Entry{std::string(lang), std::string(phrase)});
    if (nl == text.size()) break;
  }
  if (errors->size() > errors_before) return std::nullopt;
  if (patterns.empty()) {
    errors->push_back(RuleError{file, 1, 1, "lexicon has no entries"});
    return std::nullopt;
  }
  lex.Build(patterns);
  return lex;
}

void Lexicon::Build(const std::vector<std::string>& patterns) {
  byte_class_.assign(256, 0);
  alphabet_ = 1;
  for (const std::string& p : patterns) {
    for (char ch : p) {
      uint8_t b = static_cast<uint8_t>(ch);
      if (byte_class_[b] == 0) byte_class_[b] = static_cast<uint8_t>(alphabet_++);
    }
  }
  // Trie.
  delta_.assign(alphabet_, -1);
  out_.assign(1, -1);
  for (size_t pi = 0; pi < patterns.size(); ++pi) {
    int32_t s = 0;
    for (char ch : patterns[pi]) {
      uint32_t c = byte_class_[static_cast<uint8_t>(ch)];
      int32_t& next = delta_[s * alphabet_ + c];
      if (next < 0) {
        next = static_cast<int32_t>(out_.size());
        out_.push_back(-1);
        delta_.resize(delta_.size() + alphabet_, -1);
      }
      s = delta_[s * alphabet_ + c];
    }
    if (out_[s] < 0) out_[s] = static_cast<int32_t>(pi);
  }
  // Failure links, breadth first; missing transitions become the failure's transitions.
  std::vector<int32_t> fail(out_.size(), 0);
  std::vector<int32_t> queue;
  for (uint32_t c = 0; c < alphabet_; ++c) {
    int32_t& next = delta_[c];
    if (next < 0) {
      next = 0;
    } else {
      fail[next] = 0;
      queue.push_back(next);
    }
  }
  for (size_t qi = 0; qi < queue.size(); ++qi) {
    int32_t s = queue[qi];
    if (out_[s] < 0) out_[s] = out_[fail[s]];
    for (uint32_t c = 0; c < alphabet_; ++c) {
      int32_t& next = delta_[s * alphabet_ + c];
      if (next < 0) {
        next = delta_[fail[s] * alphabet_ + c];
      } else {
        fail[next] = delta_[fail[s] * alphabet_ + c];
        queue.push_back(next);
      }
    }
  }
}

int Lexicon::Find(std::string_view text) const {
  int32_t s = 0;
  int found = -1;
  FoldStream(text, [&](char ch) {
    s = delta_[s * alphabet_ + byte_class_[static_cast<uint8_t>(ch)]];
    if (out_[s] >= 0) {
      found = out_[s];
      return true;
    }
    return false;
  });
  return found;
}

std::optional<std::string_view> Lexicon::FirstMatch(std::string_view text) const {
  int i = Find(text);
  if (i < 0) return std::nullopt;
  return std::string_view(entries_[i].phrase);
}

std::vector<std::string> Lexicon::Languages() const {
  std::set<std::string> langs;
  for (const Entry& e : entries_) langs.insert(e.language);
  return {langs.begin(), langs.end()};
}

}  // namespace comity::rules
