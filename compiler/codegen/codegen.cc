#include "compiler/codegen/codegen.h"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/ModRef.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "compiler/ir/messages.h"
#include "duet/abi.h"

namespace duet::codegen {
namespace {

using ir::Kind;
using ir::Node;
using ir::Op;

// The LLVM form of a value: `null` (i1) and the payload — i1 for bool, i64
// for int/date/datetime, double, i128 for decimal and guid, and for strings
// a pointer (`a`) with an i32 byte length (`b`).
struct CgValue {
  llvm::Value* null = nullptr;
  llvm::Value* a = nullptr;
  llvm::Value* b = nullptr;
};

void InitializeNativeTargetOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

class ModuleEmitter {
 public:
  ModuleEmitter(llvm::LLVMContext& context, llvm::Module& module)
      : c_(context), m_(module), b_(context) {
    i1_ = b_.getInt1Ty();
    i8_ = b_.getInt8Ty();
    i16_ = b_.getInt16Ty();
    i32_ = b_.getInt32Ty();
    i64_ = b_.getInt64Ty();
    i128_ = b_.getInt128Ty();
    f64_ = b_.getDoubleTy();
    ptr_ = b_.getPtrTy();
    // duet_value: tag, scale, reserved, length, 16-byte payload (8-aligned).
    value_ty_ = llvm::StructType::create(c_, {i8_, i8_, i16_, i32_, llvm::ArrayType::get(i64_, 2)},
                                         "duet_value");
    string_ty_ = llvm::StructType::create(c_, {ptr_, i32_}, "duet_string");
    DeclareHelpers();
  }

  void EmitTransform(const ir::Transform& t) {
    t_ = &t;
    auto* fn_ty = llvm::FunctionType::get(i32_, {ptr_, ptr_, ptr_}, false);
    fn_ = llvm::Function::Create(fn_ty, llvm::Function::ExternalLinkage, t.SymbolName(), m_);
    fn_->addFnAttr(llvm::Attribute::NoUnwind);
    in_ = fn_->getArg(0);
    out_ = fn_->getArg(1);
    ctx_ = fn_->getArg(2);
    in_->setName("in");
    out_->setName("out");
    ctx_->setName("ctx");
    entry_ = llvm::BasicBlock::Create(c_, "entry", fn_);
    b_.SetInsertPoint(entry_);
    slot_ = -1;
    if (t.filter) {
      CgValue pass = Emit(*t.filter);
      llvm::Value* ok = b_.CreateAnd(b_.CreateNot(pass.null), pass.a);
      auto* filtered = llvm::BasicBlock::Create(c_, "filtered", fn_);
      auto* body = llvm::BasicBlock::Create(c_, "body", fn_);
      b_.CreateCondBr(ok, body, filtered);
      b_.SetInsertPoint(filtered);
      b_.CreateRet(b_.getInt32(DUET_FILTERED));
      b_.SetInsertPoint(body);
    }
    for (const ir::Assignment& a : t.assignments) {
      // A row error inside the expression goes to `skip_` when the runtime
      // defers it (FailRow): the slot holds a null and the next assignment
      // runs. Assignments share no values, so skipping one is safe.
      slot_ = a.output;
      skip_ = llvm::BasicBlock::Create(c_, "skip_output", fn_);
      auto* next = llvm::BasicBlock::Create(c_, "next_output", fn_);
      CgValue v = Emit(a.node);
      StoreOutput(t.outputs[static_cast<size_t>(a.output)], a.output, v);
      b_.CreateBr(next);
      b_.SetInsertPoint(skip_);
      llvm::Value* out =
          b_.CreateConstInBoundsGEP1_64(value_ty_, out_, static_cast<uint64_t>(a.output));
      b_.CreateStore(b_.getInt8(DUET_NULL), b_.CreateStructGEP(value_ty_, out, 0));
      b_.CreateBr(next);
      b_.SetInsertPoint(next);
    }
    slot_ = -1;
    skip_ = nullptr;
    b_.CreateRet(b_.getInt32(DUET_OK));
  }

 private:
  // ---- declarations ----

  void Declare(const char* name, llvm::Type* result, std::vector<llvm::Type*> params) {
    auto* f = llvm::Function::Create(llvm::FunctionType::get(result, params, false),
                                     llvm::Function::ExternalLinkage, name, m_);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    helpers_[name] = f;
  }

  void DeclareHelpers() {
    Declare("duet_rt_fail", i32_, {ptr_, i32_, i32_, ptr_});
    Declare("duet_rt_slot_error", i32_, {ptr_, i32_, i32_, ptr_});
    Declare("duet_rt_dec_arith", i32_, {i32_, ptr_, i32_, ptr_, i32_, i32_, i32_, ptr_});
    Declare("duet_rt_dec_cmp", i32_, {ptr_, i32_, ptr_, i32_});
    Declare("duet_rt_dec_rescale", i32_, {ptr_, i32_, i32_, i32_, ptr_});
    Declare("duet_rt_dec_from_int", i32_, {i64_, i32_, i32_, ptr_});
    Declare("duet_rt_dec_from_float", i32_, {f64_, i32_, i32_, ptr_});
    Declare("duet_rt_dec_to_float", f64_, {ptr_, i32_});
    Declare("duet_rt_dec_to_int", i32_, {ptr_, i32_, ptr_});
    Declare("duet_rt_dec_round", i32_, {ptr_, i32_, i64_, i32_, ptr_});
    Declare("duet_rt_str_cmp", i32_, {ptr_, i32_, ptr_, i32_});
    Declare("duet_rt_str_length", i64_, {ptr_, i32_});
    Declare("duet_rt_str_prefix", i32_, {ptr_, i32_, i64_});
    Declare("duet_rt_str_unary", i32_, {ptr_, i32_, ptr_, i32_, ptr_});
    Declare("duet_rt_str_slice", i32_, {i32_, ptr_, i32_, i64_, i64_, ptr_});
    Declare("duet_rt_str_replace", i32_, {ptr_, ptr_, i32_, ptr_, i32_, ptr_, i32_, ptr_});
    Declare("duet_rt_str_concat", i32_, {ptr_, ptr_, i32_, ptr_});
    Declare("duet_rt_to_string", i32_, {ptr_, ptr_, ptr_});
    Declare("duet_rt_parse_int", i32_, {ptr_, i32_, ptr_});
    Declare("duet_rt_parse_float", i32_, {ptr_, i32_, ptr_});
    Declare("duet_rt_parse_date", i32_, {ptr_, i32_, ptr_});
    Declare("duet_rt_float_to_int", i32_, {f64_, ptr_});
    Declare("duet_rt_round_float", f64_, {f64_, i64_});
    Declare("duet_rt_round_int", i32_, {i64_, i64_, ptr_});
    Declare("duet_rt_fmod", f64_, {f64_, f64_});
    Declare("duet_rt_civil", i64_, {i64_, i32_});
    Declare("duet_rt_floor_div", i64_, {i64_, i64_});
    // What the optimiser may assume: these only read the memory their
    // pointer arguments point to (so repeated calls can be merged), and the
    // last two touch no memory at all.
    for (const char* name :
         {"duet_rt_dec_cmp", "duet_rt_str_cmp", "duet_rt_str_length", "duet_rt_str_prefix"}) {
      helpers_[name]->setMemoryEffects(llvm::MemoryEffects::argMemOnly(llvm::ModRefInfo::Ref));
      helpers_[name]->addFnAttr(llvm::Attribute::WillReturn);
    }
    for (const char* name : {"duet_rt_civil", "duet_rt_floor_div"}) {
      helpers_[name]->setDoesNotAccessMemory();
      helpers_[name]->addFnAttr(llvm::Attribute::WillReturn);
    }
  }

  llvm::Value* Call(const char* name, std::vector<llvm::Value*> args) {
    return b_.CreateCall(helpers_.at(name), args);
  }

  // ---- small utilities ----

  llvm::AllocaInst* Temp(llvm::Type* type, const char* name = "") {
    llvm::IRBuilder<> entry(entry_, entry_->begin());
    return entry.CreateAlloca(type, nullptr, name);
  }

  llvm::Value* Message(const std::string& text) {
    auto it = messages_.find(text);
    if (it != messages_.end()) return it->second;
    llvm::Value* g = b_.CreateGlobalStringPtr(text, "msg", 0, &m_);
    messages_.emplace(text, g);
    return g;
  }

  llvm::Constant* I128(value::int128 v) {
    uint64_t words[2] = {static_cast<uint64_t>(v), static_cast<uint64_t>(v >> 64)};
    return llvm::ConstantInt::get(c_, llvm::APInt(128, words));
  }

