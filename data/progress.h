// Progress: a throttled "label: done/total (pct) rate/s ETA" line on stderr for long jobs, shown
// only when stderr is a terminal (nothing is printed into logs or pipes).
//
//   Progress p("memorize step1000", rows);  // total 0 = unknown
//   p.advance(64);                           // from any thread
//   p.finish();                              // final line + newline (also done by the destructor)
//
// Thread safety: advance() may be called concurrently; redraws at most every 0.5 s.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace pythia::data {

class Progress {
 public:
  // `unit` names what is counted in the rate ("rows" -> "123.4 rows/s").
  Progress(std::string label, std::uint64_t total, std::string unit = "rows");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(std::uint64_t n);
  void finish();
  std::uint64_t done() const { return done_.load(); }
  // Seconds since construction.
  double elapsed() const;

  // Force drawing on/off (tests, --progress flags). Default: isatty(stderr).
  void set_enabled(bool on) { enabled_ = on; }

 private:
  void draw(bool final_line);
  std::string label_, unit_;
  std::uint64_t total_;
  std::atomic<std::uint64_t> done_{0};
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mu_;
};

// "1h02m", "3m05s", "12s".
std::string format_duration(double seconds);

}  // namespace pythia::data
