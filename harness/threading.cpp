#include "harness/threading.h"

#include <tbb/global_control.h>
#include <tbb/info.h>

#include "model/gemm.h"

namespace pythia::harness {

ThreadSetup::ThreadSetup(int threads)
    : threads_(threads > 0 ? threads : tbb::info::default_concurrency()),
      control_(std::make_unique<tbb::global_control>(
          tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads_))) {
  model::use_single_threaded_blas();
}

ThreadSetup::~ThreadSetup() = default;

}  // namespace pythia::harness
