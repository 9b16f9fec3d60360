#include "compiler/exec/executor.h"

#include <cstring>
#include <string>

#include "runtime/jit/engine.h"
#include "runtime/jit/helpers.h"

namespace duet::exec {
namespace {

class InterpreterExecutor : public Executor {
 public:
  explicit InterpreterExecutor(const ir::Module& module) : module_(module) {}
  interp::RowResult Run(size_t transform, std::span<const ir::Value> inputs,
                        std::vector<ir::Value>& outputs) override {
    return interp::Run(module_.transforms[transform], inputs, outputs);
  }

 private:
  const ir::Module& module_;
};

class JitExecutor : public Executor {
 public:
  JitExecutor(const ir::Module& module, std::unique_ptr<jit::Engine> engine,
              std::unique_ptr<jit::LoadedCode> code, std::vector<duet_transform_fn> functions)
      : module_(module),
        engine_(std::move(engine)),
        code_(std::move(code)),
        functions_(std::move(functions)) {}

  interp::RowResult Run(size_t transform, std::span<const ir::Value> inputs,
                        std::vector<ir::Value>& outputs) override {
    const ir::Transform& t = module_.transforms[transform];
    in_.assign(inputs.size(), duet_value{});
    for (size_t i = 0; i < inputs.size(); ++i) ToAbi(inputs[i], &in_[i]);
    out_.assign(t.outputs.size(), duet_value{});
    context_.Reset();
    int32_t status = functions_[transform](in_.data(), out_.data(), context_.get());
    interp::RowResult result;
    if (status == DUET_FILTERED) {
      result.outcome = interp::Outcome::kFiltered;
      return result;
    }
    if (status != DUET_OK) {
      result.outcome = interp::Outcome::kError;
      result.error_kind = context_.get()->error_kind;
      result.error_slot = context_.get()->error_slot;
      result.message = context_.get()->error_message;
      return result;
    }
    outputs.clear();
    for (size_t i = 0; i < t.outputs.size(); ++i)
      outputs.push_back(FromAbi(out_[i], t.outputs[i].type));
    return result;
  }

 private:
  const ir::Module& module_;
  std::unique_ptr<jit::Engine> engine_;
  std::unique_ptr<jit::LoadedCode> code_;
  std::vector<duet_transform_fn> functions_;
  jit::Context context_;
  std::vector<duet_value> in_;
  std::vector<duet_value> out_;
};

duet_tag TagOf(ir::Kind kind) {
  switch (kind) {
    case ir::Kind::kBool:
      return DUET_BOOL;
    case ir::Kind::kInt:
      return DUET_INT;
    case ir::Kind::kFloat:
      return DUET_FLOAT;
    case ir::Kind::kDecimal:
      return DUET_DECIMAL;
    case ir::Kind::kString:
      return DUET_STRING;
    case ir::Kind::kDate:
      return DUET_DATE;
    case ir::Kind::kDateTime:
      return DUET_DATETIME;
    case ir::Kind::kGuid:
      return DUET_GUID;
  }
  return DUET_NULL;
}

}  // namespace

void ToAbi(const ir::Value& v, duet_value* out) {
  std::memset(out, 0, sizeof *out);
  if (v.is_null) return;
  out->tag = static_cast<uint8_t>(TagOf(v.kind));
  switch (v.kind) {
    case ir::Kind::kBool:
      out->u.i = v.b ? 1 : 0;
      break;
    case ir::Kind::kInt:
    case ir::Kind::kDate:
    case ir::Kind::kDateTime:
      out->u.i = v.i;
      break;
    case ir::Kind::kFloat:
      out->u.f = v.f;
      break;
    case ir::Kind::kDecimal:
      out->scale = static_cast<uint8_t>(v.scale);
      out->u.d.lo = static_cast<uint64_t>(v.d);
      out->u.d.hi = static_cast<int64_t>(v.d >> 64);
      break;
    case ir::Kind::kString:
      out->u.s = v.s.data();
      out->length = static_cast<uint32_t>(v.s.size());
      break;
    case ir::Kind::kGuid:
      std::memcpy(out->u.guid, v.guid.data(), 16);
      break;
  }
}

ir::Value FromAbi(const duet_value& v, const ir::Type& type) {
  if (v.tag == DUET_NULL) return ir::Value::Null(type.kind);
  switch (type.kind) {
    case ir::Kind::kBool:
      return ir::Value::Bool(v.u.i != 0);
    case ir::Kind::kInt:
      return ir::Value::Int(v.u.i);
    case ir::Kind::kFloat:
      return ir::Value::Float(v.u.f);
    case ir::Kind::kDecimal: {
      __extension__ typedef unsigned __int128 uint128;
      auto bits = (static_cast<uint128>(static_cast<uint64_t>(v.u.d.hi)) << 64) | v.u.d.lo;
      return ir::Value::Decimal(static_cast<value::int128>(bits), v.scale);
    }
    case ir::Kind::kString:
      return ir::Value::String(std::string(v.u.s == nullptr ? "" : v.u.s, v.length));
    case ir::Kind::kDate:
      return ir::Value::Date(v.u.i);
    case ir::Kind::kDateTime:
      return ir::Value::DateTime(v.u.i);
    case ir::Kind::kGuid: {
      ir::Value out = ir::Value::Null(ir::Kind::kGuid);
      out.is_null = false;
      std::memcpy(out.guid.data(), v.u.guid, 16);
      return out;
    }
  }
  return ir::Value::Null(type.kind);
}

std::unique_ptr<Executor> MakeInterpreter(const ir::Module& module) {
  return std::make_unique<InterpreterExecutor>(module);
}

Expected<std::unique_ptr<Executor>> MakeJit(const ir::Module& module,
                                            const codegen::Options& options) {
  Expected<std::string> bitcode = codegen::EmitBitcode(module, options);
  if (!bitcode.ok()) return bitcode.status();
  Expected<std::unique_ptr<jit::Engine>> engine = jit::Engine::Create({});
  if (!engine.ok()) return engine.status();
  Expected<std::unique_ptr<jit::LoadedCode>> code = (*engine)->Load(*bitcode, "duetc-test");
  if (!code.ok()) return code.status();
  std::vector<duet_transform_fn> functions;
  for (const ir::Transform& t : module.transforms) {
    Expected<duet_transform_fn> fn = (*code)->Find(t.SymbolName());
    if (!fn.ok()) return fn.status();
    functions.push_back(*fn);
  }
  return std::unique_ptr<Executor>(
      new JitExecutor(module, std::move(*engine), std::move(*code), std::move(functions)));
}

}  // namespace duet::exec
