// A tiny TSan-built program for tsan_bridge_check.cpp (tests/tsan/README.md).
//   tsan_race_probe clean  - data handed to TBB tasks and back only through TBB's own ordering
//                            (parallel_for fork/join; parallel_pipeline items passed from stage to
//                            stage): no race. The state a serial pipeline stage keeps from one item
//                            to the next is under an uncontended lock, as in memorization/
//                            scan_job.cpp: libtbb orders serial stages without telling TSan.
//   tsan_race_probe race   - two sibling tasks of one parallel_for add to one long at the same
//                            time: a real data race, which TSan must still report.
// Prints the totals so the compiler cannot drop the work.
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "race") {
    long shared = 0;
    tbb::parallel_for(0, 2, [&](int i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // both tasks run at once
      shared += i + 1;
    });
    std::printf("%ld\n", shared);
    return 0;
  }
  if (mode != "clean") return 2;
  std::vector<int> in(4096), out(4096);
  long acc = 0;
  for (int rep = 0; rep < 20; ++rep) {
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<int>(i) + rep;  // before the fork
    tbb::parallel_for(std::size_t{0}, in.size(), [&](std::size_t i) { out[i] = in[i] * 2; });
    for (int v : out) acc += v;  // after the join
  }
  int next = 0;
  long piped = 0;
  std::mutex read_order, write_order;
  tbb::parallel_pipeline(
      4,
      tbb::make_filter<void, std::shared_ptr<std::vector<int>>>(
          tbb::filter_mode::serial_in_order,
          [&](tbb::flow_control& fc) -> std::shared_ptr<std::vector<int>> {
            const std::lock_guard order(read_order);
            if (next == 200) {
              fc.stop();
              return nullptr;
            }
            return std::make_shared<std::vector<int>>(64, next++);
          }) &
          tbb::make_filter<std::shared_ptr<std::vector<int>>, std::shared_ptr<std::vector<int>>>(
              tbb::filter_mode::parallel,
              [](std::shared_ptr<std::vector<int>> v) {
                for (int& x : *v) x *= 3;
                return v;
              }) &
          tbb::make_filter<std::shared_ptr<std::vector<int>>, void>(
              tbb::filter_mode::serial_in_order, [&](std::shared_ptr<std::vector<int>> v) {
                const std::lock_guard order(write_order);
                for (int x : *v) piped += x;
              }));
  const std::lock_guard after_last_item(write_order);
  std::printf("%ld %ld\n", acc, piped);
  return 0;
}
