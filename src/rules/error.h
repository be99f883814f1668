// A problem found while loading a rule base, located in its file: "file:line:column: message".
//
//   RuleError e{"rules/intercept.rules", 12, 8, "unknown field measure.typ"};
//   e.ToString();  // "rules/intercept.rules:12:8: unknown field measure.typ"
//
// Lines and columns are 1-based; columns count bytes. Thread-compatible value type.
#pragma once

#include <string>

namespace comity::rules {

struct RuleError {
  std::string file;  // relative to the rule base's directory
  int line = 0;
  int column = 0;
  std::string message;

  // "file:line:column: message", or "file: message" for a problem with a whole file
  // (line 0).
  std::string ToString() const {
    if (line == 0) return file + ": " + message;
    return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  }
  bool operator==(const RuleError&) const = default;
};

}  // namespace comity::rules
