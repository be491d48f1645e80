// The "pythia" task suite: exactly the tasks of Pythia's published files (checked against a real
// one), by lm-eval 4e7e0d4 names; `--tasks pythia` expands to it when every task is registered and
// otherwise fails listing exactly the missing ones (never a silent subset).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "data/error.h"
#include "tasks/registry.h"
#include "tasks/suites.h"

namespace fs = std::filesystem;
using namespace pythia::tasks;

TEST(Suites, PythiaSuiteIsThePublishedSuite) {
  const auto& suite = pythia_suite_tasks();
  EXPECT_EQ(suite.size(), 65u);
  EXPECT_EQ(std::set<std::string>(suite.begin(), suite.end()).size(), suite.size());
  // A real published five-shot file (no crows_pairs) holds these tasks, MMLU as hendrycksTest-*.
  std::ifstream in(fs::path(PYTHIA_FIXTURES_DIR) /
                   "published-evals/evals/pythia-v1/pythia-160m/five-shot/160m-5shot_step3000.json");
  const auto j = nlohmann::json::parse(in);
  std::set<std::string> published;
  for (const auto& [task, v] : j["results"].items()) {
    const std::string prefix = "hendrycksTest-";
    published.insert(task.rfind(prefix, 0) == 0 ? "mmlu_" + task.substr(prefix.size()) : task);
  }
  EXPECT_EQ(published, std::set<std::string>(suite.begin(), suite.end()));
  EXPECT_EQ(suite_tasks("pythia"), suite);
  EXPECT_FALSE(suite_tasks("pythia-suite"));
}

TEST(Suites, TasksPythiaExpandsOrListsEveryMissingTask) {
  const auto& suite = pythia_suite_tasks();
  std::vector<std::string> missing;
  for (const auto& t : suite) {
    if (!is_task(t)) missing.push_back(t);  // core tasks and the MMLU subjects
  }
  if (missing.empty()) {
    EXPECT_EQ(parse_task_list("pythia"), suite);
    std::vector<std::string> piqa_first = {"piqa"};
    for (const auto& t : suite) {
      if (t != "piqa") piqa_first.push_back(t);
    }
    EXPECT_EQ(parse_task_list("piqa,pythia"), piqa_first);  // duplicates removed, order kept
    return;
  }
  try {
    (void)parse_task_list("pythia");
    FAIL() << "no error although " << missing.size() << " tasks are missing";
  } catch (const pythia::UsageError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(std::to_string(missing.size()) + " of the suite's 65 tasks"), std::string::npos) << msg;
    for (const auto& t : missing) EXPECT_NE(msg.find(t), std::string::npos) << t << ": " << msg;
    for (const auto& t : suite) {
      if (std::find(missing.begin(), missing.end(), t) != missing.end()) continue;
      // A registered task is not listed as missing ("piqa" is not a substring of another name).
      if (t == "piqa" || t == "sciq") {
        EXPECT_EQ(msg.find(t), std::string::npos) << t << ": " << msg;
      }
    }
  }
}
