// TSan bridge for Debian's uninstrumented libtbb (TSan builds only; tests/tsan/README.md).
//
// libtbb is not built with -fsanitize=thread, so the synchronisation inside its scheduler is
// invisible to TSan, which then reports races that TBB's ordering rules out. This library gives
// TSan the two kinds of ordering TBB guarantees, and no others:
//
// 1. Task hand-offs, through TBB's ITT notifications (the API it has for Intel Inspector, itself a
//    race detector). With TBB_USE_PROFILING_TOOLS=2 (the `tsan` preset sets it) the TBB headers
//    call sync_releasing(&task) before spawning a task and sync_releasing(&wait_ctx) when a task
//    finishes, and sync_acquired(&wait_ctx) after a wait returns; libtbb calls sync_acquired(task)
//    before it executes a task it took from a pool, and parallel_pipeline notifies its token
//    hand-offs the same way. ITT loads the collector named by INTEL_LIBITTNOTIFY64 and, as this
//    library exports __itt_api_version, fills the pointers of the groups named by
//    INTEL_ITTNOTIFY_GROUPS (`sync`) from the symbols below. releasing -> __tsan_release,
//    acquired -> __tsan_acquire on the same address: spawn happens-before execution, task
//    completion happens-before the wait's return. Two tasks of one parallel_for stay unordered,
//    so a race between them is still reported (tests/tsan/tsan_bridge_test.cpp checks both).
// 2. Spawns made inside libtbb (parallel_pipeline's stage tasks), which call r1::spawn without
//    the ITT notification: loaded by LD_PRELOAD, this library wraps r1::spawn (libtbb calls its
//    exported functions through the PLT, so its own calls are wrapped too) and releases the task.
//    It also wraps r1::execute_and_wait / r1::wait / r1::notify_waiters (see there).
// 3. Reuse of task memory. TBB allocates its task objects from per-thread pools inside libtbb
//    (r1::allocate / r1::deallocate, called from the headers), not through malloc, so TSan cannot
//    see that a task's memory was freed before another thread builds a new task in it. Loaded by
//    LD_PRELOAD, this library wraps those two entry points like malloc/free: deallocate releases
//    the block's address, allocate acquires it.
//
// Not instrumented itself (so that a non-TSan process the tests start, e.g. /bin/sh, can carry
// the LD_PRELOAD): the __tsan_* entry points are weak and used only when the process has libtsan.
// Protocol source: oneTBB v2021.8.0 (Debian libtbb12 2021.8.0): include/oneapi/tbb/detail/_task.h,
// _small_object_pool.h, src/tbb/task_dispatcher.h (ITT_CALLEE_ENTER), src/tbb/itt_notify.cpp,
// src/tbb/tools_api/ittnotify_static.c (__itt_init_ittlib).
#include <dlfcn.h>

#include <cstddef>
#include <cstdint>

extern "C" void __tsan_acquire(void* addr) __attribute__((weak));
extern "C" void __tsan_release(void* addr) __attribute__((weak));

#define PYTHIA_EXPORT __attribute__((visibility("default")))

namespace {
void acquire(void* p) {
  if (__tsan_acquire != nullptr && p != nullptr) __tsan_acquire(p);
}
void release(void* p) {
  if (__tsan_release != nullptr && p != nullptr) __tsan_release(p);
}
template <typename F>
F next_symbol(const char* mangled) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, mangled));
}
}  // namespace

// ---- 1. ITT collector --------------------------------------------------------------------------
extern "C" {
PYTHIA_EXPORT const char* __itt_api_version() { return "pythia-harness ITT->TSan bridge"; }
PYTHIA_EXPORT void __itt_sync_releasing(void* addr) { release(addr); }
PYTHIA_EXPORT void __itt_sync_acquired(void* addr) { acquire(addr); }
// Announced before an acquire attempt / when one is abandoned: no ordering, nothing to do.
PYTHIA_EXPORT void __itt_sync_prepare(void*) {}
PYTHIA_EXPORT void __itt_sync_cancel(void*) {}
}

