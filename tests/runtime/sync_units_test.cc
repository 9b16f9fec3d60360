// Unit tests of the sync runtime's small parts: endpoint::Value (equality by
// meaning, the base encoding, reading text as a column type), UUIDv7 ids on
// a manual clock, latency quantiles and the configuration file.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "runtime/base/clock.h"
#include "runtime/endpoint/value.h"
#include "runtime/engine/config.h"
#include "runtime/state/state_store.h"
#include "runtime/value/ops.h"

namespace duet {
namespace {

using endpoint::Value;

bundle::ColumnType Type(const char* text) {
  Expected<bundle::ColumnType> t = bundle::ColumnType::Parse(text);
  EXPECT_TRUE(t.ok()) << text;
  return *t;
}

TEST(ValueTest, DecimalsCompareByValueWhateverTheirScales) {
  EXPECT_EQ(Value::Decimal(150, 2), Value::Decimal(15, 1));
  EXPECT_FALSE(Value::Decimal(150, 2) == Value::Decimal(151, 2));
  EXPECT_FALSE(Value::Int(1) == Value::Decimal(1, 0)) << "kinds differ";
  EXPECT_EQ(Value::Null(), Value::Null());
}

TEST(ValueTest, UnknownEqualsNothingNotEvenItself) {
  EXPECT_FALSE(Value::Unknown() == Value::Unknown());
  EXPECT_FALSE(Value::Unknown() == Value::Null());
}

TEST(ValueTest, FloatsEqualBitwiseExceptNaN) {
  EXPECT_EQ(Value::Float(std::nan("")), Value::Float(std::nan("")));
  EXPECT_FALSE(Value::Float(0.0) == Value::Float(-0.0));
}

TEST(ValueTest, EncodingRoundTripsEveryKind) {
  std::vector<Value> values = {Value::Null(),
                               Value::Unknown(),
                               Value::Bool(true),
                               Value::Int(-42),
                               Value::Float(1.5),
                               Value::Decimal(-123456789, 4),
                               Value::String(std::string("a\0b", 3)),
                               Value::Date(-1),
                               Value::DateTime(1234567),
                               Value::Guid(endpoint::NewUuidV7())};
  std::string bytes = endpoint::EncodeValues(values);
  std::vector<Value> back;
  ASSERT_TRUE(endpoint::DecodeValues(bytes, &back));
  ASSERT_EQ(back.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(back[i].tag(), values[i].tag()) << i;
    if (!values[i].is_unknown()) {
      EXPECT_EQ(back[i], values[i]) << i;
    }
  }
  EXPECT_EQ(back[5].scale(), 4);
  // Damaged bytes are refused, not misread.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(endpoint::DecodeValues(bytes.substr(0, cut), &back)) << cut;
  }
  EXPECT_FALSE(endpoint::DecodeValues(bytes + "x", &back));
}

TEST(ValueTest, TextIsReadAsTheColumnType) {
  struct Case {
    const char* text;
    const char* type;
    bool ok;
    std::string shown;  // ToText of the value when ok
  };
  const Case cases[] = {
      {"42", "int", true, "42"},
      {"4.2", "int", false, ""},
      {"1.005", "decimal(10, 2)", true, "1.01"},
      {"123456789", "decimal(5, 2)", false, ""},
      {"abc", "string(3)", true, "abc"},
      {"abcd", "string(3)", false, ""},
      {"äöü", "string(3)", true, "äöü"},
      {"2024-02-29", "date", true, "2024-02-29"},
      {"2023-02-29", "date", false, ""},
      {"00112233-4455-6677-8899-AABBCCDDEEFF", "guid", true,
       "00112233-4455-6677-8899-aabbccddeeff"},
      {"true", "bool", true, "true"},
      {"yes", "bool", false, ""},
      // Issue 13, items 1 and 7: text that is not UTF-8, and NaN, which no
      // column holds (SQLite would store null).
      {"a\xff", "string(100)", false, ""},
      {"\xff", "ref ce.account", false, ""},
      {"NaN", "float", false, ""},
      {"nan", "float", false, ""},
      {"1.5", "float", true, "1.5"},
  };
  for (const Case& c : cases) {
    Expected<Value> v = endpoint::ValueFromText(c.text, Type(c.type));
    EXPECT_EQ(v.ok(), c.ok) << c.text << " as " << c.type;
    if (v.ok() && c.ok) {
      EXPECT_EQ(v->ToText(), c.shown) << c.text;
    }
  }
}

// Issue 13, item 1: the reason for a value that is not UTF-8 shows its bytes
// escaped, and so does the value's text; neither holds an invalid byte.
TEST(ValueTest, InvalidTextIsRefusedAndShownEscaped) {
  std::string bytes = "ab\xff" + std::string(300, '\x80');
  Expected<Value> v = endpoint::ValueFromText(bytes, Type("string(100)"));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("not valid UTF-8 text: 'ab\\xff\\x80"), std::string::npos)
      << v.status().message();
  EXPECT_TRUE(value::IsValidUtf8(v.status().message()));
  Expected<Value> i = endpoint::ValueFromText("1\xff", Type("int"));
  ASSERT_FALSE(i.ok());
  EXPECT_NE(i.status().message().find("got '1\\xff'"), std::string::npos) << i.status().message();
  EXPECT_EQ(Value::String("x\xfe").ToText(), "x\\xfe");
}

