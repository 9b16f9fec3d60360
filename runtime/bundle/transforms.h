// What the sync engine needs of a loaded bundle: its manifest and a callable
// function per transform. Only these and the C ABI (duet/abi.h), so the
// engine reaches generated code without linking the JIT that loaded it
// (LoadedBundle, in duet_bundle, implements this with LLVM's LLJIT).
#ifndef DUET_RUNTIME_BUNDLE_TRANSFORMS_H_
#define DUET_RUNTIME_BUNDLE_TRANSFORMS_H_

#include <string_view>

#include "duet/abi.h"
#include "runtime/base/status.h"
#include "runtime/bundle/manifest.h"

namespace duet::bundle {

struct LoadedTransform {
  const Map* map = nullptr;
  const Transform* transform = nullptr;
  duet_transform_fn function = nullptr;
};

class Transforms {
 public:
  virtual ~Transforms() = default;

  virtual const Manifest& manifest() const = 0;
  // The transform of `map` that reads rows of system `from`; NotFound names
  // the maps there are.
  virtual Expected<LoadedTransform> Find(std::string_view map, std::string_view from) const = 0;
};

}  // namespace duet::bundle

#endif  // DUET_RUNTIME_BUNDLE_TRANSFORMS_H_
