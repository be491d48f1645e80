// model_identity: the combined digest is what `sha256sum FILES | sha256sum` prints (files sorted by
// name, run in the checkpoint folder); JSON round trip; malformed objects are ResultsFileErrors
// naming the file; read_recorded_identity finds the identity in memorization.json or results.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "results/eval_results.h"
#include "results/model_identity.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using namespace pythia::results;
using pythia::testing::fresh_temp_dir;
using pythia::testing::run_shell;

TEST(ModelIdentity, CombinedDigestIsSha256sumOfSha256sum) {
  const fs::path d = fresh_temp_dir("model_identity_test");
  std::ofstream(d / "model-00002-of-00002.safetensors") << "second shard";
  std::ofstream(d / "model-00001-of-00002.safetensors") << "first shard";
  std::vector<WeightFileDigest> files;
  for (const char* n : {"model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors"}) {
    const auto r = run_shell("cd '" + d.string() + "' && sha256sum " + n);
    files.push_back({n, fs::file_size(d / n), r.out.substr(0, 64)});
  }
  const auto expected = run_shell("cd '" + d.string() +
                                  "' && sha256sum model-00001-of-00002.safetensors "
                                  "model-00002-of-00002.safetensors | sha256sum");
  EXPECT_EQ(combined_weights_sha256(files), expected.out.substr(0, 64));
  fs::remove_all(d);
}

TEST(ModelIdentity, JsonRoundTripAndErrors) {
  ModelIdentity id;
  id.weight_files = {{"model.safetensors", 42, std::string(64, 'a')}};
  id.weights_sha256 = combined_weights_sha256(id.weight_files);
  id.hf_commit = std::string(40, 'b');
  id.num_parameters = 70426624;
  id.identical_weights_as = {"step1000"};
  const auto j = to_json(id);
  EXPECT_EQ(j["hf_commit"], std::string(40, 'b'));
  const ModelIdentity back = parse_model_identity(nlohmann::json::parse(j.dump()), "f.json");
  EXPECT_EQ(back.weights_sha256, id.weights_sha256);
  EXPECT_EQ(back.weight_files.size(), 1u);
  EXPECT_EQ(back.weight_files[0].bytes, 42u);
  EXPECT_EQ(back.hf_commit, id.hf_commit);
  EXPECT_EQ(back.num_parameters, 70426624);
  EXPECT_EQ(back.identical_weights_as, std::vector<std::string>{"step1000"});
  id.hf_commit.clear();
  EXPECT_TRUE(to_json(id)["hf_commit"].is_null());  // not from the hub cache
  auto bad = nlohmann::json::parse(j.dump());
  bad["weights_sha256"] = "xyz";
  try {
    parse_model_identity(bad, "f.json");
    FAIL();
  } catch (const ResultsFileError& e) {
    EXPECT_NE(std::string(e.what()).find("f.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_model_identity(nlohmann::json::array(), "f.json"), ResultsFileError);
}

TEST(ModelIdentity, LmEvalFieldsFilled) {
  EvalRun run;
  ModelIdentity id;
  id.weight_files = {{"model.safetensors", 1, std::string(64, 'c')}};
  id.weights_sha256 = combined_weights_sha256(id.weight_files);
  id.hf_commit = std::string(40, 'd');
  id.num_parameters = 123;
  EXPECT_EQ(to_lm_eval_v04(run)["config"]["model_sha"], "");  // unknown: lm-eval's defaults
  EXPECT_EQ(to_lm_eval_v04(run)["config"]["model_num_parameters"], 0);
  run.identity = id;
  const auto v04 = to_lm_eval_v04(run);
  EXPECT_EQ(v04["config"]["model_sha"], std::string(40, 'd'));
  EXPECT_EQ(v04["config"]["model_num_parameters"], 123);
  EXPECT_EQ(v04[kModelIdentityKey]["weights_sha256"], id.weights_sha256);
  EXPECT_EQ(to_pythia_v0(run)[kModelIdentityKey]["weights_sha256"], id.weights_sha256);
}

TEST(ModelIdentity, ReadRecordedIdentity) {
  const fs::path d = fresh_temp_dir("model_identity_read");
  EXPECT_FALSE(read_recorded_identity(d).has_value());
  ModelIdentity id;
  id.weight_files = {{"model.safetensors", 1, std::string(64, 'e')}};
  id.weights_sha256 = combined_weights_sha256(id.weight_files);
  EvalRun run;
  run.identity = id;
  write_json_atomic(d / "results.json", to_lm_eval_v04(run));
  ASSERT_TRUE(read_recorded_identity(d).has_value());
  EXPECT_EQ(read_recorded_identity(d)->weights_sha256, id.weights_sha256);
  std::ofstream(d / "memorization.json") << "{ torn";  // unreadable: falls back to results.json
  EXPECT_EQ(read_recorded_identity(d)->weights_sha256, id.weights_sha256);
  fs::remove_all(d);
}

}  // namespace
