// The parts of the state store that every implementation shares.
#include "runtime/state/state_store.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace duet::state {

std::string IsoAt(double unix_seconds) {
  // Years 1 to 9999, the range ParseIso reads; anything else (a damaged
  // value, NaN) is shown as such rather than converted (an out-of-range
  // conversion to time_t is undefined).
  constexpr double kFirst = -62135596800.0;  // 0001-01-01T00:00:00Z
  constexpr double kEnd = 253402300800.0;    // 10000-01-01T00:00:00Z
  if (!std::isfinite(unix_seconds) || unix_seconds < kFirst || unix_seconds >= kEnd) {
    return "invalid time";
  }
  auto millis_total = static_cast<int64_t>(std::llround(unix_seconds * 1000));
  int64_t millis = ((millis_total % 1000) + 1000) % 1000;
  std::time_t seconds = static_cast<std::time_t>((millis_total - millis) / 1000);
  std::tm tm;
  if (!gmtime_r(&seconds, &tm)) return "invalid time";
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buffer, static_cast<int>(millis));
  return out;
}

std::optional<double> ParseIso(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.mmm]Z, every digit a digit.
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() != kShape.size() + 1 && text.size() != kShape.size() + 5) return std::nullopt;
  for (size_t i = 0; i < kShape.size(); ++i) {
    bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return std::nullopt;
  }
  int millis = 0;
  if (text.size() == kShape.size() + 5) {
    if (text[kShape.size()] != '.') return std::nullopt;
    for (size_t i = kShape.size() + 1; i < kShape.size() + 4; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      millis = millis * 10 + (text[i] - '0');
    }
  }
  if (text.back() != 'Z') return std::nullopt;
  auto number = [&](size_t at, size_t n) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = number(0, 4) - 1900;
  tm.tm_mon = number(5, 2) - 1;
  tm.tm_mday = number(8, 2);
  tm.tm_hour = number(11, 2);
  tm.tm_min = number(14, 2);
  tm.tm_sec = number(17, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60) {
    return std::nullopt;
  }
  return static_cast<double>(timegm(&tm)) + millis / 1000.0;
}

std::string NowIso() { return IsoAt(NowSeconds()); }

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void LatencyHistogram::Add(double seconds) {
  int i = 0;
  double bound = kLatencyBase;
  while (i + 1 < kLatencyBuckets && seconds > bound) {
    bound *= 2;
    ++i;
  }
  ++counts[static_cast<size_t>(i)];
  ++n;
  sum += seconds;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts.size() && i < other.counts.size(); ++i)
    counts[i] += other.counts[i];
  n += other.n;
}

double LatencyHistogram::Quantile(double p) const {
  if (n == 0) return 0;
  int64_t rank = static_cast<int64_t>(std::ceil(p * static_cast<double>(n)));
  int64_t seen = 0;
  double bound = kLatencyBase;
  for (size_t i = 0; i < counts.size(); ++i, bound *= 2) {
    seen += counts[i];
    if (seen >= rank) return bound;
  }
  return bound;
}

std::string_view ItemStatusName(ItemStatus status) {
  switch (status) {
    case ItemStatus::kOpen:
      return "open";
    case ItemStatus::kResolved:
      return "resolved";
    case ItemStatus::kDiscarded:
      return "discarded";
  }
  return "open";
}

std::optional<ItemStatus> ParseItemStatus(std::string_view name) {
  for (ItemStatus s : {ItemStatus::kOpen, ItemStatus::kResolved, ItemStatus::kDiscarded}) {
    if (ItemStatusName(s) == name) return s;
  }
  return std::nullopt;
}

namespace {
constexpr std::string_view kTake = "take:";
}  // namespace

std::string ItemRequest::Text() const {
  switch (kind) {
    case Kind::kNone:
      return "";
    case Kind::kRetry:
      return "retry";
    case Kind::kTake:
      return std::string(kTake) + take;
  }
  return "";
}

std::optional<ItemRequest> ItemRequest::Parse(std::string_view text) {
  ItemRequest r;
  if (text.empty()) return r;
  if (text == "retry") {
    r.kind = Kind::kRetry;
    return r;
  }
  if (text.substr(0, kTake.size()) == kTake && text.size() > kTake.size()) {
    r.kind = Kind::kTake;
    r.take = std::string(text.substr(kTake.size()));
    return r;
  }
  return std::nullopt;
}

namespace {
constexpr char kLeaseLost[] = "lease lost: ";
constexpr char kEarlierSchema[] = "state store of an earlier version: ";
}  // namespace

Status LeaseLostError(const std::string& detail) {
  return FailedPreconditionError(kLeaseLost + detail);
}

bool IsLeaseLost(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().rfind(kLeaseLost, 0) == 0;
}

Status EarlierSchemaError(const std::string& detail) {
  return FailedPreconditionError(kEarlierSchema + detail);
}

bool IsEarlierSchema(const Status& status) {
  return status.code() == StatusCode::kFailedPrecondition &&
         status.message().rfind(kEarlierSchema, 0) == 0;
}

}  // namespace duet::state
