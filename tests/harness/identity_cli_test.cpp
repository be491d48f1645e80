// Checkpoint identity end to end (`pythia-harness sweep`, `memorize`, `eval`): the weights'
// content hash equals `sha256sum model.safetensors | sha256sum` run in the checkpoint folder; a
// revision that is a byte copy of another is flagged (warning on stderr, identical_weights_as in
// its memorization.json), also when the sweep resumes; a model from a (fake) HF hub cache records
// the snapshot's commit in memorization.json and in results.json (config.model_sha), with the
// parameter count in both; a second run re-hashes nothing (the digest cache file is reused).
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "data/gzip_stream.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using pythia::testing::CliRun;
using pythia::testing::fresh_temp_dir;
using pythia::testing::read_bytes;
using pythia::testing::run_harness;
using pythia::testing::run_shell;

const fs::path kFixtures = PYTHIA_FIXTURES_DIR;

json read_json(const fs::path& p) { return json::parse(read_bytes(p)); }

std::string combined_sha256sum(const fs::path& checkpoint) {
  const CliRun r = run_shell("cd '" + checkpoint.string() + "' && sha256sum model.safetensors | sha256sum");
  EXPECT_EQ(r.code, 0);
  return r.out.substr(0, 64);
}

std::string memorize_args(const fs::path& out) {
  return " --memorize --no-eval --data " + (kFixtures / "mini-pile" / "document").string() +
         " --sequences-per-step 4 --output " + out.string() + " --hash-cache " +
         (out.parent_path() / "cache.json").string();
}

TEST(IdentityCli, CopiedRevisionIsFlagged) {
  const fs::path root = fresh_temp_dir("pythia_identity_cli");
  const fs::path model = root / "model";
  for (const char* rev : {"step1", "step12"}) {
    fs::create_directories(model / rev);
    for (const char* f : {"config.json", "model.safetensors"}) {
      fs::create_symlink(kFixtures / "mini-pythia" / rev / f, model / rev / f);
    }
  }
  fs::create_directories(model / "step13");  // a hub branch serving step12's weights
  for (const char* f : {"config.json", "model.safetensors"}) {
    fs::copy_file(kFixtures / "mini-pythia" / "step12" / f, model / "step13" / f);
  }
  const std::string args = "sweep --model " + model.string() + " --revisions all" + memorize_args(root / "out");
  CliRun r = run_harness(args);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("warning: sweep: model step13 has weights identical to step12"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("step1 has weights identical"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("step12 has weights identical"), std::string::npos) << r.out;

  const json m1 = read_json(root / "out" / "model" / "step1" / "memorization.json");
  const json m12 = read_json(root / "out" / "model" / "step12" / "memorization.json");
  const json m13 = read_json(root / "out" / "model" / "step13" / "memorization.json");
  EXPECT_EQ(m1["model_identity"]["weights_sha256"], combined_sha256sum(model / "step1"));
  EXPECT_EQ(m12["model_identity"]["weights_sha256"], combined_sha256sum(model / "step12"));
  EXPECT_EQ(m13["model_identity"]["weights_sha256"], m12["model_identity"]["weights_sha256"]);
  EXPECT_NE(m1["model_identity"]["weights_sha256"], m12["model_identity"]["weights_sha256"]);
  EXPECT_EQ(m13["model_identity"]["identical_weights_as"], json::array({"step12"}));
  EXPECT_EQ(m12["model_identity"]["identical_weights_as"], json::array());
  EXPECT_TRUE(m13["model_identity"]["hf_commit"].is_null());  // a folder, not the hub cache
  const auto& file = m12["model_identity"]["weight_files"][0];
  EXPECT_EQ(file["name"], "model.safetensors");
  EXPECT_EQ(file["bytes"], fs::file_size(model / "step12" / "model.safetensors"));
  const CliRun sum = run_shell("sha256sum '" + (model / "step12" / "model.safetensors").string() + "'");
  EXPECT_EQ(file["sha256"], sum.out.substr(0, 64));
  EXPECT_GT(m12["model_identity"]["num_parameters"].get<std::int64_t>(), 0);

  // The report marks the copy (and its original) in the memorization table.
  r = run_harness("report " + (root / "out").string() + " --output " + (root / "report.html").string());
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string html = read_bytes(root / "report.html");
  EXPECT_NE(html.find("step13 <span class=\"same-weights\""), std::string::npos);
  EXPECT_NE(html.find("same weights as step13"), std::string::npos);  // on step12's row
  EXPECT_EQ(html.find("step1 <span class=\"same-weights\""), std::string::npos);

  // A resumed sweep (every checkpoint complete) still flags the copy, from the recorded identities.
  r = run_harness(args);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("step13 has weights identical to step12"), std::string::npos) << r.out;
  fs::remove_all(root);
}

