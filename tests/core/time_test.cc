#include "core/time.h"

#include <gtest/gtest.h>

#include <string>

namespace comity {
namespace {

TEST(TimeTest, DaysFromCivilAndBack) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1970, 1, 2), 1);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(2026, 11, 2), 20759);
  EXPECT_EQ(DaysFromCivil(0, 1, 1), -719528);
  for (int32_t days = -800000; days < 3000000; days += 997) {
    CivilDate c = CivilFromDays(days);
    ASSERT_TRUE(IsValidCivil(c.year, c.month, c.day)) << days;
    ASSERT_EQ(DaysFromCivil(c.year, c.month, c.day), days);
  }
}

TEST(TimeTest, CalendarRules) {
  EXPECT_EQ(DaysInMonth(2026, 2), 28u);
  EXPECT_EQ(DaysInMonth(2024, 2), 29u);
  EXPECT_EQ(DaysInMonth(1900, 2), 28u);
  EXPECT_EQ(DaysInMonth(2000, 2), 29u);
  EXPECT_EQ(DaysInMonth(2026, 4), 30u);
  EXPECT_TRUE(IsValidCivil(2024, 2, 29));
  EXPECT_FALSE(IsValidCivil(2026, 2, 29));
  EXPECT_FALSE(IsValidCivil(2026, 13, 1));
  EXPECT_FALSE(IsValidCivil(2026, 0, 1));
  EXPECT_FALSE(IsValidCivil(2026, 1, 0));
}

TEST(TimeTest, ParsesDates) {
  auto d = ParseDate("2026-10-28");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->days, DaysFromCivil(2026, 10, 28));
  EXPECT_EQ(FormatDate(*d), "2026-10-28");
  EXPECT_TRUE(ParseDate("2024-02-29").ok());
  EXPECT_TRUE(ParseDate("0000-01-01").ok());
  EXPECT_TRUE(ParseDate("9999-12-31").ok());
  EXPECT_EQ(FormatDate(*ParseDate("0001-02-03")), "0001-02-03");
}

struct Rejection {
  const char* text;
  const char* message;
};

class DateRejectionTest : public testing::TestWithParam<Rejection> {};

TEST_P(DateRejectionTest, Refused) {
  auto d = ParseDate(GetParam().text);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    All, DateRejectionTest,
    testing::Values(
        Rejection{"2026-02-30", R"("2026-02-30" is not a valid date (February 2026 has 28 days))"},
        Rejection{"2026-02-29", R"("2026-02-29" is not a valid date (February 2026 has 28 days))"},
        Rejection{"2026-04-31", R"("2026-04-31" is not a valid date (April 2026 has 30 days))"},
        Rejection{"2026-13-01", R"("2026-13-01" is not a valid date (there is no month 13))"},
        Rejection{"2026-00-10", R"("2026-00-10" is not a valid date (there is no month 00))"},
        Rejection{"2026-01-00", R"("2026-01-00" is not a valid date (there is no day 00))"},
        Rejection{"2026-1-01", R"("2026-1-01" is not a valid date (expected YYYY-MM-DD))"},
        Rejection{"26-01-01", R"("26-01-01" is not a valid date (expected YYYY-MM-DD))"},
        Rejection{"2026-01-01T00:00:00Z",
                  R"("2026-01-01T00:00:00Z" is not a valid date (expected YYYY-MM-DD))"},
        Rejection{"2026/01/01", R"("2026/01/01" is not a valid date (expected YYYY-MM-DD))"},
        Rejection{"", R"("" is not a valid date (expected YYYY-MM-DD))"},
        Rejection{"+2026-01-01", R"("+2026-01-01" is not a valid date (expected YYYY-MM-DD))"}));

TEST(TimeTest, ParsesDateTimes) {
  auto t = ParseTimestamp("2026-11-02T09:00:00Z");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->seconds, int64_t{DaysFromCivil(2026, 11, 2)} * 86400 + 9 * 3600);
  EXPECT_EQ(t->nanos, 0);
  EXPECT_EQ(FormatTimestamp(*t), "2026-11-02T09:00:00Z");
  // Lower-case t and z (RFC 3339 section 5.6 NOTE).
  EXPECT_EQ(*ParseTimestamp("2026-11-02t09:00:00z"), *t);
}

TEST(TimeTest, OffsetsAreNormalisedToUtc) {
  auto utc = *ParseTimestamp("2026-11-02T09:00:00Z");
  EXPECT_EQ(*ParseTimestamp("2026-11-02T11:00:00+02:00"), utc);
  EXPECT_EQ(*ParseTimestamp("2026-11-02T04:30:00-04:30"), utc);
  EXPECT_EQ(*ParseTimestamp("2026-11-02T09:00:00-00:00"), utc);
  // Crossing a day, a month and a year boundary.
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2027-01-01T01:00:00+02:00")), "2026-12-31T23:00:00Z");
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2024-02-28T23:30:00-01:00")), "2024-02-29T00:30:00Z");
}

TEST(TimeTest, FractionalSeconds) {
  auto t = *ParseTimestamp("2026-11-02T09:00:00.5Z");
  EXPECT_EQ(t.nanos, 500000000);
  EXPECT_EQ(FormatTimestamp(t), "2026-11-02T09:00:00.5Z");
  t = *ParseTimestamp("2026-11-02T09:00:00.000000001Z");
  EXPECT_EQ(t.nanos, 1);
  EXPECT_EQ(FormatTimestamp(t), "2026-11-02T09:00:00.000000001Z");
  // Beyond nanoseconds: truncated.
  t = *ParseTimestamp("2026-11-02T09:00:00.1234567899Z");
  EXPECT_EQ(t.nanos, 123456789);
  EXPECT_EQ(FormatTimestamp(*ParseTimestamp("2026-11-02T09:00:00.120Z")),
            "2026-11-02T09:00:00.12Z");
}

