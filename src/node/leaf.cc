#include "node/leaf.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>

#include "core/canonical_json.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/sha256.h"

namespace comity::node {
namespace {

bool IsCode(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

bool IsRuleId(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-' || c == ':';
  });
}

bool IsState(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

StatusOr<boost::json::array> CodeList(std::vector<std::string> v, const char* field,
                                      bool (*check)(std::string_view)) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  boost::json::array out;
  for (const std::string& s : v) {
    if (!check(s)) {
      return InvalidArgumentError(std::string("leaf field ") + field + ": \"" + s +
                                  "\" is not a code");
    }
    out.emplace_back(s);
  }
  return out;
}

std::string Month(Timestamp t) {
  const int64_t days = t.seconds >= 0 ? t.seconds / 86400 : (t.seconds - 86399) / 86400;
  const CivilDate d = CivilFromDays(static_cast<int32_t>(days));
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u", static_cast<int>(d.year), d.month);
  return buf;
}

}  // namespace

LeafInput LeafFromRequest(std::string_view kind, Timestamp at, const Request& request) {
  LeafInput in;
  in.kind = std::string(kind);
  in.at = at;
  in.requesting = request.requesting_state.str();
  in.requested = request.requested_state.str();
  for (const Measure& m : request.measures) in.measures.emplace_back(EnumName(m.type));
  for (const Offence& o : request.offences) in.offences.emplace_back(EnumName(o.category));
  return in;
}

std::vector<std::string> FiredRules(const Decision& decision) {
  std::vector<std::string> out;
  for (const Finding& f : decision.findings) out.push_back(f.rule);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Commitment(std::string_view salt, std::string_view record) {
  crypto::Sha256Hasher h;
  h.Update(salt);
  h.Update(record);
  return "sha256:" + crypto::HexEncode(h.Finish());
}

StatusOr<BuiltLeaf> BuildLeafWithSalt(const LeafInput& in, const boost::json::value& private_record,
                                      std::string_view salt) {
  if (salt.size() != kSaltBytes) return InternalError("a leaf salt must be 32 bytes");
  if (!IsCode(in.kind)) return InvalidArgumentError("leaf kind \"" + in.kind + "\" is not a code");
  if (!IsState(in.requesting) || !IsState(in.requested)) {
    return InvalidArgumentError("leaf states must be two-letter codes");
  }
  BuiltLeaf out;
  ASSIGN_OR_RETURN(out.record, CanonicalJson(private_record));
  out.salt_hex = crypto::HexEncode(salt);

  boost::json::object leaf;
  leaf["v"] = kLeafVersion;
  leaf["kind"] = in.kind;
  leaf["month"] = Month(in.at);
  leaf["requesting"] = in.requesting;
  leaf["requested"] = in.requested;
  ASSIGN_OR_RETURN(leaf["measures"], CodeList(in.measures, "measures", IsCode));
  ASSIGN_OR_RETURN(leaf["offences"], CodeList(in.offences, "offences", IsCode));
  ASSIGN_OR_RETURN(leaf["rules"], CodeList(in.rules, "rules", IsRuleId));
  if (in.outcome) {
    if (!IsCode(*in.outcome)) return InvalidArgumentError("leaf outcome is not a code");
    leaf["outcome"] = *in.outcome;
  }
  if (in.screening) {
    if (!IsCode(*in.screening)) return InvalidArgumentError("leaf screening is not a code");
    leaf["screening"] = *in.screening;
  }
  leaf["commitment"] = Commitment(salt, out.record);
  ASSIGN_OR_RETURN(out.leaf, CanonicalJson(leaf));
  return out;
}

StatusOr<BuiltLeaf> BuildLeaf(const LeafInput& in, const boost::json::value& private_record) {
  std::string salt = crypto::RandomString(kSaltBytes);
  StatusOr<BuiltLeaf> out = BuildLeafWithSalt(in, private_record, salt);
  crypto::SecureWipe(salt.data(), salt.size());
  return out;
}

StatusOr<bool> VerifyCommitment(std::string_view leaf, std::string_view salt_hex,
                                std::string_view record) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(leaf, ec);
  if (ec || !v.is_object()) return InvalidArgumentError("the leaf is not a JSON object");
  const boost::json::value* c = v.as_object().if_contains("commitment");
  if (c == nullptr || !c->is_string()) return InvalidArgumentError("the leaf has no commitment");
  ASSIGN_OR_RETURN(std::string salt, crypto::HexDecode(salt_hex));
  if (salt.size() != kSaltBytes) return InvalidArgumentError("the salt must be 32 bytes");
  const std::string expected = Commitment(salt, record);
  return crypto::ConstantTimeEqual(crypto::AsBytes(expected), crypto::AsBytes(c->as_string()));
}

}  // namespace comity::node
