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

// kInvalidArgument with a message naming the text and the reason, e.g.
// "\"2026-02-30\" is not a valid date (February 2026 has 28 days)".
StatusOr<Date> ParseDate(std::string_view text);
StatusOr<Timestamp> ParseTimestamp(std::string_view text);

// The same checks without building a Status: true on success; on failure `reason` (if not null)
// receives the bare reason ("February 2026 has 28 days", "there is no hour 24").
// Allocation-free on success; used by the schema validator's `format` keyword.
//
// Full-date is YYYY-MM-DD. Date-time is YYYY-MM-DDThh:mm:ss[.fraction](Z|+hh:mm|-hh:mm); "T"
// and "Z" may be lower case (RFC 3339 section 5.6). Fractions beyond nanoseconds are truncated.
// An instant whose UTC form falls outside the years 0000 to 9999 is refused, so that every parsed
// instant can be formatted back.
bool ParseDateTo(std::string_view text, Date* out, std::string* reason);
bool ParseTimestampTo(std::string_view text, Timestamp* out, std::string* reason);
std::string FormatDate(Date d);
// RFC 3339 in UTC with "Z"; fractional seconds only when nanos != 0, without trailing zeros.
std::string FormatTimestamp(Timestamp t);
// Appends the same text to `out` (the serialisers' allocation-free path).
void AppendDate(Date d, std::string* out);
void AppendTimestamp(Timestamp t, std::string* out);

// Civil-date conversions (Howard Hinnant's algorithms), proleptic Gregorian calendar.
// DaysFromCivil does not check its arguments (IsValidCivil does).
int32_t DaysFromCivil(int32_t y, unsigned m, unsigned d);
struct CivilDate {
  int32_t year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
};
CivilDate CivilFromDays(int32_t days);
bool IsValidCivil(int32_t y, unsigned m, unsigned d);
unsigned DaysInMonth(int32_t y, unsigned m);  // m in 1..12

// Source of the current time. Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
};
// The system's real-time clock.
const Clock& SystemClock();

// A clock that always says the same instant (tests). Thread-safe: immutable.
class FixedClock : public Clock {
 public:
  explicit FixedClock(Timestamp t) : t_(t) {}
  Timestamp Now() const override { return t_; }

 private:
  Timestamp t_;
};

}  // namespace comity
