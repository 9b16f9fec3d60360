// A verified bundle whose code is in the JIT: the manifest plus a callable
// function per transform. Loading uses the bundle's object code when it was
// built for this process's triple (no code generation at all), otherwise its
// bitcode (cached by digest, so a second load skips optimisation and code
// generation). Code is removed when the LoadedBundle is destroyed.
#ifndef DUET_RUNTIME_BUNDLE_LOADED_BUNDLE_H_
#define DUET_RUNTIME_BUNDLE_LOADED_BUNDLE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duet/abi.h"
#include "runtime/base/status.h"
#include "runtime/bundle/bundle_file.h"
#include "runtime/bundle/manifest.h"
#include "runtime/bundle/transforms.h"
#include "runtime/jit/engine.h"

namespace duet::bundle {

class LoadedBundle final : public Transforms {
 public:
  // Reads, verifies and loads `path`. The engine must outlive the bundle.
  static Expected<std::unique_ptr<LoadedBundle>> Load(jit::Engine& engine, const std::string& path,
                                                      const ReadOptions& options);
  static Expected<std::unique_ptr<LoadedBundle>> FromVerified(jit::Engine& engine,
                                                              Verified verified);

  const Manifest& manifest() const override { return manifest_; }
  const Digest& digest() const { return digest_; }
  bool loaded_object_code() const { return loaded_object_code_; }

  Expected<LoadedTransform> Find(std::string_view map, std::string_view from) const override;

 private:
  LoadedBundle() = default;
  Manifest manifest_;
  Digest digest_{};
  bool loaded_object_code_ = false;
  std::unique_ptr<jit::LoadedCode> code_;
  std::vector<LoadedTransform> transforms_;
};

}  // namespace duet::bundle

#endif  // DUET_RUNTIME_BUNDLE_LOADED_BUNDLE_H_
