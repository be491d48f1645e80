// model/memory_check: a checkpoint too large for the machine is refused before loading, with a
// DataError naming the folder and both sizes (not an OOM kill): the estimate, the refusal
// message, checkpoint_weight_bytes for every layout, and end to end a pythia-12b-shaped folder
// (its config.json and a sparse weight file of its fp16 size) through load_gpt_neox and
// `pythia-harness score` (exit 3); the KV caches a command declares (Workload) count too:
// kv_cache_bytes agrees with what KvCache allocates, and `memorize` refuses a model whose
// weights fit but whose --batch-size caches do not, naming them; `--compute bf16` counts its bf16
// copies of the matrices (bf16_copy_bytes equals what make_bf16_weights allocates) and `memorize
// --compute bf16` is refused before loading where the fp32 run passes the check.
#include "model/memory_check.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <fstream>
#include <string>

#include "data/error.h"
#include "model/gemm_bf16_weights.h"
#include "model/gpt_neox.h"
#include "model/kv_cache.h"
#include "tests/test_util.h"

namespace pythia::model {
namespace {

namespace fs = std::filesystem;

// pythia-12b's config.json (EleutherAI/pythia-12b, transformers 4.40.2 keys).
const char* const k12bConfig = R"({
  "architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0,
  "hidden_act": "gelu", "hidden_size": 5120, "initializer_range": 0.02,
  "intermediate_size": 20480, "layer_norm_eps": 1e-05, "max_position_embeddings": 2048,
  "model_type": "gpt_neox", "num_attention_heads": 40, "num_hidden_layers": 36,
  "rotary_emb_base": 10000, "rotary_pct": 0.25, "tie_word_embeddings": false,
  "torch_dtype": "float16", "transformers_version": "4.40.2", "use_cache": true,
  "use_parallel_residual": true, "vocab_size": 50688})";

// A sparse file of `size` bytes (no disk blocks).
void sparse_file(const fs::path& p, std::uint64_t size) {
  { std::ofstream(p, std::ios::binary); }
  fs::resize_file(p, size);
}

// Bytes of pythia-12b's fp16 weights: 11.85 G parameters x 2.
std::uint64_t pythia12b_fp16_bytes() {
  const std::uint64_t C = 5120, I = 20480, V = 50688, L = 36;
  const std::uint64_t per_layer = 4 * C * C + 2 * C * I + 3 * C + C + I + C + 4 * C;
  return 2 * (2 * V * C + L * per_layer + 2 * C);
}

