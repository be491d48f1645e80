// The memorize job around the scanner, on a synthetic memmap and a stub model: checkpoint step ->
// rows, the resume journal (torn tail, configuration
// mismatch), bad-input errors naming the file, and output formats.
#include "memorization/scan_job.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "data/checkpoint_step.h"
#include "data/error.h"
#include "data/gzip_stream.h"
#include "data/sha256.h"
#include "memorization/journal.h"
#include "results/memorization_file.h"
#include "tests/memmap_writer.h"

namespace fs = std::filesystem;
using namespace pythia::memorization;
using namespace pythia::results;
namespace data = pythia::data;
using pythia::DataError;
using pythia::UsageError;
using pythia::model::KvCache;
using pythia::model::LogitSink;
using pythia::model::Token;

namespace {

constexpr int kVocab = 512;

// Predicts token (previous + 1) % 500, except after a token divisible by 7 (predicts 3).
class StubLm : public pythia::model::CausalLm {
 public:
  int vocab_size() const override { return kVocab; }
  int max_positions() const override { return 2048; }
  KvCache make_cache(int capacity) const override { return KvCache(0, 0, 0, capacity); }
  std::vector<float> logits(Token last) const {
    std::vector<float> l(kVocab, 0.0f);
    l[static_cast<std::size_t>(last % 7 == 0 ? 3 : (last + 1) % 500)] = 1.0f + static_cast<float>(last % 5) / 100.0f;
    return l;
  }
  void forward(std::span<const Token> tokens, KvCache& cache, std::span<const int> rows,
               const LogitSink& sink) const override {
    cache.append(tokens);
    for (int r : rows) sink(r, logits(tokens[static_cast<std::size_t>(r)]));
  }
  void decode(std::span<const Token> tokens, std::span<KvCache* const> caches, const LogitSink& sink) const override {
    for (std::size_t b = 0; b < tokens.size(); ++b) {
      caches[b]->append(tokens.subspan(b, 1));
      sink(static_cast<int>(b), logits(tokens[b]));
    }
  }
};

// R rows of `len` uint16 tokens: row i is (i*13 + t) % 500 (consecutive, so often "memorized").
void write_memmap(const fs::path& prefix, int R, int len = 2049) {
  pythia::testing::write_preshuffled_memmap(prefix, R, len,
                                            [](int i, int t) { return (i * 13 + t) % 500; });
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void expect_data_error_fn(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no DataError (" << needle << ")";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

class MemorizeJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("memjob_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write_memmap(dir_ / "doc", 40);
  }
  void TearDown() override { fs::remove_all(dir_); }
  ScanPlan options(const std::string& out = "out") const {
    ScanPlan o;
    o.data = (dir_ / "doc").string();
    o.output = (dir_ / out).string();
    o.sequences_per_step = 4;
    o.progress = false;
    o.batch_size = 3;
    return o;
  }
  fs::path dir_;
  StubLm lm_;
};

TEST(RowsOfStep, StepMapsToRowsSeen) {
  EXPECT_EQ(rows_of_step(0, 1024), (std::pair<std::uint64_t, std::uint64_t>{0, 0}));
  EXPECT_EQ(rows_of_step(1, 1024), (std::pair<std::uint64_t, std::uint64_t>{0, 1024}));
  EXPECT_EQ(rows_of_step(143000, 1024).second, 146432000u);
  EXPECT_THROW(rows_of_step(143001, 1024), UsageError);
  EXPECT_THROW(rows_of_step(-1, 1024), UsageError);
  EXPECT_EQ(pythia::data::step_of_revision("step1000"), 1000);
  EXPECT_EQ(pythia::data::step_of_revision("step0"), 0);
  EXPECT_FALSE(pythia::data::step_of_revision("main"));
  EXPECT_FALSE(pythia::data::step_of_revision("step12x"));
}

TEST_F(MemorizeJobTest, WritesCsvAndJson) {
  auto o = options();
  o.extended_csv = true;
  const auto s = run_memorize_job(lm_, "stub", "step5", o);  // rows [0, 20)
  EXPECT_EQ(s.row_begin, 0u);
  EXPECT_EQ(s.row_end, 20u);
  const fs::path d = dir_ / "out" / "stub" / "step5";
  const std::string csv = data::read_whole_file(d / kScoresCsv);
  std::istringstream in(csv);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    EXPECT_EQ(line.substr(0, line.find(',')), std::to_string(n));
    ++n;
  }
  EXPECT_EQ(n, 20);
  const auto j = nlohmann::json::parse(read_text(d / kMemorizationJson));
  EXPECT_EQ(j["rows_scanned"], 20);
  EXPECT_EQ(j["step"], 5);
  EXPECT_EQ(j["row_range"], nlohmann::json::array({0, 20}));
  EXPECT_EQ(j["histogram"].size(), 33u);
  EXPECT_EQ(j["data"]["files"][0]["name"], "doc.idx");
  EXPECT_EQ(j["data"]["files"][0]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["data"]["files"][1]["sha256"].get<std::string>().size(), 64u);
  std::uint64_t total = 0;
  for (const auto& h : j["histogram"]) total += h.get<std::uint64_t>();
  EXPECT_EQ(total, 20u);
  EXPECT_EQ(j["rows_memorized"], j["memorized_indices"].size());
  EXPECT_FALSE(fs::exists(d / "memorization.journal"));
  const std::string ext = data::read_whole_file(d / kExtendedCsv);
  EXPECT_EQ(ext.substr(0, ext.find('\n') + 1), extended_csv_header());
  // Rows beyond 4*step are flagged unseen.
  o.start = 18;
  o.end = 22;
  o.output = (dir_ / "out2").string();
  run_memorize_job(lm_, "stub", "step5", o);
  const auto j2 = nlohmann::json::parse(read_text(dir_ / "out2/stub/step5" / kMemorizationJson));
  EXPECT_EQ(j2["rows_unseen"], 2);
}

TEST_F(MemorizeJobTest, MemorizedOnlyModeWritesNoScores) {
  auto o = options();
  o.score_mode = ScoreMode::kMemorizedOnly;
  run_memorize_job(lm_, "stub", "step5", o);
  const fs::path d = dir_ / "out" / "stub" / "step5";
  EXPECT_FALSE(fs::exists(d / kScoresCsv));
  auto exact = options("exact");
  run_memorize_job(lm_, "stub", "step5", exact);
  const auto a = nlohmann::json::parse(read_text(d / kMemorizationJson));
  const auto b = nlohmann::json::parse(read_text(dir_ / "exact/stub/step5" / kMemorizationJson));
  EXPECT_EQ(a["memorized_indices"], b["memorized_indices"]);
  EXPECT_TRUE(a["mean_score"].is_null());
  EXPECT_EQ(a["score_mode"], "memorized-only");
}

TEST_F(MemorizeJobTest, ResumeFromJournalGivesSameFiles) {
  const auto ref = options("ref");
  run_memorize_job(lm_, "stub", "step5", ref);
  // An interrupted run: the model fails after 7 rows, leaving a journal of the finished blocks.
  auto o = options();
  const fs::path d = dir_ / "out" / "stub" / "step5";
  {
    struct Failing : StubLm {
      mutable std::atomic<int> calls{0};
      void forward(std::span<const Token> tokens, KvCache& cache, std::span<const int> rows,
                   const LogitSink& sink) const override {
        if (++calls > 7) throw std::runtime_error("killed");
        StubLm::forward(tokens, cache, rows, sink);
      }
    } failing;
    auto o1 = o;
    EXPECT_THROW(run_memorize_job(failing, "stub", "step5", o1), std::runtime_error);
  }
  ASSERT_TRUE(fs::exists(d / "memorization.journal"));
  EXPECT_FALSE(fs::exists(d / kMemorizationJson));
  // Torn tail: append half a block.
  {
    std::ofstream f(d / "memorization.journal", std::ios::binary | std::ios::app);
    f.write("BLK1\x05\x00\x00", 7);
  }
  const auto s = run_memorize_job(lm_, "stub", "step5", o);
  EXPECT_GT(s.rows_resumed, 0u);
  EXPECT_LT(s.rows_resumed, 20u);
  EXPECT_EQ(s.rows_resumed + s.rows_computed, 20u);
  const fs::path r = dir_ / "ref" / "stub" / "step5";
  EXPECT_EQ(read_text(r / kScoresCsv), read_text(d / kScoresCsv));
  auto ja = nlohmann::json::parse(read_text(r / kMemorizationJson));
  auto jb = nlohmann::json::parse(read_text(d / kMemorizationJson));
  EXPECT_EQ(jb["run"]["journal_bytes_truncated"], 7);
  for (auto* j : {&ja, &jb}) {
    j->erase("run");
    j->erase("timing");
  }
  EXPECT_EQ(ja, jb);
  // Finished: a re-run is a no-op, another configuration is refused.
  EXPECT_TRUE(run_memorize_job(lm_, "stub", "step5", o).already_complete);
  auto other = o;
  other.prefix_len = 16;
  EXPECT_THROW(run_memorize_job(lm_, "stub", "step5", other), UsageError);
}

TEST_F(MemorizeJobTest, JournalRefusesAnotherConfiguration) {
  const fs::path p = dir_ / "j";
  {
    MemorizationJournal j(p, R"({"a":1,"b":2})");
    RowScore r;
    r.index = 10;
    r.matches = 5;
    r.first_mismatch = 37;
    r.min_margin = 0.25f;
    r.score_known = true;
    j.append(10, std::span<const RowScore>(&r, 1));
  }
  try {
    MemorizationJournal j(p, R"({"a":1,"b":3})");
    FAIL() << "accepted another configuration";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("b: journal 2, now 3"), std::string::npos) << e.what();
  }
  MemorizationJournal j(p, R"({"a":1,"b":2})");
  EXPECT_THROW(MemorizationJournal(p, R"({"a":1,"b":2})"), UsageError);  // locked by `j`
  ASSERT_EQ(j.blocks().size(), 1u);
  const auto rows = j.read(j.blocks()[0]);
  EXPECT_EQ(rows[0].index, 10u);
  EXPECT_EQ(rows[0].matches, 5);
  EXPECT_EQ(rows[0].first_mismatch, 37);
  EXPECT_EQ(rows[0].min_margin, 0.25f);
  EXPECT_TRUE(rows[0].score_known);
}

