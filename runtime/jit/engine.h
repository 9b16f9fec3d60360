// The LLJIT engine: turns a bundle's code (LLVM bitcode) into callable
// transform functions. The native target is initialised once per process;
// runtime helpers are given to generated code as absolute symbols; each
// loaded piece of code lives in its own JITDylib with its own resource
// tracker, so it can be unloaded; compiled object code is cached by key, so
// loading the same code again skips parsing and code generation.
// Bitcode arrives optimised (duetc runs the IR passes), so loading runs no
// IR passes and generates code at a low optimisation level.
// LLVM types stay inside engine.cc.
#ifndef DUET_RUNTIME_JIT_ENGINE_H_
#define DUET_RUNTIME_JIT_ENGINE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "duet/abi.h"
#include "runtime/base/status.h"

namespace duet::jit {

struct EngineOptions {
  // Where compiled object code is kept between processes; empty: memory
  // only. Engine::Create makes it (mode 0700) if it does not exist, and
  // refuses a directory that is not owned by this process's user or that
  // others may write: the objects in it run as this process's code, so it
  // must be as trusted as the binary (docs/bundle-format.md). A cache file
  // is used only when its trailer binds it to the load's key and to this
  // engine's code generation; any other file (damaged, planted, stale) is
  // ignored and replaced by compiling the bitcode again.
  std::string cache_directory;
  // Bitcode arrives optimised, so by default its machine code is generated
  // fast (LLVM level None: a cold load about 6x shorter, code about 1.6x
  // slower per row). true: LLVM's default level, for long-running loads
  // of bitcode where row speed matters more than load time. Bundles with
  // object code for this triple are not affected.
  bool optimize_code = false;
};

struct CacheStats {
  uint64_t hits = 0;
  uint64_t misses = 0;
};

class Engine;

// Code loaded into the engine. Functions found through it stay valid until
// it is destroyed, which removes the code from the process.
class LoadedCode {
 public:
  ~LoadedCode();
  LoadedCode(const LoadedCode&) = delete;
  LoadedCode& operator=(const LoadedCode&) = delete;

  // The transform with this symbol, or an error naming it.
  Expected<duet_transform_fn> Find(std::string_view symbol) const;
  // The address of the data symbol `symbol` (a constant the code carries),
  // or an error naming it.
  Expected<const void*> FindData(std::string_view symbol) const;

 private:
  friend class Engine;
  struct Impl;
  explicit LoadedCode(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Engine {
 public:
  static Expected<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Loads LLVM bitcode. `cache_key` identifies the code (for a bundle: its
  // digest and the triple); equal keys must mean equal bitcode. The engine
  // adds what else changes the machine code (LLVM version, CPU, features,
  // optimisation level) to what a cache file is checked against.
  Expected<std::unique_ptr<LoadedCode>> Load(std::string_view bitcode, std::string_view cache_key);

  // Loads object code compiled ahead of time for this process's triple:
  // no optimisation and no code generation at all.
  Expected<std::unique_ptr<LoadedCode>> LoadObject(std::string_view object);

  CacheStats cache_stats() const;

  // The triple object code must have been compiled for to be loadable.
  static std::string ProcessTriple();

  struct Impl;  // defined in engine.cc; shared with LoadedCode

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace duet::jit

#endif  // DUET_RUNTIME_JIT_ENGINE_H_