TEST(TimeTest, FormatsInstantsBeforeTheEpoch) {
  EXPECT_EQ(FormatTimestamp(Timestamp{-1, 0}), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatTimestamp(Timestamp{0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*ParseTimestamp("1969-12-31T23:59:59Z"), (Timestamp{-1, 0}));
  std::string s;
  AppendTimestamp(Timestamp{86400, 250000000}, &s);
  AppendDate(Date{1}, &s);
  EXPECT_EQ(s, "1970-01-02T00:00:00.25Z1970-01-02");
}

class DateTimeRejectionTest : public testing::TestWithParam<Rejection> {};

TEST_P(DateTimeRejectionTest, Refused) {
  auto t = ParseTimestamp(GetParam().text);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(t.status().message(), GetParam().message);
}

#define SHAPE "expected YYYY-MM-DDThh:mm:ss[.fraction] followed by Z or an offset +hh:mm"

INSTANTIATE_TEST_SUITE_P(
    All, DateTimeRejectionTest,
    testing::Values(
        Rejection{"2026-02-30T09:00:00Z",
                  R"("2026-02-30T09:00:00Z" is not a valid date-time (February 2026 has 28 days))"},
        Rejection{"2026-13-01T09:00:00Z",
                  R"("2026-13-01T09:00:00Z" is not a valid date-time (there is no month 13))"},
        Rejection{"2026-01-01T24:00:00Z",
                  R"("2026-01-01T24:00:00Z" is not a valid date-time (there is no hour 24))"},
        Rejection{"2026-01-01T09:60:00Z",
                  R"("2026-01-01T09:60:00Z" is not a valid date-time (there is no minute 60))"},
        Rejection{
            "2026-12-31T23:59:60Z",
            R"("2026-12-31T23:59:60Z" is not a valid date-time (leap second 60 is not accepted))"},
        Rejection{"2026-01-01T09:00:61Z",
                  R"("2026-01-01T09:00:61Z" is not a valid date-time (there is no second 61))"},
        Rejection{
            "2026-01-01T09:00:00+24:00",
            R"("2026-01-01T09:00:00+24:00" is not a valid date-time (there is no offset hour 24))"},
        Rejection{
            "2026-01-01T09:00:00+01:60",
            R"("2026-01-01T09:00:00+01:60" is not a valid date-time (there is no offset minute 60))"},
        Rejection{"2026-01-01T09:00:00",
                  R"("2026-01-01T09:00:00" is not a valid date-time ()" SHAPE ")"},
        Rejection{"2026-01-01 09:00:00Z",
                  R"("2026-01-01 09:00:00Z" is not a valid date-time ()" SHAPE ")"},
        Rejection{"2026-01-01T09:00Z",
                  R"("2026-01-01T09:00Z" is not a valid date-time ()" SHAPE ")"},
        Rejection{"2026-01-01T09:00:00.Z",
                  R"("2026-01-01T09:00:00.Z" is not a valid date-time ()" SHAPE ")"},
        Rejection{"2026-01-01T09:00:00+0100",
                  R"("2026-01-01T09:00:00+0100" is not a valid date-time ()" SHAPE ")"},
        Rejection{"2026-01-01T09:00:00Zjunk",
                  R"("2026-01-01T09:00:00Zjunk" is not a valid date-time ()" SHAPE ")"},
        Rejection{"2026-01-01", R"("2026-01-01" is not a valid date-time ()" SHAPE ")"},
        Rejection{
            "0000-01-01T00:00:00+01:00",
            R"("0000-01-01T00:00:00+01:00" is not a valid date-time (outside the years 0000 to 9999 once converted to UTC))"},
        Rejection{
            "9999-12-31T23:00:00-01:00",
            R"("9999-12-31T23:00:00-01:00" is not a valid date-time (outside the years 0000 to 9999 once converted to UTC))"}));

TEST(TimeTest, ReasonWithoutStatus) {
  Date d;
  std::string reason;
  EXPECT_FALSE(ParseDateTo("2026-02-30", &d, &reason));
  EXPECT_EQ(reason, "February 2026 has 28 days");
  EXPECT_FALSE(ParseDateTo("2026-02-30", &d, nullptr));
  Timestamp t;
  EXPECT_TRUE(ParseTimestampTo("9999-12-31T23:59:59.999999999Z", &t, &reason));
  EXPECT_TRUE(ParseTimestampTo("0000-01-01T00:00:00Z", &t, &reason));
}

TEST(TimeTest, Clocks) {
  Timestamp before = SystemClock().Now();
  EXPECT_GT(before.seconds, int64_t{DaysFromCivil(2020, 1, 1)} * 86400);
  EXPECT_GE(before.nanos, 0);
  EXPECT_LT(before.nanos, 1000000000);
  EXPECT_LE(before, SystemClock().Now());
  FixedClock fixed(Timestamp{42, 7});
  EXPECT_EQ(fixed.Now(), (Timestamp{42, 7}));
}

}  // namespace
}  // namespace comity
