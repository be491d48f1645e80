// Named task suites for `--tasks` (tasks/registry.h parse_task_list): "pythia" = exactly the
// suite of Pythia's published evals/ files (EleutherAI/pythia evals/pythia-v1; real files in
// tests/fixtures/published-evals), by lm-evaluation-harness 4e7e0d4 names: lambada_openai, piqa,
// winogrande, wsc, arc_easy, arc_challenge, sciq, logiqa and the 57 MMLU subjects mmlu_<subject>
// (lm_eval/tasks/mmlu/default/mmlu_<subject>.yaml; the published files call them
// hendrycksTest-<subject>, lm-eval v0.3's names). crows_pairs (zero-shot files only) is not in it.
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pythia::tasks {

// The 65 task names of the "pythia" suite, in the order above (subjects alphabetical).
const std::vector<std::string>& pythia_suite_tasks();

// The tasks of suite `name` ("pythia"; "mmlu" = the 57 mmlu_<subject> tasks, lm-eval's group), nullopt when `name` is not a suite. Names only: whether
// they are registered is parse_task_list's check.
std::optional<std::vector<std::string>> suite_tasks(const std::string& name);

// Names of all suites, for --help.
std::vector<std::string> suite_names();

}  // namespace pythia::tasks
