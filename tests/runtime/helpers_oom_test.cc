// The JIT helpers when memory runs out: no exception may leave them (generated
// code cannot unwind), so each one reports DUET_ERR_OUT_OF_MEMORY instead (or
// NULL from duet_rt_alloc). This binary replaces the global operator new so a
// test can make every allocation of its own thread fail.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "duet/abi.h"
#include "runtime/jit/helpers.h"

namespace {

thread_local bool fail_allocations = false;

void* Allocate(std::size_t size) {
  if (fail_allocations) return nullptr;
  return std::malloc(size == 0 ? 1 : size);
}

}  // namespace

void* operator new(std::size_t size) {
  void* p = Allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return Allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return Allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace duet::jit {
namespace {

// Makes every allocation of this thread fail while it lives.
class NoMemory {
 public:
  NoMemory() { fail_allocations = true; }
  ~NoMemory() { fail_allocations = false; }
  NoMemory(const NoMemory&) = delete;
  NoMemory& operator=(const NoMemory&) = delete;
};

// Longer than any small-string buffer, so producing it needs the heap.
const std::string kLong(200, 'a');

// Results are checked after memory is back: a failing check allocates.
TEST(HelpersOutOfMemory, StringFunctionsReportIt) {
  Context context;
  auto length = static_cast<uint32_t>(kLong.size());
  duet_string out{nullptr, 0};
  int32_t upper = 0, lower = 0, replace = 0;
  {
    NoMemory none;
    upper = duet_rt_str_unary(context.get(), 0, kLong.data(), length, &out);
    lower = duet_rt_str_unary(context.get(), 1, kLong.data(), length, &out);
    replace = duet_rt_str_replace(context.get(), kLong.data(), length, "a", 1, "bb", 2, &out);
  }
  EXPECT_EQ(upper, DUET_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(lower, DUET_ERR_OUT_OF_MEMORY);
  EXPECT_EQ(replace, DUET_ERR_OUT_OF_MEMORY);
  // The same call succeeds with memory, and the context is still usable.
  context.Reset();
  ASSERT_EQ(duet_rt_str_unary(context.get(), 0, kLong.data(), length, &out), 0);
  EXPECT_EQ(std::string(out.data, out.length), std::string(200, 'A'));
}

TEST(HelpersOutOfMemory, ToStringReportsIt) {
  Context context;
  duet_value v;
  std::memset(&v, 0, sizeof v);
  v.tag = DUET_GUID;
  duet_string out{nullptr, 0};
  int32_t status = 0;
  {
    NoMemory none;
    // A guid's text (36 characters) is built in a std::string.
    status = duet_rt_to_string(context.get(), &v, &out);
  }
  EXPECT_EQ(status, DUET_ERR_OUT_OF_MEMORY);
}

TEST(HelpersOutOfMemory, ArenaReturnsNull) {
  Context context;
  auto length = static_cast<uint32_t>(kLong.size());
  duet_string parts[2] = {{kLong.data(), length}, {kLong.data(), length}};
  duet_string out{nullptr, 0};
  char* p = nullptr;
  int32_t concat = 0;
  {
    NoMemory none;
    // A fresh arena has no chunk yet: the first allocation needs the heap.
    p = duet_rt_alloc(context.get(), 16);
    concat = duet_rt_str_concat(context.get(), parts, 2, &out);
  }
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(concat, DUET_ERR_OUT_OF_MEMORY);
  // With memory back the arena grows as usual.
  EXPECT_NE(duet_rt_alloc(context.get(), 16), nullptr);
}

TEST(HelpersOutOfMemory, DecimalToFloatNeedsNoMemory) {
  // 2^64 + 1 at scale 2: beyond the inline fast path, so generated code calls
  // the helper, which must not allocate (it has no status to report with).
  duet_decimal d{1, 1};
  double r = 0;
  {
    NoMemory none;
    r = duet_rt_dec_to_float(&d, 2);
  }
  EXPECT_EQ(r, 184467440737095516.17);
}

}  // namespace
}  // namespace duet::jit
