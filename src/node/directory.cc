#include "node/directory.h"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/canonical_json.h"
#include "core/codec.h"
#include "crypto/encoding.h"
#include "crypto/sha256.h"
#include "node/identity.h"
#include "tlog/note.h"

namespace comity::node {
namespace {

// Runs `body` in a transaction of its own, or in the caller's when one is open.
template <typename F>
Status InTransaction(store::NodeStore& store, F body) {
  store::Database* db = store.database();
  if (db->in_transaction()) return body();
  store::Transaction tx(db);
  RETURN_IF_ERROR(tx.Begin());
  RETURN_IF_ERROR(body());
  return tx.Commit();
}

bool IsStateCode(std::string_view s) {
  return s.size() == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z';
}

}  // namespace

int64_t ToMicros(Timestamp t) { return t.seconds * 1'000'000 + t.nanos / 1000; }

Timestamp FromMicros(int64_t us) {
  int64_t s = us / 1'000'000;
  int64_t rem = us % 1'000'000;
  if (rem < 0) {
    rem += 1'000'000;
    --s;
  }
  return Timestamp{s, static_cast<int32_t>(rem * 1000)};
}

StatusOr<NewUser> AddUser(store::NodeStore& store, std::string_view name, Role role,
                          std::string_view created_by, int64_t now_us) {
  RETURN_IF_ERROR(ValidateUserName(name));
  NewToken t = GenerateToken();
  NewUser out;
  out.user.name = std::string(name);
  out.user.role = std::string(EnumName(role));
  out.user.token_sha256 = t.sha256;
  out.user.created = now_us;
  out.user.created_by = std::string(created_by);
  RETURN_IF_ERROR(InTransaction(store, [&] { return store.InsertUser(out.user); }));
  out.token = std::move(t.token);
  return out;
}

Status RevokeUser(store::NodeStore& store, std::string_view name, std::string_view by,
                  int64_t now_us) {
  return InTransaction(store, [&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<store::UserRecord> u, store.GetUser(name));
    if (!u) return NotFoundError("no user named \"" + std::string(name) + "\"");
    if (!u->revoked && u->role == EnumName(Role::kAdmin)) {
      ASSIGN_OR_RETURN(int64_t admins, store.CountActiveUsers(EnumName(Role::kAdmin)));
      if (admins <= 1) {
        return FailedPreconditionError("\"" + std::string(name) +
                                       "\" is the last active admin; add another admin first");
      }
    }
    return store.RevokeUser(name, now_us, by);
  });
}

StatusOr<store::UserRecord> Authenticate(store::NodeStore& store, std::string_view token) {
  const Status refused = UnauthenticatedError("invalid, unknown or revoked API token");
  if (!IsWellFormedToken(token)) return refused;
  const std::string hash = TokenHash(token);
  ASSIGN_OR_RETURN(std::optional<store::UserRecord> u, store.FindUserByTokenHash(hash));
  // The lookup is by hash; the comparison of the stored hash is in constant time all the same.
  if (!u || !TokenMatches(token, u->token_sha256) || u->revoked) return refused;
  return *u;
}

StatusOr<store::PeerRecord> AddPeer(store::NodeStore& store, const PeerInput& in,
                                    std::string_view own_state, bool replace, int64_t now_us) {
  if (!IsStateCode(in.state)) {
    return InvalidArgumentError("state must be a two-letter code such as XB", "/state");
  }
  if (in.state == own_state) {
    return InvalidArgumentError("a node is not its own peer", "/state");
  }
  auto url = boost::urls::parse_uri(in.url);
  if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty() ||
      in.url.size() > 2048) {
    return InvalidArgumentError("url must be an http:// or https:// URL with a host", "/url");
  }
  {
    auto k = ParsePublicKey(in.sign_key, "sign_key");
    if (!k.ok()) return InvalidArgumentError(k.status().message(), "/sign_key");
    auto b = ParsePublicKey(in.box_key, "box_key");
    if (!b.ok()) return InvalidArgumentError(b.status().message(), "/box_key");
  }
  if (!in.log_vkey.empty()) {
    auto v = tlog::ParseVerifierKey(in.log_vkey);
    if (!v.ok()) {
      return InvalidArgumentError("log_vkey is not a verifier key: " + v.status().message(),
                                  "/log_vkey");
    }
  }
  store::PeerRecord p;
  p.state = in.state;
  p.url = in.url;
  p.sign_key = in.sign_key;
  p.box_key = in.box_key;
  if (!in.log_vkey.empty()) p.log_vkey = in.log_vkey;
  p.added = now_us;
  p.updated = now_us;
  RETURN_IF_ERROR(InTransaction(store, [&]() -> Status {
    if (replace) return store.ReplacePeer(p);
    return store.InsertPeer(p);
  }));
  ASSIGN_OR_RETURN(std::optional<store::PeerRecord> stored, store.GetPeer(p.state));
  if (!stored) return InternalError("peer " + p.state + " vanished after it was written");
  return *stored;
}

StatusOr<store::ProfileRecord> PutProfile(store::NodeStore& store, std::string_view code,
                                          std::string_view json_text, std::string_view by,
                                          int64_t now_us) {
  if (!IsStateCode(code)) {
    return InvalidArgumentError("a profile code is two capital letters such as XA, not \"" +
                                std::string(code) + "\"");
  }
  ASSIGN_OR_RETURN(boost::json::value v, ParseJson(json_text));
  ASSIGN_OR_RETURN(StateProfile profile, ProfileFromJson(v));
  if (profile.code.str() != code) {
    return InvalidArgumentError("the profile's code " + profile.code.str() +
                                    " does not match the path's " + std::string(code),
                                "/code");
  }
  store::ProfileRecord r;
  r.code = std::string(code);
  ASSIGN_OR_RETURN(r.profile_json, CanonicalJson(v));
  r.sha256 = crypto::HexEncode(crypto::Sha256(r.profile_json));
  r.updated = now_us;
  r.updated_by = std::string(by);
  RETURN_IF_ERROR(InTransaction(store, [&] { return store.PutProfile(r); }));
  return r;
}

StatusOr<int> LoadProfileDirectory(store::NodeStore& store, const std::string& dir,
                                   std::string_view by, int64_t now_us) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path& p = entry.path();
    if (p.extension() == ".json" && IsStateCode(p.stem().string())) files.push_back(p);
  }
  if (ec) return NotFoundError("cannot read the profile directory " + dir + ": " + ec.message());
  if (files.empty()) return NotFoundError("no <CODE>.json profiles in " + dir);
  std::sort(files.begin(), files.end());
  int n = 0;
  Status st = InTransaction(store, [&]() -> Status {
    for (const fs::path& p : files) {
      ASSIGN_OR_RETURN(StateProfile profile, LoadProfileFile(p.string()));
      (void)profile;  // validated; stored from its text below
      std::ifstream in(p, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto r = PutProfile(store, p.stem().string(), text, by, now_us);
      if (!r.ok()) return r.status().WithContext(p.string());
      ++n;
    }
    return OkStatus();
  });
  RETURN_IF_ERROR(st);
  return n;
}

}  // namespace comity::node
