// Calendar dates and instants, checked for real (no 2026-02-30), in UTC.
//
//   StatusOr<Date> d = ParseDate("2026-10-28");            // RFC 3339 full-date
//   StatusOr<Timestamp> t = ParseTimestamp("2026-11-02T09:00:00Z");  // RFC 3339 date-time
//   std::string s = FormatTimestamp(*t);                   // "2026-11-02T09:00:00Z"
//
// Time zone offsets in the input are honoured and normalised to UTC. Leap seconds (":60") are
// rejected. Clock is the seam for "now": tests inject a fixed clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace comity {

// Days since 1970-01-01 (proleptic Gregorian).
struct Date {
  int32_t days = 0;
  constexpr auto operator<=>(const Date&) const = default;
};

// An instant: seconds since the Unix epoch plus nanoseconds [0, 1e9).
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
  constexpr auto operator<=>(const Timestamp&) const = default;
};

StatusOr<Date> ParseDate(std::string_view text);
StatusOr<Timestamp> ParseTimestamp(std::string_view text);
std::string FormatDate(Date d);
// RFC 3339 in UTC with "Z"; fractional seconds only when nanos != 0.
std::string FormatTimestamp(Timestamp t);

// Civil-date conversions (Howard Hinnant's algorithms).
int32_t DaysFromCivil(int32_t y, unsigned m, unsigned d);
bool IsValidCivil(int32_t y, unsigned m, unsigned d);

// Source of the current time; thread-safe implementations.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};
// The system's real-time clock.
const Clock& SystemClock();

}  // namespace comity
