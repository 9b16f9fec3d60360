// JSON text that cannot fail. nlohmann's dump() throws on a string that is
// not valid UTF-8; text that reaches JSON from a database, the state store or
// the command line may hold any bytes, and no stored value may abort a
// command. Values meant to be shown are escaped at their source
// (endpoint::Value::ToText, value::EscapeInvalidUtf8); this is the backstop
// for anything else: an invalid byte becomes U+FFFD.
#ifndef DUET_RUNTIME_BASE_JSON_DUMP_H_
#define DUET_RUNTIME_BASE_JSON_DUMP_H_

#include <string>

namespace duet {

// `Json` is nlohmann::json (a template, so that this header needs no
// dependency of its own).
template <typename Json>
std::string DumpJson(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace duet

#endif  // DUET_RUNTIME_BASE_JSON_DUMP_H_
