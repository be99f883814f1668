#include "node/accounts.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/node/test_util.h"

namespace comity::node {
namespace {

TEST(TokenTest, TokensAreRandomWellFormedAndOnlyTheirHashIsKept) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    NewToken t = GenerateToken();
    EXPECT_TRUE(IsWellFormedToken(t.token)) << t.token;
    EXPECT_EQ(t.token.size(), 7u + 64u);
    EXPECT_EQ(t.sha256, TokenHash(t.token));
    EXPECT_EQ(t.sha256.size(), 64u);
    EXPECT_EQ(t.sha256.find(t.token.substr(7)), std::string::npos);
    EXPECT_TRUE(seen.insert(t.token).second);
    EXPECT_TRUE(TokenMatches(t.token, t.sha256));
  }
  NewToken a = GenerateToken();
  NewToken b = GenerateToken();
  EXPECT_FALSE(TokenMatches(a.token, b.sha256));
}

TEST(TokenTest, MalformedTokensAreRecognised) {
  EXPECT_FALSE(IsWellFormedToken(""));
  EXPECT_FALSE(IsWellFormedToken("comity_"));
  EXPECT_FALSE(IsWellFormedToken("comity_" + std::string(64, 'g')));
  EXPECT_FALSE(IsWellFormedToken("comity_" + std::string(63, 'a')));
  EXPECT_FALSE(IsWellFormedToken("other__" + std::string(64, 'a')));
  EXPECT_FALSE(IsWellFormedToken("comity_" + std::string(64, 'A')));
  EXPECT_TRUE(IsWellFormedToken("comity_" + std::string(64, 'a')));
}

TEST(TokenTest, BearerHeader) {
  EXPECT_EQ(BearerToken("Bearer abc"), std::optional<std::string_view>("abc"));
  EXPECT_EQ(BearerToken("bearer   abc  "), std::optional<std::string_view>("abc"));
  EXPECT_EQ(BearerToken("Basic abc"), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer "), std::nullopt);
  EXPECT_EQ(BearerToken("Bearer"), std::nullopt);
}

TEST(RoleTest, PermissionMatrix) {
  using P = Permission;
  using R = Role;
  struct Row {
    P p;
    std::set<R> allowed;
  };
  const Row rows[] = {
      {P::kReadRequests, {R::kOfficer, R::kReviewer, R::kSupervisor, R::kAuditor}},
      {P::kDraft, {R::kOfficer, R::kSupervisor}},
      {P::kDecide, {R::kReviewer, R::kSupervisor}},
      {P::kClose, {R::kOfficer, R::kReviewer, R::kSupervisor}},
      {P::kAssign, {R::kSupervisor}},
      {P::kReadDirectory, {R::kOfficer, R::kReviewer, R::kSupervisor, R::kAuditor, R::kAdmin}},
      {P::kReadUsers, {R::kAuditor, R::kAdmin}},
      {P::kReadDeliveries, {R::kSupervisor, R::kAuditor, R::kAdmin}},
      {P::kManageUsers, {R::kAdmin}},
      {P::kManagePeers, {R::kAdmin}},
      {P::kManageProfiles, {R::kAdmin}},
  };
  for (const Row& row : rows) {
    for (size_t i = 0; i < EnumCount<Role>(); ++i) {
      const R r = static_cast<R>(i);
      EXPECT_EQ(Allows(r, row.p), row.allowed.count(r) == 1)
          << EnumName(r) << " permission " << static_cast<int>(row.p);
    }
  }
  // The auditor changes nothing.
  for (P p : {P::kDraft, P::kDecide, P::kClose, P::kAssign, P::kManageUsers, P::kManagePeers,
              P::kManageProfiles}) {
    EXPECT_FALSE(Allows(R::kAuditor, p));
  }
}

TEST(UserNameTest, Names) {
  EXPECT_TRUE(ValidateUserName("ana").ok());
  EXPECT_TRUE(ValidateUserName("ana.b-c_9").ok());
  for (const char* bad : {"", "Ana", "-ana", ".ana", "a b", "système", "system"}) {
    Status s = ValidateUserName(bad);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.pointer(), "/name");
  }
  EXPECT_FALSE(ValidateUserName(std::string(65, 'a')).ok());
  EXPECT_TRUE(ValidateUserName(std::string(64, 'a')).ok());
}

TEST(AuthThrottleTest, LocksOutAfterMaxFailuresWithinTheWindow) {
  testing::TestClock clock(1000);
  AuthThrottle t(
      {.max_failures = 3, .window = std::chrono::seconds(60), .lockout = std::chrono::seconds(30)},
      &clock);
  EXPECT_EQ(t.Blocked("10.0.0.1"), std::nullopt);
  EXPECT_FALSE(t.RecordFailure("10.0.0.1"));
  EXPECT_FALSE(t.RecordFailure("10.0.0.1"));
  EXPECT_EQ(t.Blocked("10.0.0.1"), std::nullopt);
  EXPECT_TRUE(t.RecordFailure("10.0.0.1"));  // the third failure starts the lockout
  EXPECT_EQ(t.Blocked("10.0.0.1"), std::optional<int64_t>(30));
  EXPECT_EQ(t.Blocked("10.0.0.2"), std::nullopt);  // per address
  clock.Advance(29);
  EXPECT_EQ(t.Blocked("10.0.0.1"), std::optional<int64_t>(1));
  clock.Advance(1);
  EXPECT_EQ(t.Blocked("10.0.0.1"), std::nullopt);
  // After the lockout the count starts again.
  EXPECT_FALSE(t.RecordFailure("10.0.0.1"));
}

TEST(AuthThrottleTest, FailuresOutsideTheWindowDoNotAccumulate) {
  testing::TestClock clock(1000);
  AuthThrottle t(
      {.max_failures = 3, .window = std::chrono::seconds(60), .lockout = std::chrono::seconds(30)},
      &clock);
  EXPECT_FALSE(t.RecordFailure("a"));
  EXPECT_FALSE(t.RecordFailure("a"));
  clock.Advance(60);
  EXPECT_FALSE(t.RecordFailure("a"));
  EXPECT_FALSE(t.RecordFailure("a"));
  EXPECT_EQ(t.Blocked("a"), std::nullopt);
}

TEST(AuthThrottleTest, TracksABoundedNumberOfAddressesKeepingLockedOnes) {
  testing::TestClock clock(1000);
  AuthThrottle t({.max_failures = 2,
                  .window = std::chrono::seconds(60),
                  .lockout = std::chrono::seconds(600),
                  .max_tracked = 4},
                 &clock);
  EXPECT_FALSE(t.RecordFailure("locked"));
  EXPECT_TRUE(t.RecordFailure("locked"));
  for (int i = 0; i < 10; ++i) {
    clock.Advance(1);
    EXPECT_FALSE(t.RecordFailure("x" + std::to_string(i)));  // one failure each: not locked
  }
  EXPECT_LE(t.tracked(), 4u);
  // The unlocked addresses made room; the locked-out one is still locked.
  EXPECT_TRUE(t.Blocked("locked").has_value());
}

}  // namespace
}  // namespace comity::node
