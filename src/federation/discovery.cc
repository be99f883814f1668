#include "federation/discovery.h"

#include <boost/json.hpp>
#include <cctype>

#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "tlog/note.h"

namespace comity::federation {
namespace {

namespace json = boost::json;

bool IsStateCode(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

StatusOr<std::string> Member(const json::object& o, std::string_view key, size_t max) {
  const json::value* v = o.if_contains(key);
  const std::string pointer = "/" + std::string(key);
  if (v == nullptr) return InvalidArgumentError(std::string(key) + " is missing", pointer);
  if (!v->is_string()) return InvalidArgumentError(std::string(key) + " must be a string", pointer);
  if (v->as_string().size() > max) {
    return InvalidArgumentError(std::string(key) + " is too long", pointer);
  }
  return std::string(v->as_string());
}

Status CheckKey(std::string_view b64, std::string_view what) {
  auto raw = crypto::Base64Decode(b64);
  if (!raw.ok() || raw->size() != 32) {
    return InvalidArgumentError(std::string(what) + " is not 32 bytes of base64",
                                "/" + std::string(what));
  }
  return OkStatus();
}

}  // namespace

std::string IdentityFingerprint(const IdentityDocument& d) {
  std::string text(kIdentitySchema);
  text += "\n" + d.state + "\n" + d.sign_key + "\n" + d.box_key + "\n" + d.log_vkey + "\n";
  return crypto::HexEncode(crypto::Sha256(text));
}

std::string KeyFingerprint(std::string_view base64_key) {
  auto raw = crypto::Base64Decode(base64_key);
  if (!raw.ok()) return {};
  return crypto::HexEncode(crypto::Sha256(*raw));
}

std::string FormatIdentityDocument(const IdentityDocument& d) {
  json::object o;
  o["schema"] = kIdentitySchema;
  o["state"] = d.state;
  o["name"] = d.name;
  o["url"] = d.url;
  o["sign_key"] = d.sign_key;
  o["box_key"] = d.box_key;
  o["log_origin"] = d.log_origin;
  o["log_vkey"] = d.log_vkey;
  o["witness_vkey"] = d.witness_vkey;
  o["fingerprints"] = json::object{{"identity", IdentityFingerprint(d)},
                                   {"sign_key", KeyFingerprint(d.sign_key)},
                                   {"box_key", KeyFingerprint(d.box_key)}};
  return json::serialize(o);
}

StatusOr<IdentityDocument> ParseIdentityDocument(std::string_view text) {
  if (text.size() > kMaxIdentityBytes) {
    return InvalidArgumentError("an identity document is at most " +
                                std::to_string(kMaxIdentityBytes) + " bytes");
  }
  json::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) return InvalidArgumentError("the identity is not a JSON object");
  const json::object& o = v.as_object();
  for (const auto& kv : o) {
    static constexpr std::string_view kKnown[] = {
        "schema",  "state",      "name",     "url",          "sign_key",
        "box_key", "log_origin", "log_vkey", "witness_vkey", "fingerprints"};
    bool known = false;
    for (std::string_view k : kKnown) known = known || kv.key() == k;
    if (!known) {
      return InvalidArgumentError("unknown member \"" + std::string(kv.key()) + "\"",
                                  "/" + std::string(kv.key()));
    }
  }
  ASSIGN_OR_RETURN(std::string schema, Member(o, "schema", 64));
  if (schema != kIdentitySchema) {
    return InvalidArgumentError("schema must be \"" + std::string(kIdentitySchema) + "\"",
                                "/schema");
  }
  IdentityDocument d;
  ASSIGN_OR_RETURN(d.state, Member(o, "state", 2));
  if (!IsStateCode(d.state)) return InvalidArgumentError("state is not a state code", "/state");
  ASSIGN_OR_RETURN(d.name, Member(o, "name", 64));
  ASSIGN_OR_RETURN(d.url, Member(o, "url", 2048));
  ASSIGN_OR_RETURN(d.sign_key, Member(o, "sign_key", 64));
  RETURN_IF_ERROR(CheckKey(d.sign_key, "sign_key"));
  ASSIGN_OR_RETURN(d.box_key, Member(o, "box_key", 64));
  RETURN_IF_ERROR(CheckKey(d.box_key, "box_key"));
  ASSIGN_OR_RETURN(d.log_origin, Member(o, "log_origin", 255));
  ASSIGN_OR_RETURN(d.log_vkey, Member(o, "log_vkey", 1024));
  auto log_key = tlog::ParseVerifierKey(d.log_vkey);
  if (!log_key.ok()) {
    return InvalidArgumentError("log_vkey: " + log_key.status().message(), "/log_vkey");
  }
  if ((*log_key)->name() != d.log_origin) {
    return InvalidArgumentError(
        "log_vkey is for \"" + (*log_key)->name() + "\", not the origin \"" + d.log_origin + "\"",
        "/log_vkey");
  }
  ASSIGN_OR_RETURN(d.witness_vkey, Member(o, "witness_vkey", 1024));
  if (!d.witness_vkey.empty()) {
    auto w = tlog::ParseVerifierKey(d.witness_vkey);
    if (!w.ok()) {
      return InvalidArgumentError("witness_vkey: " + w.status().message(), "/witness_vkey");
    }
  }
  if (const json::value* fp = o.if_contains("fingerprints")) {
    if (!fp->is_object()) {
      return InvalidArgumentError("fingerprints must be an object", "/fingerprints");
    }
    const json::object& f = fp->as_object();
    const std::pair<std::string_view, std::string> expected[] = {
        {"identity", IdentityFingerprint(d)},
        {"sign_key", KeyFingerprint(d.sign_key)},
        {"box_key", KeyFingerprint(d.box_key)}};
    for (const auto& [key, want] : expected) {
      const json::value* got = f.if_contains(key);
      if (got != nullptr && (!got->is_string() || got->as_string() != want)) {
        return InvalidArgumentError(
            "the " + std::string(key) + " fingerprint does not match the document's keys",
            "/fingerprints/" + std::string(key));
      }
    }
  }
  return d;
}

Status ConfirmFingerprint(const IdentityDocument& doc, std::string_view given) {
  std::string g;
  std::string_view rest = given;
  if (rest.size() >= 7 && (rest.substr(0, 7) == "sha256:" || rest.substr(0, 7) == "SHA256:")) {
    rest.remove_prefix(7);
  }
  for (char c : rest) {
    if (c == ':' || c == ' ') continue;
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!((l >= '0' && l <= '9') || (l >= 'a' && l <= 'f'))) {
      return InvalidArgumentError("the fingerprint must be 64 hex digits");
    }
    g.push_back(l);
  }
  if (g.size() != 64) {
    return InvalidArgumentError("the fingerprint must be 64 hex digits, not " +
                                std::to_string(g.size()));
  }
  const std::string want = IdentityFingerprint(doc);
  if (g != want) {
    return PermissionDeniedError("the identity of " + doc.state + " at " + doc.url +
                                 " has the fingerprint " + want + ", not " + g +
                                 ": its keys are not the ones you expect");
  }
  return OkStatus();
}

}  // namespace comity::federation
