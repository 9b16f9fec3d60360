#include "runtime/bundle/loaded_bundle.h"

#include <cstring>

namespace duet::bundle {
namespace {

// Whether the code was generated for the rows the manifest describes. A
// digest anyone can recompute does not tie the manifest to the code: a
// manifest edited and hashed again must not make duet call a transform with
// rows of another shape, which would read or write past them.
Status CheckLayout(const jit::LoadedCode& code, const Transform& t) {
  std::string symbol = LayoutSymbol(t.symbol);
  Expected<const void*> found = code.FindData(symbol);
  if (!found.ok()) {
    return FailedPreconditionError("refusing bundle: the code has no layout for transform '" +
                                   t.symbol + "' (a duetc before layouts were added compiled " +
                                   "it, or the manifest was edited): " + found.status().message());
  }
  std::string expected = LayoutText(t);
  // Read no further than the expected text and its terminating NUL.
  const char* text = static_cast<const char*>(*found);
  std::string_view carried(text, strnlen(text, expected.size() + 1));
  if (carried != expected) {
    return FailedPreconditionError(
        "refusing bundle: the manifest does not match the code of transform '" + t.symbol +
        "' (the manifest's rows: '" + expected + "'; the code's: '" +
        std::string(carried.substr(0, 2000)) + "')");
  }
  return Status::Ok();
}

}  // namespace

Expected<std::unique_ptr<LoadedBundle>> LoadedBundle::Load(jit::Engine& engine,
                                                           const std::string& path,
                                                           const ReadOptions& options) {
  Expected<Verified> verified = ReadFile(path, options);
  if (!verified.ok()) return verified.status();
  return FromVerified(engine, std::move(*verified));
}

Expected<std::unique_ptr<LoadedBundle>> LoadedBundle::FromVerified(jit::Engine& engine,
                                                                   Verified verified) {
  Expected<Manifest> manifest = ParseManifest(verified.contents.manifest);
  if (!manifest.ok()) return manifest.status();
  if (manifest->abi_version != DUET_ABI_VERSION) {
    return FailedPreconditionError("the bundle's code uses ABI version " +
                                   std::to_string(manifest->abi_version) +
                                   "; this duet runs version " + std::to_string(DUET_ABI_VERSION));
  }
  std::unique_ptr<LoadedBundle> bundle(new LoadedBundle());
  bundle->manifest_ = std::move(*manifest);
  bundle->digest_ = verified.digest;
  Expected<std::unique_ptr<jit::LoadedCode>> code = Status(StatusCode::kInternal, "not loaded");
  if (!verified.contents.object.empty() &&
      verified.contents.object_triple == jit::Engine::ProcessTriple()) {
    code = engine.LoadObject(verified.contents.object);
    bundle->loaded_object_code_ = code.ok();
  }
  if (!code.ok()) {
    std::string key = Hex(std::string_view(reinterpret_cast<const char*>(verified.digest.data()),
                                           verified.digest.size())) +
                      "-" + jit::Engine::ProcessTriple();
    code = engine.Load(verified.contents.bitcode, key);
  }
  if (!code.ok()) return code.status();
  bundle->code_ = std::move(*code);
  for (const Map& map : bundle->manifest_.maps) {
    for (const Transform& t : map.transforms) {
      if (Status s = CheckLayout(*bundle->code_, t); !s.ok()) return s;
      Expected<duet_transform_fn> fn = bundle->code_->Find(t.symbol);
      if (!fn.ok()) return fn.status();
      bundle->transforms_.push_back(LoadedTransform{&map, &t, *fn});
    }
  }
  return bundle;
}

Expected<LoadedTransform> LoadedBundle::Find(std::string_view map, std::string_view from) const {
  const Map* found = manifest_.FindMap(map);
  if (found == nullptr) {
    std::string names;
    for (const Map& m : manifest_.maps) names += (names.empty() ? "" : ", ") + m.name;
    return NotFoundError("the bundle has no map '" + std::string(map) + "' (it has: " + names +
                         ")");
  }
  for (const LoadedTransform& t : transforms_) {
    if (t.map == found && t.transform->from == from) return t;
  }
  return NotFoundError("map '" + std::string(map) + "' does not flow from '" + std::string(from) +
                       "' (" + found->left_table + " " + found->direction + " " +
                       found->right_table + ")");
}

}  // namespace duet::bundle
