// read_neox_config: accepts Pythia's config.json, refuses every unsupported value with a
// DataError naming the file and the key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "data/error.h"
#include "model/neox_config.h"
#include "model/tensor_store.h"

namespace fs = std::filesystem;
using nlohmann::json;
using pythia::model::read_neox_config;

namespace {

// The config.json of shared/fixtures/pythia-tiny (Pythia's keys, toy sizes).
json pythia_config() {
  return json::parse(R"({
  "architectures": ["GPTNeoXForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 0,
  "classifier_dropout": 0.1, "eos_token_id": 0, "hidden_act": "gelu", "hidden_dropout": 0.0,
  "hidden_size": 64, "initializer_range": 0.02, "intermediate_size": 256,
  "layer_norm_eps": 1e-05, "max_position_embeddings": 2048, "model_type": "gpt_neox",
  "num_attention_heads": 4, "num_hidden_layers": 2, "rotary_emb_base": 10000,
  "rotary_pct": 0.25, "tie_word_embeddings": false, "torch_dtype": "float16",
  "transformers_version": "4.40.2", "use_cache": true, "use_parallel_residual": true,
  "vocab_size": 50304})");
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("config_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    path_ = dir_ / "config.json";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& text) { std::ofstream(path_) << text; }

  // Expects read_neox_config to refuse `j` with a message naming the file and containing `what`.
  void expect_refused(const json& j, const std::string& what) {
    write(j.dump(2));
    try {
      read_neox_config(path_);
      ADD_FAILURE() << "accepted: " << j.dump();
    } catch (const pythia::DataError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path_.string()), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << "message: " << msg << "\nwanted: " << what;
    }
  }

  fs::path dir_, path_;
};

TEST_F(ConfigTest, ReadsPythiaConfig) {
  write(pythia_config().dump());
  const auto c = read_neox_config(path_);
  EXPECT_EQ(c.vocab_size, 50304);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.num_hidden_layers, 2);
  EXPECT_EQ(c.num_attention_heads, 4);
  EXPECT_EQ(c.intermediate_size, 256);
  EXPECT_EQ(c.rotary_pct, 0.25);
  EXPECT_EQ(c.rotary_emb_base, 10000.0);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_TRUE(c.use_parallel_residual);
  EXPECT_EQ(c.torch_dtype, "float16");
  EXPECT_EQ(c.bos_token_id, 0);
  EXPECT_EQ(c.eos_token_id, 0);
}

TEST_F(ConfigTest, ReadsNeoxVariantOptions) {
  // shared/fixtures/neox-variant: sequential residual, full rotary, base 50000, eps 1e-6.
  auto j = pythia_config();
  j["use_parallel_residual"] = false;
  j["rotary_pct"] = 1.0;
  j["rotary_emb_base"] = 50000;
  j["layer_norm_eps"] = 1e-6;
  j["hidden_size"] = 96;
  j["num_attention_heads"] = 6;
  write(j.dump());
  const auto c = read_neox_config(path_);
  EXPECT_FALSE(c.use_parallel_residual);
  EXPECT_EQ(c.rotary_dim(), 16);
  EXPECT_EQ(c.rotary_emb_base, 50000.0);
  EXPECT_EQ(c.layer_norm_eps, 1e-6);
}

TEST_F(ConfigTest, RopeThetaSpellingAndDefaults) {
  auto j = pythia_config();
  j.erase("rotary_emb_base");
  j["rope_theta"] = 20000;
  j["rope_scaling"] = nullptr;  // explicit null is fine
  j.erase("eos_token_id");      // transformers 4.40.2 GPTNeoXConfig default: 2
  j["bos_token_id"] = nullptr;  // no bos token
  j.erase("layer_norm_eps");
  write(j.dump());
  const auto c = read_neox_config(path_);
  EXPECT_EQ(c.rotary_emb_base, 20000.0);
  EXPECT_EQ(c.eos_token_id, 2);
  EXPECT_EQ(c.bos_token_id, -1);
  EXPECT_EQ(c.layer_norm_eps, 1e-5);
}