  llvm::Type* PayloadType(Kind kind) {
    switch (kind) {
      case Kind::kBool:
        return i1_;
      case Kind::kInt:
      case Kind::kDate:
      case Kind::kDateTime:
        return i64_;
      case Kind::kFloat:
        return f64_;
      case Kind::kDecimal:
      case Kind::kGuid:
        return i128_;
      case Kind::kString:
        return ptr_;
    }
    return i64_;
  }

  CgValue Null(Kind kind) {
    CgValue v{b_.getTrue(), llvm::Constant::getNullValue(PayloadType(kind)), nullptr};
    if (kind == Kind::kString) v.b = b_.getInt32(0);
    return v;
  }

  CgValue NotNull(llvm::Value* a, llvm::Value* b = nullptr) { return CgValue{b_.getFalse(), a, b}; }

  // Ends the current block with a failure return; continues in a new block
  // reached when `failed` is false.
  void FailIf(llvm::Value* failed, int kind, const std::string& message) {
    auto* fail = llvm::BasicBlock::Create(c_, "fail", fn_);
    auto* next = llvm::BasicBlock::Create(c_, "ok", fn_);
    b_.CreateCondBr(failed, fail, next, Unlikely());
    b_.SetInsertPoint(fail);
    FailRow(kind, message);
    b_.SetInsertPoint(next);
  }

  // Ends the current block with a row error of kind `kind`. Inside an
  // output's expression or its store it is that slot's error, reported
  // through duet_rt_slot_error: it fails the row unless the runtime defers
  // slot errors (duet_ctx::slot_errors), and then the output holds a null
  // and the next one runs (skip_). In the filter it fails the row.
  void FailRow(int kind, const std::string& message) {
    if (slot_ < 0) {
      b_.CreateRet(
          Call("duet_rt_fail", {ctx_, b_.getInt32(kind), b_.getInt32(slot_), Message(message)}));
      return;
    }
    llvm::Value* status =
        Call("duet_rt_slot_error", {ctx_, b_.getInt32(kind), b_.getInt32(slot_), Message(message)});
    auto* failed = llvm::BasicBlock::Create(c_, "slot_failed", fn_);
    b_.CreateCondBr(b_.CreateICmpNE(status, b_.getInt32(DUET_OK)), failed, skip_);
    b_.SetInsertPoint(failed);
    b_.CreateRet(status);
  }

  // A helper's status (0 or a duet_error_kind) checked; each kind gets the
  // message the interpreter gives for `node`.
  void CheckStatus(llvm::Value* status, const Node& node) {
    auto* fail = llvm::BasicBlock::Create(c_, "fail", fn_);
    auto* next = llvm::BasicBlock::Create(c_, "ok", fn_);
    b_.CreateCondBr(b_.CreateICmpNE(status, b_.getInt32(0)), fail, next, Unlikely());
    b_.SetInsertPoint(fail);
    auto* other = llvm::BasicBlock::Create(c_, "fail_other", fn_);
    llvm::SwitchInst* sw = b_.CreateSwitch(status, other);
    for (int kind : {DUET_ERR_DECIMAL_OVERFLOW, DUET_ERR_INT_OVERFLOW, DUET_ERR_DIVISION_BY_ZERO,
                     DUET_ERR_BAD_CONVERSION}) {
      auto* block = llvm::BasicBlock::Create(c_, "fail_kind", fn_);
      sw->addCase(b_.getInt32(kind), block);
      b_.SetInsertPoint(block);
      FailRow(kind, ir::NodeErrorMessage(*t_, node, kind));
    }
    b_.SetInsertPoint(other);
    b_.CreateRet(
        Call("duet_rt_fail", {ctx_, status, b_.getInt32(slot_), Message("out of memory")}));
    b_.SetInsertPoint(next);
  }

  llvm::MDNode* Unlikely() { return llvm::MDBuilder(c_).createBranchWeights(1, 1 << 20); }

  // Joins values flowing from several blocks into `merge`.
  CgValue Phi(llvm::BasicBlock* merge, Kind kind,
              const std::vector<std::pair<CgValue, llvm::BasicBlock*>>& in) {
    b_.SetInsertPoint(merge);
    auto n = static_cast<unsigned>(in.size());
    llvm::PHINode* null = b_.CreatePHI(i1_, n);
    llvm::PHINode* a = b_.CreatePHI(PayloadType(kind), n);
    llvm::PHINode* bb = kind == Kind::kString ? b_.CreatePHI(i32_, n) : nullptr;
    for (const auto& [v, block] : in) {
      null->addIncoming(v.null, block);
      a->addIncoming(v.a, block);
      if (bb != nullptr) bb->addIncoming(v.b, block);
    }
    return CgValue{null, a, bb};
  }

  // Runs `compute` only when no operand is null; the result is null otherwise.
  template <typename F>
  CgValue Strict(Kind kind, const std::vector<CgValue>& args, F compute) {
    llvm::Value* any_null = b_.getFalse();
    for (const CgValue& a : args) any_null = b_.CreateOr(any_null, a.null);
    if (auto* c = llvm::dyn_cast<llvm::ConstantInt>(any_null); c != nullptr && c->isZero())
      return compute();
    auto* when_null = llvm::BasicBlock::Create(c_, "null", fn_);
    auto* compute_block = llvm::BasicBlock::Create(c_, "compute", fn_);
    auto* merge = llvm::BasicBlock::Create(c_, "merge", fn_);
    b_.CreateCondBr(any_null, when_null, compute_block);
    b_.SetInsertPoint(when_null);
    CgValue null = Null(kind);
    b_.CreateBr(merge);
    b_.SetInsertPoint(compute_block);
    CgValue v = compute();
    llvm::BasicBlock* end = b_.GetInsertBlock();
    b_.CreateBr(merge);
    return Phi(merge, kind, {{null, when_null}, {v, end}});
  }

  llvm::Value* Spill128(llvm::Value* v) {
    llvm::AllocaInst* slot = Temp(i128_);
    slot->setAlignment(llvm::Align(8));
    b_.CreateAlignedStore(v, slot, llvm::Align(8));
    return slot;
  }

  llvm::Value* Load128(llvm::Value* p) { return b_.CreateAlignedLoad(i128_, p, llvm::Align(8)); }

  CgValue LoadString(llvm::Value* duet_string_ptr) {
    llvm::Value* data = b_.CreateLoad(ptr_, b_.CreateStructGEP(string_ty_, duet_string_ptr, 0));
    llvm::Value* length = b_.CreateLoad(i32_, b_.CreateStructGEP(string_ty_, duet_string_ptr, 1));
    return NotNull(data, length);
  }

  // ---- nodes ----

  const Node& N(int index) const { return t_->nodes[static_cast<size_t>(index)]; }

  CgValue Emit(int index) {
    const Node& n = N(index);
    switch (n.op) {
      case Op::kConst:
        return Constant(n);
      case Op::kInput:
        return Input(n);
      case Op::kIf:
        return If(n);
      case Op::kAnd:
      case Op::kOr:
        return Logical(n);
      case Op::kCoalesce:
        return Coalesce(n);
      case Op::kIn:
        return In(n);
      case Op::kCall:
        if (n.fn == ir::Fn::kConcat) return Concat(n);
        break;
      case Op::kIsNull:
      case Op::kIsNotNull: {
        CgValue v = Emit(n.args[0]);
        return NotNull(n.op == Op::kIsNull ? v.null : b_.CreateNot(v.null));
      }
      default:
        break;
    }
    std::vector<CgValue> args;
    for (int arg : n.args) args.push_back(Emit(arg));
    return Strict(n.type.kind, args, [&] { return Apply(n, args); });
  }

  CgValue Constant(const Node& n) {
    const ir::Value& v = n.constant;
    if (v.is_null) return Null(n.type.kind);
    switch (v.kind) {
      case Kind::kBool:
        return NotNull(b_.getInt1(v.b));
      case Kind::kInt:
      case Kind::kDate:
      case Kind::kDateTime:
        return NotNull(b_.getInt64(static_cast<uint64_t>(v.i)));
      case Kind::kFloat:
        return NotNull(llvm::ConstantFP::get(f64_, v.f));
      case Kind::kDecimal:
        return NotNull(I128(v.d));
      case Kind::kString:
        return NotNull(b_.CreateGlobalStringPtr(v.s, "str", 0, &m_),
                       b_.getInt32(static_cast<uint32_t>(v.s.size())));
      case Kind::kGuid: {
        value::int128 bits = 0;
        for (int i = 15; i >= 0; --i) bits = (bits << 8) | v.guid[static_cast<size_t>(i)];
        return NotNull(I128(bits));
      }
    }
    return Null(n.type.kind);
  }

