// Progress: counting from several threads, duration formatting, silence when disabled.
#include "data/progress.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using pythia::data::format_duration;
using pythia::data::Progress;

TEST(Progress, CountsConcurrentAdvances) {
  Progress p("test", 4000);
  p.set_enabled(false);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) p.advance(1);
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(p.done(), 4000u);
  testing::internal::CaptureStderr();
  p.finish();
  p.finish();
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}

TEST(Progress, FinalLineWhenEnabled) {
  testing::internal::CaptureStderr();
  {
    Progress p("scan", 10);
    p.set_enabled(true);
    p.advance(10);
  }  // destructor finishes
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("scan: 10/10 (100.0%)"), std::string::npos) << err;
  EXPECT_EQ(err.back(), '\n');
}

TEST(Progress, FormatDuration) {
  EXPECT_EQ(format_duration(12.4), "12s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
  EXPECT_EQ(format_duration(-1), "?");
}