TEST(ValueTest, UuidV7IsVersion7AndTimeOrdered) {
  ManualClock clock(1700000000.5);  // 2023-11-14T22:13:20.500Z, exact in binary
  std::array<uint8_t, 16> a = endpoint::NewUuidV7(clock);
  clock.Advance(0.25);
  std::array<uint8_t, 16> b = endpoint::NewUuidV7(clock);
  EXPECT_EQ(a[6] >> 4, 7);
  EXPECT_EQ(a[8] >> 6, 2);
  auto millis = [](const std::array<uint8_t, 16>& g) {
    uint64_t ms = 0;
    for (int i = 0; i < 6; ++i) ms = ms << 8 | g[i];
    return ms;
  };
  EXPECT_EQ(millis(a), 1700000000500u);
  EXPECT_EQ(millis(b), 1700000000750u);
}

// Quantiles of known latencies: the upper bound of the bucket (0.25 ms
// doubling) that holds the p-th one.
TEST(LatencyHistogramTest, QuantilesAreTheBucketBoundsOfKnownLatencies) {
  state::LatencyHistogram h;
  EXPECT_EQ(h.Quantile(0.5), 0);
  for (int i = 0; i < 50; ++i) h.Add(0.0002);  // bucket 0: up to 0.25 ms
  for (int i = 0; i < 45; ++i) h.Add(0.003);   // bucket 4: up to 4 ms
  state::LatencyHistogram slow;
  for (int i = 0; i < 4; ++i) slow.Add(0.1);  // bucket 9: up to 128 ms
  slow.Add(5);                                // bucket 15: up to 8.192 s
  h.Merge(slow);
  EXPECT_EQ(h.n, 100);
  EXPECT_DOUBLE_EQ(h.Quantile(0.50), 0.00025);
  EXPECT_DOUBLE_EQ(h.Quantile(0.51), 0.004);
  EXPECT_DOUBLE_EQ(h.Quantile(0.95), 0.004);
  EXPECT_DOUBLE_EQ(h.Quantile(0.99), 0.128);
  EXPECT_DOUBLE_EQ(h.Quantile(1.0), 8.192);
}

class ConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("duet_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Expected<engine::Config> Load(const std::string& text) {
    std::string path = (dir_ / "duet.json").string();
    std::ofstream(path) << text;
    return engine::LoadConfig(path);
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, ReadsTheDocumentedKeysAndResolvesPathsFromTheFile) {
  Expected<engine::Config> c = Load(
      R"({"bundle": "maps.duetb", "systems": {"fo": "sqlite:erp.db", "ce": "sqlite:/abs/crm.db"},
          "state": "sqlite:state.db", "batch_size": 7, "lookup_timeout_seconds": 0})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->bundle, (dir_ / "maps.duetb").string());
  EXPECT_EQ(c->systems.at("fo"), "sqlite:" + (dir_ / "erp.db").string());
  EXPECT_EQ(c->systems.at("ce"), "sqlite:/abs/crm.db");
  EXPECT_EQ(c->batch_size, 7);
  EXPECT_EQ(c->lookup_timeout_seconds, 0);
  EXPECT_EQ(c->poll_interval_ms, 2);
}

