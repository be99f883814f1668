// Lexicons: Unicode-aware folding, whole-word and stem matching, limits and errors.
#include "rules/lexicon.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "rules/error.h"

namespace comity::rules {
namespace {

using ::testing::ElementsAre;

Lexicon Make(const std::string& text) {
  std::vector<RuleError> errors;
  std::optional<Lexicon> lex = Lexicon::Parse(text, "l.txt", &errors);
  EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].ToString());
  return lex ? std::move(*lex) : Lexicon::Parse("en: x", "l.txt", &errors).value();
}

TEST(Fold, CaseAccentsAndBoundaries) {
  EXPECT_EQ(Lexicon::Fold("False NEWS!"), " false news ");
  EXPECT_EQ(Lexicon::Fold("  Información   falsa... "), " informacion falsa ");
  EXPECT_EQ(Lexicon::Fold("Offense au Chef de l'État"), " offense au chef de l etat ");
  EXPECT_EQ(Lexicon::Fold("ЗАВЕДОМО ЛОЖНОЙ Информации"), " заведомо ложнои информации ");
  EXPECT_EQ(Lexicon::Fold("Ёлка"), " елка ");
  EXPECT_EQ(Lexicon::Fold("Straße 207.3"), " straße 207 3 ");
  EXPECT_EQ(Lexicon::Fold(""), " ");
  // Decomposed input (e + combining acute) folds like the precomposed letter.
  EXPECT_EQ(Lexicon::Fold("de\xCC\x81sinformation"), " desinformation ");
}

TEST(Lexicon, WholeWordsAndStems) {
  Lexicon lex = Make("en: false news\nen: extremis*\nfr: fausses nouvelles\nru: клевет*\n");
  EXPECT_TRUE(lex.Matches("Dissemination of FALSE NEWS about officials"));
  EXPECT_TRUE(lex.Matches("false-news"));
  EXPECT_TRUE(lex.Matches("(false news)"));
  EXPECT_FALSE(lex.Matches("falsenews"));
  EXPECT_FALSE(lex.Matches("false newsletter"));  // whole words only
  EXPECT_FALSE(lex.Matches("untrue false  nothing news"));
  EXPECT_TRUE(lex.Matches("Extremist statements"));
  EXPECT_TRUE(lex.Matches("EXTRÉMISME"));
  EXPECT_FALSE(lex.Matches("antiextremism"));  // a stem still starts at a word boundary
  EXPECT_TRUE(lex.Matches("anti-extremism"));
  EXPECT_TRUE(lex.Matches("Diffusion de Fausses Nouvelles"));
  EXPECT_TRUE(lex.Matches("Статья 128.1. КЛЕВЕТА"));
  EXPECT_FALSE(lex.Matches("Computer fraud"));
  EXPECT_FALSE(lex.Matches(""));
  EXPECT_EQ(lex.FirstMatch("an extremist spreading false news"), "extremis*");
  EXPECT_EQ(lex.FirstMatch("nothing here"), std::nullopt);
  EXPECT_THAT(lex.Languages(), ElementsAre("en", "fr", "ru"));
  EXPECT_EQ(lex.size(), 4u);
}

TEST(Lexicon, OverlappingPhrases) {
  Lexicon lex = Make("en: unlawful assembly\nen: lawful\nen: assembly of the people\n");
  EXPECT_TRUE(lex.Matches("an unlawful assembly"));
  EXPECT_EQ(lex.FirstMatch("unlawful"), std::nullopt);  // "lawful" is not a word here
  EXPECT_EQ(lex.FirstMatch("a lawful thing"), "lawful");
  EXPECT_EQ(lex.FirstMatch("the assembly of the people"), "assembly of the people");
}

TEST(Lexicon, InvalidUtf8IsABoundaryNotACrash) {
  Lexicon lex = Make("en: false news\n");
  EXPECT_TRUE(lex.Matches("\xff\xfe false news \xc3"));
  EXPECT_TRUE(lex.Matches("false\xffnews"));  // U+FFFD separates words
  EXPECT_FALSE(lex.Matches("fal\xffse news"));
}