TEST_F(ConfigTest, RefusesOtherArchitectures) {
  auto j = pythia_config();
  j["architectures"] = {"GPT2LMHeadModel"};
  expect_refused(j, "key 'architectures' = [\"GPT2LMHeadModel\"] is not supported");
  j = pythia_config();
  j["architectures"] = {"GPTNeoXForCausalLM", "GPTNeoXForSequenceClassification"};
  expect_refused(j, "'architectures'");
  j = pythia_config();
  j["architectures"] = "GPTNeoXForCausalLM";
  expect_refused(j, "key 'architectures' = \"GPTNeoXForCausalLM\" is not a list");
}

TEST_F(ConfigTest, RefusesOtherModelType) {
  auto j = pythia_config();
  j["model_type"] = "llama";
  expect_refused(j, "key 'model_type' = \"llama\" is not supported (need \"gpt_neox\")");
  j.erase("model_type");
  expect_refused(j, "required key 'model_type' is missing");
}

TEST_F(ConfigTest, RefusesHiddenActOtherThanGelu) {
  auto j = pythia_config();
  j["hidden_act"] = "relu";
  expect_refused(j, "key 'hidden_act' = \"relu\" is not supported (GPT-NeoX needs \"gelu\")");
  j["hidden_act"] = "gelu_new";
  expect_refused(j, "key 'hidden_act' = \"gelu_new\" is not supported");
}

TEST_F(ConfigTest, RefusesTiedEmbeddings) {
  auto j = pythia_config();
  j["tie_word_embeddings"] = true;
  expect_refused(j, "key 'tie_word_embeddings' = true is not supported");
}

TEST_F(ConfigTest, RefusesIndivisibleHeads) {
  auto j = pythia_config();
  j["hidden_size"] = 66;
  expect_refused(j, "key 'hidden_size' = 66 is not divisible by 'num_attention_heads' = 4");
}

TEST_F(ConfigTest, RefusesRopeScaling) {
  auto j = pythia_config();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  expect_refused(j, "key 'rope_scaling'");
  expect_refused(j, "is not supported");
}

TEST_F(ConfigTest, RefusesNonPositiveSizes) {
  for (const char* key : {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                          "intermediate_size", "max_position_embeddings"}) {
    auto j = pythia_config();
    j[key] = 0;
    expect_refused(j, std::string("key '") + key + "' = 0 must be a positive integer");
    j[key] = -8;
    expect_refused(j, std::string("key '") + key + "' = -8 must be a positive integer");
  }
}

TEST_F(ConfigTest, RefusesMissingRequiredKeys) {
  for (const char* key : {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                          "intermediate_size", "max_position_embeddings"}) {
    auto j = pythia_config();
    j.erase(key);
    expect_refused(j, std::string("required key '") + key + "' is missing");
  }
}

TEST_F(ConfigTest, RefusesWrongJsonTypes) {
  auto j = pythia_config();
  j["hidden_size"] = "64";
  expect_refused(j, "key 'hidden_size' = \"64\" is not an integer");
  j = pythia_config();
  j["num_hidden_layers"] = 2.5;
  expect_refused(j, "key 'num_hidden_layers' = 2.5 is not an integer");
  j = pythia_config();
  j["use_parallel_residual"] = "true";
  expect_refused(j, "key 'use_parallel_residual' = \"true\" is not true/false");
  j = pythia_config();
  j["rotary_pct"] = "0.25";
  expect_refused(j, "key 'rotary_pct' = \"0.25\" is not a number");
  j = pythia_config();
  j["hidden_act"] = 1;
  expect_refused(j, "key 'hidden_act' = 1 is not a string");
  j = pythia_config();
  j["torch_dtype"] = 16;
  expect_refused(j, "key 'torch_dtype' = 16 is not a string");
  j = pythia_config();
  j["eos_token_id"] = "0";
  expect_refused(j, "key 'eos_token_id' = \"0\" is not a token id");
  j = pythia_config();
  j["attention_dropout"] = "none";
  expect_refused(j, "key 'attention_dropout' = \"none\" is not a number");
  j = pythia_config();
  j["use_cache"] = 1;
  expect_refused(j, "key 'use_cache' = 1 is not true/false");
}

