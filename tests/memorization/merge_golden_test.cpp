// `pythia-harness merge` (memorization/merge.h): shards of a memorize run with --token-stats,
// --memorized-evals and --extended-csv, merged, give byte for byte the files of one unsharded
// run of the same rows (demo-pythia step36, which memorizes rows, so memorized_evals is not
// empty); shards that are not one scan (overlap, gap, other configuration, a token statistics
// file of another range or with a wrong record, a memorized-evals file that disagrees with its
// memorization.json) are refused with exit 3 and a message naming the file and the problem.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "data/gzip_stream.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;
using pythia::testing::read_bytes;
using pythia::testing::run_harness;

const std::string kFix = PYTHIA_FIXTURES_DIR;
const char* kFiles[] = {"memorization_scores.csv.gz", "memorization_scores_extended.csv.gz",
                        "memorization_token_stats.bin", "memorized_evals.jsonl.gz"};

std::string memorize(const fs::path& out, const std::string& extra) {
  return "memorize --model " + kFix + "/demo-pythia --revision step36 --data " + kFix +
         "/mini-pile/document --sequences-per-step 16 --start 0 --end 192 --token-stats --memorized-evals "
         "--extended-csv --no-progress --threads 2 --output " + out.string() + " " + extra;
}

json without_process_fields(const fs::path& p) {
  json j = json::parse(read_bytes(p));
  j.erase("run");
  j.erase("timing");
  return j;
}

void write_json(const fs::path& p, const json& j) { std::ofstream(p, std::ios::trunc) << j.dump(2); }

class Merge : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = pythia::testing::fresh_temp_dir("merge_golden");
    auto r = run_harness(memorize(root_ / "single", ""));
    ASSERT_EQ(r.code, 0) << r.out;
    for (int k = 0; k < 3; ++k) {
      r = run_harness(memorize(root_ / "sharded", "--batch-size " + std::to_string(20 + 4 * k) + " --shard " +
                                                    std::to_string(k) + "/3"));
      ASSERT_EQ(r.code, 0) << r.out;
    }
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  // A copy of the sharded revision folder to break; returns its path.
  static fs::path copy_shards(const std::string& name) {
    const fs::path dst = root_ / name;
    fs::remove_all(dst);
    fs::copy(root_ / "sharded", dst, fs::copy_options::recursive);
    return dst / "demo-pythia" / "step36";
  }
  // merge must fail with exit 3 and a message holding `file` and `problem`.
  static void expect_refused(const fs::path& dir, const std::string& file, const std::string& problem) {
    const auto r = run_harness("merge " + dir.string());
    EXPECT_EQ(r.code, 3) << r.out;
    EXPECT_NE(r.out.find(file), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(problem), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(dir / "memorization.json")) << "a refused merge left a merged memorization.json";
  }
  static fs::path root_;
};
fs::path Merge::root_;

TEST_F(Merge, ShardsEqualOneRunByteForByte) {
  const fs::path single = root_ / "single" / "demo-pythia" / "step36";
  const fs::path dir = copy_shards("ok");
  const auto r = run_harness("merge " + dir.string());
  ASSERT_EQ(r.code, 0) << r.out;
  const json one = without_process_fields(single / "memorization.json");
  ASSERT_GT(one["rows_memorized"].get<int>(), 0) << "the demo checkpoint should memorize rows";
  for (const char* f : kFiles) {
    const std::string a = read_bytes(single / f), b = read_bytes(dir / f);
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_TRUE(a == b) << f << " differs: " << a.size() << " bytes unsharded, " << b.size() << " merged";
  }
  EXPECT_EQ(one, without_process_fields(dir / "memorization.json"));
  std::printf("merge: 3 shards of rows [0, 192), %d memorized: %zu files byte-identical to the unsharded run\n",
              one["rows_memorized"].get<int>(), std::size(kFiles));
}

TEST_F(Merge, RefusesOverlapAndGap) {
  for (const auto& [name, begin] : {std::pair<std::string, int>{"overlap", 62}, {"gap", 66}}) {
    const fs::path dir = copy_shards(name);
    const fs::path j1 = dir / "shard-1-of-3" / "memorization.json";
    json j = json::parse(read_bytes(j1));
    const int end = j["row_range"][1];
    j["row_range"][0] = begin;
    j["rows_scanned"] = end - begin;
    write_json(j1, j);
    expect_refused(dir, j1.string(), name == "overlap" ? "overlap shard 0's [0, 64)" : "leave a gap after shard 0's");
  }
}

TEST_F(Merge, RefusesAnotherConfiguration) {
  const fs::path dir = copy_shards("config");
  const fs::path j2 = dir / "shard-2-of-3" / "memorization.json";
  json j = json::parse(read_bytes(j2));
  j["tau"] = 0.5;
  write_json(j2, j);
  expect_refused(dir, j2.string(), "key 'tau' differs from shard 0");
}

TEST_F(Merge, RefusesTokenStatsOfAnotherRangeOrWithWrongRows) {
  {  // shard 1's statistics file in shard 2's place: its header names rows [64, 128)
    const fs::path dir = copy_shards("stats_header");
    const fs::path bin = dir / "shard-2-of-3" / "memorization_token_stats.bin";
    fs::copy_file(dir / "shard-1-of-3" / "memorization_token_stats.bin", bin, fs::copy_options::overwrite_existing);
    expect_refused(dir, bin.string(), "header is not the one a scan of rows [128, 192)");
  }
  {  // a record index overwritten
    const fs::path dir = copy_shards("stats_record");
    const fs::path bin = dir / "shard-0-of-3" / "memorization_token_stats.bin";
    std::string b = read_bytes(bin);
    const std::uint32_t n = *reinterpret_cast<const std::uint32_t*>(b.data() + 8);
    const std::size_t rec = 12 + n + 5 * (8 + 12 * 32);  // record 5
    b[rec] = static_cast<char>(b[rec] + 1);
    std::ofstream(bin, std::ios::binary | std::ios::trunc) << b;
    expect_refused(dir, bin.string(), "record 5 holds row 6, expected 5");
  }
  {  // truncated
    const fs::path dir = copy_shards("stats_size");
    const fs::path bin = dir / "shard-1-of-3" / "memorization_token_stats.bin";
    fs::resize_file(bin, fs::file_size(bin) - 12);
    expect_refused(dir, bin.string(), "does not match 64 rows");
  }
  {  // missing
    const fs::path dir = copy_shards("stats_missing");
    const fs::path bin = dir / "shard-1-of-3" / "memorization_token_stats.bin";
    fs::remove(bin);
    expect_refused(dir, bin.string(), "cannot open");
  }
}

TEST_F(Merge, RefusesMemorizedEvalsThatDisagreeWithTheScores) {
  // Find a shard with memorized rows, drop its last row from the file.
  const fs::path dir = copy_shards("evals");
  for (int k = 0; k < 3; ++k) {
    const fs::path shard = dir / ("shard-" + std::to_string(k) + "-of-3");
    const json j = json::parse(read_bytes(shard / "memorization.json"));
    if (j["rows_memorized"].get<int>() == 0) continue;
    const fs::path f = shard / "memorized_evals.jsonl.gz";
    std::string text = pythia::data::read_whole_file(f);
    text.erase(text.rfind('\n', text.size() - 2) + 1);
    pythia::data::AtomicGzipWriter w(f);
    w.write(text);
    w.commit();
    expect_refused(dir, f.string(), "the shard memorized " + std::to_string(j["rows_memorized"].get<int>()));
    return;
  }
  FAIL() << "no shard memorized a row";
}

}  // namespace
