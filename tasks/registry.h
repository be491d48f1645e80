// The task registry: the nine core lm-evaluation-harness tasks this harness reproduces, by lm-eval
// name, in a fixed order (the explicit list in registry.cpp), plus the 57 MMLU subjects (mmlu.cpp). One task family per file:
// lambada_openai.cpp, piqa.cpp, winogrande.cpp, arc.cpp (arc_easy, arc_challenge), sciq.cpp,
// wsc.cpp, logiqa.cpp, wikitext.cpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tasks/task.h"

namespace pythia::tasks {

// The core task names in registry order (what "all" runs). The 57 MMLU subject tasks
// mmlu_<subject> (tasks/mmlu.h) are registered too but run by name or through the suites
// "mmlu" / "pythia" (tasks/suites.h).
const std::vector<std::string>& task_names();

// `name` is a registered task (a core task or an MMLU subject).
bool is_task(const std::string& name);

// A fresh (not yet loaded) task. Throws UsageError for an unknown name, listing the known ones.
std::unique_ptr<Task> make_task(const std::string& name);

// Documents in the real evaluation split of task `name` (lambada_openai 5153, piqa 1838, ...); -1
// for an unknown name. A loaded task with another count ran on sample data.
std::int64_t real_split_docs(const std::string& name);

// Parses "--tasks" ("all" or a comma-separated list of task names and suite names, tasks/suites.h
// e.g. "pythia"; duplicates removed, order kept). Throws UsageError on an unknown or empty name,
// and for a suite with tasks this build does not register, listing every missing one.
std::vector<std::string> parse_task_list(const std::string& spec);

// Factories (one per file).
std::unique_ptr<Task> make_lambada_openai();
std::unique_ptr<Task> make_piqa();
std::unique_ptr<Task> make_winogrande();
std::unique_ptr<Task> make_arc_easy();
std::unique_ptr<Task> make_arc_challenge();
std::unique_ptr<Task> make_sciq();
std::unique_ptr<Task> make_wsc();
std::unique_ptr<Task> make_logiqa();
std::unique_ptr<Task> make_wikitext();

// lambada_openai's doc_to_text / doc_to_target: split at the last ' ' (exposed for tests).
std::pair<std::string, std::string> lambada_split(const std::string& text);
// wsc (wsc.cpp, exposed for tests): lm_eval.utils.general_detokenize and preprocess_wsc.py
// default_doc_to_text on a wsc.fixed row.
std::string general_detokenize(std::string_view s);
std::string wsc_doc_to_text(std::string_view text, std::string_view span1_text,
                            std::string_view span2_text, std::int64_t span2_index);

}  // namespace pythia::tasks
