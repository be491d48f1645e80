// End to end through the executable: `pythia-harness score` on pythia-tiny loaded from each
// published layout (model.safetensors; pytorch_model.bin; an HF hub cache snapshot) gives
// identical output that matches transformers' golden log-probs, and a malicious
// pytorch_model.bin is refused with exit code 3 and a clear message, executing nothing.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_util.h"

namespace fs = std::filesystem;

namespace {

const fs::path kTiny = fs::path(PYTHIA_FIXTURES_DIR) / "pythia-tiny";
// transformers 4.40.2 goldens for pythia-tiny, vendored by the forward-pass tests.
const fs::path kGolden = fs::path(PYTHIA_FIXTURES_DIR) / "golden" / "pythia-tiny";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LoaderCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("loader_cli_golden_test_" + std::to_string(::getpid()) +
                                        "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs the executable with `args`; returns the exit status, stderr in `err`.
  int run(const std::string& args, std::string* err = nullptr) {
    const pythia::testing::CliRun r = pythia::testing::run_harness_stderr(args);
    if (err != nullptr) *err = r.out;
    return r.code;
  }

  fs::path unpack_bin(const fs::path& to) {
    fs::create_directories(to);
    gzFile in = gzopen((kTiny / "pytorch_model.bin.gz").c_str(), "rb");
    EXPECT_NE(in, nullptr);
    std::ofstream out(to / "pytorch_model.bin", std::ios::binary);
    std::vector<char> buf(1 << 20);
    int n;
    while ((n = gzread(in, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.write(buf.data(), n);
    gzclose(in);
    fs::copy_file(kTiny / "config.json", to / "config.json");
    return to;
  }

  fs::path dir_;
};

TEST_F(LoaderCli, ScoreIsIdenticalFromEveryLayoutAndMatchesGolden) {
  const auto golden = nlohmann::json::parse(slurp(kGolden / "positions_len0007.json"));
  const std::vector<int> ids = {1269, 426, 540, 9, 5423, 1587, 7845};  // len0007 (sequences.json)
  std::ofstream(dir_ / "in.jsonl") << nlohmann::json{{"ids", ids}}.dump() << "\n";
  const std::string io = " --input " + (dir_ / "in.jsonl").string() + " --output ";

  // 1. safetensors folder, 2. pytorch_model.bin folder.
  std::string err;
  ASSERT_EQ(run("score --model " + kTiny.string() + io + (dir_ / "st.jsonl").string(), &err), 0) << err;
  const fs::path bin_dir = unpack_bin(dir_ / "bin");
  ASSERT_EQ(run("score --model " + bin_dir.string() + io + (dir_ / "bin.jsonl").string(), &err), 0)
      << err;
  // 3. an HF hub cache (huggingface_hub layout, files as symlinks to blobs), via HF_HUB_CACHE.
  const fs::path repo = dir_ / "hub" / "models--EleutherAI--pythia-tiny";
  const std::string sha = "0123456789abcdef0123456789abcdef01234567";
  fs::create_directories(repo / "blobs");
  fs::create_directories(repo / "refs");
  fs::create_directories(repo / "snapshots" / sha);
  for (const char* f : {"config.json", "model.safetensors"}) {
    fs::copy_file(kTiny / f, repo / "blobs" / (std::string("blob_") + f));
    fs::create_symlink(std::string("../../blobs/blob_") + f, repo / "snapshots" / sha / f);
  }
  std::ofstream(repo / "refs" / "step3000") << sha;
  ::setenv("HF_HUB_CACHE", (dir_ / "hub").c_str(), 1);
  const int hub_status =
      run("score --model EleutherAI/pythia-tiny --revision step3000" + io + (dir_ / "hub.jsonl").string(),
          &err);
  const int missing_status =
      run("score --model EleutherAI/pythia-tiny --revision step1" + io + (dir_ / "x.jsonl").string(),
          &err);
  ::unsetenv("HF_HUB_CACHE");
  ASSERT_EQ(hub_status, 0);
  EXPECT_EQ(missing_status, 3);
  EXPECT_NE(err.find("has no revision 'step1' in the local cache; available: step3000"),
            std::string::npos) << err;

  const std::string st = slurp(dir_ / "st.jsonl");
  EXPECT_FALSE(st.empty());
  EXPECT_EQ(slurp(dir_ / "bin.jsonl"), st) << "pytorch_model.bin and model.safetensors differ";
  EXPECT_EQ(slurp(dir_ / "hub.jsonl"), st) << "HF cache snapshot and folder differ";

  // The .bin-loaded log-probs against transformers' (tolerance 1e-4: golden README).
  const auto out = nlohmann::json::parse(slurp(dir_ / "bin.jsonl"));
  const auto& want = golden.at("next_token_logprob");
  ASSERT_EQ(out.at("logprobs").size(), want.size());
  double max_diff = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    max_diff = std::max(max_diff, std::abs(out["logprobs"][i].get<double>() - want[i].get<double>()));
  }
  EXPECT_LT(max_diff, 1e-4);
  std::cout << "len0007 from pytorch_model.bin: max |logprob - golden| = " << max_diff << "\n";
}

TEST_F(LoaderCli, MaliciousBinIsRefusedWithExitCode3) {
  // A pytorch_model.bin whose data.pkl is GLOBAL 'posix system' ('touch <marker>',) REDUCE STOP,
  // in a minimal stored zip written byte by byte below.
  const fs::path model = dir_ / "evil";
  fs::create_directories(model);
  fs::copy_file(kTiny / "config.json", model / "config.json");
  const fs::path marker = dir_ / "pwned";
  std::string pkl = std::string("\x80\x02", 2) + "cposix\nsystem\n(X";
  const std::string cmd = "touch " + marker.string();
  const auto n = static_cast<std::uint32_t>(cmd.size());
  pkl.append(reinterpret_cast<const char*>(&n), 4);
  pkl += cmd + "tR.";
  // Minimal stored zip with one entry "archive/data.pkl" (APPNOTE 4.3.7 / 4.3.12 / 4.3.16).
  const std::string name = "archive/data.pkl";
  const auto crc = static_cast<std::uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(pkl.data()), static_cast<uInt>(pkl.size())));
  std::string z;
  const auto put16 = [&](std::uint16_t v) { z.append(reinterpret_cast<const char*>(&v), 2); };
  const auto put32 = [&](std::uint32_t v) { z.append(reinterpret_cast<const char*>(&v), 4); };
  put32(0x04034b50); put16(20); put16(0); put16(0); put16(0); put16(0x21); put32(crc);
  put32(static_cast<std::uint32_t>(pkl.size())); put32(static_cast<std::uint32_t>(pkl.size()));
  put16(static_cast<std::uint16_t>(name.size())); put16(0);
  z += name + pkl;
  const auto cd = static_cast<std::uint32_t>(z.size());
  put32(0x02014b50); put16(20); put16(20); put16(0); put16(0); put16(0); put16(0x21); put32(crc);
  put32(static_cast<std::uint32_t>(pkl.size())); put32(static_cast<std::uint32_t>(pkl.size()));
  put16(static_cast<std::uint16_t>(name.size())); put16(0); put16(0); put16(0); put16(0); put32(0);
  put32(0);
  z += name;
  const auto cd_size = static_cast<std::uint32_t>(z.size()) - cd;
  put32(0x06054b50); put16(0); put16(0); put16(1); put16(1); put32(cd_size); put32(cd); put16(0);
  std::ofstream(model / "pytorch_model.bin", std::ios::binary) << z;
  std::ofstream(dir_ / "in.jsonl") << "{\"ids\": [1, 2, 3]}\n";

  std::string err;
  EXPECT_EQ(run("score --model " + model.string() + " --input " + (dir_ / "in.jsonl").string() +
                    " --output " + (dir_ / "out.jsonl").string(),
                &err),
            3);
  EXPECT_NE(err.find("pytorch_model.bin: pickle names global 'posix.system', which is not allowed "
                     "in a state_dict; refusing to load"),
            std::string::npos)
      << err;
  EXPECT_FALSE(fs::exists(marker));
}

}  // namespace