void expect_data_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no DataError (" << needle << ")";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST_F(MemorizeJobTest, JournalWithTornHeaderStartsAfresh) {
  const fs::path p = dir_ / "j";
  for (const std::string& torn : {std::string("PYME"), std::string("PYMEMJ01\x20\x00\x00\x00{\"a\"")}) {
    {
      std::ofstream f(p, std::ios::binary);
      f << torn;
    }
    MemorizationJournal j(p, R"({"a":1})");
    EXPECT_EQ(j.rows_done(), 0u);
  }
  // A complete header with a bad checksum is corruption, not a torn write.
  std::string bytes = read_text(p);
  bytes[13] = 'b';
  {
    std::ofstream f(p, std::ios::binary);
    f << bytes;
  }
  EXPECT_THROW(MemorizationJournal(p, R"({"a":1})"), DataError);
}

TEST_F(MemorizeJobTest, VerifySha256List) {
  auto o = options();
  o.verify_sha256 = (dir_ / "hashes.txt").string();
  {
    std::ofstream f(o.verify_sha256);  // shard_hashes.txt order, then sha256sum order
    f << "doc.idx " << pythia::data::sha256_file(dir_ / "doc.idx") << "\n"
      << std::string(64, 'a') << "  doc.bin\n";
  }
  expect_data_error_fn([&] { run_memorize_job(lm_, "stub", "step1", o); }, "doc.bin: SHA-256");
  {
    std::ofstream f(o.verify_sha256);
    f << "doc.idx " << pythia::data::sha256_file(dir_ / "doc.idx") << "\n";
  }
  o.checksums = Checksums::kNone;
  run_memorize_job(lm_, "stub", "step1", o);
  const auto j = nlohmann::json::parse(read_text(dir_ / "out/stub/step1" / kMemorizationJson));
  EXPECT_EQ(j["data"]["files"][0]["verified"], true);
  EXPECT_EQ(j["data"]["files"][1]["verified"], false);
  EXPECT_TRUE(j["data"]["files"][1]["sha256"].is_null());
}