TEST(MemoryCheck, EstimateIsWeightsPlusMargin) {
  EXPECT_EQ(estimate_resident_bytes(0), std::uint64_t{512} << 20);
  EXPECT_EQ(estimate_resident_bytes(20'000'000'000), 21'000'000'000 + (std::uint64_t{512} << 20));
  const auto avail = available_memory();
  ASSERT_TRUE(avail.has_value()) << "Linux has /proc/meminfo";
  std::printf("available: %.2f GB (%s); pythia-12b fp16 weights %.2f GB\n", avail->available / 1e9,
              avail->source.c_str(), pythia12b_fp16_bytes() / 1e9);
  EXPECT_GT(avail->available, 0u);
}

TEST(MemoryCheck, RefusalNamesTheFolderAndBothSizes) {
  const MemoryLimit limit{22'000'000'000, "MemAvailable in /proc/meminfo"};
  EXPECT_NO_THROW(check_memory_fits("/models/pythia-6.9b", 13'700'000'000, limit));
  try {
    check_memory_fits("/models/pythia-12b", 23'800'000'000, limit);
    FAIL() << "no error";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    std::printf("%s\n", msg.c_str());
    EXPECT_EQ(msg.rfind("/models/pythia-12b: ", 0), 0u) << msg;
    EXPECT_NE(msg.find("needs about 25.5 GB"), std::string::npos) << msg;
    EXPECT_NE(msg.find("23.8 GB of weights"), std::string::npos) << msg;
    EXPECT_NE(msg.find("only 22.0 GB is available (MemAvailable in /proc/meminfo)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("PYTHIA_SKIP_MEMORY_CHECK=1"), std::string::npos) << msg;
  }
}

TEST(MemoryCheck, WeightBytesOfEveryLayout) {
  const fs::path dir = testing::fresh_temp_dir("memcheck_layouts");
  EXPECT_EQ(checkpoint_weight_bytes(dir), 0u);
  sparse_file(dir / "pytorch_model-00001-of-00002.bin", 1000);
  sparse_file(dir / "pytorch_model-00002-of-00002.bin", 234);
  std::ofstream(dir / "pytorch_model.bin.index.json")
      << R"({"weight_map": {"a": "pytorch_model-00001-of-00002.bin", "b": "pytorch_model-00002-of-00002.bin", "c": "pytorch_model-00002-of-00002.bin"}})";
  EXPECT_EQ(checkpoint_weight_bytes(dir), 1234u);
  sparse_file(dir / "pytorch_model.bin", 5000);
  EXPECT_EQ(checkpoint_weight_bytes(dir), 5000u);
  sparse_file(dir / "model-00001-of-00001.safetensors", 777);
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00001.safetensors", "m": "missing.safetensors"}})";
  EXPECT_EQ(checkpoint_weight_bytes(dir), 777u);  // safetensors preferred; a missing shard counts 0
  sparse_file(dir / "model.safetensors", 42);
  EXPECT_EQ(checkpoint_weight_bytes(dir), 42u);
  fs::remove_all(dir);
}

// A folder shaped like pythia-12b: its config and a sparse model.safetensors of its fp16 size
// (grown if this machine could hold that), so the check must refuse it before reading a byte.
fs::path make_fake_12b() {
  const fs::path dir = testing::fresh_temp_dir("pythia-12b");
  std::ofstream(dir / "config.json") << k12bConfig;
  std::uint64_t size = pythia12b_fp16_bytes();
  if (const auto a = available_memory(); a && estimate_resident_bytes(size) <= a->available)
    size = 2 * a->available;
  sparse_file(dir / "model.safetensors", size);
  return dir;
}

// A pythia-12b-shaped folder <temp>/<prefix>_<pid> whose sparse weights leave about `spare` bytes
// of this machine's available memory (less the check's 5 % + 512 MiB working allowance) for what
// the command adds (KV caches, bf16 copies), so that the check's verdict turns on exactly those.
// nullopt when the machine has too little memory to set this up (the caller skips).
std::optional<fs::path> make_12b_leaving(const std::string& prefix, std::uint64_t spare) {
  ::unsetenv("PYTHIA_SKIP_MEMORY_CHECK");
  const auto avail = available_memory();
  EXPECT_TRUE(avail.has_value());
  const std::uint64_t margin = std::uint64_t{512} << 20;
  if (!avail || avail->available < margin + spare + 1'000'000'000) return std::nullopt;
  const fs::path dir = testing::fresh_temp_dir(prefix);
  std::ofstream(dir / "config.json") << k12bConfig;
  sparse_file(dir / "model.safetensors", (avail->available - margin - spare) * 20 / 21);
  return dir;
}

TEST(MemoryCheck, TooLargeCheckpointIsRefusedBeforeLoading) {
  ::unsetenv("PYTHIA_SKIP_MEMORY_CHECK");
  const fs::path dir = make_fake_12b();
  try {
    (void)load_gpt_neox(dir);
    FAIL() << "loaded";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(dir.string() + ": this model needs about ", 0), 0u) << msg;
  }
  // With the check off, loading goes on and fails on the (all-zero) file instead.
  ::setenv("PYTHIA_SKIP_MEMORY_CHECK", "1", 1);
  try {
    (void)load_gpt_neox(dir);
    FAIL() << "loaded";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()).find("needs about"), std::string::npos) << e.what();
  }
  ::unsetenv("PYTHIA_SKIP_MEMORY_CHECK");
  fs::remove_all(dir);
}

TEST(MemoryCheck, ScoreExitsWithDataErrorNamingTheModel) {
  ::unsetenv("PYTHIA_SKIP_MEMORY_CHECK");
  const fs::path dir = make_fake_12b();
  std::ofstream(dir / "in.jsonl") << "{\"ids\": [1, 2, 3]}\n";
  const auto r = testing::run_harness_stderr("score --model " + dir.string() + " --input " +
                                             (dir / "in.jsonl").string() + " --output " +
                                             (dir / "out.jsonl").string());
  std::printf("%s", r.out.c_str());
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find(dir.string() + ": this model needs about"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

TEST(MemoryCheck, KvCacheBytesIsWhatKvCacheAllocates) {
  NeoxConfig c;
  c.hidden_size = 32;
  c.num_attention_heads = 4;
  c.num_hidden_layers = 3;
  c.max_position_embeddings = 16;
  const KvCache cache(c.num_hidden_layers, c.num_attention_heads, c.head_dim(), 10);
  // One layer's k block, times k and v, times the layers.
  const auto layer_bytes = static_cast<std::uint64_t>(cache.k(1) - cache.k(0)) * sizeof(float);
  EXPECT_EQ(kv_cache_bytes(c, Workload{1, 10, ""}), 2 * 3 * layer_bytes);
  EXPECT_EQ(kv_cache_bytes(c, Workload{5, 10, ""}), 5 * 2 * 3 * layer_bytes);
  EXPECT_EQ(kv_cache_bytes(c, Workload{1, 0, ""}), kv_cache_bytes(c, Workload{1, 16, ""}));  // 0: max
  EXPECT_EQ(kv_cache_bytes(c, Workload{1, 100, ""}), kv_cache_bytes(c, Workload{1, 16, ""}));  // capped
  EXPECT_EQ(kv_cache_bytes(c, Workload{}), 0u);
  // pythia-6.9b: 1 MiB per position, so memorize's default 2 blocks x 64 rows x 64 positions is 8 GiB.
  NeoxConfig big;
  big.hidden_size = 4096;
  big.num_attention_heads = 32;
  big.num_hidden_layers = 32;
  EXPECT_EQ(kv_cache_bytes(big, Workload{1, 1, ""}), std::uint64_t{1} << 20);
  EXPECT_EQ(kv_cache_bytes(big, Workload{128, 64, ""}), std::uint64_t{8} << 30);
}

TEST(MemoryCheck, RefusalNamesTheKvCaches) {
  const MemoryLimit limit{22'000'000'000, "MemAvailable in /proc/meminfo"};
  EXPECT_NO_THROW(check_memory_fits("/m/6.9b", 13'700'000'000, limit, std::uint64_t{4} << 30, "x"));
  try {
    check_memory_fits("/m/6.9b", 13'700'000'000, limit, std::uint64_t{8} << 30, "memorize: 2 blocks; x");
    FAIL() << "no error";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    std::printf("%s\n", msg.c_str());
    EXPECT_EQ(msg.rfind("/m/6.9b: this model needs about 23.5 GB", 0), 0u) << msg;
    EXPECT_NE(msg.find("+ 8.6 GB of KV caches (memorize: 2 blocks; x))"), std::string::npos) << msg;
  }
}

// memorize on a folder whose weights fit this machine with ~5.75 GB to spare but whose default
// KV caches (2+ blocks x 64 rows x 64 positions, 1.4 MiB per position at pythia-12b's width)
// do not: refused before loading, naming the caches; with --batch-size 1 the check passes and
// the load fails on the all-zero weight file instead.
TEST(MemoryCheck, MemorizeCountsItsKvCaches) {
  const auto made = make_12b_leaving("kv-refusal", 5'750'000'000);
  if (!made) GTEST_SKIP() << "too little memory to set up";
  const fs::path dir = *made;
  const std::string cmd = "memorize --model " + dir.string() + " --data " + (dir / "none").string() +
                          " --start 0 --end 8 --output " + (dir / "out").string();
  const auto r = testing::run_harness_stderr(cmd);
  std::printf("%s", r.out.c_str());
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.out.find(dir.string() + ": this model needs about"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("of KV caches (memorize: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("x 64 rows (--batch-size) x 64 positions; fewer --threads or a smaller "
                       "--batch-size lower them)"), std::string::npos) << r.out;
  const auto small = testing::run_harness_stderr(cmd + " --batch-size 1");
  EXPECT_NE(small.code, 0);
  EXPECT_EQ(small.out.find("needs about"), std::string::npos) << small.out;
  fs::remove_all(dir);
}

// score sizes its KV caches from the longest input line: on a pythia-12b-shaped folder whose
// sparse weights leave ~3 GB spare, caches of 2048 positions (1.47 MB each at 12b's width; 2
// threads: 2 x 3 GB) are refused when the input is stdin, while a 64-token input passes the check
// (the load then fails on the all-zero file). A --tokenizer path that does not exist fails first,
// before any loading.
TEST(MemoryCheck, ScoreSizesItsCachesFromTheInput) {
  const auto made = make_12b_leaving("score-kv", 3'000'000'000);
  if (!made) GTEST_SKIP() << "too little memory to set up";
  const fs::path dir = *made;
  {
    std::ofstream in(dir / "in.jsonl");
    in << "{\"ids\": [";
    for (int i = 0; i < 64; ++i) in << (i ? ", " : "") << i;
    in << "]}\n";
  }
  const std::string base = "score --threads 2 --model " + dir.string() + " --output " + (dir / "out.jsonl").string();
  const auto from_stdin = testing::run_harness_stderr(base + " --input - < " + (dir / "in.jsonl").string());
  std::printf("%s", from_stdin.out.c_str());
  EXPECT_EQ(from_stdin.code, 3);
  EXPECT_NE(from_stdin.out.find("of KV caches (score: one sequence of up to max_position_embeddings"),
            std::string::npos) << from_stdin.out;
  // score has no --batch-size that would lower them: the hint names what does.
  EXPECT_NE(from_stdin.out.find("an --input file, sized by its longest line, lowers them)"), std::string::npos)
      << from_stdin.out;
  EXPECT_EQ(from_stdin.out.find("--batch-size"), std::string::npos) << from_stdin.out;
  const auto from_file = testing::run_harness_stderr(base + " --input " + (dir / "in.jsonl").string());
  std::printf("%s", from_file.out.c_str());
  EXPECT_NE(from_file.code, 0);
  EXPECT_EQ(from_file.out.find("needs about"), std::string::npos) << from_file.out;
  const auto bad_tok = testing::run_harness_stderr(base + " --input " + (dir / "in.jsonl").string() +
                                                   " --tokenizer " + (dir / "nope.json").string());
  EXPECT_EQ(bad_tok.code, 3);
  EXPECT_NE(bad_tok.out.find((dir / "nope.json").string() + ": cannot open the tokenizer file"),
            std::string::npos) << bad_tok.out;
  fs::remove_all(dir);
}

TEST(MemoryCheck, Bf16CopyBytesIsWhatMakeBf16WeightsAllocates) {
  ::setenv("PYTHIA_SKIP_MEMORY_CHECK", "1", 1);
  for (const char* name : {"pythia-tiny", "mini-pythia/step1"}) {
    const auto m = load_gpt_neox(fs::path(PYTHIA_FIXTURES_DIR) / name);
    EXPECT_EQ(bf16_copy_bytes(m->config()), make_bf16_weights(m->weights()).bytes()) << name;
  }
  ::unsetenv("PYTHIA_SKIP_MEMORY_CHECK");
  // pythia-12b: 2 bytes per matrix parameter (its shapes are multiples of 64): 23.2 GB.
  NeoxConfig c;
  c.hidden_size = 5120;
  c.intermediate_size = 20480;
  c.num_hidden_layers = 36;
  c.vocab_size = 50688;
  const std::uint64_t C = 5120, I = 20480;
  EXPECT_EQ(bf16_copy_bytes(c), 2 * (36 * (4 * C * C + 2 * C * I) + 50688 * C));
}

TEST(MemoryCheck, RefusalNamesTheBf16Copies) {
  const MemoryLimit limit{22'000'000'000, "MemAvailable in /proc/meminfo"};
  EXPECT_NO_THROW(check_memory_fits("/m/6.9b", 13'700'000'000, limit, 0, "", 0));
  try {
    check_memory_fits("/m/6.9b", 13'700'000'000, limit, 0, "", 13'500'000'000);
    FAIL() << "no error";
  } catch (const DataError& e) {
    const std::string msg = e.what();
    std::printf("%s\n", msg.c_str());
    EXPECT_EQ(msg.rfind("/m/6.9b: this model needs about 28.4 GB", 0), 0u) << msg;
    EXPECT_NE(msg.find("+ 13.5 GB of bf16 copies of the matrices (--compute bf16; --compute fp32 "
                       "does without them)"), std::string::npos) << msg;
  }
}

// memorize --batch-size 1 on a pythia-12b-shaped folder whose sparse weights leave ~3 GB of this
// machine spare: fp32 passes the check (the load then fails on the all-zero file); --compute bf16
// (+ 23.2 GB of bf16 copies) is refused before loading, naming the copies.
TEST(MemoryCheck, MemorizeBf16CountsItsCopies) {
  const auto made = make_12b_leaving("bf16-refusal", 3'000'000'000);
  if (!made) GTEST_SKIP() << "too little memory to set up";
  const fs::path dir = *made;
  const std::string cmd = "memorize --model " + dir.string() + " --data " + (dir / "none").string() +
                          " --start 0 --end 8 --batch-size 1 --output " + (dir / "out").string();
  const auto fp32 = testing::run_harness_stderr(cmd);
  EXPECT_NE(fp32.code, 0);
  EXPECT_EQ(fp32.out.find("needs about"), std::string::npos) << fp32.out;
  const auto bf16 = testing::run_harness_stderr(cmd + " --compute bf16");
  std::printf("%s", bf16.out.c_str());
  EXPECT_EQ(bf16.code, 3);
  EXPECT_NE(bf16.out.find(dir.string() + ": this model needs about"), std::string::npos) << bf16.out;
  EXPECT_NE(bf16.out.find("of bf16 copies of the matrices (--compute bf16"), std::string::npos) << bf16.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pythia::model
