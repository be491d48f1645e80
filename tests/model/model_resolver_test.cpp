// resolve_model / list_revisions on folders made by the test: a checkpoint folder, a stepN
// folder (like shared/fixtures/mini-pythia) and a fake Hugging Face hub cache.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "data/error.h"
#include "model/model_resolver.h"

namespace fs = std::filesystem;
using pythia::DataError;
using pythia::model::list_revisions;
using pythia::model::resolve_model;

namespace {

// Sets an environment variable for the scope of a test, restoring the old value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::optional<std::string>& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class ResolverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("model_resolver_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  static void checkpoint(const fs::path& dir) {
    fs::create_directories(dir);
    std::ofstream(dir / "config.json") << "{}";
  }

  // huggingface_hub layout: blobs/<hash>, snapshots/<sha>/<file> -> ../../blobs/<hash>,
  // refs/<name> containing <sha>.
  fs::path make_cache() {
    const fs::path hub = root_ / "hub";
    const fs::path repo = hub / "models--EleutherAI--pythia-70m-deduped";
    fs::create_directories(repo / "blobs");
    fs::create_directories(repo / "refs");
    std::ofstream(repo / "blobs" / "cfgblob") << "{}";
    for (const auto& [ref, sha] : {std::pair{"main", kMainSha}, std::pair{"step3000", kStepSha}}) {
      fs::create_directories(repo / "snapshots" / sha);
      fs::create_symlink("../../blobs/cfgblob", repo / "snapshots" / sha / "config.json");
      std::ofstream(repo / "refs" / ref) << sha;  // no trailing newline, as huggingface_hub writes
    }
    fs::create_directories(repo / "snapshots" / kLooseSha);  // a snapshot with no ref pointing to it
    fs::create_symlink("../../blobs/cfgblob", repo / "snapshots" / kLooseSha / "config.json");
    return hub;
  }

  static constexpr const char* kMainSha = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  static constexpr const char* kStepSha = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  static constexpr const char* kLooseSha = "cccccccccccccccccccccccccccccccccccccccc";
  fs::path root_;
};

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

