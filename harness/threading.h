// ThreadSetup: the one thread policy of the harness (perf-anchors.md §6.6: one active pool).
// TBB owns the parallelism (at most `threads` workers, tbb::global_control); OpenBLAS runs
// single-threaded inside TBB tasks (model/gemm.h), so the two never oversubscribe the cores.
//
//   ThreadSetup threads(options.threads);   // for the lifetime of the command
//
// Results never depend on the thread count (model/gpt_neox.h). Not copyable; create one at a
// time (the last created global_control wins in TBB; nest only with decreasing counts).
#pragma once

#include <memory>

#include <tbb/global_control.h>

namespace pythia::harness {

class ThreadSetup {
 public:
  // threads <= 0: every core the process may use (tbb::info::default_concurrency()).
  explicit ThreadSetup(int threads);
  ~ThreadSetup();
  ThreadSetup(const ThreadSetup&) = delete;
  ThreadSetup& operator=(const ThreadSetup&) = delete;

  int threads() const { return threads_; }

 private:
  int threads_;
  std::unique_ptr<tbb::global_control> control_;
};

}  // namespace pythia::harness
