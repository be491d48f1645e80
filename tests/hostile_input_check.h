// Shared by the hostile-input tests (tests/data/data_hostile_inputs_test.cpp,
// tests/model/model_hostile_inputs_test.cpp): a bad input must end in a DataError that says what
// is wrong, with bounded time and memory (loose bounds that also hold in sanitizer builds; a
// safety check, not a measurement).
#pragma once

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <chrono>
#include <functional>
#include <string>

#include "data/error.h"

namespace pythia::testing {

inline long peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// Runs fn, which must throw a DataError whose message contains `what`, in under `seconds` and
// without raising the process's peak RSS by more than `mb` (the bounds allow sanitizer builds).
inline void check_bounded_error(const std::function<void()>& fn, const std::string& what, double seconds,
                                long mb) {
  const long rss0 = peak_rss_mb();
  const auto t0 = std::chrono::steady_clock::now();
  try {
    fn();
    ADD_FAILURE() << "accepted; wanted a DataError saying: " << what;
  } catch (const pythia::DataError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(what), std::string::npos) << "message: " << msg.substr(0, 300)
                                                 << "\nwanted: " << what;
  }
  const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(dt, seconds) << "took " << dt << " s";
  EXPECT_LT(peak_rss_mb() - rss0, mb) << "peak RSS grew from " << rss0 << " to " << peak_rss_mb()
                                      << " MB";
}

}  // namespace pythia::testing
