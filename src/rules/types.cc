#include "rules/types.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace comity::rules {
namespace {

template <typename E>
std::span<const std::string_view> NamesOf() {
  return {EnumTraits<E>::kNames.data(), EnumTraits<E>::kNames.size()};
}

// Codes read better with spaces: "computer_fraud" -> "computer fraud".
std::string Humanize(std::string_view code) {
  std::string s(code);
  for (char& c : s) {
    if (c == '_') c = ' ';
  }
  return s;
}

std::string JoinWords(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? " and " : ", ";
    out += items[i];
  }
  return out.empty() ? "none" : out;
}

// YYYY-MM-DD for days since 1970-01-01 (Hinnant's civil_from_days); local so that messages do
// not depend on the codec.
std::string FormatDay(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lld", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d));
  return buf;
}

}  // namespace

std::span<const std::string_view> EnumNames(EnumId id) {
  switch (id) {
    case EnumId::kNone:
      return {};
    case EnumId::kOffenceCategory:
      return NamesOf<OffenceCategory>();
    case EnumId::kAuthorityKind:
      return NamesOf<AuthorityKind>();
    case EnumId::kProceedingKind:
      return NamesOf<ProceedingKind>();
    case EnumId::kUrgency:
      return NamesOf<Urgency>();
    case EnumId::kEmergencyRisk:
      return NamesOf<EmergencyRisk>();
    case EnumId::kMeasureType:
      return NamesOf<MeasureType>();
    case EnumId::kDataCategory:
      return NamesOf<DataCategory>();
    case EnumId::kSelectorKind:
      return NamesOf<SelectorKind>();
    case EnumId::kDomesticAuthorityKind:
      return NamesOf<DomesticAuthorityKind>();
    case EnumId::kAssurance:
      return NamesOf<Assurance>();
    case EnumId::kPersonRole:
      return NamesOf<PersonRole>();
    case EnumId::kPersonStatus:
      return NamesOf<PersonStatus>();
    case EnumId::kUnccStatus:
      return NamesOf<UnccStatus>();
    case EnumId::kDeathPenalty:
      return NamesOf<DeathPenalty>();
    case EnumId::kDualCriminality:
      return NamesOf<DualCriminality>();
    case EnumId::kSpeechPolicy:
      return NamesOf<SpeechPolicy>();
    case EnumId::kAuthorizationItem:
      return NamesOf<AuthorizationItem>();
    case EnumId::kEffect:
      return NamesOf<Effect>();
  }
  return {};
}

std::string_view EnumLabel(EnumId id) {
  switch (id) {
    case EnumId::kNone:
      return "nothing";
    case EnumId::kOffenceCategory:
      return "offence category";
    case EnumId::kAuthorityKind:
      return "authority kind";
    case EnumId::kProceedingKind:
      return "proceeding kind";
    case EnumId::kUrgency:
      return "urgency";
    case EnumId::kEmergencyRisk:
      return "emergency risk";
    case EnumId::kMeasureType:
      return "measure type";
    case EnumId::kDataCategory:
      return "data category";
    case EnumId::kSelectorKind:
      return "selector kind";
    case EnumId::kDomesticAuthorityKind:
      return "domestic authority kind";
    case EnumId::kAssurance:
      return "assurance";
    case EnumId::kPersonRole:
      return "person role";
    case EnumId::kPersonStatus:
      return "person status";
    case EnumId::kUnccStatus:
      return "UNCC status";
    case EnumId::kDeathPenalty:
      return "death penalty status";
    case EnumId::kDualCriminality:
      return "dual criminality policy";
    case EnumId::kSpeechPolicy:
      return "speech offence policy";
    case EnumId::kAuthorizationItem:
      return "authorization item";
    case EnumId::kEffect:
      return "effect";
  }
  return "?";
}

