// Lexicons: lists of words and phrases in several languages that a rule looks for in free text
// (RULEBASE H2: the wording of speech offences).
//
// A lexicon file has one entry per line, "<language>: <phrase>", and `#` comments:
//
//   en: false news
//   fr: fausses nouvelles
//   ru: экстремист*          # a trailing * matches any ending: экстремистский, экстремизм...
//
// Matching folds case and strips accents with ICU (Unicode simple case folding, then the base
// letter of the canonical decomposition: "Fausses Nouvelles", "fausses nouvelles", "FAUSSES
// NOUVELLES" and "Información" ~ "informacion" all match; Cyrillic likewise, with ё as е), and
// treats every run of characters other than letters and digits as one word boundary. A phrase
// matches whole words; with a trailing `*`, its last word matches as a prefix.
//
//   StatusOr<Lexicon> lex = Lexicon::Parse(text, "lexicon/speech.txt", &errors);
//   lex->Matches("Art. 207.3: dissemination of FALSE NEWS");   // true
//   lex->FirstMatch(text);                                      // "false news" (as written)
//
// Matching runs an Aho-Corasick automaton over the folded bytes: linear in the text, no heap
// allocation. Thread-safe after construction (immutable).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace comity::rules {

struct RuleError;

class Lexicon {
 public:
  static constexpr size_t kMaxEntries = 10000;
  static constexpr size_t kMaxPhraseBytes = 200;

  // Parses a lexicon file. Problems are appended to `errors` (file:line:column); the result is
  // empty when there was any.
  static std::optional<Lexicon> Parse(std::string_view text, const std::string& file,
                                      std::vector<RuleError>* errors);

  bool Matches(std::string_view text) const { return Find(text) >= 0; }
  // The entry that matched first (leftmost end), as written in the file, or nullopt.
  std::optional<std::string_view> FirstMatch(std::string_view text) const;

  size_t size() const { return entries_.size(); }
  // Languages present, e.g. {"en", "es", "fr", "ru"}, sorted.
  std::vector<std::string> Languages() const;

  // The folded form used for matching, for tests and tools: " false news " (leading and
  // trailing spaces stand for word boundaries).
  static std::string Fold(std::string_view text);

 private:
  struct Entry {
    std::string language;
    std::string phrase;  // as written
  };
  // Index of the matching entry, or -1.
  int Find(std::string_view text) const;
  void Build(const std::vector<std::string>& patterns);

  std::vector<Entry> entries_;
  // Automaton: delta_[state * alphabet_ + class] is the next state; out_[state] is the entry
  // index recognised at that state (or -1), following failure links at build time.
  std::vector<uint8_t> byte_class_;  // 256 entries
  uint32_t alphabet_ = 1;
  std::vector<int32_t> delta_;
  std::vector<int32_t> out_;
};

}  // namespace comity::rules
