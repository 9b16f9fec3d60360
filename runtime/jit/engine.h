// The LLJIT engine: turns a bundle's code (LLVM bitcode) into callable
// transform functions. The native target is initialised once per process;
// runtime helpers are given to generated code as absolute symbols; each
// loaded piece of code lives in its own JITDylib with its own resource
// tracker, so it can be unloaded; compiled object code is cached by key, so
// loading the same code again skips optimisation and code generation.
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
  // Where compiled object code is kept between processes; empty: memory only.
  std::string cache_directory;
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

  // Loads LLVM bitcode. `cache_key` identifies the code (a digest of the
  // bitcode and anything that changes code generation); equal keys must mean
  // equal code.
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