TEST(IdentityCli, HubCacheCommitAndParameterCountInBothFiles) {
  const fs::path root = fresh_temp_dir("pythia_identity_hub");
  const std::string sha = "0123456789abcdef0123456789abcdef01234567";
  const fs::path repo = root / "hub" / "models--EleutherAI--mini-pythia";
  fs::create_directories(repo / "refs");
  fs::create_directories(repo / "snapshots" / sha);
  std::ofstream(repo / "refs" / "step12") << sha;
  for (const char* f : {"config.json", "model.safetensors"}) {
    fs::create_symlink(kFixtures / "mini-pythia" / "step12" / f, repo / "snapshots" / sha / f);
  }
  const std::string env = "HF_HUB_CACHE=" + (root / "hub").string() + " ";
  const std::string cache = " --hash-cache " + (root / "cache.json").string();
  CliRun r = run_shell(env + PYTHIA_HARNESS_BIN + " memorize --model EleutherAI/mini-pythia --revision step12 --data " +
                       (kFixtures / "mini-pile" / "document").string() + " --sequences-per-step 4 --output " +
                       (root / "out").string() + cache + " 2>&1");
  ASSERT_EQ(r.code, 0) << r.out;
  const json m = read_json(root / "out" / "EleutherAI" / "mini-pythia" / "step12" / "memorization.json");
  EXPECT_EQ(m["model_identity"]["hf_commit"], sha);
  EXPECT_EQ(m["model_identity"]["weights_sha256"], combined_sha256sum(kFixtures / "mini-pythia" / "step12"));
  const std::int64_t params = m["model_identity"]["num_parameters"].get<std::int64_t>();
  EXPECT_GT(params, 0);
  ASSERT_TRUE(fs::exists(root / "cache.json"));
  const std::string cache_before = read_bytes(root / "cache.json");

  for (const char* format : {"lm-eval", "pythia-v0"}) {
    const fs::path out = root / (std::string("eval-") + format);
    r = run_shell(env + PYTHIA_HARNESS_BIN + " eval --model EleutherAI/mini-pythia --revision step12 --tasks piqa "
                  "--limit 2 --bootstrap-iters 0 --format " + format + " --data-dir " + (kFixtures / "tasks").string() +
                  " --tokenizer " + (kFixtures / "tokenizer" / "20B_tokenizer.json.gz").string() +
                  " --output " + out.string() + cache + " 2>&1");
    ASSERT_EQ(r.code, 0) << r.out;
    const json e = read_json(out / "EleutherAI" / "mini-pythia" / "step12" / "results.json");
    EXPECT_EQ(e["model_identity"]["hf_commit"], sha) << format;
    EXPECT_EQ(e["model_identity"]["num_parameters"], params) << format;
    EXPECT_EQ(e["model_identity"]["weights_sha256"], m["model_identity"]["weights_sha256"]) << format;
    if (std::string(format) == "lm-eval") {
      EXPECT_EQ(e["config"]["model_sha"], sha);
      EXPECT_EQ(e["config"]["model_num_parameters"], params);
    }
  }
  // The later runs found the digest in the cache file: nothing new was hashed or written.
  EXPECT_EQ(read_bytes(root / "cache.json"), cache_before);
  fs::remove_all(root);
}

}  // namespace
