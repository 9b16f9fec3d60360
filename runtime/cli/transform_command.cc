#include "runtime/cli/transform_command.h"

#include <cstring>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/jit/error_kinds.h"
#include "runtime/jit/helpers.h"
#include "runtime/value/ops.h"

namespace duet::cli {
namespace {

using jit::ErrorKindName;
using nlohmann::json;
using value::int128;

// Whether decimal text (as value::ParseDecimal reads it) has a digit other
// than 0 beyond `scale` digits after the point, which reading it at that
// scale would round away.
bool HasDigitsBeyondScale(std::string_view text, int scale) {
  size_t point = text.find('.');
  if (point == std::string_view::npos) return false;
  std::string_view fraction = text.substr(point + 1);
  if (fraction.size() <= static_cast<size_t>(scale)) return false;
  return fraction.substr(static_cast<size_t>(scale)).find_first_not_of('0') !=
         std::string_view::npos;
}

// Converts one JSON value into a duet_value of the slot's type. Strings
// are kept alive in `strings` (a deque: pointers into it stay valid).
std::optional<std::string> ToValue(const json& j, const bundle::Slot& slot, duet_value* out,
                                   std::deque<std::string>& strings) {
  std::memset(out, 0, sizeof *out);
  if (j.is_null()) return std::nullopt;
  auto wrong = [&](std::string_view expected) {
    return std::optional<std::string>("column '" + slot.Name() + "' expects " +
                                      std::string(expected) + ", got " + j.dump());
  };
  switch (slot.type.kind) {
    case bundle::ValueKind::kBool:
      if (!j.is_boolean()) return wrong("true or false");
      out->tag = DUET_BOOL;
      out->u.i = j.get<bool>() ? 1 : 0;
      return std::nullopt;
    case bundle::ValueKind::kInt:
      if (!j.is_number_integer()) return wrong("an integer");
      if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        return wrong("a 64-bit integer");
      out->tag = DUET_INT;
      out->u.i = j.get<int64_t>();
      return std::nullopt;
    case bundle::ValueKind::kFloat:
      if (!j.is_number()) return wrong("a number");
      out->tag = DUET_FLOAT;
      out->u.f = j.get<double>();
      return std::nullopt;
    case bundle::ValueKind::kDecimal: {
      std::string text;
      if (j.is_string()) {
        text = j.get<std::string>();
      } else if (j.is_number_integer()) {
        text = j.dump();
      } else if (j.is_number_float()) {
        text = value::FormatFloat(j.get<double>());
        if (text.find_first_of("eE") != std::string::npos)
          return wrong("a decimal written out in digits");
      } else {
        return wrong("a decimal number or a string of digits");
      }
      std::optional<int128> v = value::ParseDecimal(text, slot.type.scale);
      if (!v || !value::FitsPrecision(*v, slot.type.precision)) return wrong(slot.type.ToString());
      // Source data is reported, not altered: digits the slot's scale has
      // no room for would be rounded away, so they refuse the row.
      if (HasDigitsBeyondScale(text, slot.type.scale)) {
        return wrong(slot.type.ToString() + " (at most " + std::to_string(slot.type.scale) +
                     " digits after the point)");
      }
      out->tag = DUET_DECIMAL;
      out->scale = static_cast<uint8_t>(slot.type.scale);
      out->u.d.lo = static_cast<uint64_t>(*v);
      out->u.d.hi = static_cast<int64_t>(*v >> 64);
      return std::nullopt;
    }
    case bundle::ValueKind::kString: {
      if (!j.is_string()) return wrong("a string");
      // A string longer than the slot is refused, never cut: generated code
      // relies on inputs of their declared length.
      if (slot.type.length > 0 && value::CodePointLength(j.get_ref<const std::string&>()) >
                                      static_cast<size_t>(slot.type.length)) {
        return wrong(slot.type.ToString() + " (at most " + std::to_string(slot.type.length) +
                     " characters)");
      }
      const std::string& s = strings.emplace_back(j.get<std::string>());
      out->tag = DUET_STRING;
      out->u.s = s.data();
      out->length = static_cast<uint32_t>(s.size());
      return std::nullopt;
    }
    case bundle::ValueKind::kDate: {
      std::optional<int64_t> days =
          j.is_string() ? value::ParseDate(j.get<std::string>()) : std::nullopt;
      if (!days) return wrong("a date \"YYYY-MM-DD\"");
      out->tag = DUET_DATE;
      out->u.i = *days;
      return std::nullopt;
    }
    case bundle::ValueKind::kDateTime: {
      std::optional<int64_t> micros =
          j.is_string() ? value::ParseDateTime(j.get<std::string>()) : std::nullopt;
      if (!micros) return wrong("a datetime \"YYYY-MM-DDTHH:MM:SSZ\"");
      out->tag = DUET_DATETIME;
      out->u.i = *micros;
      return std::nullopt;
    }
    case bundle::ValueKind::kGuid: {
      auto guid = j.is_string() ? value::ParseGuid(j.get<std::string>()) : std::nullopt;
      if (!guid) return wrong("a guid");
      out->tag = DUET_GUID;
      std::memcpy(out->u.guid, guid->data(), 16);
      return std::nullopt;
    }
    case bundle::ValueKind::kRef:
      return wrong("no value (a ref is never a transform input)");
  }
  return std::nullopt;
}

json FromValue(const duet_value& v) {
  switch (v.tag) {
    case DUET_BOOL:
      return v.u.i != 0;
    case DUET_INT:
      return v.u.i;
    case DUET_FLOAT:
      return v.u.f;
    case DUET_DECIMAL: {
      __extension__ typedef unsigned __int128 uint128;
      auto bits = (static_cast<uint128>(static_cast<uint64_t>(v.u.d.hi)) << 64) | v.u.d.lo;
      return value::FormatDecimal(static_cast<int128>(bits), v.scale);
    }
    case DUET_STRING:
      return std::string(v.u.s == nullptr ? "" : v.u.s, v.length);
    case DUET_DATE:
      return value::FormatDate(v.u.i);
    case DUET_DATETIME:
      return value::FormatDateTime(v.u.i);
    case DUET_GUID: {
      std::array<uint8_t, 16> g;
      std::memcpy(g.data(), v.u.guid, 16);
      return value::FormatGuid(g);
    }
    default:
      return nullptr;
  }
}

}  // namespace

TransformCounts RunTransform(const bundle::LoadedTransform& t, std::istream& in,
                             std::ostream& out) {
  TransformCounts counts;
  jit::Context context;
  std::vector<duet_value> inputs(t.transform->inputs.size());
  std::vector<duet_value> outputs(t.transform->outputs.size());
  std::string line;
  size_t row = 0;
  auto error_line = [&](const std::string& message, std::string_view kind) {
    ++counts.errors;
    out << json{{"row", row}, {"error", message}, {"kind", kind}}.dump(
               -1, ' ', false, json::error_handler_t::replace)
        << "\n";
  };
  while (std::getline(in, line)) {
    ++row;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    ++counts.rows;
    json object;
    try {
      object = json::parse(line);
    } catch (const json::parse_error& e) {
      error_line(std::string("not valid JSON: ") + e.what(), "bad_json");
      continue;
    }
    if (!object.is_object()) {
      error_line("a row must be a JSON object", "bad_json");
      continue;
    }
    std::deque<std::string> strings;
    std::optional<std::string> problem;
    for (size_t i = 0; i < inputs.size() && !problem; ++i) {
      const bundle::Slot& slot = t.transform->inputs[i];
      auto it = object.find(slot.Name());
      problem = ToValue(it == object.end() ? json(nullptr) : *it, slot, &inputs[i], strings);
    }
    if (problem) {
      error_line(*problem, "bad_input");
      continue;
    }
    context.Reset();
    int32_t status = t.function(inputs.data(), outputs.data(), context.get());
    if (status == DUET_FILTERED) {
      ++counts.filtered;
      out << json{{"row", row}, {"filtered", true}}.dump() << "\n";
      continue;
    }
    if (status != DUET_OK) {
      const duet_ctx* ctx = context.get();
      std::string message = ctx->error_message;
      if (ctx->error_slot >= 0 &&
          static_cast<size_t>(ctx->error_slot) < t.transform->outputs.size()) {
        message =
            t.transform->outputs[static_cast<size_t>(ctx->error_slot)].Name() + ": " + message;
      }
      error_line(message, ErrorKindName(ctx->error_kind));
      continue;
    }
    json result = json::object();
    for (size_t i = 0; i < outputs.size(); ++i)
      result[t.transform->outputs[i].Name()] = FromValue(outputs[i]);
    ++counts.written;
    out << result.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  }
  return counts;
}

}  // namespace duet::cli
