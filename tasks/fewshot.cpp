#include "tasks/fewshot.h"

#include "data/error.h"
#include "tasks/python_random.h"

namespace pythia::tasks {

void Task::no_fewshot_pool() const {
  throw UsageError("task '" + name() + "' has no few-shot examples (use --num-fewshot 0)");
}

void Task::load_fewshot_pool(const std::filesystem::path& /*data_dir*/) { no_fewshot_pool(); }

std::string Task::fewshot_example(std::int64_t /*i*/) const { no_fewshot_pool(); }

bool Task::fewshot_is_doc(std::int64_t /*i*/, std::int64_t /*doc*/) const { return false; }

std::vector<std::string> fewshot_prefixes(const Task& task, int k, std::uint64_t seed) {
  const auto src = task.fewshot_source();
  const std::int64_t pool = task.fewshot_pool_size();
  const auto need = static_cast<std::int64_t>(k) + (src.exclude_eval_doc && !src.first_n ? 1 : 0);
  if (pool < need) {
    throw DataError(task.name() + " few-shot pool (" + src.split + " split)",
                    "has " + std::to_string(pool) + " examples; " + std::to_string(k) +
                        "-shot needs " + std::to_string(need));
  }
  std::vector<std::string> examples(static_cast<std::size_t>(pool));  // rendered lazily
  auto example = [&](std::size_t i) -> const std::string& {
    if (examples[i].empty()) examples[i] = task.fewshot_example(static_cast<std::int64_t>(i)) + kFewshotDelimiter;
    return examples[i];
  };
  PythonRandom rnd(seed);
  std::vector<std::string> out(static_cast<std::size_t>(task.size()));
  for (std::int64_t d = 0; d < task.size(); ++d) {
    std::vector<std::size_t> drawn;
    if (src.first_n) {
      for (std::size_t i = 0; i < static_cast<std::size_t>(pool) && drawn.size() < static_cast<std::size_t>(k); ++i) {
        if (!(src.exclude_eval_doc && task.fewshot_is_doc(static_cast<std::int64_t>(i), d))) drawn.push_back(i);
      }
    } else {
      drawn = rnd.sample_indices(static_cast<std::size_t>(pool), static_cast<std::size_t>(need));
      if (src.exclude_eval_doc) {
        std::erase_if(drawn, [&](std::size_t i) { return task.fewshot_is_doc(static_cast<std::int64_t>(i), d); });
        if (drawn.size() > static_cast<std::size_t>(k)) drawn.resize(static_cast<std::size_t>(k));
      }
    }
    if (drawn.size() != static_cast<std::size_t>(k)) {
      throw DataError(task.name() + " document " + std::to_string(d),
                      "the few-shot pool holds copies of this document; only " +
                          std::to_string(drawn.size()) + " of " + std::to_string(k) +
                          " examples remain after excluding it (lm-eval fails the same way)");
    }
    std::string prefix = task.description(d);
    if (src.uses_context) {
      for (std::size_t i : drawn) prefix += example(i);
    }
    out[static_cast<std::size_t>(d)] = std::move(prefix);
  }
  return out;
}

void apply_fewshot(Task& task, int k, const std::filesystem::path& data_dir, std::uint64_t seed) {
  if (k < 0) throw UsageError("--num-fewshot must be >= 0");
  if (k == 0) {
    // lm-eval puts the task's description before the prompt at 0-shot too (MMLU).
    std::vector<std::string> descriptions;
    bool any = false;
    for (std::int64_t d = 0; d < task.size(); ++d) {
      descriptions.push_back(task.description(d));
      any = any || !descriptions.back().empty();
    }
    if (any) task.set_fewshot(0, std::move(descriptions));
    return;
  }
  if (!task.fewshot_source().uses_context) {
    task.set_fewshot(k, {});  // rolling: lm-eval builds and discards the context
    return;
  }
  task.load_fewshot_pool(data_dir);
  task.set_fewshot(k, fewshot_prefixes(task, k, seed));
}

}  // namespace pythia::tasks