TEST(Lexicon, Limits) {
  std::vector<RuleError> errors;
  std::string long_phrase = "en: " + std::string(Lexicon::kMaxPhraseBytes + 1, 'a') + "\n";
  EXPECT_FALSE(Lexicon::Parse(long_phrase, "l.txt", &errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), "l.txt:1:5: phrase longer than 200 bytes");
  errors.clear();
  std::string many;
  for (size_t i = 0; i <= Lexicon::kMaxEntries; ++i) many += "en: w" + std::to_string(i) + "\n";
  EXPECT_FALSE(Lexicon::Parse(many, "l.txt", &errors).has_value());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].ToString(), "l.txt:10001:1: more than 10000 entries");
  errors.clear();
  EXPECT_FALSE(Lexicon::Parse("# only comments\n\n", "l.txt", &errors).has_value());
  EXPECT_EQ(errors[0].ToString(), "l.txt:1:1: lexicon has no entries");
}

TEST(Lexicon, SameWordingInTwoLanguagesIsOneEntry) {
  Lexicon lex = Make("en: propaganda\nes: propaganda\n");
  EXPECT_EQ(lex.size(), 1u);
  EXPECT_TRUE(lex.Matches("Propaganda"));
}

// The shipped lexicon covers the four languages RULEBASE H2 names, and typical wordings.
TEST(ShippedLexicon, CoversTheLanguagesAndWordings) {
  std::ifstream in(std::string(COMITY_SOURCE_DIR) + "/rules/lexicon/speech-offences.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<RuleError> errors;
  std::optional<Lexicon> lex = Lexicon::Parse(ss.str(), "speech-offences.txt", &errors);
  ASSERT_TRUE(lex.has_value()) << errors[0].ToString();
  std::vector<std::string> langs = lex->Languages();
  for (const char* l : {"en", "fr", "es", "ru"}) {
    EXPECT_NE(std::find(langs.begin(), langs.end(), l), langs.end()) << l;
  }
  const char* kSpeech[] = {
      "Penal Code s. 207.3: public dissemination of knowingly false information",
      "Insulting the President",
      "Discrediting the armed forces",
      "Extremist statements on social media",
      "Organising an unauthorised protest",
      "Participation in an unsanctioned rally",
      "Membership of an undesirable organisation",
      "Code pénal art. 27: publication de fausses nouvelles",
      "Outrage au chef de l'État",
      "Offense envers le Président de la République",
      "Manifestation non déclarée sur la voie publique",
      "Código Penal: difusión de noticias falsas",
      "Desacato a la autoridad",
      "Injurias graves al Jefe del Estado",
      "УК РФ ст. 207.3: публичное распространение заведомо ложной информации",
      "Статья 280.3: дискредитация Вооружённых Сил",
      "Экстремистская деятельность",
      "Организация несанкционированного митинга",
      "Оскорбление чувств верующих",
      "Пропаганда нетрадиционных сексуальных отношений",
      "Separatist propaganda",
      "Blasphemy against the prophet",
  };
  for (const char* s : kSpeech) EXPECT_TRUE(lex->Matches(s)) << s;
  const char* kOrdinary[] = {
      "Livestock Act s. 12 (unregistered sale of cattle)",
      "Sale of unregistered cattle through an online marketplace.",
      "Criminal Code s. 301 (computer fraud)",
      "Theft of a motor vehicle",
      "Money laundering through shell companies",
      "Illegal dumping of waste",
      "Tax evasion by a company director",
      "Injured the victim with a knife",
      "Unauthorised access to a computer system",
      "Outrageous overcharging of customers",
      "Uso indebido de fondos públicos",
      "Мошенничество в сфере компьютерной информации",
      "Незаконная рубка лесных насаждений",
      "Vol aggravé",
  };
  for (const char* s : kOrdinary)
    EXPECT_FALSE(lex->Matches(s)) << s << " matched " << *lex->FirstMatch(s);
}

}  // namespace
}  // namespace comity::rules
