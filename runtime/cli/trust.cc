#include "runtime/cli/trust.h"

#include <fstream>
#include <sstream>

namespace duet::cli {

Expected<bundle::ReadOptions> TrustOptions(const std::string& public_key_file) {
  bundle::ReadOptions options;
  if (public_key_file.empty()) return options;
  std::ifstream file(public_key_file);
  if (!file) return NotFoundError("cannot open public key file '" + public_key_file + "'");
  std::ostringstream text;
  text << file.rdbuf();
  Expected<bundle::PublicKey> key = bundle::ParsePublicKey(text.str());
  if (!key.ok()) {
    return Status(key.status().code(), public_key_file + ": " + key.status().message());
  }
  options.trusted_key = *key;
  return options;
}

}  // namespace duet::cli
