#include "runtime/base/clock.h"

#include <chrono>

namespace duet {

double SystemClock::Now() const {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

const Clock& SystemClock::Get() {
  static const SystemClock kClock;
  return kClock;
}

}  // namespace duet
