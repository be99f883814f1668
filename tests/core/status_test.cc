#include "core/status.h"

#include <gtest/gtest.h>

namespace comity {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd", "/x");
  return x / 2;
}

Status UseHalf(int x, int* out) {
  ASSIGN_OR_RETURN(*out, Half(x));
  RETURN_IF_ERROR(OkStatus());
  return OkStatus();
}

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(OkStatus().ok());
  Status s = InvalidArgumentError("expected an integer, got a string", "/measures/0/duration_days");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.ToString(),
            "INVALID_ARGUMENT: /measures/0/duration_days: expected an integer, got a string");
  EXPECT_EQ(s.WithContext("req.json").message(), "req.json: expected an integer, got a string");
  // A message that already names its pointer (the codecs' form) is not prefixed twice.
  Status v = InvalidArgumentError("/offences/0: unknown property \"x\"", "/offences/0");
  EXPECT_EQ(v.ToString(), "INVALID_ARGUMENT: /offences/0: unknown property \"x\"");
  Status w = InvalidArgumentError("/offences/01: x", "/offences/0");
  EXPECT_EQ(w.ToString(), "INVALID_ARGUMENT: /offences/0: /offences/01: x");
}

TEST(StatusTest, Macros) {
  int out = 0;
  EXPECT_TRUE(UseHalf(4, &out).ok());
  EXPECT_EQ(out, 2);
  Status s = UseHalf(3, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.pointer(), "/x");
}

TEST(StatusTest, ExitAndHttpCodes) {
  EXPECT_EQ(ExitCodeFor(OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(InvalidArgumentError("x")), 2);
  EXPECT_EQ(ExitCodeFor(InternalError("x")), 1);
  EXPECT_EQ(HttpStatusFor(InvalidArgumentError("x")), 400);
  EXPECT_EQ(HttpStatusFor(NotFoundError("x")), 404);
  EXPECT_EQ(HttpStatusFor(FailedPreconditionError("x")), 409);
  EXPECT_EQ(HttpStatusFor(ResourceExhaustedError("x")), 413);
  EXPECT_EQ(HttpStatusFor(UnauthenticatedError("x")), 401);
  EXPECT_EQ(HttpStatusFor(PermissionDeniedError("x")), 403);
}

}  // namespace
}  // namespace comity
