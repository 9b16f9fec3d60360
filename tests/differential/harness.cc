#include "tests/differential/harness.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "compiler/diag/render.h"
#include "compiler/ir/lower.h"
#include "duet/abi.h"
#include "runtime/value/ops.h"

namespace duet::differential {
namespace {

using ir::Kind;
using ir::Value;

constexpr uint64_t kDefaultSeed = 20240601;

std::atomic<int64_t> cases_compared{0};

// splitmix64: spreads a seed and a stream number into independent seeds.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

const char* OutcomeName(interp::Outcome o) {
  switch (o) {
    case interp::Outcome::kOk:
      return "ok";
    case interp::Outcome::kFiltered:
      return "filtered";
    case interp::Outcome::kError:
      return "error";
  }
  return "?";
}

// Code points the random strings are made of: ASCII, Latin-1 and Latin
// Extended-A letters (the case-mapped ranges, with their exceptions), CJK, an
// emoji (4 bytes) and the spaces trim removes.
const std::vector<std::string>& Alphabet() {
  static const std::vector<std::string> kAlphabet = {
      "a",  "b",  "z", "A", "Q", "Z", "0",  "7",  "9", " ",  "-",  ".", "_",
      "\"", "\\", "é", "É", "ß", "ÿ", "Ÿ",  "İ",  "ı", "ĳ",  "Ĳ",  "ŉ", "ſ",
      "ł",  "Ł",  "ž", "Ž", "×", "÷", "中", "文", "😀", "\t", "\n", "é"};
  return kAlphabet;
}

// Strings worth trying as they are: conversions (to_int, to_float, date),
// trims, case mapping and boundaries of parsing.
const std::vector<std::string>& InterestingStrings() {
  static const std::vector<std::string> kStrings = {"",
                                                    " ",
                                                    "  ",
                                                    "abc",
                                                    "ABC",
                                                    " padded ",
                                                    "\tTab\n",
                                                    "é",
                                                    "ß",
                                                    "straße",
                                                    "ÉCOLE",
                                                    "中文",
                                                    "😀",
                                                    "😀😀😀😀😀😀",
                                                    "Ünïcödé",
                                                    "İı",
                                                    "ÿŸ",
                                                    "42",
                                                    " -7 ",
                                                    "+3",
                                                    "-0",
                                                    "9223372036854775807",
                                                    "9223372036854775808",
                                                    "-9223372036854775808",
                                                    "-9223372036854775809",
                                                    "1.5",
                                                    "-2.5",
                                                    "1e300",
                                                    "1e400",
                                                    "-1e-400",
                                                    "nan",
                                                    "inf",
                                                    "-inf",
                                                    "infinity",
                                                    "0x10",
                                                    " 12 ",
                                                    "12a",
                                                    "2024-02-29",
                                                    "2023-02-29",
                                                    " 2000-01-01 ",
                                                    "1970-01-01",
                                                    "0000-01-01",
                                                    "9999-12-31",
                                                    "2024-13-01",
                                                    "2024-1-01",
                                                    "abcde",
                                                    "abcdef",
                                                    "abcdéf",
                                                    "中文中文中",
                                                    "中文中文中文",
                                                    "0123456789",
                                                    "01234567890"};
  return kStrings;
}

}  // namespace

uint64_t Seed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("DUET_DIFF_SEED");
    if (env == nullptr || *env == '\0') return kDefaultSeed;
    return static_cast<uint64_t>(std::strtoull(env, nullptr, 0));
  }();
  return seed;
}

uint64_t StreamSeed(uint64_t stream) { return Mix(Seed() ^ Mix(stream)); }

bool Verbose() {
  static const bool verbose = std::getenv("DUET_DIFF_VERBOSE") != nullptr;
  return verbose;
}

void CountCases(int64_t n) { cases_compared += n; }
int64_t CasesCompared() { return cases_compared.load(); }

// ---- compiling ----

void FinishCompile(Compiled& c, const codegen::Options& jit_options) {
  if (!c.front->ok()) {
    diag::RenderOptions options;
    options.max_diagnostics = 30;
    c.problem = "the front end rejected the module:\n" +
                diag::RenderText(c.front->diagnostics, c.front->sources, options);
    return;
  }
  c.module = std::make_unique<ir::Module>(ir::Lower(*c.front->checked));
  c.interp = exec::MakeInterpreter(*c.module);
  Expected<std::unique_ptr<exec::Executor>> jit = exec::MakeJit(*c.module, jit_options);
  if (!jit.ok()) {
    c.problem = "the JIT cannot compile the module: " + jit.status().ToString();
    return;
  }
  c.jit = std::move(*jit);
}

