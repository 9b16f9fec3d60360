// The parts of the state store that every implementation shares.
#include "runtime/state/state_store.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace duet::state {

std::string IsoAt(double unix_seconds) {
  std::time_t seconds = static_cast<std::time_t>(unix_seconds);
  int millis = static_cast<int>((unix_seconds - static_cast<double>(seconds)) * 1000);
  std::tm tm;
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buffer, millis);
  return out;
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
