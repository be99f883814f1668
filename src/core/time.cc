#include "core/time.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <string>

#include "core/internal/json_text.h"

namespace comity {
namespace {

constexpr std::array<const char*, 12> kMonthNames = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

constexpr int64_t kSecondsPerDay = 86400;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads `n` decimal digits at text[pos..pos+n); false if any is not a digit.
bool Digits(std::string_view text, size_t pos, size_t n, unsigned* out) {
  if (pos + n > text.size()) return false;
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  *out = v;
  return true;
}

std::string TwoDigits(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02u", v);
  return buf;
}

void SetReason(std::string* reason, std::string text) {
  if (reason != nullptr) *reason = std::move(text);
}

// Checks that year-month-day exists in the proleptic Gregorian calendar.
bool CheckCalendar(unsigned y, unsigned m, unsigned d, std::string* reason) {
  if (m < 1 || m > 12) {
    SetReason(reason, "there is no month " + TwoDigits(m));
    return false;
  }
  if (d < 1) {
    SetReason(reason, "there is no day 00");
    return false;
  }
  unsigned dim = DaysInMonth(static_cast<int32_t>(y), m);
  if (d > dim) {
    SetReason(reason, std::string(kMonthNames[m - 1]) + " " + std::to_string(y) + " has " +
                          std::to_string(dim) + " days");
    return false;
  }
  return true;
}

// Parses "YYYY-MM-DD" at the start of `text` (which may continue).
bool ParseFullDate(std::string_view text, int32_t* days, std::string* reason) {
  unsigned y = 0, m = 0, d = 0;
  if (text.size() < 10 || !Digits(text, 0, 4, &y) || text[4] != '-' || !Digits(text, 5, 2, &m) ||
      text[7] != '-' || !Digits(text, 8, 2, &d)) {
    return false;
  }
  if (!CheckCalendar(y, m, d, reason)) return false;
  *days = DaysFromCivil(static_cast<int32_t>(y), m, d);
  return true;
}

constexpr const char* kDateShape = "expected YYYY-MM-DD";
constexpr const char* kDateTimeShape =
    "expected YYYY-MM-DDThh:mm:ss[.fraction] followed by Z or an offset +hh:mm";

// Writes `v` as exactly `width` decimal digits (v must fit).
void AppendPadded(std::string* out, uint64_t v, int width) {
  char buf[24];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out->append(buf, static_cast<size_t>(width));
}

}  // namespace

int32_t DaysFromCivil(int32_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int32_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);             // [0, 399]
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;            // [0, 146096]
  return era * 146097 + static_cast<int32_t>(doe) - 719468;
}

CivilDate CivilFromDays(int32_t days) {
  const int64_t z = static_cast<int64_t>(days) + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);                // [0, 146096]
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);  // [0, 365]
  const unsigned mp = (5 * doy + 2) / 153;                       // [0, 11]
  CivilDate c;
  c.day = doy - (153 * mp + 2) / 5 + 1;
  c.month = mp < 10 ? mp + 3 : mp - 9;
  c.year = static_cast<int32_t>(y + (c.month <= 2));
  return c;
}