  CgValue Input(const Node& n) {
    llvm::Value* value =
        b_.CreateConstInBoundsGEP1_64(value_ty_, in_, static_cast<uint64_t>(n.slot));
    llvm::Value* tag = b_.CreateLoad(i8_, b_.CreateStructGEP(value_ty_, value, 0));
    CgValue out;
    out.null = b_.CreateICmpEQ(tag, b_.getInt8(DUET_NULL));
    llvm::Value* payload = b_.CreateStructGEP(value_ty_, value, 4);
    switch (n.type.kind) {
      case Kind::kBool:
        out.a = b_.CreateICmpNE(b_.CreateLoad(i64_, payload), b_.getInt64(0));
        break;
      case Kind::kInt:
      case Kind::kDate:
      case Kind::kDateTime:
        out.a = b_.CreateLoad(i64_, payload);
        break;
      case Kind::kFloat:
        out.a = b_.CreateLoad(f64_, payload);
        break;
      case Kind::kDecimal:
      case Kind::kGuid:
        out.a = Load128(payload);
        break;
      case Kind::kString:
        out.a = b_.CreateLoad(ptr_, payload);
        out.b = b_.CreateLoad(i32_, b_.CreateStructGEP(value_ty_, value, 3));
        break;
    }
    return out;
  }

  CgValue If(const Node& n) {
    CgValue cond = Emit(n.args[0]);
    llvm::Value* take = b_.CreateAnd(b_.CreateNot(cond.null), cond.a);
    auto* then_block = llvm::BasicBlock::Create(c_, "then", fn_);
    auto* else_block = llvm::BasicBlock::Create(c_, "else", fn_);
    auto* merge = llvm::BasicBlock::Create(c_, "endif", fn_);
    b_.CreateCondBr(take, then_block, else_block);
    b_.SetInsertPoint(then_block);
    CgValue t = Emit(n.args[1]);
    llvm::BasicBlock* t_end = b_.GetInsertBlock();
    b_.CreateBr(merge);
    b_.SetInsertPoint(else_block);
    CgValue e = Emit(n.args[2]);
    llvm::BasicBlock* e_end = b_.GetInsertBlock();
    b_.CreateBr(merge);
    return Phi(merge, n.type.kind, {{t, t_end}, {e, e_end}});
  }

  // Three-valued and/or that stops at the deciding operand.
  CgValue Logical(const Node& n) {
    bool is_and = n.op == Op::kAnd;
    auto* decided = llvm::BasicBlock::Create(c_, "decided", fn_);
    auto* second = llvm::BasicBlock::Create(c_, "second", fn_);
    auto* tail = llvm::BasicBlock::Create(c_, "undecided", fn_);
    auto* merge = llvm::BasicBlock::Create(c_, "logic", fn_);
    CgValue a = Emit(n.args[0]);
    auto deciding = [&](const CgValue& v) {
      return b_.CreateAnd(b_.CreateNot(v.null), is_and ? b_.CreateNot(v.a) : v.a);
    };
    b_.CreateCondBr(deciding(a), decided, second);
    llvm::BasicBlock* a_end = b_.GetInsertBlock();
    b_.SetInsertPoint(second);
    CgValue bv = Emit(n.args[1]);
    b_.CreateCondBr(deciding(bv), decided, tail);
    llvm::BasicBlock* b_end = b_.GetInsertBlock();
    b_.SetInsertPoint(tail);
    CgValue undecided = CgValue{b_.CreateOr(a.null, bv.null), b_.getInt1(is_and), nullptr};
    b_.CreateBr(merge);
    b_.SetInsertPoint(decided);
    (void)a_end;
    (void)b_end;
    CgValue result = NotNull(b_.getInt1(!is_and));
    b_.CreateBr(merge);
    return Phi(merge, Kind::kBool, {{undecided, tail}, {result, decided}});
  }

  CgValue Coalesce(const Node& n) {
    auto* merge = llvm::BasicBlock::Create(c_, "coalesced", fn_);
    std::vector<std::pair<CgValue, llvm::BasicBlock*>> incoming;
    for (int arg : n.args) {
      CgValue v = Emit(arg);
      auto* next = llvm::BasicBlock::Create(c_, "next", fn_);
      b_.CreateCondBr(v.null, next, merge);
      incoming.emplace_back(v, b_.GetInsertBlock());
      b_.SetInsertPoint(next);
    }
    CgValue none = Null(n.type.kind);
    b_.CreateBr(merge);
    incoming.emplace_back(none, b_.GetInsertBlock());
    return Phi(merge, n.type.kind, incoming);
  }

  CgValue In(const Node& n) {
    CgValue operand = Emit(n.args[0]);
    auto* merge = llvm::BasicBlock::Create(c_, "in", fn_);
    std::vector<std::pair<CgValue, llvm::BasicBlock*>> incoming;
    auto* start = llvm::BasicBlock::Create(c_, "in_start", fn_);
    b_.CreateCondBr(operand.null, merge, start);
    incoming.emplace_back(Null(Kind::kBool), b_.GetInsertBlock());
    b_.SetInsertPoint(start);
    llvm::AllocaInst* saw_null = Temp(i1_, "saw_null");
    b_.CreateStore(b_.getFalse(), saw_null);
    for (size_t i = 1; i < n.args.size(); ++i) {
      CgValue c = Emit(n.args[i]);
      b_.CreateStore(b_.CreateOr(b_.CreateLoad(i1_, saw_null), c.null), saw_null);
      auto* compare = llvm::BasicBlock::Create(c_, "in_compare", fn_);
      auto* next = llvm::BasicBlock::Create(c_, "in_next", fn_);
      b_.CreateCondBr(c.null, next, compare);
      b_.SetInsertPoint(compare);
      llvm::Value* equal =
          Equal(N(n.args[0]).type, operand, N(n.args[i]).type, c, ConstantOf(n.args[i]));
      b_.CreateCondBr(equal, merge, next);
      incoming.emplace_back(NotNull(b_.getTrue()), b_.GetInsertBlock());
      b_.SetInsertPoint(next);
    }
    llvm::Value* any_null = b_.CreateLoad(i1_, saw_null);
    CgValue none{any_null, b_.getFalse(), nullptr};
    b_.CreateBr(merge);
    incoming.emplace_back(none, b_.GetInsertBlock());
    return Phi(merge, Kind::kBool, incoming);
  }

  // -1, 0, 1 as i32 for two non-null values of one kind.
  llvm::Value* Compare3(const ir::Type& ta, const CgValue& a, const ir::Type& tb,
                        const CgValue& b) {
    switch (ta.kind) {
      case Kind::kDecimal:
        return DecimalCompare(a.a, ta.scale, b.a, tb.scale);
      case Kind::kString:
        return Call("duet_rt_str_cmp", {a.a, a.b, b.a, b.b});
      default:
        break;
    }
    llvm::Value* lt = nullptr;
    llvm::Value* gt = nullptr;
    if (ta.kind == Kind::kFloat) {
      lt = b_.CreateFCmpOLT(a.a, b.a);
      gt = b_.CreateFCmpOGT(a.a, b.a);
    } else if (ta.kind == Kind::kBool || ta.kind == Kind::kGuid) {
      lt = b_.CreateICmpULT(a.a, b.a);
      gt = b_.CreateICmpUGT(a.a, b.a);
    } else {
      lt = b_.CreateICmpSLT(a.a, b.a);
      gt = b_.CreateICmpSGT(a.a, b.a);
    }
    return Sign3(lt, gt);
  }

  // -1 when `lt`, else 1 when `gt`, else 0.
  llvm::Value* Sign3(llvm::Value* lt, llvm::Value* gt) {
    return b_.CreateSelect(lt, b_.getInt32(static_cast<uint32_t>(-1)), b_.CreateZExt(gt, i32_));
  }

  // Equality of two non-null values of one kind. `constant_b`, when given, is
  // b's value known at compile time (a literal, a value-map key).
  llvm::Value* Equal(const ir::Type& ta, const CgValue& a, const ir::Type& tb, const CgValue& b,
                     const ir::Value* constant_b = nullptr) {
    if (ta.kind == Kind::kFloat) return b_.CreateFCmpOEQ(a.a, b.a);
    if (ta.kind == Kind::kString) {
      if (constant_b != nullptr && !constant_b->is_null && constant_b->kind == Kind::kString)
        return StringEqualsConstant(a, constant_b->s);
      return StringEqual(a, b);
    }
    if (ta.kind == Kind::kDecimal) {
      return b_.CreateICmpEQ(Compare3(ta, a, tb, b), b_.getInt32(0));
    }
    return b_.CreateICmpEQ(a.a, b.a);
  }

