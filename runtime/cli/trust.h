// The bundle read options of a `duet` command: accept any bundle, or with a
// public key file (`--trust`, the configuration's `trust`) only bundles
// signed by that key.
#ifndef DUET_RUNTIME_CLI_TRUST_H_
#define DUET_RUNTIME_CLI_TRUST_H_

#include <string>

#include "runtime/base/status.h"
#include "runtime/bundle/bundle_file.h"

namespace duet::cli {

// `public_key_file` empty: no key required. Errors name the file.
Expected<bundle::ReadOptions> TrustOptions(const std::string& public_key_file);

}  // namespace duet::cli

#endif  // DUET_RUNTIME_CLI_TRUST_H_
