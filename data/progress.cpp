#include "data/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace pythia::data {

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  char buf[48];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  } else if (s >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%llds", s);
  }
  return buf;
}

Progress::Progress(std::string label, std::uint64_t total, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

double Progress::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::advance(std::uint64_t n) {
  done_.fetch_add(n);
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  if (now - last_draw_ < std::chrono::milliseconds(500)) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw(true);
}

void Progress::draw(bool final_line) {
  const double t = elapsed();
  const std::uint64_t d = done_.load();
  const double rate = t > 0 ? static_cast<double>(d) / t : 0.0;
  std::string eta;
  if (!final_line && total_ > 0 && rate > 0 && d <= total_) {
    eta = " ETA " + format_duration(static_cast<double>(total_ - d) / rate);
  } else if (final_line) {
    eta = " in " + format_duration(t);
  }
  if (total_ > 0) {
    std::fprintf(stderr, "\r%s: %llu/%llu (%.1f%%) %.1f %s/s%s\x1b[K", label_.c_str(),
                 static_cast<unsigned long long>(d), static_cast<unsigned long long>(total_),
                 100.0 * static_cast<double>(d) / static_cast<double>(total_), rate, unit_.c_str(),
                 eta.c_str());
  } else {
    std::fprintf(stderr, "\r%s: %llu %.1f %s/s%s\x1b[K", label_.c_str(), static_cast<unsigned long long>(d),
                 rate, unit_.c_str(), eta.c_str());
  }
  if (final_line) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace pythia::data