  // The constant value of node `index`, or nullptr when it is not a constant.
  const ir::Value* ConstantOf(int index) const {
    const Node& n = N(index);
    return n.op == Op::kConst ? &n.constant : nullptr;
  }

  // ---- inline fast paths ----
  //
  // Each computes, without a call, exactly what the helper computes for the
  // operands it accepts (values that fit 64 bits, strings of a known length);
  // everything else, errors included, is left to the helper.

  // Runs `fast` when `usable` holds; it returns {ok, value}, and when `ok` is
  // false, or `usable` is, `slow` runs instead (it may end in an error
  // return). The results are joined in a phi of `type`.
  template <typename Fast, typename Slow>
  llvm::Value* FastOrSlow(llvm::Type* type, llvm::Value* usable, Fast fast, Slow slow) {
    auto* fast_block = llvm::BasicBlock::Create(c_, "fast", fn_);
    auto* slow_block = llvm::BasicBlock::Create(c_, "slow", fn_);
    auto* done = llvm::BasicBlock::Create(c_, "fast_done", fn_);
    b_.CreateCondBr(usable, fast_block, slow_block, Likely());
    b_.SetInsertPoint(fast_block);
    auto [ok, fast_value] = fast();
    llvm::BasicBlock* fast_end = b_.GetInsertBlock();
    b_.CreateCondBr(ok, done, slow_block, Likely());
    b_.SetInsertPoint(slow_block);
    llvm::Value* slow_value = slow();
    llvm::BasicBlock* slow_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode* phi = b_.CreatePHI(type, 2);
    phi->addIncoming(fast_value, fast_end);
    phi->addIncoming(slow_value, slow_end);
    return phi;
  }

  llvm::MDNode* Likely() { return llvm::MDBuilder(c_).createBranchWeights(1 << 20, 1); }

  // Whether an i128 is a sign-extended i64.
  llvm::Value* FitsI64(llvm::Value* v) {
    return b_.CreateICmpEQ(b_.CreateSExt(b_.CreateTrunc(v, i64_), i128_), v);
  }

  static uint64_t Pow10U64(int n) {
    uint64_t r = 1;
    for (int i = 0; i < n; ++i) r *= 10;
    return r;
  }

  // value::Rescale of an i64 `v` from scale `from` to `to`, then
  // value::FitsPrecision(precision): {ok, the i128 result}. Not ok when the
  // result does not fit (the helper then reports it).
  std::pair<llvm::Value*, llvm::Value*> Rescale64(llvm::Value* v, int from, int to, int precision) {
    if (precision > value::kMaxDecimalPrecision) return {b_.getFalse(), I128(0)};
    llvm::Value* negative = b_.CreateICmpSLT(v, b_.getInt64(0));
    // |v| as an unsigned i64: |INT64_MIN| is 2^63.
    llvm::Value* q = b_.CreateSelect(negative, b_.CreateNeg(v), v);
    llvm::Value* ok = b_.getTrue();
    if (to < from) {
      int k = from - to;
      if (k >= 20) {
        q = b_.getInt64(0);  // |v| < 2^64 < 10^20 / 2: rounds to 0
      } else {
        // Half away from zero on the magnitude: up when 2r >= 10^k, written
        // r >= 10^k - r so it cannot overflow.
        llvm::Value* p = b_.getInt64(Pow10U64(k));
        llvm::Value* r = b_.CreateURem(q, p);
        q = b_.CreateAdd(b_.CreateUDiv(q, p),
                         b_.CreateZExt(b_.CreateICmpUGE(r, b_.CreateSub(p, r)), i64_));
      }
    } else if (to > from) {
      int k = to - from;
      if (k >= 20) {
        ok = b_.CreateICmpEQ(q, b_.getInt64(0));
      } else {
        llvm::Value* m = b_.CreateBinaryIntrinsic(llvm::Intrinsic::umul_with_overflow, q,
                                                  b_.getInt64(Pow10U64(k)));
        ok = b_.CreateNot(b_.CreateExtractValue(m, 1));
        q = b_.CreateExtractValue(m, 0);
      }
    }
    // Every u64 is below 10^20.
    if (precision < 20) {
      ok = b_.CreateAnd(ok, b_.CreateICmpULT(q, b_.getInt64(Pow10U64(precision))));
    }
    llvm::Value* wide = b_.CreateZExt(q, i128_);
    return {ok, b_.CreateSelect(negative, b_.CreateNeg(wide), wide)};
  }

  // Whether |v| < 10^precision, for an i128 `v`.
  llvm::Value* FitsPrecision(llvm::Value* v, int precision) {
    value::int128 limit = value::Pow10(precision);
    return b_.CreateAnd(b_.CreateICmpSLT(v, I128(limit)), b_.CreateICmpSGT(v, I128(-limit)));
  }

  // value::DecimalCompare: -1, 0, 1. Equal scales compare as integers; a
  // rescale by up to 10^19 of a 64-bit value stays within 127 bits.
  llvm::Value* DecimalCompare(llvm::Value* a, int scale_a, llvm::Value* b, int scale_b) {
    if (scale_a == scale_b) return Sign3(b_.CreateICmpSLT(a, b), b_.CreateICmpSGT(a, b));
    int k = scale_a < scale_b ? scale_b - scale_a : scale_a - scale_b;
    auto slow = [&] {
      return Call("duet_rt_dec_cmp",
                  {Spill128(a), b_.getInt32(scale_a), Spill128(b), b_.getInt32(scale_b)});
    };
    if (k > 19) return slow();
    // Only the operand of the lower scale is multiplied.
    llvm::Value* low = scale_a < scale_b ? a : b;
    return FastOrSlow(
        i32_, FitsI64(low),
        [&]() -> std::pair<llvm::Value*, llvm::Value*> {
          llvm::Value* x = scale_a < scale_b ? b_.CreateMul(a, I128(value::Pow10(k))) : a;
          llvm::Value* y = scale_b < scale_a ? b_.CreateMul(b, I128(value::Pow10(k))) : b;
          return {b_.getTrue(), Sign3(b_.CreateICmpSLT(x, y), b_.CreateICmpSGT(x, y))};
        },
        slow);
  }

  // value::DecimalToDouble (through text, correctly rounded). A value of at
  // most 2^53 at a scale of at most 22 is an exact double, as is 10^scale, so
  // one IEEE division rounds the exact quotient once, as strtod does.
  llvm::Value* DecimalToFloat(llvm::Value* x, int scale) {
    auto slow = [&] { return Call("duet_rt_dec_to_float", {Spill128(x), b_.getInt32(scale)}); };
    if (scale > 22) return slow();
    value::int128 two53 = value::int128{1} << 53;
    llvm::Value* exact = b_.CreateICmpULE(b_.CreateAdd(x, I128(two53)), I128(2 * two53));
    return FastOrSlow(
        f64_, exact,
        [&]() -> std::pair<llvm::Value*, llvm::Value*> {
          llvm::Value* f = b_.CreateSIToFP(b_.CreateTrunc(x, i64_), f64_);
          if (scale > 0) {
            double p = 1;
            for (int i = 0; i < scale; ++i) p *= 10;  // exact up to 10^22
            f = b_.CreateFDiv(f, llvm::ConstantFP::get(f64_, p));
          }
          return {b_.getTrue(), f};
        },
        slow);
  }

  // Two strings are equal when their lengths are and then their bytes.
  llvm::Value* StringEqual(const CgValue& a, const CgValue& b) {
    return IfSameLength(b_.CreateICmpEQ(a.b, b.b), [&] {
      return b_.CreateICmpEQ(Call("duet_rt_str_cmp", {a.a, a.b, b.a, b.b}), b_.getInt32(0));
    });
  }