Compiled CompileSource(const std::string& name, const std::string& text,
                       const codegen::Options& jit) {
  Compiled c;
  c.front = frontend::CheckSource(name, text, frontend::Options{});
  FinishCompile(c, jit);
  return c;
}

Compiled CompilePaths(const std::vector<std::string>& paths, const codegen::Options& jit) {
  Compiled c;
  c.front = frontend::CheckPaths(paths, frontend::Options{});
  FinishCompile(c, jit);
  return c;
}

// ---- formatting and comparing ----

namespace {

// Whether `s` is valid UTF-8 without control characters other than the
// ones Value::ToString escapes: otherwise its bytes are shown too.
bool Printable(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      if ((b < 0x20 && b != '\n' && b != '\t' && b != '\r') || b == 0x7F) return false;
      ++i;
      continue;
    }
    size_t n = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

}  // namespace

// A value with what Value::ToString leaves out: a decimal's scale, the sign
// of a zero, the bytes of a string that is not printable UTF-8.
std::string DescribeValue(const Value& v) {
  std::string text = v.ToString();
  if (v.is_null) return text;
  if (v.kind == Kind::kDecimal) return fmt::format("{} (scale {})", text, v.scale);
  if (v.kind == Kind::kFloat && v.f == 0 && std::signbit(v.f)) return "-0 (negative zero)";
  if (v.kind == Kind::kString && !Printable(v.s)) {
    std::string hex;
    for (char c : v.s)
      hex += fmt::format("{}{:02x}", hex.empty() ? "" : " ", static_cast<unsigned char>(c));
    return fmt::format("{} (bytes {})", text, hex);
  }
  return text;
}

std::string FormatRow(const ir::Transform& t, std::span<const Value> row) {
  std::string out;
  for (size_t i = 0; i < row.size() && i < t.inputs.size(); ++i) {
    out += fmt::format("    ${} {} ({}) = {}\n", i, t.inputs[i].Name(), t.inputs[i].type.ToString(),
                       DescribeValue(row[i]));
  }
  if (row.empty()) out = "    (no inputs)\n";
  return out;
}

std::string FormatResult(const ir::Transform& t, const interp::RowResult& r,
                         const std::vector<Value>& outputs) {
  switch (r.outcome) {
    case interp::Outcome::kFiltered:
      return "filtered";
    case interp::Outcome::kError:
      return fmt::format("error {} ({}) slot {}: \"{}\"", ErrorKindName(r.error_kind), r.error_kind,
                         r.error_slot, r.message);
    case interp::Outcome::kOk:
      break;
  }
  std::string out = "ok";
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string name = i < t.outputs.size() ? t.outputs[i].Name() : "?";
    out += fmt::format("\n      @{} {} = {}", i, name, DescribeValue(outputs[i]));
  }
  return out;
}

bool SameValue(const Value& a, const Value& b) {
  if (!a.Equals(b)) return false;
  if (a.is_null) return true;
  if (a.kind == Kind::kFloat && !std::isnan(a.f) && std::signbit(a.f) != std::signbit(b.f))
    return false;
  if (a.kind == Kind::kDecimal && a.scale != b.scale) return false;
  return true;
}

std::optional<std::string> RunBoth(Compiled& c, size_t index, std::span<const Value> inputs,
                                   EngineResults* results) {
  EngineResults local;
  EngineResults& r = results != nullptr ? *results : local;
  const ir::Transform& t = c.module->transforms[index];
  r.interp = c.interp->Run(index, inputs, r.interp_outputs);
  r.jit = c.jit->Run(index, inputs, r.jit_outputs);
  CountCases(1);
  std::vector<std::string> differences;
  if (r.interp.outcome != r.jit.outcome) {
    differences.push_back(fmt::format("outcome: interpreter {}, jit {}",
                                      OutcomeName(r.interp.outcome), OutcomeName(r.jit.outcome)));
  } else if (r.interp.outcome == interp::Outcome::kError) {
    if (r.interp.error_kind != r.jit.error_kind) differences.push_back("error_kind");
    if (r.interp.error_slot != r.jit.error_slot) differences.push_back("error_slot");
    if (r.interp.message != r.jit.message) differences.push_back("message");
  } else if (r.interp.outcome == interp::Outcome::kOk) {
    if (r.interp_outputs.size() != t.outputs.size() || r.jit_outputs.size() != t.outputs.size()) {
      differences.push_back(fmt::format("output count: interpreter {}, jit {}, transform {}",
                                        r.interp_outputs.size(), r.jit_outputs.size(),
                                        t.outputs.size()));
    } else {
      for (size_t i = 0; i < t.outputs.size(); ++i) {
        if (!SameValue(r.interp_outputs[i], r.jit_outputs[i])) {
          differences.push_back(fmt::format("output @{} {}", i, t.outputs[i].Name()));
        }
      }
    }
  }
  if (differences.empty()) return std::nullopt;
  std::string out = "differs in:";
  for (const std::string& d : differences) out += " [" + d + "]";
  out += fmt::format("\n  interpreter: {}\n  jit:         {}\n",
                     FormatResult(t, r.interp, r.interp_outputs),
                     FormatResult(t, r.jit, r.jit_outputs));
  return out;
}

