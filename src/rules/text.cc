#include "rules/text.h"

#include <algorithm>

#include "rules/types.h"

namespace comity::rules {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view OutcomeMeaning(Outcome o) {
  switch (o) {
    case Outcome::kProceed:
      return "nothing stops execution; a reviewer may still stop it";
    case Outcome::kReview:
      return "a reviewer must look at the request before anything is done";
    case Outcome::kIncomplete:
      return "the request goes back to the requesting state with what is missing";
    case Outcome::kRefuse:
      return "the engine recommends refusal; a reviewer confirms it, with reasons";
  }
  return "";
}

// Appends `text` wrapped at `width`, every line starting with `indent`. Counts bytes that do
// not continue a UTF-8 sequence, so Cyrillic wraps like Latin.
void Wrap(std::string* out, std::string_view text, std::string_view indent, size_t width) {
  auto columns = [](std::string_view s) {
    size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
  };
  size_t line = 0;
  size_t i = 0;
  bool first = true;
  while (i < text.size()) {
    size_t sp = text.find(' ', i);
    if (sp == std::string_view::npos) sp = text.size();
    std::string_view word = text.substr(i, sp - i);
    if (first || line + 1 + columns(word) > width) {
      if (!first) out->push_back('\n');
      out->append(indent);
      line = columns(indent);
      first = false;
    } else {
      out->push_back(' ');
      ++line;
    }
    out->append(word);
    line += columns(word);
    i = sp + 1;
  }
  out->push_back('\n');
}

std::string Citations(const std::vector<Citation>& cs) {
  std::string out;
  for (const Citation& c : cs) out += (out.empty() ? "" : ", ") + CitationText(c);
  return out;
}

}  // namespace

std::string CitationText(const Citation& c) {
  std::string s = c.instrument + " " + std::to_string(c.article);
  if (c.paragraph && !c.paragraph->empty()) {
    const std::string& p = *c.paragraph;
    size_t paren = p.find('(');
    s.push_back('(');
    s.append(p, 0, paren);
    s.push_back(')');
    if (paren != std::string::npos) s.append(p, paren);
  }
  return s;
}

std::string DecisionText(const Decision& d, const Request& request, const StateProfile& requesting,
                         const StateProfile& requested, size_t width) {
  std::string out;
  out += "Request " + (request.id ? *request.id : std::string("(no id)")) + ": from " +
         requesting.name + " (" + requesting.code.str() + ") to " + requested.name + " (" +
         requested.code.str() + ")\n";
  out += "Outcome: " + Upper(EnumName(d.outcome)) + " (" + std::string(OutcomeMeaning(d.outcome)) +
         ")\n";
  // The most serious findings first; conditions are listed once, under their own heading.
  std::vector<const Finding*> shown;
  for (const Finding& f : d.findings) {
    if (f.effect != Effect::kCondition) shown.push_back(&f);
  }
  std::stable_sort(shown.begin(), shown.end(),
                   [](const Finding* a, const Finding* b) { return a->effect > b->effect; });
  if (shown.empty()) {
    out += "\nNo findings.\n";
  } else {
    out += "\nFindings (" + std::to_string(shown.size()) + "):\n";
    for (size_t i = 0; i < shown.size(); ++i) {
      const Finding& f = *shown[i];
      out += "  " + std::to_string(i + 1) + ". " + Upper(EnumName(f.effect)) + "  " + f.rule +
             "  [" + Citations(f.citations) + "]\n";
      Wrap(&out, f.message, "     ", width);
      if (!f.pointers.empty()) {
        std::string where;
        for (const std::string& p : f.pointers) where += (where.empty() ? "" : ", ") + p;
        Wrap(&out, "(request: " + where + ")", "     ", width);
      }
    }
  }
  if (!d.conditions.empty()) {
    out += "\nConditions on execution:\n";
    for (const Condition& c : d.conditions) {
      out += "  - " + c.code + (c.citations.empty() ? "" : "  [" + Citations(c.citations) + "]") +
             "\n";
      Wrap(&out, c.text, "    ", width);
    }
  }
  out += "\n";
  if (d.respond_by) {
    out += "Respond by: " + FormatValue(Type::Of(Kind::kTimestamp), Value::Instant(*d.respond_by)) +
           "\n";
  }
  out += "Rule base: " + d.rulebase.version + " (" + d.rulebase.digest + ")\n";
  return out;
}

}  // namespace comity::rules