  // Equality with a constant: a length check, then the bytes compared inline
  // in words of up to 8 bytes (the length is known, so every load is within
  // the string); long constants go to the helper.
  llvm::Value* StringEqualsConstant(const CgValue& s, const std::string& k) {
    llvm::Value* same_length = b_.CreateICmpEQ(s.b, b_.getInt32(static_cast<uint32_t>(k.size())));
    if (k.empty()) return same_length;
    constexpr size_t kMaxInlineBytes = 64;
    return IfSameLength(same_length, [&]() -> llvm::Value* {
      if (k.size() > kMaxInlineBytes) {
        llvm::Value* c = b_.CreateGlobalStringPtr(k, "str", 0, &m_);
        return b_.CreateICmpEQ(
            Call("duet_rt_str_cmp", {s.a, s.b, c, b_.getInt32(static_cast<uint32_t>(k.size()))}),
            b_.getInt32(0));
      }
      bool little = m_.getDataLayout().isLittleEndian();
      llvm::Value* diff = b_.getInt64(0);
      for (size_t at = 0; at < k.size();) {
        size_t rest = k.size() - at;
        size_t width = rest >= 8 ? 8 : rest >= 4 ? 4 : rest >= 2 ? 2 : 1;
        uint64_t expected = 0;
        for (size_t i = 0; i < width; ++i) {
          uint64_t byte = static_cast<unsigned char>(k[at + i]);
          expected |= byte << (8 * (little ? i : width - 1 - i));
        }
        llvm::Type* word_ty = b_.getIntNTy(static_cast<unsigned>(8 * width));
        llvm::Value* word = b_.CreateAlignedLoad(
            word_ty, b_.CreateConstInBoundsGEP1_64(i8_, s.a, at), llvm::Align(1));
        diff = b_.CreateOr(
            diff,
            b_.CreateZExt(b_.CreateXor(word, llvm::ConstantInt::get(word_ty, expected)), i64_));
        at += width;
      }
      return b_.CreateICmpEQ(diff, b_.getInt64(0));
    });
  }

  // `same_length` and then, only when it holds, `bytes_equal()`.
  template <typename F>
  llvm::Value* IfSameLength(llvm::Value* same_length, F bytes_equal) {
    llvm::BasicBlock* from = b_.GetInsertBlock();
    auto* compare = llvm::BasicBlock::Create(c_, "same_length", fn_);
    auto* done = llvm::BasicBlock::Create(c_, "compared", fn_);
    b_.CreateCondBr(same_length, compare, done);
    b_.SetInsertPoint(compare);
    llvm::Value* equal = bytes_equal();
    llvm::BasicBlock* compare_end = b_.GetInsertBlock();
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode* phi = b_.CreatePHI(i1_, 2);
    phi->addIncoming(b_.getFalse(), from);
    phi->addIncoming(equal, compare_end);
    return phi;
  }

  CgValue Concat(const Node& n) {
    auto count = static_cast<uint32_t>(n.args.size());
    llvm::AllocaInst* parts = Temp(llvm::ArrayType::get(string_ty_, count), "parts");
    llvm::Value* any = b_.getFalse();
    for (uint32_t i = 0; i < count; ++i) {
      CgValue v = Emit(n.args[i]);
      llvm::Value* part = b_.CreateConstInBoundsGEP2_32(parts->getAllocatedType(), parts, 0, i);
      b_.CreateStore(v.a, b_.CreateStructGEP(string_ty_, part, 0));
      b_.CreateStore(b_.CreateSelect(v.null, b_.getInt32(0), v.b),
                     b_.CreateStructGEP(string_ty_, part, 1));
      any = b_.CreateOr(any, b_.CreateNot(v.null));
    }
    llvm::AllocaInst* out = Temp(string_ty_);
    CheckStatus(Call("duet_rt_str_concat", {ctx_, parts, b_.getInt32(count), out}), n);
    CgValue s = LoadString(out);
    s.null = b_.CreateNot(any);
    return s;
  }

  // ---- strict operations: every operand is known not null here ----

  CgValue Apply(const Node& n, const std::vector<CgValue>& a) {
    switch (n.op) {
      case Op::kNeg:
        return Negate(n, a[0]);
      case Op::kNot:
        return NotNull(b_.CreateNot(a[0].a));
      case Op::kAdd:
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod:
        return Arithmetic(n, a[0], a[1]);
      case Op::kEq:
      case Op::kNe:
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
        return Comparison(n, a[0], a[1]);
      case Op::kCast:
        return Cast(n, a[0]);
      case Op::kCall:
        return CallFn(n, a);
      case Op::kValueMap:
        return ValueMap(n, a[0]);
      default:
        break;
    }
    return Null(n.type.kind);
  }

  CgValue Negate(const Node& n, const CgValue& x) {
    switch (n.type.kind) {
      case Kind::kInt:
        FailIf(b_.CreateICmpEQ(x.a, b_.getInt64(static_cast<uint64_t>(INT64_MIN))),
               DUET_ERR_INT_OVERFLOW, ir::NodeErrorMessage(*t_, n, DUET_ERR_INT_OVERFLOW));
        return NotNull(b_.CreateNeg(x.a));
      case Kind::kFloat:
        return NotNull(b_.CreateFNeg(x.a));
      default:
        return NotNull(b_.CreateNeg(x.a));
    }
  }

  CgValue Arithmetic(const Node& n, const CgValue& x, const CgValue& y) {
    const ir::Type& ta = N(n.args[0]).type;
    const ir::Type& tb = N(n.args[1]).type;
    switch (n.type.kind) {
      case Kind::kInt: {
        if (n.op == Op::kDiv || n.op == Op::kMod) {
          FailIf(b_.CreateICmpEQ(y.a, b_.getInt64(0)), DUET_ERR_DIVISION_BY_ZERO,
                 ir::NodeErrorMessage(*t_, n, DUET_ERR_DIVISION_BY_ZERO));
          llvm::Value* minus_one = b_.CreateICmpEQ(y.a, b_.getInt64(static_cast<uint64_t>(-1)));
          if (n.op == Op::kDiv) {
            FailIf(b_.CreateAnd(minus_one, b_.CreateICmpEQ(
                                               x.a, b_.getInt64(static_cast<uint64_t>(INT64_MIN)))),
                   DUET_ERR_INT_OVERFLOW, ir::NodeErrorMessage(*t_, n, DUET_ERR_INT_OVERFLOW));
            // x / -1 is -x (x is not INT64_MIN here); sdiv by -1 would trap on it.
            llvm::Value* safe = b_.CreateSelect(minus_one, b_.getInt64(1), y.a);
            return NotNull(b_.CreateSelect(minus_one, b_.CreateNeg(x.a), b_.CreateSDiv(x.a, safe)));
          }
          llvm::Value* safe = b_.CreateSelect(minus_one, b_.getInt64(1), y.a);
          return NotNull(b_.CreateSelect(minus_one, b_.getInt64(0), b_.CreateSRem(x.a, safe)));
        }
        llvm::Intrinsic::ID id = n.op == Op::kAdd   ? llvm::Intrinsic::sadd_with_overflow
                                 : n.op == Op::kSub ? llvm::Intrinsic::ssub_with_overflow
                                                    : llvm::Intrinsic::smul_with_overflow;
        llvm::Value* r = b_.CreateBinaryIntrinsic(id, x.a, y.a);
        FailIf(b_.CreateExtractValue(r, 1), DUET_ERR_INT_OVERFLOW,
               ir::NodeErrorMessage(*t_, n, DUET_ERR_INT_OVERFLOW));
        return NotNull(b_.CreateExtractValue(r, 0));
      }
      case Kind::kFloat:
        switch (n.op) {
          case Op::kAdd:
            return NotNull(b_.CreateFAdd(x.a, y.a));
          case Op::kSub:
            return NotNull(b_.CreateFSub(x.a, y.a));
          case Op::kMul:
            return NotNull(b_.CreateFMul(x.a, y.a));
          default: {
            FailIf(b_.CreateFCmpOEQ(y.a, llvm::ConstantFP::get(f64_, 0.0)),
                   DUET_ERR_DIVISION_BY_ZERO,
                   ir::NodeErrorMessage(*t_, n, DUET_ERR_DIVISION_BY_ZERO));
            if (n.op == Op::kDiv) return NotNull(b_.CreateFDiv(x.a, y.a));
            return NotNull(Call("duet_rt_fmod", {x.a, y.a}));
          }
        }
      default: {
        int op = n.op == Op::kAdd   ? 0
                 : n.op == Op::kSub ? 1
                 : n.op == Op::kMul ? 2
                 : n.op == Op::kDiv ? 3
                                    : 4;
        auto slow = [&] {
          llvm::Value* out = Spill128(I128(0));
          llvm::Value* status = Call(
              "duet_rt_dec_arith", {b_.getInt32(op), Spill128(x.a), b_.getInt32(ta.scale),
                                    Spill128(y.a), b_.getInt32(tb.scale), b_.getInt32(n.type.scale),
                                    b_.getInt32(n.type.precision), out});
          CheckStatus(status, n);
          return Load128(out);
        };
        // Exact results of 64-bit operands need no rounding: + and - at the
        // larger scale (one operand times 10^k, k <= 18, stays within 127
        // bits), * at the sum of the scales (a product of two 64-bit values
        // is below 2^126). Only the precision is left to check.
        int scale = std::max(ta.scale, tb.scale);
        int k = std::abs(ta.scale - tb.scale);
        bool add = (n.op == Op::kAdd || n.op == Op::kSub) && n.type.scale == scale && k <= 18;
        bool mul = n.op == Op::kMul && n.type.scale == ta.scale + tb.scale;
        if ((!add && !mul) || n.type.precision > value::kMaxDecimalPrecision)
          return NotNull(slow());
        llvm::Value* usable = b_.CreateAnd(FitsI64(x.a), FitsI64(y.a));
        return NotNull(FastOrSlow(
            i128_, usable,
            [&]() -> std::pair<llvm::Value*, llvm::Value*> {
              llvm::Value* r = nullptr;
              if (mul) {
                r = b_.CreateMul(x.a, y.a);
              } else {
                llvm::Value* u = ta.scale < scale ? b_.CreateMul(x.a, I128(value::Pow10(k))) : x.a;
                llvm::Value* v = tb.scale < scale ? b_.CreateMul(y.a, I128(value::Pow10(k))) : y.a;
                r = n.op == Op::kAdd ? b_.CreateAdd(u, v) : b_.CreateSub(u, v);
              }
              return {FitsPrecision(r, n.type.precision), r};
            },
            slow));
      }
    }
  }

