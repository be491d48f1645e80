// memorization/dedup_count.h against the brute-force reference (tests/reference/
// dedup_count_reference.py: every window of the memmap compared as bytes) on the mini-pile fixture:
// identical `index,count` files for W = 64, 16 and 4, with one group or many, 1 or 2 threads;
// canaries counted at least as often as they were planted; resume from the journal; errors.
#include "memorization/dedup_count.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <cstring>
#include <filesystem>

#include "data/error.h"
#include "data/gzip_stream.h"
#include "tests/test_util.h"

namespace pythia::memorization {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(PYTHIA_FIXTURES_DIR) + "/mini-pile/document";
const fs::path kGolden = fs::path(PYTHIA_FIXTURES_DIR) / "golden" / "dedup";

DedupPlan plan_for(const fs::path& out, int window, std::uint64_t memory, std::uint64_t b = 0, std::uint64_t e = 0) {
  DedupPlan p;
  p.data_prefix = kData;
  p.window = window;
  p.memory_bytes = memory;
  p.output = out;
  p.row_begin = b;
  p.row_end = e;
  p.progress = false;
  return p;
}

TEST(DedupCountGolden, EqualsBruteForceForEveryWindowGroupCountAndThreadCount) {
  const fs::path d = testing::fresh_temp_dir("dedup_golden");
  struct Case {
    int window;
    std::uint64_t b, e;
    const char* golden;
  };
  for (const Case& c : {Case{64, 0, 0, "mini-pile-w64.csv"}, Case{16, 0, 0, "mini-pile-w16.csv"},
                        Case{4, 100, 300, "mini-pile-w4-rows100-300.csv"}}) {
    const std::string want = data::read_whole_file(kGolden / c.golden);
    for (const std::uint64_t memory : {1ull << 30, 2048ull}) {
      for (const int threads : {1, 2}) {
        tbb::global_control gc(tbb::global_control::max_allowed_parallelism, threads);
        const DedupSummary s = run_dedup_count(plan_for(d, c.window, memory, c.b, c.e));
        EXPECT_EQ(data::read_whole_file(d / kDedupCsv), want) << c.golden << " memory " << memory << " threads " << threads;
        EXPECT_EQ(s.groups, memory == 2048 ? (s.query_rows * 80 + 2047) / 2048 : 1u);
        EXPECT_FALSE(fs::exists(d / ".dedup-work"));
      }
    }
  }
  fs::remove_all(d);
}

TEST(DedupCountGolden, CanariesOccurAtLeastAsOftenAsPlanted) {
  const fs::path d = testing::fresh_temp_dir("dedup_canaries");
  run_dedup_count(plan_for(d, 64, 1ull << 30));
  std::map<std::uint64_t, std::uint64_t> count;
  const std::string csv = data::read_whole_file(d / kDedupCsv);
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) count[std::stoull(line)] = std::stoull(line.substr(line.find(',') + 1));
  const auto manifest = nlohmann::json::parse(data::read_whole_file(std::string(PYTHIA_FIXTURES_DIR) + "/mini-pile/canaries.json"));
  int checked = 0;
  for (const auto& c : manifest["canaries"]) {
    for (const auto& i : c["indices"]) {
      EXPECT_GE(count.at(i.get<std::uint64_t>()), c["duplicates"].get<std::uint64_t>()) << "row " << i;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 258);
  const auto j = nlohmann::json::parse(data::read_whole_file(d / kDedupJson));
  EXPECT_EQ(j["window"], 64);
  std::uint64_t rows = 0;
  for (const auto& [k, v] : j["histogram"].items()) rows += v.get<std::uint64_t>();
  EXPECT_EQ(rows, 576u);
  fs::remove_all(d);
}

TEST(DedupCountGolden, ResumesFromTheJournalAndRefusesAForeignOne) {
  const fs::path d = testing::fresh_temp_dir("dedup_resume");
  DedupPlan p = plan_for(d, 64, 4096);
  p.keep_work = true;
  const DedupSummary first = run_dedup_count(p);
  ASSERT_GT(first.groups, 2u);
  const fs::path work = d / ".dedup-work";
  // An "interrupted" run: only group 0 finished, and its first count marked to prove it is reused.
  const fs::path g0 = work / ("group-0-of-" + std::to_string(first.groups) + ".bin");
  std::string bytes = data::read_whole_file(g0);
  std::uint64_t row = 0, marked = 999;
  std::memcpy(&row, bytes.data() + 8, 8);
  std::memcpy(bytes.data() + 16, &marked, 8);
  for (std::uint64_t g = 1; g < first.groups; ++g) fs::remove(work / ("group-" + std::to_string(g) + "-of-" + std::to_string(first.groups) + ".bin"));
  data::write_file_atomic(g0, bytes);
  p.keep_work = false;
  const DedupSummary second = run_dedup_count(p);
  EXPECT_EQ(second.groups_resumed, 1u);
  const std::string csv = data::read_whole_file(d / kDedupCsv);
  EXPECT_NE(csv.find("\n" + std::to_string(row) + ",999\n"), std::string::npos);
  EXPECT_FALSE(fs::exists(work));
  // A work folder of another configuration is refused, naming it.
  p.keep_work = true;
  run_dedup_count(p);
  try {
    run_dedup_count(plan_for(d, 32, 4096));
    FAIL() << "foreign journal accepted";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(".dedup-work"), std::string::npos) << e.what();
  }
  fs::remove_all(d);
}

TEST(DedupCountGolden, BadInputIsAClearError) {
  const fs::path d = testing::fresh_temp_dir("dedup_bad");
  EXPECT_THROW(run_dedup_count(plan_for(d, 3000, 1ull << 30)), DataError);  // rows have 2049 tokens
  DedupPlan missing = plan_for(d, 64, 1ull << 30);
  missing.data_prefix = (d / "nothing").string();
  EXPECT_THROW(run_dedup_count(missing), DataError);
  EXPECT_THROW(run_dedup_count(plan_for(d, 64, 1ull << 30, 10, 5000)), UsageError);
  const auto r = testing::run_harness("dedup-count --data " + kData + " --output " + d.string() + " --step 3 --sequences-per-step 16 --window 64 --no-progress");
  EXPECT_EQ(r.code, 0) << r.out;
  const std::string golden = data::read_whole_file(kGolden / "mini-pile-w64.csv");
  std::string first48;
  for (std::size_t pos = 0, n = 0; n < 48; ++n) pos = golden.find('\n', pos) + 1, first48 = golden.substr(0, pos);
  EXPECT_EQ(data::read_whole_file(d / kDedupCsv), first48);  // step 3 x 16 rows = rows [0, 48)
  EXPECT_EQ(testing::run_harness("dedup-count --data " + kData).code, 2);
  EXPECT_EQ(testing::run_harness("dedup-count --data " + kData + " -o " + d.string() + " --start 5").code, 2);
  EXPECT_EQ(testing::run_harness("dedup-count --data " + (d / "none").string() + " -o " + d.string()).code, 3);
  fs::remove_all(d);
}

}  // namespace
}  // namespace pythia::memorization
