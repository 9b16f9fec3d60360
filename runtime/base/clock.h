// The wall clock as a seam: code that stamps or compares times reads them
// from a Clock it is given, so a test can set the time instead of waiting
// for it (no test sleeps to separate two times or asserts on the real
// clock).
#ifndef DUET_RUNTIME_BASE_CLOCK_H_
#define DUET_RUNTIME_BASE_CLOCK_H_

namespace duet {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch (1970-01-01T00:00:00Z), with a fraction.
  virtual double Now() const = 0;
};

// The system's real-time clock. Stateless; one instance serves everyone.
class SystemClock final : public Clock {
 public:
  double Now() const override;
  // The process-wide instance, for callers not given another clock.
  static const Clock& Get();
};

// A clock that shows what it was set to, for tests: it moves only when
// told to.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(double now = 0) : now_(now) {}
  double Now() const override { return now_; }
  void Set(double now) { now_ = now; }
  void Advance(double seconds) { now_ += seconds; }

 private:
  double now_;
};

}  // namespace duet

#endif  // DUET_RUNTIME_BASE_CLOCK_H_
