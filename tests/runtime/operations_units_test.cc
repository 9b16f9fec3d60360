// The engine's operational record (runtime/engine/operations.h): what
// /metrics shows of recorded latency, lock hold times, races and the loop's
// gauges. No database, no clock.
#include "runtime/engine/operations.h"

#include "runtime/engine/config.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace duet::engine {
namespace {

// The lines of `text` that start with `prefix`.
std::vector<std::string> Lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
    start = end + 1;
  }
  return out;
}

TEST(OperationsTest, EachFamilyIsDeclaredOnceWithItsSamplesTogether) {
  Operations ops;
  LoopGauges loop;
  loop.loop_cycles = 7;
  loop.pairs = 5;
  loop.writes = 4;
  loop.errors = 1;
  for (const char* name : {"customers", "vendors"}) {
    MapGauges& g = loop.maps.emplace_back();
    g.map = name;
    g.linked = 10;
    g.backlog = {{"ce", 2}, {"fo", 3}};
  }
  loop.maps[1].paused = true;
  std::string text = ops.RenderMetrics(loop);
  EXPECT_EQ(Lines(text, "# TYPE duet_map_backlog gauge").size(), 1u);
  EXPECT_EQ(Lines(text, "# HELP duet_map_backlog ").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_map_backlog{").size(), 4u);
  EXPECT_EQ(Lines(text, "duet_map_backlog{map=\"vendors\",system=\"fo\"} 3").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_map_paused{map=\"vendors\"} 1").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_map_paused{map=\"customers\"} 0").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_loop_wakeups_total 7").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_row_errors_total 1").size(), 1u);
  // A family's samples follow its TYPE line with no other family between.
  size_t type = text.find("# TYPE duet_map_backlog gauge\n");
  size_t first = text.find("duet_map_backlog{");
  size_t next_type = text.find("# TYPE", type + 1);
  ASSERT_NE(type, std::string::npos);
  EXPECT_LT(type, first);
  EXPECT_GT(text.rfind("duet_map_backlog{"), first);
  EXPECT_LT(text.rfind("duet_map_backlog{"), next_type);
}

TEST(OperationsTest, LatencyIsACumulativeHistogramSinceTheStart) {
  Operations ops;
  ops.RecordLatency("customers", "fo->ce", 100, 0.0001);  // first bucket
  ops.RecordLatency("customers", "fo->ce", 101, 0.0003);  // second bucket
  ops.RecordLatency("customers", "fo->ce", 101, 1000.0);  // past every bound
  std::string text = ops.RenderMetrics({});
  const std::string labels = "{map=\"customers\",direction=\"fo->ce\"";
  EXPECT_EQ(Lines(text, "duet_latency_seconds_bucket" + labels + ",le=\"0.00025\"} 1").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_latency_seconds_bucket" + labels + ",le=\"0.0005\"} 2").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_latency_seconds_bucket" + labels + ",le=\"+Inf\"} 3").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_latency_seconds_count" + labels + "} 3").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_latency_seconds_bucket" + labels).size(),
            static_cast<size_t>(state::kLatencyBuckets));
  EXPECT_TRUE(ops.HasPendingLatency());
}

TEST(OperationsTest, LockHoldTimesCountOnlyWhenALockWasHeldAndRacesAreCounted) {
  Operations ops;
  ops.RecordLockHeld("fo", 0.0);
  ops.RecordLockHeld("ce", 0.002);
  ops.RecordLockRace();
  ops.RecordLockRace();
  EXPECT_EQ(ops.lock_races(), 2);
  std::string text = ops.RenderMetrics({});
  EXPECT_TRUE(Lines(text, "duet_write_lock_held_seconds_count{system=\"fo\"}").empty());
  EXPECT_EQ(Lines(text, "duet_write_lock_held_seconds_count{system=\"ce\"} 1").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_lock_races_total 2").size(), 1u);
  EXPECT_FALSE(ops.HasPendingLatency());
}

TEST(OperationsTest, RetainedCaptureBytesAreAGaugePerSystemThatHasThem) {
  Operations ops;
  LoopGauges loop;
  loop.retained_bytes = {{"fo", 123456789}};
  std::string text = ops.RenderMetrics(loop);
  EXPECT_EQ(Lines(text, "# TYPE duet_capture_retained_bytes gauge").size(), 1u);
  EXPECT_EQ(Lines(text, "duet_capture_retained_bytes{system=\"fo\"} 123456789").size(), 1u);
  EXPECT_TRUE(Lines(text, "duet_capture_retained_bytes{system=\"ce\"}").empty());
  // A system whose capture retains nothing of the kind (SQLite) has no sample.
  EXPECT_TRUE(Lines(ops.RenderMetrics({}), "duet_capture_retained_bytes{").empty());
}

TEST(OperationsTest, AnAlertCanWatchRetainedCaptureBytes) {
  Expected<AlertRule> rule = ParseAlertWhen("retained_bytes > 1000000000 for 10m");
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();
  EXPECT_EQ(rule->metric, "retained_bytes");
  EXPECT_EQ(rule->threshold, 1e9);
  Expected<AlertRule> unknown = ParseAlertWhen("retained > 1 for 10m");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("retained_bytes"), std::string::npos)
      << "the list of known metrics names it";
}

}  // namespace
}  // namespace duet::engine