TEST_F(ConfigTest, EnvironmentVariablesAreExpanded) {
  setenv("DUET_CONFIG_TEST_DB", "crm", 1);
  Expected<engine::Config> c =
      Load(R"({"bundle": "b", "systems": {"ce": "sqlite:/x/${DUET_CONFIG_TEST_DB}.db"},
               "state": "sqlite:/s.db"})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->systems.at("ce"), "sqlite:/x/crm.db");
}

TEST_F(ConfigTest, TheStateStoreMayBePostgreSql) {
  for (const char* url :
       {"postgresql://duet@db:5432/erp?options=-csearch_path%3Dduet_state", "postgres://db/erp"}) {
    Expected<engine::Config> c =
        Load(R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": ")" + std::string(url) +
             R"("})");
    ASSERT_TRUE(c.ok()) << c.status().message();
    EXPECT_EQ(c->state, url) << "taken as it is, not as a path";
  }
}

TEST_F(ConfigTest, MistakesNameTheKey) {
  struct Case {
    const char* json;
    const char* message;
  };
  const Case cases[] = {
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s", "colour": 1})",
       "unknown key 'colour'"},
      {R"({"systems": {"fo": "sqlite:a"}, "state": "sqlite:s"})", "missing key 'bundle'"},
      {R"({"bundle": "b", "systems": {"fo": "postgres:x"}, "state": "sqlite:s"})",
       "'systems.fo': unsupported connection string"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "mysql://u:S3cr3t@h/s"})",
       "'state': unsupported state store 'mysql://u:***@h/s' (expected sqlite:PATH or "
       "postgresql://...)"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s", "batch_size": 0})",
       "'batch_size' must be between 1 and 100000"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "batch_size": "10"})",
       "'batch_size' must be an integer"},
      {R"({"bundle": "${DUET_CONFIG_TEST_UNSET}", "systems": {"fo": "sqlite:a"},
           "state": "sqlite:s"})",
       "environment variable 'DUET_CONFIG_TEST_UNSET' is not set"},
      // Issue 13, item 6: a number nlohmann cannot hold, an unsigned value
      // past int64, thresholds that are no numbers and a key given twice.
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "batch_size": 1e400})",
       "'batch_size': value out of range"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "alerts": [{"when": "errors > 1 within 1m", "then": "log"}, -1e400]})",
       "'alerts[1]': value out of range"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "batch_size": 18446744073709551615})",
       "'batch_size' must be between 1 and 100000, got 18446744073709551615"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "lock_timeout_ms": 9223372036854775808})",
       "'lock_timeout_ms' must be between 0 and 3600000, got 9223372036854775808"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "alerts": [{"when": "errors > nan within 1m", "then": "log"}]})",
       "'alerts[0].when': expected a number after '>', got 'nan'"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "alerts": [{"when": "backlog >= inf for 5m", "then": "log"}]})",
       "'alerts[0].when': expected a number after '>=', got 'inf'"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "alerts": [{"when": "errors > 1e999 within 1m", "then": "log"}]})",
       "'alerts[0].when': expected a number after '>', got '1e999'"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "alerts": [{"when": "p95_latency > 2s for infm", "then": "log"}]})",
       "'alerts[0].when': expected a duration"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "batch_size": 5, "batch_size": 6})",
       "'batch_size' is given twice"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a", "fo": "sqlite:b"}, "state": "sqlite:s"})",
       "'systems.fo' is given twice"},
      {R"({"bundle": "b", "systems": {"fo": "sqlite:a"}, "state": "sqlite:s",
           "alerts": [{"when": "errors > 1 within 1m", "then": "log", "then": "run"}]})",
       "'alerts[0].then' is given twice"},
      {R"([1, 2])", "expected a JSON object"},
      {R"({"bundle": )", "not valid JSON"},
  };
  unsetenv("DUET_CONFIG_TEST_UNSET");
  for (const Case& c : cases) {
    Expected<engine::Config> config = Load(c.json);
    ASSERT_FALSE(config.ok()) << c.json;
    EXPECT_NE(config.status().message().find(c.message), std::string::npos)
        << config.status().message();
  }
}

}  // namespace
}  // namespace duet