TEST_F(ResolverTest, CheckpointFolder) {
  checkpoint(root_ / "pythia-tiny");
  const auto m = resolve_model((root_ / "pythia-tiny").string(), "");
  EXPECT_EQ(m.dir, root_ / "pythia-tiny");
  EXPECT_EQ(m.name, "pythia-tiny");
  EXPECT_EQ(m.revision, "");
  EXPECT_EQ(m.commit, "");  // not from the HF cache: no commit
  EXPECT_EQ(resolve_model((root_ / "pythia-tiny").string() + "/", "").name, "pythia-tiny");
  EXPECT_TRUE(list_revisions((root_ / "pythia-tiny").string()).empty());
  const auto msg = message_of([&] { resolve_model((root_ / "pythia-tiny").string(), "step3"); });
  EXPECT_NE(msg.find("is a single checkpoint"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no revision 'step3'"), std::string::npos) << msg;
}

TEST_F(ResolverTest, StepFolders) {
  const fs::path mini = root_ / "mini-pythia";
  for (const char* s : {"step0", "step12", "step4", "step36", "final"}) checkpoint(mini / s);
  fs::create_directories(mini / "notes");  // no config.json: not a revision
  EXPECT_EQ(list_revisions(mini.string()),
            (std::vector<std::string>{"step0", "step4", "step12", "step36", "final"}));
  const auto m = resolve_model(mini.string(), "step12");
  EXPECT_EQ(m.dir, mini / "step12");
  EXPECT_EQ(m.name, "mini-pythia");
  EXPECT_EQ(m.revision, "step12");
  auto msg = message_of([&] { resolve_model(mini.string(), "step5"); });
  EXPECT_NE(msg.find(mini.string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("has no revision 'step5'; available: step0, step4, step12, step36, final"),
            std::string::npos) << msg;
  msg = message_of([&] { resolve_model(mini.string(), ""); });
  EXPECT_NE(msg.find("choose one with --revision: step0, step4, step12, step36, final"),
            std::string::npos) << msg;
  msg = message_of([&] { resolve_model((mini / "notes").string(), ""); });
  EXPECT_NE(msg.find("not a model folder"), std::string::npos) << msg;
}

TEST_F(ResolverTest, HuggingFaceCache) {
  const fs::path hub = make_cache();
  const ScopedEnv env("HF_HUB_CACHE", hub.string());
  const fs::path repo = hub / "models--EleutherAI--pythia-70m-deduped";
  auto m = resolve_model("EleutherAI/pythia-70m-deduped", "");
  EXPECT_EQ(m.dir, repo / "snapshots" / kMainSha);
  EXPECT_EQ(m.name, "EleutherAI/pythia-70m-deduped");
  EXPECT_EQ(m.revision, "main");
  EXPECT_EQ(m.commit, kMainSha);  // the HF commit of the revision, recorded in results files
  m = resolve_model("EleutherAI/pythia-70m-deduped", "step3000");
  EXPECT_EQ(m.dir, repo / "snapshots" / kStepSha);
  EXPECT_EQ(m.revision, "step3000");
  EXPECT_EQ(m.commit, kStepSha);
  m = resolve_model("EleutherAI/pythia-70m-deduped", kLooseSha);  // commit sha directly
  EXPECT_EQ(m.dir, repo / "snapshots" / kLooseSha);
  EXPECT_EQ(m.commit, kLooseSha);
  EXPECT_TRUE(fs::is_regular_file(m.dir / "config.json"));  // through the blob symlink
  EXPECT_EQ(list_revisions("EleutherAI/pythia-70m-deduped"),
            (std::vector<std::string>{"step3000", "main"}));

  auto msg = message_of([&] { resolve_model("EleutherAI/pythia-70m-deduped", "step143000"); });
  EXPECT_NE(msg.find("has no revision 'step143000' in the local cache; available: step3000, main"),
            std::string::npos) << msg;
  msg = message_of([&] { resolve_model("EleutherAI/pythia-160m", ""); });
  EXPECT_NE(msg.find("models--EleutherAI--pythia-160m"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is not in the local Hugging Face cache"), std::string::npos) << msg;
  msg = message_of([&] { resolve_model("EleutherAI/pythia-70m-deduped", "../../etc"); });
  EXPECT_NE(msg.find("has no revision '../../etc'"), std::string::npos) << msg;
  // A ref pointing at a snapshot that is missing (interrupted download).
  std::ofstream(repo / "refs" / "step1") << "dddddddddddddddddddddddddddddddddddddddd";
  msg = message_of([&] { resolve_model("EleutherAI/pythia-70m-deduped", "step1"); });
  EXPECT_NE(msg.find("which has no config.json"), std::string::npos) << msg;
}

TEST_F(ResolverTest, CacheRootFromEnvironment) {
  const ScopedEnv a("HF_HUB_CACHE", std::nullopt);
  const ScopedEnv b("HUGGINGFACE_HUB_CACHE", std::nullopt);
  {
    const ScopedEnv c("HF_HOME", (root_ / "home").string());
    EXPECT_EQ(pythia::model::hf_hub_cache_dir(), root_ / "home" / "hub");
  }
  const ScopedEnv c("HF_HOME", std::nullopt);
  {
    const ScopedEnv d("XDG_CACHE_HOME", (root_ / "xdg").string());
    EXPECT_EQ(pythia::model::hf_hub_cache_dir(), root_ / "xdg" / "huggingface" / "hub");
  }
  const ScopedEnv d("XDG_CACHE_HOME", std::nullopt);
  const ScopedEnv e("HOME", (root_ / "me").string());
  EXPECT_EQ(pythia::model::hf_hub_cache_dir(), root_ / "me" / ".cache" / "huggingface" / "hub");
  // $HF_HOME/hub layout end to end.
  const fs::path hub = make_cache();
  const ScopedEnv f("HF_HOME", root_.string());
  EXPECT_EQ(resolve_model("EleutherAI/pythia-70m-deduped", "main").dir,
            hub / "models--EleutherAI--pythia-70m-deduped" / "snapshots" / kMainSha);
}

TEST_F(ResolverTest, NeitherFolderNorRepoId) {
  const auto msg = message_of([&] { resolve_model((root_ / "nope").string(), ""); });
  EXPECT_NE(msg.find("no such model folder, and not a Hugging Face repo id"), std::string::npos)
      << msg;
  EXPECT_THROW(list_revisions("a/b/c"), DataError);
  checkpoint(root_ / "m");
  std::ofstream(root_ / "m" / "model.safetensors") << "x";
  const auto file_msg = message_of([&] { resolve_model((root_ / "m" / "model.safetensors").string(), ""); });
  EXPECT_NE(file_msg.find("is a file; pass the checkpoint folder"), std::string::npos) << file_msg;
}

}  // namespace