std::string TypeName(Type t) {
  switch (t.kind) {
    case Kind::kBool:
      return "boolean";
    case Kind::kNumber:
      return "number";
    case Kind::kString:
      return "text";
    case Kind::kEnum:
      return std::string(EnumLabel(t.en));
    case Kind::kSet:
      return "set of " + std::string(EnumLabel(t.en));
    case Kind::kState:
      return "state code";
    case Kind::kStateList:
      return "list of state codes";
    case Kind::kStringList:
      return "list of text";
    case Kind::kDate:
      return "date";
    case Kind::kTimestamp:
      return "date-time";
    case Kind::kPeriod:
      return "period";
    case Kind::kObject:
      return "object";
    case Kind::kList:
      return "list of objects";
    case Kind::kLexicon:
      return "lexicon";
  }
  return "?";
}

bool EnumsCompatible(EnumId a, EnumId b) {
  if (a == b) return true;
  auto view = [](EnumId whole, EnumId part) {
    return (whole == EnumId::kAuthorizationItem &&
            (part == EnumId::kDataCategory || part == EnumId::kMeasureType)) ||
           (whole == EnumId::kEffect && part == EnumId::kSpeechPolicy);
  };
  return view(a, b) || view(b, a);
}

void AppendValue(std::string* out, Type t, const Value& v) {
  if (!v.present) {
    out->append("not given");
    return;
  }
  switch (t.kind) {
    case Kind::kString:
      out->append(v.str());
      return;
    case Kind::kEnum: {
      auto names = EnumNames(t.en);
      if (v.bits >= names.size()) break;
      size_t start = out->size();
      out->append(names[v.bits]);
      for (size_t i = start; i < out->size(); ++i) {
        if ((*out)[i] == '_') (*out)[i] = ' ';
      }
      return;
    }
    case Kind::kNumber:
      if (std::isfinite(v.num) && v.num == std::floor(v.num) && std::fabs(v.num) < 1e15) {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v.num));
        out->append(buf, r.ptr);
        return;
      }
      break;
    case Kind::kState:
      out->push_back(static_cast<char>(v.bits & 0xff));
      out->push_back(static_cast<char>((v.bits >> 8) & 0xff));
      return;
    default:
      break;
  }
  out->append(FormatValue(t, v));
}

std::string FormatValue(Type t, const Value& v) {
  if (!v.present) return "not given";
  switch (t.kind) {
    case Kind::kBool:
      return v.bits ? "yes" : "no";
    case Kind::kNumber: {
      char buf[32];
      if (std::isfinite(v.num) && v.num == std::floor(v.num) && std::fabs(v.num) < 1e15) {
        std::snprintf(buf, sizeof buf, "%.0f", v.num);
      } else {
        std::snprintf(buf, sizeof buf, "%g", v.num);
      }
      return buf;
    }
    case Kind::kString:
      return std::string(v.str());
    case Kind::kEnum: {
      auto names = EnumNames(t.en);
      return v.bits < names.size() ? Humanize(names[v.bits]) : "?";
    }
    case Kind::kSet: {
      std::vector<std::string> items;
      auto names = EnumNames(t.en);
      for (size_t i = 0; i < names.size(); ++i) {
        if (v.bits & (uint64_t{1} << i)) items.push_back(Humanize(names[i]));
      }
      return JoinWords(items);
    }
    case Kind::kState:
      return v.state().str();
    case Kind::kStateList: {
      std::vector<std::string> items;
      for (const StateCode& s : v.states()) items.push_back(s.str());
      return JoinWords(items);
    }
    case Kind::kStringList:
      return JoinWords(v.strings());
    case Kind::kDate:
      return FormatDay(v.i);
    case Kind::kTimestamp: {
      int64_t days = v.i >= 0 ? v.i / 86400 : (v.i - 86399) / 86400;
      int64_t secs = v.i - days * 86400;
      char buf[16];
      std::snprintf(buf, sizeof buf, "T%02d:%02d:%02dZ", static_cast<int>(secs / 3600),
                    static_cast<int>(secs / 60 % 60), static_cast<int>(secs % 60));
      return FormatDay(days) + buf;
    }
    case Kind::kPeriod:
      return FormatDay(v.i) + " to " + FormatDay(static_cast<int32_t>(v.aux));
    case Kind::kObject:
      return "given";
    case Kind::kList:
      return std::to_string(v.bits);
    case Kind::kLexicon:
      return "lexicon";
  }
  return "?";
}

}  // namespace comity::rules