// ---- 2. spawns and task memory, by LD_PRELOAD ----------------------------------------------------
namespace tbb::detail {
namespace d1 {
class small_object_pool;
struct execution_data;
class task;
class task_group_context;
class wait_context;
}  // namespace d1
namespace r1 {

// libtbb spawns tasks of its own (parallel_pipeline's stage tasks, e.g. the one that runs the
// serial input filter next) through r1::spawn without an ITT notification; this releases the task
// as the headers' spawn does, so libtbb's sync_acquired(task) before executing it pairs with it.
PYTHIA_EXPORT void spawn(d1::task& t, d1::task_group_context& ctx) {
  using Fn = void (*)(d1::task&, d1::task_group_context&);
  static const Fn real = next_symbol<Fn>("_ZN3tbb6detail2r15spawnERNS0_2d14taskERNS2_18task_group_contextE");
  release(&t);
  real(t, ctx);
}

PYTHIA_EXPORT void spawn(d1::task& t, d1::task_group_context& ctx, unsigned short slot) {
  using Fn = void (*)(d1::task&, d1::task_group_context&, unsigned short);
  static const Fn real = next_symbol<Fn>("_ZN3tbb6detail2r15spawnERNS0_2d14taskERNS2_18task_group_contextEt");
  release(&t);
  real(t, ctx, slot);
}

// Waits. The headers notify sync_releasing(&wait_ctx) before the atomic decrement of its
// reference count (a member 8 bytes in: oneTBB 2021.8 d1::wait_context is {uint64_t
// m_version_and_traits; atomic<uint64_t> m_ref_count;}), and TSan's acquire is per address, so
// after the wait returns we also acquire the count's address, which every finishing task's
// instrumented fetch_sub released: without it the next wait_context built at the same stack
// address "races" with the last decrement. libtbb's own tasks (parallel_pipeline's) decrement the
// count uninstrumented; the last one calls r1::notify_waiters(&wait_ctx), wrapped below.
namespace {
void acquire_wait(d1::wait_context& w) {
  acquire(&w);
  acquire(reinterpret_cast<char*>(&w) + sizeof(std::uint64_t));
}
}  // namespace

PYTHIA_EXPORT void execute_and_wait(d1::task& t, d1::task_group_context& t_ctx, d1::wait_context& w,
                                    d1::task_group_context& w_ctx) {
  using Fn = void (*)(d1::task&, d1::task_group_context&, d1::wait_context&, d1::task_group_context&);
  static const Fn real = next_symbol<Fn>(
      "_ZN3tbb6detail2r116execute_and_waitERNS0_2d14taskERNS2_18task_group_contextERNS2_12wait_contextES6_");
  real(t, t_ctx, w, w_ctx);
  acquire_wait(w);
}

PYTHIA_EXPORT void wait(d1::wait_context& w, d1::task_group_context& ctx) {
  using Fn = void (*)(d1::wait_context&, d1::task_group_context&);
  static const Fn real = next_symbol<Fn>("_ZN3tbb6detail2r14waitERNS0_2d112wait_contextERNS2_18task_group_contextE");
  real(w, ctx);
  acquire_wait(w);
}

PYTHIA_EXPORT void notify_waiters(std::uintptr_t wait_ctx_addr) {
  using Fn = void (*)(std::uintptr_t);
  static const Fn real = next_symbol<Fn>("_ZN3tbb6detail2r114notify_waitersEm");
  release(reinterpret_cast<void*>(wait_ctx_addr));
  real(wait_ctx_addr);
}

PYTHIA_EXPORT void* allocate(d1::small_object_pool*& pool, std::size_t n) {
  using Fn = void* (*)(d1::small_object_pool*&, std::size_t);
  static const Fn real = next_symbol<Fn>("_ZN3tbb6detail2r18allocateERPNS0_2d117small_object_poolEm");
  void* p = real(pool, n);
  acquire(p);
  return p;
}

PYTHIA_EXPORT void* allocate(d1::small_object_pool*& pool, std::size_t n, const d1::execution_data& ed) {
  using Fn = void* (*)(d1::small_object_pool*&, std::size_t, const d1::execution_data&);
  static const Fn real =
      next_symbol<Fn>("_ZN3tbb6detail2r18allocateERPNS0_2d117small_object_poolEmRKNS2_14execution_dataE");
  void* p = real(pool, n, ed);
  acquire(p);
  return p;
}

PYTHIA_EXPORT void deallocate(d1::small_object_pool& pool, void* p, std::size_t n) {
  using Fn = void (*)(d1::small_object_pool&, void*, std::size_t);
  static const Fn real = next_symbol<Fn>("_ZN3tbb6detail2r110deallocateERNS0_2d117small_object_poolEPvm");
  release(p);
  real(pool, p, n);
}

PYTHIA_EXPORT void deallocate(d1::small_object_pool& pool, void* p, std::size_t n, const d1::execution_data& ed) {
  using Fn = void (*)(d1::small_object_pool&, void*, std::size_t, const d1::execution_data&);
  static const Fn real =
      next_symbol<Fn>("_ZN3tbb6detail2r110deallocateERNS0_2d117small_object_poolEPvmRKNS2_14execution_dataE");
  release(p);
  real(pool, p, n, ed);
}

}  // namespace r1
}  // namespace tbb::detail
