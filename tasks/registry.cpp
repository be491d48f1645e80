#include "tasks/registry.h"
#include "tasks/suites.h"
#include "tasks/mmlu.h"

#include <algorithm>

#include "data/error.h"

namespace pythia::tasks {

namespace {
struct Entry {
  const char* name;
  std::unique_ptr<Task> (*make)();
  std::int64_t split_docs;  // documents in the real evaluation split (SOURCES.md, dataset cards)
};
// The explicit list (lm-eval task names), in the order `all` runs them.
constexpr Entry kTasks[] = {
    {"lambada_openai", make_lambada_openai, 5153}, {"piqa", make_piqa, 1838},
    {"winogrande", make_winogrande, 1267},         {"arc_easy", make_arc_easy, 2376},
    {"arc_challenge", make_arc_challenge, 1172},   {"sciq", make_sciq, 1000},
    {"wsc", make_wsc, 104},                        {"logiqa", make_logiqa, 651},
    {"wikitext", make_wikitext, 62},
};
}  // namespace

const std::vector<std::string>& task_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& e : kTasks) v.emplace_back(e.name);
    return v;
  }();
  return names;
}

std::unique_ptr<Task> make_task(const std::string& name) {
  for (const auto& e : kTasks) {
    if (name == e.name) return e.make();
  }
  if (find_mmlu_subject(name) != nullptr) return make_mmlu(name);
  std::string known;
  for (const auto& n : task_names()) known += (known.empty() ? "" : ", ") + n;
  throw UsageError("unknown task '" + name + "' (known: " + known +
                   ", mmlu_<subject> for the 57 MMLU subjects, the suites mmlu and pythia, or 'all')");
}

bool is_task(const std::string& name) {
  const auto& core = task_names();
  return std::find(core.begin(), core.end(), name) != core.end() || find_mmlu_subject(name) != nullptr;
}

std::int64_t real_split_docs(const std::string& name) {
  for (const auto& e : kTasks) {
    if (name == e.name) return e.split_docs;
  }
  if (const MmluSubject* s = find_mmlu_subject(name)) return s->test_docs;
  return -1;
}

std::vector<std::string> parse_task_list(const std::string& spec) {
  if (spec == "all") return task_names();
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = spec.find(',', start);
    std::string name = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    if (name.empty()) throw UsageError("empty task name in --tasks '" + spec + "'");
    if (const auto suite = suite_tasks(name)) {
      // Every task of the suite, or a clear error listing the ones this build does not have.
      std::string missing;
      std::size_t n_missing = 0;
      for (const auto& t : *suite) {
        if (!is_task(t)) {
          missing += (missing.empty() ? "" : ", ") + t;
          ++n_missing;
        }
      }
      if (n_missing > 0) {
        throw UsageError("--tasks " + name + ": " + std::to_string(n_missing) + " of the suite's " +
                         std::to_string(suite->size()) + " tasks are not available in this build: " +
                         missing);
      }
      for (const auto& t : *suite) {
        if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
      }
    } else if (name == "all") {
      for (const auto& n : task_names()) {
        if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
      }
    } else {
      make_task(name);  // validates
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace pythia::tasks
