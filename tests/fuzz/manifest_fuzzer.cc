// libFuzzer entry point: the input bytes are a bundle manifest (JSON), read
// as LoadedBundle reads one (bundle::ParseManifest) after the container's
// digest checked out, which anyone can recompute. No input may throw, crash
// or trip a sanitizer. An accepted manifest writes back to text that reads
// again to the same manifest (WriteManifest is deterministic), and every
// transform has a layout text (what the loader checks against the code).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runtime/bundle/manifest.h"

namespace {

void Require(bool holds, const char* contract) {
  if (holds) return;
  std::fprintf(stderr, "manifest_fuzzer: contract violated: %s\n", contract);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  duet::Expected<duet::bundle::Manifest> manifest = duet::bundle::ParseManifest(text);
  if (!manifest.ok()) {
    Require(!manifest.status().message().empty(), "a refusal says why");
    return 0;
  }
  for (const duet::bundle::Map& map : manifest->maps) {
    for (const duet::bundle::Transform& t : map.transforms) {
      Require(!duet::bundle::LayoutText(t).empty(), "a transform has a layout");
    }
  }
  std::string written = duet::bundle::WriteManifest(*manifest);
  duet::Expected<duet::bundle::Manifest> again = duet::bundle::ParseManifest(written);
  Require(again.ok(), "a written manifest reads again");
  Require(duet::bundle::WriteManifest(*again) == written, "writing is a fixed point");
  return 0;
}