void OutcomeStats::Add(const interp::RowResult& r, size_t outputs) {
  fields_total += static_cast<int64_t>(outputs);
  switch (r.outcome) {
    case interp::Outcome::kOk:
      ++ok;
      fields_reached += static_cast<int64_t>(outputs);
      break;
    case interp::Outcome::kFiltered:
      ++filtered;
      break;
    case interp::Outcome::kError:
      ++error;
      ++errors_by_kind[r.error_kind];
      if (r.error_slot > 0) fields_reached += r.error_slot;
      break;
  }
}

std::string OutcomeStats::ToString() const {
  std::string out = fmt::format("ok {}, filtered {}, error {}", ok, filtered, error);
  if (fields_total > 0) {
    out += fmt::format("; fields reached {:.0f}%", 100.0 * static_cast<double>(fields_reached) /
                                                       static_cast<double>(fields_total));
  }
  if (!errors_by_kind.empty()) {
    out += " (";
    bool first = true;
    for (const auto& [kind, n] : errors_by_kind) {
      out += fmt::format("{}{} {}", first ? "" : ", ", ErrorKindName(kind), n);
      first = false;
    }
    out += ")";
  }
  return out;
}

// ---- random rows ----

RowGenerator::RowGenerator(const ir::Transform& t, uint64_t seed) : t_(t), rng_(seed) {
  auto add = [&](const Value& v) {
    if (!v.is_null) constants_[v.kind].push_back(v);
  };
  for (const ir::Node& n : t.nodes) {
    if (n.op == ir::Op::kConst) add(n.constant);
  }
  for (const ir::ValueMapTable& table : t.value_maps) {
    for (const auto& [from, to] : table.entries) add(from);
  }
  for (const ir::OutputSlot& o : t.outputs) {
    if (o.type.kind == Kind::kString && o.type.length > 0) lengths_.push_back(o.type.length);
  }
  for (const ir::InputSlot& in : t.inputs) {
    if (in.type.kind == Kind::kString && in.type.length > 0) lengths_.push_back(in.type.length);
  }
  null_rates_.assign(t.inputs.size(), 0.15);
  // Constants an input slot is matched against: comparisons, `in` and value
  // maps whose operand is the slot itself (through casts and the string
  // functions that keep a matching value matching, like trim or upper).
  slot_constants_.resize(t.inputs.size());
  auto slot_of = [&](int index) -> int {
    while (true) {
      const ir::Node& n = t.nodes[static_cast<size_t>(index)];
      if (n.op == ir::Op::kInput) return n.slot;
      bool transparent =
          n.op == ir::Op::kCast || n.op == ir::Op::kCoalesce ||
          (n.op == ir::Op::kCall &&
           (n.fn == ir::Fn::kTrim || n.fn == ir::Fn::kUpper || n.fn == ir::Fn::kLower ||
            n.fn == ir::Fn::kLtrim || n.fn == ir::Fn::kRtrim || n.fn == ir::Fn::kToString));
      if (!transparent || n.args.empty()) return -1;
      index = n.args[0];
    }
  };
  for (const ir::Node& n : t.nodes) {
    bool matching = n.op == ir::Op::kEq || n.op == ir::Op::kNe || n.op == ir::Op::kLt ||
                    n.op == ir::Op::kLe || n.op == ir::Op::kGt || n.op == ir::Op::kGe ||
                    n.op == ir::Op::kIn || n.op == ir::Op::kValueMap;
    if (!matching) continue;
    std::vector<int> slots;
    std::vector<Value> values;
    for (int arg : n.args) {
      const ir::Node& a = t.nodes[static_cast<size_t>(arg)];
      if (a.op == ir::Op::kConst) {
        if (!a.constant.is_null) values.push_back(a.constant);
      } else if (int slot = slot_of(arg); slot >= 0) {
        slots.push_back(slot);
      }
    }
    if (n.op == ir::Op::kValueMap) {
      for (const auto& [from, to] : t.value_maps[static_cast<size_t>(n.value_map)].entries) {
        if (!from.is_null) values.push_back(from);
      }
    }
    for (int slot : slots) {
      for (const Value& v : values) slot_constants_[static_cast<size_t>(slot)].push_back(v);
    }
  }
}