  CgValue Comparison(const Node& n, const CgValue& x, const CgValue& y) {
    const ir::Type& ta = N(n.args[0]).type;
    const ir::Type& tb = N(n.args[1]).type;
    if (ta.kind == Kind::kFloat) {
      switch (n.op) {
        case Op::kEq:
          return NotNull(b_.CreateFCmpOEQ(x.a, y.a));
        case Op::kNe:
          return NotNull(b_.CreateFCmpUNE(x.a, y.a));
        case Op::kLt:
          return NotNull(b_.CreateFCmpOLT(x.a, y.a));
        case Op::kLe:
          return NotNull(b_.CreateFCmpOLE(x.a, y.a));
        case Op::kGt:
          return NotNull(b_.CreateFCmpOGT(x.a, y.a));
        default:
          return NotNull(b_.CreateFCmpOGE(x.a, y.a));
      }
    }
    if (n.op == Op::kEq || n.op == Op::kNe) {
      // A constant goes on the right, where Equal can use it.
      bool swap = ConstantOf(n.args[0]) != nullptr && ConstantOf(n.args[1]) == nullptr;
      llvm::Value* equal = swap ? Equal(tb, y, ta, x, ConstantOf(n.args[0]))
                                : Equal(ta, x, tb, y, ConstantOf(n.args[1]));
      return NotNull(n.op == Op::kEq ? equal : b_.CreateNot(equal));
    }
    llvm::Value* c = Compare3(ta, x, tb, y);
    llvm::Value* zero = b_.getInt32(0);
    switch (n.op) {
      case Op::kEq:
        return NotNull(b_.CreateICmpEQ(c, zero));
      case Op::kNe:
        return NotNull(b_.CreateICmpNE(c, zero));
      case Op::kLt:
        return NotNull(b_.CreateICmpSLT(c, zero));
      case Op::kLe:
        return NotNull(b_.CreateICmpSLE(c, zero));
      case Op::kGt:
        return NotNull(b_.CreateICmpSGT(c, zero));
      default:
        return NotNull(b_.CreateICmpSGE(c, zero));
    }
  }

  CgValue Cast(const Node& n, const CgValue& x) {
    const ir::Type& from = N(n.args[0]).type;
    const ir::Type& to = n.type;
    switch (to.kind) {
      case Kind::kDecimal: {
        if (from.kind == Kind::kDecimal || from.kind == Kind::kInt) {
          bool is_int = from.kind == Kind::kInt;
          return NotNull(FastOrSlow(
              i128_, is_int ? b_.getTrue() : FitsI64(x.a),
              [&] {
                return Rescale64(is_int ? x.a : b_.CreateTrunc(x.a, i64_), is_int ? 0 : from.scale,
                                 to.scale, to.precision);
              },
              [&] { return DecimalCastCall(n, x); }));
        }
        return NotNull(DecimalCastCall(n, x));
      }
      case Kind::kFloat:
        if (from.kind == Kind::kInt) return NotNull(b_.CreateSIToFP(x.a, f64_));
        if (from.kind == Kind::kDecimal) return NotNull(DecimalToFloat(x.a, from.scale));
        return x;
      case Kind::kInt:
        if (from.kind == Kind::kDecimal) {
          llvm::AllocaInst* out = Temp(i64_);
          CheckStatus(Call("duet_rt_dec_to_int", {Spill128(x.a), b_.getInt32(from.scale), out}), n);
          return NotNull(b_.CreateLoad(i64_, out));
        }
        return x;
      case Kind::kDateTime:
        if (from.kind == Kind::kDate) {
          llvm::Value* r =
              b_.CreateBinaryIntrinsic(llvm::Intrinsic::smul_with_overflow, x.a,
                                       b_.getInt64(static_cast<uint64_t>(value::kMicrosPerDay)));
          FailIf(b_.CreateExtractValue(r, 1), DUET_ERR_INT_OVERFLOW,
                 ir::NodeErrorMessage(*t_, n, DUET_ERR_INT_OVERFLOW));
          return NotNull(b_.CreateExtractValue(r, 0));
        }
        return x;
      default:
        return x;
    }
  }

  // The helper for a cast to a decimal; checks its status. The i128 result.
  llvm::Value* DecimalCastCall(const Node& n, const CgValue& x) {
    const ir::Type& from = N(n.args[0]).type;
    const ir::Type& to = n.type;
    llvm::Value* out = Spill128(I128(0));
    llvm::Value* status = nullptr;
    if (from.kind == Kind::kDecimal) {
      status = Call("duet_rt_dec_rescale", {Spill128(x.a), b_.getInt32(from.scale),
                                            b_.getInt32(to.scale), b_.getInt32(to.precision), out});
    } else if (from.kind == Kind::kInt) {
      status = Call("duet_rt_dec_from_int",
                    {x.a, b_.getInt32(to.scale), b_.getInt32(to.precision), out});
    } else {
      status = Call("duet_rt_dec_from_float",
                    {x.a, b_.getInt32(to.scale), b_.getInt32(to.precision), out});
    }
    CheckStatus(status, n);
    return Load128(out);
  }

  CgValue StringResult(const Node& n, llvm::Value* status, llvm::Value* out) {
    CheckStatus(status, n);
    return LoadString(out);
  }

  // Builds a duet_value on the stack (for to_string).
  llvm::Value* AsDuetValue(const ir::Type& type, const CgValue& v) {
    llvm::AllocaInst* slot = Temp(value_ty_);
    StoreValue(slot, type, v.a, v.b);
    return slot;
  }

  void StoreValue(llvm::Value* value, const ir::Type& type, llvm::Value* a, llvm::Value* length) {
    static const std::map<Kind, duet_tag> kTags = {
        {Kind::kBool, DUET_BOOL},         {Kind::kInt, DUET_INT},       {Kind::kFloat, DUET_FLOAT},
        {Kind::kDecimal, DUET_DECIMAL},   {Kind::kString, DUET_STRING}, {Kind::kDate, DUET_DATE},
        {Kind::kDateTime, DUET_DATETIME}, {Kind::kGuid, DUET_GUID}};
    b_.CreateStore(b_.getInt8(static_cast<uint8_t>(kTags.at(type.kind))),
                   b_.CreateStructGEP(value_ty_, value, 0));
    b_.CreateStore(b_.getInt8(static_cast<uint8_t>(type.kind == Kind::kDecimal ? type.scale : 0)),
                   b_.CreateStructGEP(value_ty_, value, 1));
    b_.CreateStore(type.kind == Kind::kString ? length : b_.getInt32(0),
                   b_.CreateStructGEP(value_ty_, value, 3));
    llvm::Value* payload = b_.CreateStructGEP(value_ty_, value, 4);
    switch (type.kind) {
      case Kind::kBool:
        b_.CreateStore(b_.CreateZExt(a, i64_), payload);
        break;
      case Kind::kDecimal:
      case Kind::kGuid:
        b_.CreateAlignedStore(a, payload, llvm::Align(8));
        break;
      default:
        b_.CreateStore(a, payload);
        break;
    }
  }

