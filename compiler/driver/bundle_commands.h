// `duetc compile`, `duetc inspect` and `duetc keygen`.
#ifndef DUET_COMPILER_DRIVER_BUNDLE_COMMANDS_H_
#define DUET_COMPILER_DRIVER_BUNDLE_COMMANDS_H_

#include <optional>
#include <string>
#include <vector>

#include "compiler/frontend/frontend.h"

namespace duet::driver {

struct CompileFlags {
  std::string output;
  std::string sign_key;  // path of a secret key file, or empty
  int opt_level = 2;
  bool no_object = false;
  std::vector<std::string> maps;  // --maps: only these and what they need
};

// Writes the bundle of a module that checked without errors. Returns the
// process exit code (0, or 2 for I/O and key problems and for a --maps
// name that is no map of the module).
int WriteBundle(const frontend::Result& result, const CompileFlags& flags);

// Prints a bundle's manifest (text or JSON) after verifying it; 2 when it
// cannot be read or is refused.
int InspectBundle(const std::string& path, bool json, const std::string& trusted_key_file);

// Writes NAME.key (secret, mode 0600) and NAME.pub.
int GenerateKeys(const std::string& name);

}  // namespace duet::driver

#endif  // DUET_COMPILER_DRIVER_BUNDLE_COMMANDS_H_
