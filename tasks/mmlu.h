// MMLU (Hendrycks et al., "Measuring Massive Multitask Language Understanding") as lm-evaluation-
// harness 4e7e0d4 runs it: the group `mmlu` (lm_eval/tasks/mmlu/default/_mmlu.yaml, version 2) of
// four category groups (mmlu_stem, mmlu_other, mmlu_social_sciences, mmlu_humanities, each
// `aggregate_metric_list: acc, weight_by_size: True`) over 57 subject tasks `mmlu_<subject>`
// (mmlu_<subject>.yaml + _default_template_yaml, version 1.0). The subject tasks live in
// tasks/mmlu.cpp; this header gives the subject list and the group aggregation. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "results/eval_results.h"
#include "tasks/task.h"

namespace pythia::tasks {

enum class MmluCategory { kStem, kOther, kSocialSciences, kHumanities };

struct MmluSubject {
  const char* name;        // "abstract_algebra" (dataset_name, task_alias)
  MmluCategory category;   // the YAML's tag mmlu_<category>_tasks
  std::int64_t test_docs;  // rows of the test split (cais/mmlu; 14,042 in all)
};

// The 57 subjects in lm-eval's order (alphabetical by subject).
const std::vector<MmluSubject>& mmlu_subjects();
// The subject of task name "mmlu_<subject>", or nullptr.
const MmluSubject* find_mmlu_subject(const std::string& task_name);
// A fresh task "mmlu_<subject>"; REQUIRES find_mmlu_subject(task_name) != nullptr.
std::unique_ptr<Task> make_mmlu(const std::string& task_name);

// lm-eval group names: "mmlu", "mmlu_stem", "mmlu_other", "mmlu_social_sciences",
// "mmlu_humanities"; their group_alias ("mmlu", "stem", "other", "social sciences", "humanities").
std::vector<std::string> mmlu_group_names();
std::string mmlu_group_alias(const std::string& group);
// The leaf subject tasks of `group` (all 57 for "mmlu"), in lm-eval's order.
std::vector<std::string> mmlu_group_tasks(const std::string& group);

// One leaf task's aggregated metric as a group sees it.
struct GroupMember {
  double value = 0.0;
  std::optional<double> stderr_value;  // nullopt = "N/A" (e.g. bootstrap_iters 0)
  std::int64_t size = 0;               // sample_len: documents evaluated
};
struct GroupValue {
  double value = 0.0;
  std::optional<double> stderr_value;  // nullopt = "N/A"
  std::int64_t size = 0;               // sample_len (sum)
};

// lm_eval/api/group.py Group.aggregate + api/metrics.py at 4e7e0d4: value =
// aggregate_subtask_metrics (sum(v_i n_i) / sum(n_i) when weight_by_size, else plain mean);
// stderr = pooled_sample_stderr sqrt(sum((n_i-1) s_i^2 n_i) / (sum n_i - k) / sum n_i) when every
// member has one, else N/A. Throws std::invalid_argument for no members.
GroupValue aggregate_group(const std::vector<GroupMember>& members, bool weight_by_size = true);

// The lm-eval group rows of a run: every MMLU group (mmlu_stem, mmlu_other,
// mmlu_social_sciences, mmlu_humanities, then mmlu) whose leaf subjects are all in `tasks`, with
// `acc` aggregated by aggregate_group (weight_by_size), version "2", group_subtasks as lm-eval
// logs them. Empty when the run lacks a subject. Throws std::invalid_argument if a subject has no
// acc.
std::vector<results::GroupResult> mmlu_group_results(const std::vector<results::TaskResult>& tasks);

}  // namespace pythia::tasks
