// `duetc diff OLD.duetb NEW.duetb`: what an upgrade from one bundle to the
// other changes, classified (runtime/bundle/manifest_diff.h) for a CI
// pipeline: exit 0 compatible, 3 needs a resync, 4 breaking.
#ifndef DUET_COMPILER_DRIVER_DIFF_COMMAND_H_
#define DUET_COMPILER_DRIVER_DIFF_COMMAND_H_

#include <string>

namespace duet::driver {

inline constexpr int kExitNeedsResync = 3;
inline constexpr int kExitBreaking = 4;

int DiffBundles(const std::string& old_path, const std::string& new_path, bool json);

}  // namespace duet::driver

#endif  // DUET_COMPILER_DRIVER_DIFF_COMMAND_H_
