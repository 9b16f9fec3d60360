#include "tests/golden/golden_files.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string_view>

namespace duet::golden {

bool UpdateMode() {
  const char* value = std::getenv("DUET_UPDATE_GOLDENS");
  return value != nullptr && std::string_view(value) == "1";
}

std::optional<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace duet::golden
