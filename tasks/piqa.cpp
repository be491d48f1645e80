// piqa — reproduces lm-eval v0.4 `lm_eval/tasks/piqa/piqa.yaml` (blob b147daea44b3, commit
// 4e7e0d4; metadata.version 1.0; v0.3 `lm_eval/tasks/piqa.py` VERSION 0). Spec tasks.md §2.2.
// Data: the PIQA release files valid.jsonl (goal, sol1, sol2) + valid-labels.lst (0/1 per line),
// joined line by line = Hugging Face baber/piqa (earlier `piqa`) split `validation`.
#include <memory>

#include "data/task_data.h"
#include "tasks/doc_fields.h"
#include "tasks/doc_files.h"
#include "tasks/lm_eval_config.h"
#include "tasks/multiple_choice_task.h"
#include "tasks/registry.h"

namespace pythia::tasks {

namespace {

constexpr const char* kWhere =
    "Get valid.jsonl and valid-labels.lst (few-shot: train.jsonl, train-labels.lst) from the PIQA release "
    "(https://yonatanbisk.com/piqa/data/, github.com/ybisk/ybisk.github.io piqa/data/).";

struct PiqaDoc {
  std::string goal, sol1, sol2;
  int label = 0;
};

class Piqa final : public DocTask<MultipleChoiceTask, PiqaDoc> {
 public:
  Piqa() : DocTask(true) {}
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  nlohmann::json config() const override {
    return zero_shot_config({{"task", "piqa"},
                             {"dataset_path", "baber/piqa"},
                             {"training_split", "train"},
                             {"validation_split", "validation"},
                             {"doc_to_text", "Question: {{goal}}\nAnswer:"},
                             {"doc_to_target", "label"},
                             {"doc_to_choice", "{{[sol1, sol2]}}"},
                             {"metric_list", metric_list(metrics())},
                             {"output_type", "multiple_choice"},
                             {"doc_to_decontamination_query", "goal"}},
                            1.0, "lm_eval/tasks/piqa/piqa.yaml");
  }
  std::vector<std::string> data_files() const override {
    return {"piqa/valid.jsonl", "piqa/valid-labels.lst"};
  }

  FewshotSource fewshot_source() const override {
    return {.exclude_eval_doc = true, .split = "train"};  // fewshot split null == test_split null
  }
  McPrompt prompt(std::int64_t d) const override { return prompt_of(doc(d)); }
  McPrompt prompt_of(const PiqaDoc& x) const {
    McPrompt p;
    p.contexts = {"Question: " + x.goal + "\nAnswer:"};
    p.choices = {x.sol1, x.sol2};  // verbatim, whitespace kept (spec §5.12)
    p.continuations = {" " + x.sol1, " " + x.sol2};
    p.gold = x.label;
    p.target = x.label;
    return p;
  }

 protected:
  std::vector<PiqaDoc> read_docs(const std::filesystem::path& dir) const override {
    return read_split(dir, "valid");
  }
  // The training split (few-shot pool): train.jsonl + train-labels.lst of the same release.
  std::vector<PiqaDoc> read_fewshot_docs(const std::filesystem::path& dir) const override {
    return read_split(dir, "train");
  }
  std::string render_example(const PiqaDoc& x) const override { return mc_fewshot_example(prompt_of(x)); }
  // HF row {goal, sol1, sol2, label}.
  bool same_row(const PiqaDoc& a, const PiqaDoc& b) const override {
    return a.goal == b.goal && a.sol1 == b.sol1 && a.sol2 == b.sol2 && a.label == b.label;
  }

 private:
  std::vector<PiqaDoc> read_split(const std::filesystem::path& dir, const std::string& stem) const {
    const auto jpath = data::locate_task_file(dir, "piqa", stem + ".jsonl", kWhere);
    const auto lpath = data::locate_task_file(dir, "piqa", stem + "-labels.lst", kWhere);
    std::vector<PiqaDoc> docs;
    for_each_record(jpath, [&](const nlohmann::json& j, const std::string& w) {
      docs.push_back({string_field(j, "goal", w), string_field(j, "sol1", w),
                      string_field(j, "sol2", w), 0});
    });
    const auto labels = read_labels(lpath, docs.size(), jpath);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const std::string l(trim_ascii(labels[i]));
      if (l != "0" && l != "1") {
        throw DataError(at_line(lpath.string(), static_cast<std::int64_t>(i + 1)),
                        "label must be 0 or 1, got '" + labels[i] + "'");
      }
      docs[i].label = l == "1" ? 1 : 0;
    }
    return docs;
  }

  std::string name_ = "piqa";
};

}  // namespace

std::unique_ptr<Task> make_piqa() { return std::make_unique<Piqa>(); }

}  // namespace pythia::tasks