std::vector<Value> RowGenerator::Next() {
  std::vector<Value> row;
  row.reserve(t_.inputs.size());
  for (size_t i = 0; i < t_.inputs.size(); ++i) {
    const ir::Type& type = t_.inputs[i].type;
    if (Chance(null_rates_[i])) {
      row.push_back(Value::Null(type.kind));
      continue;
    }
    if (!slot_constants_[i].empty() && Chance(0.4)) {
      if (std::optional<Value> v = Fit(slot_constants_[i][Pick(slot_constants_[i].size())], type)) {
        row.push_back(*v);
        continue;
      }
    }
    row.push_back(Generate(type));
  }
  return row;
}

Value RowGenerator::Generate(const ir::Type& type) {
  if (Chance(type.kind == Kind::kString ? 0.5 : 0.3)) {
    if (std::optional<Value> v = FromConstants(type)) return *v;
  }
  switch (type.kind) {
    case Kind::kBool:
      return Value::Bool(Chance(0.5));
    case Kind::kInt:
      return RandomInt();
    case Kind::kFloat:
      return RandomFloat();
    case Kind::kDecimal:
      return RandomDecimal(type);
    case Kind::kString: {
      // A bounded source column mostly holds what fits it (that is all a
      // database gives); sometimes more, which the engines must still agree on.
      Value v = RandomString();
      if (type.length > 0 && Chance(0.85)) {
        int64_t limit = Chance(0.5) ? type.length
                                    : std::min<int64_t>(type.length, static_cast<int64_t>(Pick(9)));
        v.s = std::string(value::TruncateCodePoints(v.s, limit));
      }
      return v;
    }
    case Kind::kDate:
      return RandomDate();
    case Kind::kDateTime:
      return RandomDateTime();
    case Kind::kGuid:
      return RandomGuid();
  }
  return Value::Null(type.kind);
}

std::optional<Value> RowGenerator::FromConstants(const ir::Type& type) {
  auto it = constants_.find(type.kind);
  if (it == constants_.end() || it->second.empty()) return std::nullopt;
  return Fit(it->second[Pick(it->second.size())], type);
}

std::optional<Value> RowGenerator::Fit(const Value& v, const ir::Type& type) {
  if (v.kind == Kind::kInt && type.kind == Kind::kDecimal) return Fit(Value::Decimal(v.i, 0), type);
  if (v.kind == Kind::kDate && type.kind == Kind::kDateTime)
    return Value::DateTime(v.i * value::kMicrosPerDay);
  if (v.kind != type.kind) return std::nullopt;
  if (type.kind == Kind::kDecimal) {
    // Inputs are at the slot's scale; a constant that does not fit is skipped.
    value::int128 r = 0;
    if (!value::Rescale(v.d, v.scale, type.scale, &r) || !value::FitsPrecision(r, type.precision))
      return std::nullopt;
    return Value::Decimal(r, type.scale);
  }
  return v;
}

Value RowGenerator::RandomInt() {
  static const int64_t kEdges[] = {std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::min() + 1,
                                   std::numeric_limits<int64_t>::max(),
                                   std::numeric_limits<int64_t>::max() - 1,
                                   0,
                                   1,
                                   -1,
                                   2,
                                   -2,
                                   10,
                                   100,
                                   4294967296,
                                   3037000500,
                                   -3037000500,
                                   4611686018427387904,
                                   86400000000};
  switch (Pick(6)) {
    case 0:
      return Value::Int(kEdges[Pick(std::size(kEdges))]);
    case 1:
    case 2:
      return Value::Int(std::uniform_int_distribution<int64_t>(-20, 20)(rng_));
    case 3:
    case 4:
      return Value::Int(std::uniform_int_distribution<int64_t>(-1000000, 1000000)(rng_));
    default:
      return Value::Int(static_cast<int64_t>(rng_()));
  }
}

