// Few-shot contexts exactly as lm-eval v0.4 builds them (commit 4e7e0d4:
// lm_eval/api/task.py ConfigurableTask.fewshot_context / build_qa_turn, lm_eval/api/samplers.py
// ContextSampler / FirstNSampler, lm_eval/evaluator.py simple_evaluate -> set_fewshot_seed):
//
//   rnd = random.Random(fewshot_seed)            one generator per task, before any document
//   for doc in documents (dataset order; --limit keeps the first N, so a prefix of a full run):
//     default sampler:  ex = rnd.sample(pool, k)                       (exclude_eval_doc false)
//                       ex = [x for x in rnd.sample(pool, k+1) if x != doc][:k]   (true)
//     first_n sampler:  ex = [x for x in pool if x != doc][:k] (or pool[:k]); rnd untouched
//     prefix(doc) = description + "".join(doc_to_text(e) + target_delimiter + answer(e) + "\n\n")
//   context = prefix(doc) + doc_to_text(doc)   (every context of a multiple-input task)
//
// The pool is the fewshot split, else training, else validation, else test split (the task says
// which in Task::fewshot_source and reads it). Rolling tasks ignore the context (the sampler
// still runs, nothing changes). Pure apart from reading the pool; deterministic.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tasks/task.h"

namespace pythia::tasks {

inline constexpr std::uint64_t kFewshotSeed = 1234;  // lm-eval's default fewshot_random_seed
inline constexpr const char* kFewshotDelimiter = "\n\n";

// The few-shot prefixes of every loaded document of `task` for `k` shots (k >= 1), pool loaded.
// Throws DataError if the pool has fewer examples than a draw needs (lm-eval: ValueError
// "Sample larger than population" / the assertion on the number returned).
std::vector<std::string> fewshot_prefixes(const Task& task, int k, std::uint64_t seed = kFewshotSeed);

// k >= 1: loads the pool from `data_dir` (if the task uses contexts) and sets every document's
// prefix on `task`. k == 0: the prefix is the task's description (lm-eval adds it at 0-shot too),
// nothing when every description is empty. Throws UsageError for k < 0.
void apply_fewshot(Task& task, int k, const std::filesystem::path& data_dir,
                   std::uint64_t seed = kFewshotSeed);

}  // namespace pythia::tasks
