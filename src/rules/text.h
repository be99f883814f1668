// Decisions explained for a person at a terminal (`comity screen --format text`, `make demo`).
//
//   std::string s = DecisionText(decision, request, requesting, requested);
//   // Outcome: REFUSE (the engine recommends refusal; a reviewer confirms it with reasons)
//   //   1. refuse  uncc.intrusive.bulk  UNCC 24
//   //      Measure produce asks for data about every user of a service ...
//
// Thread-safe: pure functions.
#pragma once

#include <string>

#include "core/model.h"

namespace comity::rules {

// "UNCC 35(1)(c)", "UNCC 2(h)", "UNCC 46".
std::string CitationText(const Citation& c);

// The outcome first, then each finding (effect, rule, citations, message, where in the
// request), the conditions, the deadline and the rule base. Lines wrap at `width` columns.
std::string DecisionText(const Decision& decision, const Request& request,
                         const StateProfile& requesting, const StateProfile& requested,
                         size_t width = 96);

}  // namespace comity::rules
