// What the golden tests share about their files: reading an expected file,
// and whether this run rewrites expected files instead of comparing
// (DUET_UPDATE_GOLDENS=1; see README.md).
#ifndef DUET_TESTS_GOLDEN_GOLDEN_FILES_H_
#define DUET_TESTS_GOLDEN_GOLDEN_FILES_H_

#include <filesystem>
#include <optional>
#include <string>

namespace duet::golden {

bool UpdateMode();

// The bytes of `path`, or nullopt when it cannot be read.
std::optional<std::string> ReadFile(const std::filesystem::path& path);

}  // namespace duet::golden

#endif  // DUET_TESTS_GOLDEN_GOLDEN_FILES_H_