TEST_F(MemorizeJobTest, BadInputIsOneClearError) {
  auto o = options();
  // Range past the end of the 40-row file (step 11 -> 44 rows).
  expect_data_error([&] { run_memorize_job(lm_, "stub", "step11", o); }, "doc.idx");
  EXPECT_THROW(run_memorize_job(lm_, "stub", "step143001", o), UsageError);
  EXPECT_THROW(run_memorize_job(lm_, "stub", "main", o), UsageError);  // no step, no range
  // Not the preshuffled layout; and rows shorter than 64 tokens with --any-layout.
  write_memmap(dir_ / "short", 8, 50);
  o.data = (dir_ / "short").string();
  expect_data_error([&] { run_memorize_job(lm_, "stub", "step1", o); }, "preshuffled");
  o.any_layout = true;
  expect_data_error([&] { run_memorize_job(lm_, "stub", "step1", o); }, "fewer than the 64");
  // Missing data.
  o.data = (dir_ / "nothing").string();
  expect_data_error([&] { run_memorize_job(lm_, "stub", "step1", o); }, "nothing.idx");
}

}  // namespace

namespace {

// StubLm whose prefill fails from its 4th call on (a block in the middle of the scan), as a model
// or a disk failing mid-scan does.
class FailingLm : public StubLm {
 public:
  void forward(std::span<const Token> tokens, KvCache& cache, std::span<const int> rows,
               const LogitSink& sink) const override {
    if (calls_.fetch_add(1) >= 3) {
      // Time for the read filter to put the next block in flight before the failure.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      throw DataError("stub-weights", "injected failure mid-scan");
    }
    StubLm::forward(tokens, cache, rows, sink);
  }

 private:
  mutable std::atomic<int> calls_{0};
};

// A failure inside the read -> score -> journal pipeline while other blocks are in flight is one
// clear error, and (under ASan, the `asan` preset) frees every block: oneTBB drops the items in
// flight without destroying them, which leaked the blocks when they were passed by shared_ptr.
TEST_F(MemorizeJobTest, FailureMidScanIsOneErrorAndFreesTheBlocksInFlight) {
  auto o = options();  // step 5: 20 rows, 7 blocks of 3
  const FailingLm failing;
  expect_data_error_fn([&] { run_memorize_job(failing, "stub", "step5", o); }, "injected failure mid-scan");
  for (const auto& e : fs::recursive_directory_iterator(o.output)) {
    EXPECT_NE(e.path().filename(), kScoresCsv) << "a scores file after a failed scan: " << e.path();
  }
  // The journal keeps the blocks finished before the failure; the re-run completes them.
  const auto s = run_memorize_job(lm_, "stub", "step5", o);
  EXPECT_EQ(s.rows_scanned, 20u);
  EXPECT_EQ(s.rows_resumed + s.rows_computed, 20u);
  EXPECT_TRUE(fs::exists(s.output_dir / kScoresCsv));
}

}  // namespace