Value RowGenerator::RandomFloat() {
  static const double kEdges[] = {std::numeric_limits<double>::quiet_NaN(),
                                  -std::numeric_limits<double>::quiet_NaN(),
                                  std::numeric_limits<double>::infinity(),
                                  -std::numeric_limits<double>::infinity(),
                                  0.0,
                                  -0.0,
                                  1.0,
                                  -1.0,
                                  0.5,
                                  1.5,
                                  2.5,
                                  -2.5,
                                  0.1,
                                  1e300,
                                  -1e300,
                                  1e38,
                                  -1e38,
                                  9.99999999999999e37,
                                  1e18,
                                  9.2233720368547758e18,
                                  -9.2233720368547758e18,
                                  9.2233720368547748e18,
                                  std::numeric_limits<double>::denorm_min(),
                                  -std::numeric_limits<double>::denorm_min(),
                                  std::numeric_limits<double>::min(),
                                  std::numeric_limits<double>::max(),
                                  -std::numeric_limits<double>::max(),
                                  123.456,
                                  0.125};
  switch (Pick(4)) {
    case 0:
      return Value::Float(kEdges[Pick(std::size(kEdges))]);
    case 1:
      return Value::Float(static_cast<double>(std::uniform_int_distribution<int>(-20, 20)(rng_)) /
                          2);
    case 2:
      return Value::Float(std::uniform_real_distribution<double>(-1e6, 1e6)(rng_));
    default: {
      // Any finite double, by its bits.
      double d;
      do {
        uint64_t bits = rng_();
        std::memcpy(&d, &bits, sizeof d);
      } while (!std::isfinite(d));
      return Value::Float(d);
    }
  }
}

Value RowGenerator::RandomDecimal(const ir::Type& type) {
  int p = std::max(1, type.precision);
  value::int128 max = value::Pow10(p) - 1;
  switch (Pick(8)) {
    case 0:
      return Value::Decimal(max, type.scale);
    case 1:
      return Value::Decimal(-max, type.scale);
    case 2: {
      static const int kSmall[] = {0, 1, -1, 5, -5, 15, -15, 25, 50, -50};
      value::int128 v = kSmall[Pick(std::size(kSmall))];
      // 1, 0.5, 1.5 ... at the slot's scale where possible.
      if (type.scale > 0 && Chance(0.5)) v *= value::Pow10(type.scale - 1);
      if (!value::FitsPrecision(v, p)) v = 0;
      return Value::Decimal(v, type.scale);
    }
    default: {
      // Any digit count up to the precision; half the time at most 10, as
      // most data is small and wide values mostly overflow arithmetic.
      size_t most =
          Chance(0.5) ? static_cast<size_t>(p) : std::min<size_t>(static_cast<size_t>(p), 10);
      int digits = static_cast<int>(Pick(most + 1));
      value::int128 v = 0;
      for (int i = 0; i < digits; ++i) {
        int d = static_cast<int>(Pick(10));
        if (i == 0 && d == 0) d = 1;
        v = v * 10 + d;
      }
      return Value::Decimal(Chance(0.5) ? -v : v, type.scale);
    }
  }
}

Value RowGenerator::RandomString() {
  const std::vector<std::string>& alphabet = Alphabet();
  switch (Pick(5)) {
    case 0: {
      const std::vector<std::string>& pool = InterestingStrings();
      return Value::String(pool[Pick(pool.size())]);
    }
    case 1:
    case 2: {
      // Around a target column's length: one short, exact, one or two over.
      int64_t length = static_cast<int64_t>(Pick(12));
      if (!lengths_.empty() && Chance(0.8)) {
        length = lengths_[Pick(lengths_.size())] + static_cast<int64_t>(Pick(4)) - 1;
      }
      std::string s;
      for (int64_t i = 0; i < length; ++i) s += alphabet[Pick(alphabet.size())];
      if (Chance(0.2)) s = "  " + s + " ";
      return Value::String(s);
    }
    case 3: {
      std::string s;
      size_t n = Pick(40);
      for (size_t i = 0; i < n; ++i) s += alphabet[Pick(alphabet.size())];
      return Value::String(s);
    }
    default: {
      if (Chance(0.1)) {
        // Not valid UTF-8, or with a NUL byte: the data a database may hold.
        static const std::vector<std::string> kOdd = {
            std::string("a\0b", 3), "\xC3",     "\x80\x80",
            "ab\xE4\xB8",           "\xFF\xFE", std::string("\0", 1)};
        return Value::String(kOdd[Pick(kOdd.size())]);
      }
      std::string s;
      size_t n = Pick(6);
      for (size_t i = 0; i < n; ++i) s += alphabet[Pick(alphabet.size())];
      return Value::String(s);
    }
  }
}

