// checkpoint_weight_files: the files TensorStore::open reads, in the same preference order, shards
// of an index in name order (the index itself excluded); DataError for a folder without weights.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/error.h"
#include "model/tensor_store.h"
#include "tests/test_util.h"

namespace {

namespace fs = std::filesystem;
using pythia::model::checkpoint_weight_files;

TEST(WeightFiles, LayoutsInTransformersOrder) {
  const fs::path d = pythia::testing::fresh_temp_dir("weight_files_test");
  std::ofstream(d / "pytorch_model.bin") << "x";
  EXPECT_EQ(checkpoint_weight_files(d), std::vector<fs::path>{d / "pytorch_model.bin"});
  std::ofstream(d / "model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"b": "model-00002-of-00002.safetensors",
             "a": "model-00001-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}})";
  EXPECT_EQ(checkpoint_weight_files(d),
            (std::vector<fs::path>{d / "model-00001-of-00002.safetensors", d / "model-00002-of-00002.safetensors"}));
  std::ofstream(d / "model.safetensors") << "x";  // preferred over everything
  EXPECT_EQ(checkpoint_weight_files(d), std::vector<fs::path>{d / "model.safetensors"});
  fs::remove_all(d);
}

TEST(WeightFiles, Errors) {
  const fs::path d = pythia::testing::fresh_temp_dir("weight_files_test_err");
  EXPECT_THROW(checkpoint_weight_files(d), pythia::DataError);
  std::ofstream(d / "pytorch_model.bin.index.json") << R"({"weight_map": {"a": "../escape.bin"}})";
  try {
    checkpoint_weight_files(d);
    FAIL() << "accepted a shard outside the folder";
  } catch (const pythia::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("pytorch_model.bin.index.json"), std::string::npos) << e.what();
  }
  fs::remove_all(d);
}

}  // namespace