  CgValue CallFn(const Node& n, const std::vector<CgValue>& a) {
    using ir::Fn;
    auto string_out = [&] { return Temp(string_ty_); };
    switch (n.fn) {
      case Fn::kUpper:
      case Fn::kLower:
      case Fn::kTrim:
      case Fn::kLtrim:
      case Fn::kRtrim: {
        int fn = n.fn == Fn::kUpper   ? 0
                 : n.fn == Fn::kLower ? 1
                 : n.fn == Fn::kTrim  ? 2
                 : n.fn == Fn::kLtrim ? 3
                                      : 4;
        llvm::Value* out = string_out();
        return StringResult(
            n, Call("duet_rt_str_unary", {ctx_, b_.getInt32(fn), a[0].a, a[0].b, out}), out);
      }
      case Fn::kLength:
        return NotNull(Call("duet_rt_str_length", {a[0].a, a[0].b}));
      case Fn::kSubstr:
      case Fn::kLeft:
      case Fn::kRight: {
        int fn = n.fn == Fn::kSubstr ? 0 : n.fn == Fn::kLeft ? 1 : 2;
        llvm::Value* out = string_out();
        llvm::Value* second = n.fn == Fn::kSubstr ? a[2].a : b_.getInt64(0);
        return StringResult(
            n, Call("duet_rt_str_slice", {b_.getInt32(fn), a[0].a, a[0].b, a[1].a, second, out}),
            out);
      }
      case Fn::kReplace: {
        llvm::Value* out = string_out();
        return StringResult(n,
                            Call("duet_rt_str_replace",
                                 {ctx_, a[0].a, a[0].b, a[1].a, a[1].b, a[2].a, a[2].b, out}),
                            out);
      }
      case Fn::kAbs:
        switch (n.type.kind) {
          case Kind::kInt:
            FailIf(b_.CreateICmpEQ(a[0].a, b_.getInt64(static_cast<uint64_t>(INT64_MIN))),
                   DUET_ERR_INT_OVERFLOW, ir::NodeErrorMessage(*t_, n, DUET_ERR_INT_OVERFLOW));
            return NotNull(b_.CreateSelect(b_.CreateICmpSLT(a[0].a, b_.getInt64(0)),
                                           b_.CreateNeg(a[0].a), a[0].a));
          case Kind::kFloat:
            return NotNull(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, a[0].a));
          default:
            return NotNull(
                b_.CreateSelect(b_.CreateICmpSLT(a[0].a, I128(0)), b_.CreateNeg(a[0].a), a[0].a));
        }
      case Fn::kRound:
        switch (n.type.kind) {
          case Kind::kDecimal: {
            llvm::Value* out = Spill128(I128(0));
            CheckStatus(Call("duet_rt_dec_round", {Spill128(a[0].a), b_.getInt32(n.type.scale),
                                                   a[1].a, b_.getInt32(n.type.precision), out}),
                        n);
            return NotNull(Load128(out));
          }
          case Kind::kFloat:
            return NotNull(Call("duet_rt_round_float", {a[0].a, a[1].a}));
          default: {
            llvm::AllocaInst* out = Temp(i64_);
            CheckStatus(Call("duet_rt_round_int", {a[0].a, a[1].a, out}), n);
            return NotNull(b_.CreateLoad(i64_, out));
          }
        }
      case Fn::kYear:
      case Fn::kMonth:
      case Fn::kDay: {
        llvm::Value* days = a[0].a;
        if (N(n.args[0]).type.kind == Kind::kDateTime) {
          days = Call("duet_rt_floor_div",
                      {days, b_.getInt64(static_cast<uint64_t>(value::kMicrosPerDay))});
        }
        int part = n.fn == Fn::kYear ? 0 : n.fn == Fn::kMonth ? 1 : 2;
        return NotNull(Call("duet_rt_civil", {days, b_.getInt32(part)}));
      }
      case Fn::kDateOfDateTime:
        return NotNull(Call("duet_rt_floor_div",
                            {a[0].a, b_.getInt64(static_cast<uint64_t>(value::kMicrosPerDay))}));
      case Fn::kDateOfString: {
        llvm::AllocaInst* out = Temp(i64_);
        CheckStatus(Call("duet_rt_parse_date", {a[0].a, a[0].b, out}), n);
        return NotNull(b_.CreateLoad(i64_, out));
      }
      case Fn::kAddDays: {
        llvm::Value* delta = a[1].a;
        if (n.type.kind == Kind::kDateTime) {
          llvm::Value* m =
              b_.CreateBinaryIntrinsic(llvm::Intrinsic::smul_with_overflow, delta,
                                       b_.getInt64(static_cast<uint64_t>(value::kMicrosPerDay)));
          FailIf(b_.CreateExtractValue(m, 1), DUET_ERR_INT_OVERFLOW,
                 ir::NodeErrorMessage(*t_, n, DUET_ERR_INT_OVERFLOW));
          delta = b_.CreateExtractValue(m, 0);
        }
        llvm::Value* r =
            b_.CreateBinaryIntrinsic(llvm::Intrinsic::sadd_with_overflow, a[0].a, delta);
        FailIf(b_.CreateExtractValue(r, 1), DUET_ERR_INT_OVERFLOW,
               ir::NodeErrorMessage(*t_, n, DUET_ERR_INT_OVERFLOW));
        return NotNull(b_.CreateExtractValue(r, 0));
      }
      case Fn::kToString: {
        const ir::Type& from = N(n.args[0]).type;
        if (from.kind == Kind::kString) return a[0];
        llvm::Value* out = string_out();
        return StringResult(n, Call("duet_rt_to_string", {ctx_, AsDuetValue(from, a[0]), out}),
                            out);
      }
      case Fn::kToInt: {
        const ir::Type& from = N(n.args[0]).type;
        llvm::AllocaInst* out = Temp(i64_);
        switch (from.kind) {
          case Kind::kInt:
            return a[0];
          case Kind::kBool:
            return NotNull(b_.CreateZExt(a[0].a, i64_));
          case Kind::kDecimal:
            CheckStatus(
                Call("duet_rt_dec_to_int", {Spill128(a[0].a), b_.getInt32(from.scale), out}), n);
            break;
          case Kind::kFloat:
            CheckStatus(Call("duet_rt_float_to_int", {a[0].a, out}), n);
            break;
          default:
            CheckStatus(Call("duet_rt_parse_int", {a[0].a, a[0].b, out}), n);
            break;
        }
        return NotNull(b_.CreateLoad(i64_, out));
      }
      case Fn::kToFloat: {
        const ir::Type& from = N(n.args[0]).type;
        switch (from.kind) {
          case Kind::kInt:
            return NotNull(b_.CreateSIToFP(a[0].a, f64_));
          case Kind::kFloat:
            return a[0];
          case Kind::kDecimal:
            return NotNull(DecimalToFloat(a[0].a, from.scale));
          default: {
            llvm::AllocaInst* out = Temp(f64_);
            CheckStatus(Call("duet_rt_parse_float", {a[0].a, a[0].b, out}), n);
            return NotNull(b_.CreateLoad(f64_, out));
          }
        }
      }
      case Fn::kConcat:
        break;  // not strict; see Concat
    }
    return Null(n.type.kind);
  }

  CgValue ValueMap(const Node& n, const CgValue& x) {
    const ir::ValueMapTable& table = t_->value_maps[static_cast<size_t>(n.value_map)];
    auto* merge = llvm::BasicBlock::Create(c_, "mapped", fn_);
    std::vector<std::pair<CgValue, llvm::BasicBlock*>> incoming;
    for (const auto& [from, to] : table.entries) {
      Node key;
      key.type = table.from;
      key.constant = from;
      CgValue k = Constant(key);
      auto* next = llvm::BasicBlock::Create(c_, "next_entry", fn_);
      llvm::Value* equal =
          from.is_null ? b_.getFalse() : Equal(table.from, x, table.from, k, &from);
      Node result;
      result.type = table.to;
      result.constant = to;
      CgValue r = Constant(result);
      b_.CreateCondBr(equal, merge, next);
      incoming.emplace_back(r, b_.GetInsertBlock());
      b_.SetInsertPoint(next);
    }
    if (table.otherwise) {
      Node result;
      result.type = table.to;
      result.constant = *table.otherwise;
      CgValue r = Constant(result);
      b_.CreateBr(merge);
      incoming.emplace_back(r, b_.GetInsertBlock());
    } else {
      FailRow(DUET_ERR_NO_VALUE_MAPPING, ir::NodeErrorMessage(*t_, n, DUET_ERR_NO_VALUE_MAPPING));
    }
    if (incoming.empty()) {
      // No entry and no default: every non-null value fails; the merge block
      // is unreachable but must still end.
      b_.SetInsertPoint(merge);
      CgValue none = Null(n.type.kind);
      auto* after = llvm::BasicBlock::Create(c_, "after", fn_);
      b_.CreateBr(after);
      b_.SetInsertPoint(after);
      return none;
    }
    return Phi(merge, n.type.kind, incoming);
  }

