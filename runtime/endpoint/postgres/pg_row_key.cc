#include "runtime/endpoint/postgres/pg_row_key.h"

#include <nlohmann/json.hpp>

namespace duet::pg {

std::string EncodeRowId(const std::vector<std::string>& texts) {
  if (texts.size() == 1) return texts[0];
  nlohmann::json array = nlohmann::json::array();
  for (const std::string& text : texts) array.push_back(text);
  // Invalid UTF-8 cannot come from a UTF-8 server; replace rather than throw.
  return array.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Expected<std::vector<std::string>> DecodeRowId(size_t columns, std::string_view id) {
  if (columns == 1) return std::vector<std::string>{std::string(id)};
  nlohmann::json array = nlohmann::json::parse(id, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array() || array.size() != columns) {
    return InvalidArgumentError("'" + std::string(id.substr(0, 200)) + "' is not a row id of a " +
                                std::to_string(columns) + "-column key");
  }
  std::vector<std::string> texts;
  texts.reserve(columns);
  for (const nlohmann::json& value : array) {
    if (!value.is_string()) {
      return InvalidArgumentError("'" + std::string(id.substr(0, 200)) +
                                  "' is not a row id: its values must be strings");
    }
    texts.push_back(value.get<std::string>());
  }
  return texts;
}

}  // namespace duet::pg
