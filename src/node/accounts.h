// Accounts: roles, what each role may do, API tokens, and the throttle on failed logins.
//
//   NewToken t = GenerateToken();          // t.token "comity_<64 hex>" shown once; t.sha256 kept
//   bool ok = TokenMatches(presented, stored_sha256);   // constant time
//   if (!Allows(Role::kOfficer, Permission::kSubmit)) ... 403
//
//   AuthThrottle throttle({.max_failures = 10, .window = 60s, .lockout = 60s}, &clock);
//   if (auto wait = throttle.Blocked("127.0.0.1")) ... 429 with Retry-After: *wait
//   throttle.RecordFailure("127.0.0.1");
//
// Roles (docs/api.md has the full role × endpoint table):
//   officer     drafts and submits outgoing requests, answers requests for information
//   reviewer    decides incoming requests
//   supervisor  both, plus reassignment
//   auditor     reads everything, changes nothing
//   admin       users, peers, profiles (not the requests themselves)
//
// Tokens are 256 random bits, written "comity_" + 64 lowercase hex digits. Only their SHA-256
// is stored; comparisons of hashes run in constant time. Revoked users' tokens stop working.
//
// AuthThrottle is thread-safe; the rest are pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/enums.h"
#include "core/status.h"
#include "core/time.h"

namespace comity::node {

#define COMITY_ROLES(X)        \
  X(kOfficer, "officer")       \
  X(kReviewer, "reviewer")     \
  X(kSupervisor, "supervisor") \
  X(kAuditor, "auditor")       \
  X(kAdmin, "admin")

COMITY_DECLARE_ENUM(Role, COMITY_ROLES)

// What an endpoint needs.
enum class Permission : uint8_t {
  kReadRequests,    // list and read requests with their history
  kDraft,           // create drafts; submit, withdraw, reply, close outgoing requests
  kDecide,          // decide and close incoming requests
  kClose,           // close a request (outgoing: officers; incoming: reviewers)
  kAssign,          // reassign a request
  kReadDirectory,   // read peers and profiles
  kReadUsers,       // list users
  kReadDeliveries,  // list the messages to peers not yet delivered (the outbox)
  kManageUsers,     // add and revoke users
  kManagePeers,     // add peers
  kManageProfiles   // replace profiles
};

bool Allows(Role role, Permission permission);

// Who is acting: a user, or the node itself ("system") for federation and screening.
struct Principal {
  std::string name;
  Role role = Role::kAuditor;
  bool system = false;
  static Principal System() { return Principal{"system", Role::kSupervisor, true}; }
};

inline constexpr std::string_view kTokenPrefix = "comity_";
inline constexpr size_t kTokenHexDigits = 64;

struct NewToken {
  std::string token;   // shown once
  std::string sha256;  // hex; stored
};
NewToken GenerateToken();
// Hex SHA-256 of the token text.
std::string TokenHash(std::string_view token);
// Whether `token` has the shape of one of ours (checked before any lookup).
bool IsWellFormedToken(std::string_view token);
// Constant-time comparison of TokenHash(presented) with a stored hash.
bool TokenMatches(std::string_view presented, std::string_view stored_sha256);

// User names: 1 to 64 characters a-z, 0-9, '.', '_', '-', starting with a letter or digit.
Status ValidateUserName(std::string_view name);

// The token from an "Authorization: Bearer <token>" header value; nullopt when the header is
// not a bearer credential.
std::optional<std::string_view> BearerToken(std::string_view authorization);

struct ThrottleOptions {
  int max_failures = 10;
  std::chrono::seconds window{60};
  std::chrono::seconds lockout{60};
  size_t max_tracked = 10'000;  // addresses tracked at once; the oldest entries go first
};

class AuthThrottle {
 public:
  AuthThrottle(ThrottleOptions options, const Clock* clock) : options_(options), clock_(clock) {}

  // Seconds to wait (≥ 1) while `address` is locked out; nullopt otherwise.
  std::optional<int64_t> Blocked(const std::string& address);
  // Counts a failed authentication; returns true when this failure starts a lockout.
  bool RecordFailure(const std::string& address);
  // Addresses tracked (tests).
  size_t tracked() const;

 private:
  struct Entry {
    int64_t window_start = 0;  // seconds
    int failures = 0;
    int64_t locked_until = 0;  // seconds; 0 when not locked
  };
  void EvictIfFull(int64_t now);

  const ThrottleOptions options_;
  const Clock* clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
};

}  // namespace comity::node

namespace comity {
COMITY_ENUM_TRAITS(node::Role, COMITY_ROLES)
}  // namespace comity
