// MultipleChoiceTask: lm-eval v0.4 `output_type: multiple_choice` (lm_eval/api/task.py,
// ConfigurableTask.construct_requests / process_results, commit 4e7e0d4), spec tasks.md §1.3, §1.6.
//
// Ordinary tasks: one context (after the few-shot prefix), continuations `target_delimiter + choice` = " " + choice.
// Multiple-input tasks (winogrande): one context per choice, one shared continuation.
// Per document: acc = [argmax_i ll_i == gold]; acc_norm = [argmax_i ll_i / len(choice_i) == gold]
// with len in code points of the choice string (no delimiter); argmax = first maximum (numpy).
#pragma once

#include <string>
#include <vector>

#include "tasks/task.h"

namespace pythia::tasks {

// What one document asks, already rendered.
struct McPrompt {
  std::vector<std::string> contexts;       // 1 (shared) or one per choice (multiple input)
  std::vector<std::string> continuations;  // one per choice, or 1 (shared, multiple input)
  std::vector<std::string> choices;        // doc_to_choice(doc): acc_norm lengths, logged
  int gold = 0;
  nlohmann::json target;  // doc_to_target(doc) as lm-eval logs it
};

// A document rendered as a few-shot example (build_qa_turn with the answer): ordinary tasks
// `contexts[0] + " " + choices[gold]`; multiple input `choices[gold] + continuations[0]` (the
// correct filled-in context, target_delimiter, the shared target).
std::string mc_fewshot_example(const McPrompt& p);

// Per-document acc / acc_norm from log-likelihoods (exposed for tests).
double mc_acc(const std::vector<double>& lls, int gold);
double mc_acc_norm(const std::vector<double>& lls, const std::vector<std::string>& choices, int gold);

class MultipleChoiceTask : public Task {
 public:
  // `with_acc_norm`: report acc_norm too (all but winogrande).
  explicit MultipleChoiceTask(bool with_acc_norm) : with_acc_norm_(with_acc_norm) {}

  std::vector<MetricSpec> metrics() const override;
  std::vector<Request> requests(std::int64_t doc) const override;
  DocResult process(std::int64_t doc, const std::vector<RequestAnswer>& answers) const override;

  // The rendered prompt of document `doc` (REQUIRES: 0 <= doc < size()).
  virtual McPrompt prompt(std::int64_t doc) const = 0;

 private:
  bool with_acc_norm_;
};

}  // namespace pythia::tasks