Value RowGenerator::RandomDate() {
  static const int64_t kEdges[] = {0, -1, 1, 59, 11016, 19782, -719468, 2932896, 200000, -200000};
  if (Chance(0.2)) return Value::Date(kEdges[Pick(std::size(kEdges))]);
  return Value::Date(std::uniform_int_distribution<int64_t>(-200000, 200000)(rng_));
}

Value RowGenerator::RandomDateTime() {
  if (Chance(0.1)) {
    static const int64_t kEdges[] = {0,
                                     -1,
                                     1,
                                     value::kMicrosPerDay - 1,
                                     -value::kMicrosPerDay,
                                     951782400000000 /* 2000-02-29 */};
    return Value::DateTime(kEdges[Pick(std::size(kEdges))]);
  }
  int64_t days = std::uniform_int_distribution<int64_t>(-200000, 200000)(rng_);
  int64_t micros = std::uniform_int_distribution<int64_t>(0, value::kMicrosPerDay - 1)(rng_);
  return Value::DateTime(days * value::kMicrosPerDay + micros);
}

Value RowGenerator::RandomGuid() {
  Value v = Value::Null(Kind::kGuid);
  v.is_null = false;
  if (Chance(0.1)) return v;  // all zero
  for (uint8_t& b : v.guid) b = static_cast<uint8_t>(rng_());
  return v;
}

// ---- sweeps ----

SweepResult Sweep(Compiled& c, int rows_per_transform, uint64_t seed,
                  const std::function<std::string(size_t transform)>& context) {
  constexpr int kReportedPerTransform = 3;
  SweepResult result;
  for (size_t index = 0; index < c.module->transforms.size(); ++index) {
    const ir::Transform& t = c.module->transforms[index];
    uint64_t row_seed = Mix(seed ^ Mix(index + 1));
    RowGenerator rows(t, row_seed);
    if (c.front != nullptr && c.front->checked) {
      const check::CheckedModule& model = *c.front->checked;
      if (std::optional<int> table = model.FindTable(t.source_table)) {
        const check::Table& source = model.tables[static_cast<size_t>(*table)];
        for (size_t i = 0; i < t.inputs.size(); ++i) {
          if (t.inputs[i].path.size() != 1) continue;  // a lookup may find no row
          std::optional<int> column = source.FindColumn(t.inputs[i].path[0]);
          if (column && source.columns[static_cast<size_t>(*column)].not_null)
            rows.SetNullRate(i, 0.02);
        }
      }
    }
    int reported = 0;
    OutcomeStats transform_stats;
    std::map<std::string, int64_t> messages;
    for (int r = 0; r < rows_per_transform; ++r) {
      std::vector<Value> row = rows.Next();
      EngineResults results;
      std::optional<std::string> difference = RunBoth(c, index, row, &results);
      ++result.cases;
      result.stats.Add(results.interp, t.outputs.size());
      transform_stats.Add(results.interp, t.outputs.size());
      if (results.interp.outcome == interp::Outcome::kError) ++messages[results.interp.message];
      if (!difference) continue;
      ++result.mismatches;
      if (reported++ >= kReportedPerTransform) continue;
      result.report += fmt::format(
          "---- MISMATCH (DUET_DIFF_SEED={}) transform {} [{}], row {} of row seed {:#x}\n{}  "
          "input row:\n{}  {}\n",
          Seed(), t.SymbolName(), index, r, row_seed, context ? context(index) : std::string(),
          FormatRow(t, row), *difference);
    }
    if (Verbose()) {
      std::string top;
      for (const auto& [message, n] : messages) top += fmt::format("\n      {} x {}", n, message);
      fmt::print("[ diff     ]   {}: {}{}\n", t.SymbolName(), transform_stats.ToString(), top);
    }
    if (reported > kReportedPerTransform) {
      result.report += fmt::format("  ({} more mismatches of {} not shown)\n",
                                   reported - kReportedPerTransform, t.SymbolName());
    }
  }
  return result;
}

}  // namespace duet::differential