unsigned DaysInMonth(int32_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  if (m == 2) {
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[m - 1];
}

bool IsValidCivil(int32_t y, unsigned m, unsigned d) {
  return m >= 1 && m <= 12 && d >= 1 && d <= DaysInMonth(y, m);
}

bool ParseDateTo(std::string_view text, Date* out, std::string* reason) {
  int32_t days = 0;
  std::string why;
  if (text.size() != 10 || !ParseFullDate(text, &days, reason == nullptr ? nullptr : &why)) {
    SetReason(reason, why.empty() ? kDateShape : why);
    return false;
  }
  out->days = days;
  return true;
}

bool ParseTimestampTo(std::string_view text, Timestamp* out, std::string* reason) {
  int32_t days = 0;
  std::string why;
  if (!ParseFullDate(text, &days, reason == nullptr ? nullptr : &why)) {
    SetReason(reason, why.empty() ? kDateTimeShape : why);
    return false;
  }
  unsigned hh = 0, mm = 0, ss = 0;
  if (text.size() < 19 || (text[10] != 'T' && text[10] != 't') || !Digits(text, 11, 2, &hh) ||
      text[13] != ':' || !Digits(text, 14, 2, &mm) || text[16] != ':' ||
      !Digits(text, 17, 2, &ss)) {
    SetReason(reason, kDateTimeShape);
    return false;
  }
  size_t pos = 19;
  int32_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    int scale = 100000000;
    while (pos < text.size() && IsDigit(text[pos])) {
      // Digits beyond nanoseconds are read and dropped (truncation, not rounding).
      nanos += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) {
      SetReason(reason, kDateTimeShape);
      return false;
    }
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    unsigned oh = 0, om = 0;
    if (!Digits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !Digits(text, pos + 4, 2, &om)) {
      SetReason(reason, kDateTimeShape);
      return false;
    }
    if (oh > 23) {
      SetReason(reason, "there is no offset hour " + TwoDigits(oh));
      return false;
    }
    if (om > 59) {
      SetReason(reason, "there is no offset minute " + TwoDigits(om));
      return false;
    }
    offset_seconds = static_cast<int64_t>(oh) * 3600 + static_cast<int64_t>(om) * 60;
    if (text[pos] == '-') offset_seconds = -offset_seconds;
    pos += 6;
  } else {
    SetReason(reason, kDateTimeShape);
    return false;
  }
  if (pos != text.size()) {
    SetReason(reason, kDateTimeShape);
    return false;
  }
  if (hh > 23) {
    SetReason(reason, "there is no hour " + TwoDigits(hh));
    return false;
  }
  if (mm > 59) {
    SetReason(reason, "there is no minute " + TwoDigits(mm));
    return false;
  }
  if (ss == 60) {
    SetReason(reason, "leap second 60 is not accepted");
    return false;
  }
  if (ss > 59) {
    SetReason(reason, "there is no second " + TwoDigits(ss));
    return false;
  }
  int64_t seconds =
      static_cast<int64_t>(days) * kSecondsPerDay + hh * 3600 + mm * 60 + ss - offset_seconds;
  static const int64_t kMin = static_cast<int64_t>(DaysFromCivil(0, 1, 1)) * kSecondsPerDay;
  static const int64_t kMax = static_cast<int64_t>(DaysFromCivil(10000, 1, 1)) * kSecondsPerDay;
  if (seconds < kMin || seconds >= kMax) {
    SetReason(reason, "outside the years 0000 to 9999 once converted to UTC");
    return false;
  }
  out->seconds = seconds;
  out->nanos = nanos;
  return true;
}

StatusOr<Date> ParseDate(std::string_view text) {
  Date d;
  std::string reason;
  if (!ParseDateTo(text, &d, &reason)) {
    return InvalidArgumentError(core_internal::QuoteForMessage(text) + " is not a valid date (" +
                                reason + ")");
  }
  return d;
}

StatusOr<Timestamp> ParseTimestamp(std::string_view text) {
  Timestamp t;
  std::string reason;
  if (!ParseTimestampTo(text, &t, &reason)) {
    return InvalidArgumentError(core_internal::QuoteForMessage(text) +
                                " is not a valid date-time (" + reason + ")");
  }
  return t;
}

void AppendDate(Date d, std::string* out) {
  CivilDate c = CivilFromDays(d.days);
  int64_t y = c.year;
  if (y < 0) {
    out->push_back('-');
    y = -y;
  }
  AppendPadded(out, static_cast<uint64_t>(y), y > 9999 ? (y > 99999 ? 6 : 5) : 4);
  out->push_back('-');
  AppendPadded(out, c.month, 2);
  out->push_back('-');
  AppendPadded(out, c.day, 2);
}

void AppendTimestamp(Timestamp t, std::string* out) {
  int64_t days = t.seconds / kSecondsPerDay;
  int64_t rem = t.seconds % kSecondsPerDay;
  if (rem < 0) {
    rem += kSecondsPerDay;
    --days;
  }
  AppendDate(Date{static_cast<int32_t>(days)}, out);
  out->push_back('T');
  AppendPadded(out, static_cast<uint64_t>(rem / 3600), 2);
  out->push_back(':');
  AppendPadded(out, static_cast<uint64_t>(rem / 60 % 60), 2);
  out->push_back(':');
  AppendPadded(out, static_cast<uint64_t>(rem % 60), 2);
  if (t.nanos > 0 && t.nanos < 1000000000) {
    int digits = 9;
    int32_t n = t.nanos;
    while (n % 10 == 0) {
      n /= 10;
      --digits;
    }
    out->push_back('.');
    AppendPadded(out, static_cast<uint64_t>(n), digits);
  }
  out->push_back('Z');
}

std::string FormatDate(Date d) {
  std::string out;
  AppendDate(d, &out);
  return out;
}

std::string FormatTimestamp(Timestamp t) {
  std::string out;
  AppendTimestamp(t, &out);
  return out;
}

namespace {

class RealClock final : public Clock {
 public:
  Timestamp Now() const override {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    Timestamp t;
    t.seconds = ns / 1000000000;
    t.nanos = static_cast<int32_t>(ns % 1000000000);
    if (t.nanos < 0) {
      t.nanos += 1000000000;
      --t.seconds;
    }
    return t;
  }
};

}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

}  // namespace comity