  // ---- outputs ----

  // Stores `v` into output `index`, the slot being computed (slot_).
  void StoreOutput(const ir::OutputSlot& slot, int index, CgValue v) {
    llvm::Value* value =
        b_.CreateConstInBoundsGEP1_64(value_ty_, out_, static_cast<uint64_t>(index));
    auto* null_block = llvm::BasicBlock::Create(c_, "store_null", fn_);
    auto* value_block = llvm::BasicBlock::Create(c_, "store_value", fn_);
    auto* done = llvm::BasicBlock::Create(c_, "stored", fn_);
    b_.CreateCondBr(v.null, null_block, value_block);
    b_.SetInsertPoint(null_block);
    if (slot.not_null) {
      FailRow(DUET_ERR_NULL_IN_NOT_NULL, ir::NullInNotNullMessage(slot));
    } else {
      b_.CreateStore(b_.getInt8(DUET_NULL), b_.CreateStructGEP(value_ty_, value, 0));
      b_.CreateBr(done);
    }
    b_.SetInsertPoint(value_block);
    llvm::Value* length = v.b;
    if (slot.type.kind == Kind::kString && slot.type.length > 0) {
      // Bytes bound code points from above: only a long string needs counting.
      auto* count = llvm::BasicBlock::Create(c_, "count", fn_);
      auto* fits = llvm::BasicBlock::Create(c_, "fits", fn_);
      llvm::BasicBlock* from = b_.GetInsertBlock();
      auto limit = static_cast<uint64_t>(slot.type.length);
      b_.CreateCondBr(b_.CreateICmpULE(b_.CreateZExt(v.b, i64_), b_.getInt64(limit)), fits, count);
      b_.SetInsertPoint(count);
      llvm::Value* code_points = Call("duet_rt_str_length", {v.a, v.b});
      llvm::Value* too_long = b_.CreateICmpUGT(code_points, b_.getInt64(limit));
      llvm::Value* counted_length = v.b;
      if (slot.truncate) {
        counted_length = b_.CreateSelect(
            too_long, Call("duet_rt_str_prefix", {v.a, v.b, b_.getInt64(limit)}), v.b);
      } else {
        FailIf(too_long, DUET_ERR_STRING_TOO_LONG, ir::StringTooLongMessage(slot));
      }
      llvm::BasicBlock* counted = b_.GetInsertBlock();
      b_.CreateBr(fits);
      b_.SetInsertPoint(fits);
      llvm::PHINode* phi = b_.CreatePHI(i32_, 2);
      phi->addIncoming(v.b, from);
      phi->addIncoming(counted_length, counted);
      length = phi;
    }
    if (slot.type.kind == Kind::kDecimal) {
      value::int128 limit = value::Pow10(slot.type.precision);
      llvm::Value* out_of_range =
          b_.CreateOr(b_.CreateICmpSGE(v.a, I128(limit)), b_.CreateICmpSLE(v.a, I128(-limit)));
      FailIf(out_of_range, DUET_ERR_DECIMAL_OVERFLOW, ir::DecimalTooLargeMessage(slot));
    }
    StoreValue(value, slot.type, v.a, length);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  llvm::LLVMContext& c_;
  llvm::Module& m_;
  llvm::IRBuilder<> b_;
  llvm::Type *i1_, *i8_, *i16_, *i32_, *i64_, *i128_, *f64_, *ptr_;
  llvm::StructType* value_ty_;
  llvm::StructType* string_ty_;
  std::map<std::string, llvm::Function*> helpers_;
  std::map<std::string, llvm::Value*> messages_;
  const ir::Transform* t_ = nullptr;
  llvm::Function* fn_ = nullptr;
  llvm::Value* in_ = nullptr;
  llvm::Value* out_ = nullptr;
  llvm::Value* ctx_ = nullptr;
  llvm::BasicBlock* entry_ = nullptr;
  int slot_ = -1;                     // the output being computed, -1 in the filter
  llvm::BasicBlock* skip_ = nullptr;  // where a deferred row error of slot_ goes
};

Expected<std::unique_ptr<llvm::TargetMachine>> HostMachine() {
  InitializeNativeTargetOnce();
  std::string triple = TargetTriple();
  std::string error;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, error);
  if (target == nullptr) return InternalError("no LLVM target for " + triple + ": " + error);
  // A generic CPU: the code runs on any machine of the architecture, and the
  // same sources give the same bytes on every build machine.
  return std::unique_ptr<llvm::TargetMachine>(
      target->createTargetMachine(triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_,
                                  std::nullopt, llvm::CodeGenOpt::Default));
}

Expected<std::unique_ptr<llvm::Module>> Build(llvm::LLVMContext& context, const ir::Module& module,
                                              const Options& options) {
  Expected<std::unique_ptr<llvm::TargetMachine>> host = HostMachine();
  if (!host.ok()) return host.status();
  std::unique_ptr<llvm::TargetMachine>& machine = *host;
  std::string triple = TargetTriple();
  auto m = std::make_unique<llvm::Module>("duet", context);
  m->setTargetTriple(triple);
  m->setDataLayout(machine->createDataLayout());
  ModuleEmitter emitter(context, *m);
  for (const ir::Transform& t : module.transforms) emitter.EmitTransform(t);
  for (const auto& [name, text] : options.constants) {
    llvm::Constant* init = llvm::ConstantDataArray::getString(context, text, /*AddNull=*/true);
    new llvm::GlobalVariable(*m, init->getType(), /*isConstant=*/true,
                             llvm::GlobalValue::ExternalLinkage, init, name);
  }
  std::string verify;
  llvm::raw_string_ostream verify_stream(verify);
  if (llvm::verifyModule(*m, &verify_stream)) {
    return InternalError("generated LLVM IR does not verify: " + verify_stream.str());
  }
  if (options.opt_level > 0) {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(machine.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::OptimizationLevel level = options.opt_level >= 3   ? llvm::OptimizationLevel::O3
                                    : options.opt_level == 1 ? llvm::OptimizationLevel::O1
                                                             : llvm::OptimizationLevel::O2;
    llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(level);
    mpm.run(*m, mam);
  }
  return m;
}

}  // namespace

std::string TargetTriple() { return llvm::sys::getProcessTriple(); }

Expected<std::string> EmitBitcode(const ir::Module& module, const Options& options) {
  llvm::LLVMContext context;
  Expected<std::unique_ptr<llvm::Module>> m = Build(context, module, options);
  if (!m.ok()) return m.status();
  std::string bytes;
  llvm::raw_string_ostream out(bytes);
  llvm::WriteBitcodeToFile(**m, out);
  out.flush();
  return bytes;
}

Expected<std::string> EmitObject(const ir::Module& module, const Options& options) {
  llvm::LLVMContext context;
  Expected<std::unique_ptr<llvm::Module>> m = Build(context, module, options);
  if (!m.ok()) return m.status();
  Expected<std::unique_ptr<llvm::TargetMachine>> machine = HostMachine();
  if (!machine.ok()) return machine.status();
  llvm::SmallVector<char, 0> bytes;
  llvm::raw_svector_ostream out(bytes);
  llvm::legacy::PassManager passes;
  if ((*machine)->addPassesToEmitFile(passes, out, nullptr, llvm::CGFT_ObjectFile)) {
    return InternalError("the target cannot emit object files");
  }
  passes.run(**m);
  return std::string(bytes.data(), bytes.size());
}

Expected<std::string> EmitAssembly(const ir::Module& module, const Options& options) {
  llvm::LLVMContext context;
  Expected<std::unique_ptr<llvm::Module>> m = Build(context, module, options);
  if (!m.ok()) return m.status();
  std::string text;
  llvm::raw_string_ostream out(text);
  (*m)->print(out, nullptr);
  out.flush();
  return text;
}

}  // namespace duet::codegen
