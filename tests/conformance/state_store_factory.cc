// What every state store factory shares: the content of the previous-version
// fixtures (state_store_factory.h).
#include <array>
#include <cstdint>

#include "tests/conformance/state_store_factory.h"

namespace duet::conformance {

using endpoint::Value;

PreviousContent ThePreviousContent() {
  PreviousContent c;
  std::array<uint8_t, 16> guid{};
  for (size_t i = 0; i < guid.size(); ++i) guid[i] = static_cast<uint8_t>(i * 17);
  // A synced pair (C equal to P), one where a side changed since, and ids
  // of every kind a database hands out: rowids, text, a GUID, a zero-led
  // code that is not a number.
  c.links.push_back(
      {"customers",
       "1",
       "101",
       {Value::String("Contoso"), Value::Int(-5), Value::Decimal(150050, 4), Value::Null()},
       {Value::String("Contoso"), Value::Int(-5), Value::Decimal(150050, 4), Value::Null()},
       {Value::String("CONTOSO Ltd, 1 Main Street, Springfield"), Value::Bool(true),
        Value::Float(-2.5), Value::Date(20000)},
       {Value::String("CONTOSO Ltd, 1 Main Street, Springfield"), Value::Bool(true),
        Value::Float(-2.5), Value::Date(20000)},
       3,
       4});
  c.links.push_back({"customers",
                     "0042",
                     "{6f9619ff-8b86-d011-b42d-00c04fc964ff}",
                     {Value::String("Fabrikam"), Value::Unknown(), Value::Guid(guid)},
                     {Value::String("Fabrikam Inc"), Value::Int(7), Value::Guid(guid)},
                     {Value::DateTime(1764150000123456)},
                     {Value::DateTime(1764150000123457)},
                     0,
                     0});
  c.links.push_back({"orders", "1", "1", {}, {}, {}, {}, 9, 9});
  return c;
}

}  // namespace duet::conformance
