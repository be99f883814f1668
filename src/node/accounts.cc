#include "node/accounts.h"

#include <algorithm>

#include "crypto/encoding.h"
#include "crypto/random.h"
#include "crypto/sha256.h"

namespace comity::node {

bool Allows(Role role, Permission p) {
  switch (p) {
    case Permission::kReadRequests:
      return role == Role::kOfficer || role == Role::kReviewer || role == Role::kSupervisor ||
             role == Role::kAuditor;
    case Permission::kDraft:
      return role == Role::kOfficer || role == Role::kSupervisor;
    case Permission::kDecide:
      return role == Role::kReviewer || role == Role::kSupervisor;
    case Permission::kClose:
      return role == Role::kOfficer || role == Role::kReviewer || role == Role::kSupervisor;
    case Permission::kAssign:
      return role == Role::kSupervisor;
    case Permission::kReadDirectory:
      return true;
    case Permission::kReadUsers:
      return role == Role::kAdmin || role == Role::kAuditor;
    case Permission::kReadDeliveries:
      return role == Role::kSupervisor || role == Role::kAuditor || role == Role::kAdmin;
    case Permission::kManageUsers:
    case Permission::kManagePeers:
    case Permission::kManageProfiles:
      return role == Role::kAdmin;
  }
  return false;
}

NewToken GenerateToken() {
  std::array<uint8_t, 32> raw = crypto::RandomArray<32>();
  NewToken t;
  t.token = std::string(kTokenPrefix) + crypto::HexEncode(raw);
  crypto::SecureWipe(raw.data(), raw.size());
  t.sha256 = TokenHash(t.token);
  return t;
}

std::string TokenHash(std::string_view token) { return crypto::HexEncode(crypto::Sha256(token)); }

bool IsWellFormedToken(std::string_view token) {
  if (token.size() != kTokenPrefix.size() + kTokenHexDigits) return false;
  if (token.substr(0, kTokenPrefix.size()) != kTokenPrefix) return false;
  return std::all_of(token.begin() + kTokenPrefix.size(), token.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool TokenMatches(std::string_view presented, std::string_view stored_sha256) {
  const std::string h = TokenHash(presented);
  return crypto::ConstantTimeEqual(crypto::AsBytes(h), crypto::AsBytes(stored_sha256));
}

Status ValidateUserName(std::string_view name) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  if (name.empty() || name.size() > 64 || !std::all_of(name.begin(), name.end(), ok_char) ||
      name[0] == '.' || name[0] == '_' || name[0] == '-') {
    return InvalidArgumentError(
        "user name must be 1 to 64 characters a-z, 0-9, '.', '_' or '-', starting with a letter "
        "or digit",
        "/name");
  }
  if (name == "system") {
    return InvalidArgumentError("\"system\" is reserved for the node itself", "/name");
  }
  return OkStatus();
}

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (lower != kScheme[i]) return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) return std::nullopt;
  return token;
}

// --- AuthThrottle --------------------------------------------------------------------------

std::optional<int64_t> AuthThrottle::Blocked(const std::string& address) {
  const int64_t now = clock_->Now().seconds;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(address);
  if (it == entries_.end() || it->second.locked_until <= now) return std::nullopt;
  return std::max<int64_t>(1, it->second.locked_until - now);
}

bool AuthThrottle::RecordFailure(const std::string& address) {
  const int64_t now = clock_->Now().seconds;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(address);
  if (it == entries_.end()) {
    EvictIfFull(now);
    it = entries_.emplace(address, Entry{now, 0, 0}).first;
  }
  Entry& e = it->second;
  if (e.locked_until != 0 && e.locked_until <= now) e = Entry{now, 0, 0};
  if (now - e.window_start >= options_.window.count()) e = Entry{now, 0, 0};
  ++e.failures;
  if (e.failures >= options_.max_failures && e.locked_until <= now) {
    e.locked_until = now + options_.lockout.count();
    return true;
  }
  return false;
}

void AuthThrottle::EvictIfFull(int64_t now) {
  if (entries_.size() < options_.max_tracked) return;
  // First drop what no longer matters; if still full, the entry with the oldest window.
  for (auto it = entries_.begin(); it != entries_.end();) {
    const Entry& e = it->second;
    const bool expired = e.locked_until <= now && now - e.window_start >= options_.window.count();
    it = expired ? entries_.erase(it) : std::next(it);
  }
  if (entries_.size() < options_.max_tracked) return;
  // Locked-out addresses are the last to go.
  auto key = [now](const Entry& e) { return std::make_pair(e.locked_until > now, e.window_start); };
  auto oldest =
      std::min_element(entries_.begin(), entries_.end(),
                       [&](const auto& a, const auto& b) { return key(a.second) < key(b.second); });
  entries_.erase(oldest);
}

size_t AuthThrottle::tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace comity::node