TEST_F(ConfigTest, RefusesBadRotaryAndEps) {
  auto j = pythia_config();
  j["rotary_pct"] = 0;
  expect_refused(j, "key 'rotary_pct' = 0 must be in (0, 1]");
  j["rotary_pct"] = 1.5;
  expect_refused(j, "key 'rotary_pct' = 1.5 must be in (0, 1]");
  j["rotary_pct"] = 0.1;  // head 16 * 0.1 = 1 rotary dim: odd
  expect_refused(j, "gives 1 rotary dims per head");
  j = pythia_config();
  j["rotary_emb_base"] = 10000;
  j["rope_theta"] = 50000;
  expect_refused(j, "keys 'rotary_emb_base' = 10000 and 'rope_theta' = 50000 disagree");
  j = pythia_config();
  j["rotary_emb_base"] = -1;
  expect_refused(j, "must be positive");
  j = pythia_config();
  j["layer_norm_eps"] = 0;
  expect_refused(j, "key 'layer_norm_eps' = 0 must be positive");
  j = pythia_config();
  j["attention_bias"] = false;
  expect_refused(j, "key 'attention_bias' = false is not supported");
}

TEST_F(ConfigTest, RefusesMalformedFiles) {
  write("{\"model_type\": \"gpt_neox\",");
  EXPECT_THROW(read_neox_config(path_), pythia::DataError);
  expect_refused(json::array({1, 2}), "config is not a JSON object");
  try {
    read_neox_config(dir_ / "missing.json");
    ADD_FAILURE() << "accepted a missing file";
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.json"), std::string::npos) << e.what();
  }
}

}  // namespace

namespace {

// parameter_count: transformers' num_parameters() as published for pythia-70m (70,426,624) and
// pythia-160m (162,322,944) from their configs' sizes; and, on every fixture checkpoint, the sum of
// the element counts of its stored tensors that are parameters (buffers excluded).
TEST(ParameterCount, PublishedPythiaSizes) {
  pythia::model::NeoxConfig c70;  // pythia-70m: V 50304, C 512, 6 layers, I 2048
  c70.vocab_size = 50304;
  c70.hidden_size = 512;
  c70.num_hidden_layers = 6;
  c70.intermediate_size = 2048;
  EXPECT_EQ(pythia::model::parameter_count(c70), 70426624);
  pythia::model::NeoxConfig c160 = c70;  // pythia-160m: C 768, 12 layers, I 3072
  c160.hidden_size = 768;
  c160.num_hidden_layers = 12;
  c160.intermediate_size = 3072;
  EXPECT_EQ(pythia::model::parameter_count(c160), 162322944);
}

TEST(ParameterCount, EqualsStoredParameterTensors) {
  const fs::path fixtures = PYTHIA_FIXTURES_DIR;
  for (const char* name : {"pythia-tiny", "mini-pythia/step1", "neox-variant"}) {
    const fs::path dir = fixtures / name;
    const auto store = pythia::model::TensorStore::open(dir);
    std::int64_t stored = 0;
    for (const auto& n : store.names()) {
      if (n.ends_with("attention.bias") || n.ends_with("attention.masked_bias") ||
          n.ends_with("rotary_emb.inv_freq")) {
        continue;  // buffers, not parameters
      }
      stored += pythia::model::element_count(store.find(n)->shape);
    }
    EXPECT_EQ(pythia::model::parameter_count(read_neox_config(dir / "config.json")), stored) << name;
  }
}

}  // namespace
