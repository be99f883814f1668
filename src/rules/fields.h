// The field table: every path the rule language may read, with its type, a typed accessor on
// the structs of core/model.h, and the JSON Pointer pattern of the request part it reads.
//
// This one table drives the validation of rule files (unknown field, type mismatch), the
// compiled accessors of evaluation, the pointers of findings, the language reference in
// docs/rules.md, and a test that checks it against spec/*.schema.json so the two cannot drift.
//
//   const FieldDef* f = FindField("measure.duration_days");
//   f->type == Type::Of(Kind::kNumber);
//   f->pointer == "/measures/{measure}/duration_days";
//   Value v = f->Read(env, 0);
//
// Paths are rooted at `request` (the request as a whole), an iteration variable (`offence`,
// `measure`, `selector`, `person`, `attachment`: the current item of a `for each`), or a
// profile (`requesting`, `requested`). `requested.criminalizes[<offence category>]` is the one
// indexed path; the index is written `[]` in the table.
//
// Thread-safe: the table is built once and is immutable.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/model.h"
#include "rules/types.h"

namespace comity::rules {

// Iteration variables, in nesting order (a selector belongs to the current measure).
enum Var : uint8_t { kOffence = 0, kMeasure, kSelector, kPerson, kAttachment, kVarCount };
std::string_view VarName(Var v);
std::optional<Var> ParseVar(std::string_view name);

// What an accessor reads: the request, both profiles, and the current index of each bound
// iteration variable.
struct Env {
  const Request* request = nullptr;
  const StateProfile* requesting = nullptr;
  const StateProfile* requested = nullptr;
  std::array<int16_t, kVarCount> idx{-1, -1, -1, -1, -1};

  const Offence& offence() const { return request->offences[idx[kOffence]]; }
  const Measure& measure() const { return request->measures[idx[kMeasure]]; }
  const Selector& selector() const { return measure().selectors[idx[kSelector]]; }
  const Person& person() const { return request->persons[idx[kPerson]]; }
  const Attachment& attachment() const { return request->attachments[idx[kAttachment]]; }
};

enum class Root : uint8_t { kRequest, kVar, kRequesting, kRequested };

// `key` is the ordinal of the index for an indexed path, 0 otherwise. Never allocate.
using Getter = Value (*)(const Env& env, uint64_t key);
using ProfileGetter = Value (*)(const StateProfile& profile, uint64_t key);

struct FieldDef {
  std::string_view path;  // "requested.criminalizes[].max_penalty_years"
  Type type;
  Root root = Root::kRequest;
  Getter get = nullptr;                 // for kRequest and kVar
  ProfileGetter profile_get = nullptr;  // for kRequesting and kRequested
  // Pattern of the JSON Pointer into the request, with {offence}, {measure}, {selector},
  // {person}, {attachment} for the bound indices; empty for profile fields.
  std::string_view pointer;
  EnumId key = EnumId::kNone;  // the type of the [] index, if any
  uint8_t vars = 0;            // bit i set: needs iteration variable i bound
  std::string_view doc;        // one line for the language reference

  Value Read(const Env& env, uint64_t key) const {
    switch (root) {
      case Root::kRequesting:
        return profile_get(*env.requesting, key);
      case Root::kRequested:
        return profile_get(*env.requested, key);
      default:
        return get(env, key);
    }
  }
};

// The whole table, in a stable order (request, iteration variables, profiles).
std::span<const FieldDef> Fields();
// nullptr when the path is unknown. `path` uses "[]" for the index.
const FieldDef* FindField(std::string_view path);
// The closest known path (for "did you mean"), or empty.
std::string_view SuggestField(std::string_view path);

}  // namespace comity::rules
