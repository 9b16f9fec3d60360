// libFuzzer entry point: the input bytes are a configuration file, read as
// `duet` reads one (engine::ParseConfig; ${NAME} expands from the fuzzer's
// environment). No input may throw, crash or trip a sanitizer; a refused
// configuration says which file is wrong, an accepted one keeps every value
// in its documented range (docs/sync.md, "Configuration").
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/engine/config.h"

namespace {

void Require(bool holds, const char* contract) {
  if (holds) return;
  std::fprintf(stderr, "config_fuzzer: contract violated: %s\n", contract);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = "/fuzz/duet.json";
  std::string text(reinterpret_cast<const char*>(data), size);
  duet::Expected<duet::engine::Config> config = duet::engine::ParseConfig(text, path);
  if (!config.ok()) {
    Require(config.status().message().rfind(path, 0) == 0, "an error names the file");
    return 0;
  }
  Require(!config->bundle.empty() && !config->state.empty(), "bundle and state are set");
  Require(!config->systems.empty(), "there is a system");
  Require(config->batch_size >= 1 && config->batch_size <= 100000, "batch_size in range");
  Require(config->initial_batch_size >= 1 && config->initial_batch_size <= 1000000,
          "initial_batch_size in range");
  Require(config->poll_interval_ms >= 1 && config->poll_interval_ms <= 60000,
          "poll_interval_ms in range");
  Require(config->lookup_timeout_seconds >= 0 && config->lookup_timeout_seconds <= 31536000,
          "lookup_timeout_seconds in range");
  Require(config->lock_timeout_ms >= 0 && config->lock_timeout_ms <= 3600000,
          "lock_timeout_ms in range");
  for (const duet::engine::AlertRule& rule : config->alerts) {
    Require(rule.threshold >= 0 && rule.threshold < 1e308, "an alert threshold is finite");
    Require(rule.seconds > 0 && rule.seconds < 1e308, "an alert window is finite");
  }
  return 0;
}
