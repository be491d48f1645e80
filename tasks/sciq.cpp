// sciq — reproduces lm-eval v0.4 `lm_eval/tasks/sciq/sciq.yaml` (blob 141059e4effb, commit 4e7e0d4;
// metadata.version 1.0; v0.3 `lm_eval/tasks/sciq.py` VERSION 0 used `.strip()` on the whole
// context instead). Spec tasks.md §2.6: context = support.lstrip() + "\nQuestion: " + question +
// "\nAnswer:", choices [distractor1, distractor2, distractor3, correct_answer], gold always 3.
// Data: SciQ's test.json (one JSON array of records) = Hugging Face allenai/sciq split `test`.
#include <memory>

#include "data/jsonl_reader.h"
#include "data/task_data.h"
#include "tasks/doc_fields.h"
#include "tasks/lm_eval_config.h"
#include "tasks/multiple_choice_task.h"
#include "tasks/python_text.h"
#include "tasks/registry.h"

namespace pythia::tasks {

namespace {

constexpr const char* kWhere =
    "It is test.json (few-shot: train.json) of the SciQ distribution (SciQ.zip from https://allenai.org/data/sciq, "
    "folder 'SciQ dataset-2 3/'), 1000 records.";

struct SciqDoc {
  std::string question, distractor1, distractor2, distractor3, correct_answer, support;
};

class Sciq final : public DocTask<MultipleChoiceTask, SciqDoc> {
 public:
  Sciq() : DocTask(true) {}
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  nlohmann::json config() const override {
    return zero_shot_config(
        {{"task", "sciq"},
         {"dataset_path", "allenai/sciq"},
         {"training_split", "train"},
         {"validation_split", "validation"},
         {"test_split", "test"},
         {"doc_to_text", "{{support.lstrip()}}\nQuestion: {{question}}\nAnswer:"},
         {"doc_to_target", 3},
         {"doc_to_choice", "{{[distractor1, distractor2, distractor3, correct_answer]}}"},
         {"metric_list", metric_list(metrics())},
         {"output_type", "multiple_choice"},
         {"doc_to_decontamination_query", "{{support}} {{question}}"}},
        1.0, "lm_eval/tasks/sciq/sciq.yaml");
  }
  std::vector<std::string> data_files() const override { return {"sciq/test.json"}; }

  FewshotSource fewshot_source() const override { return {.split = "train"}; }
  McPrompt prompt(std::int64_t d) const override { return prompt_of(doc(d)); }
  McPrompt prompt_of(const SciqDoc& x) const {
    McPrompt p;
    p.contexts = {std::string(py_lstrip(x.support)) + "\nQuestion: " + x.question + "\nAnswer:"};
    p.choices = {x.distractor1, x.distractor2, x.distractor3, x.correct_answer};
    for (const auto& c : p.choices) p.continuations.push_back(" " + c);
    p.gold = 3;
    p.target = 3;
    return p;
  }

 protected:
  std::vector<SciqDoc> read_docs(const std::filesystem::path& dir) const override {
    return read_file(dir, "test.json");
  }
  // The training split (few-shot pool): train.json of the same distribution.
  std::vector<SciqDoc> read_fewshot_docs(const std::filesystem::path& dir) const override {
    return read_file(dir, "train.json");
  }
  std::string render_example(const SciqDoc& x) const override { return mc_fewshot_example(prompt_of(x)); }
  bool same_row(const SciqDoc& a, const SciqDoc& b) const override {
    return a.question == b.question && a.distractor1 == b.distractor1 &&
           a.distractor2 == b.distractor2 && a.distractor3 == b.distractor3 &&
           a.correct_answer == b.correct_answer && a.support == b.support;
  }

 private:
  std::vector<SciqDoc> read_file(const std::filesystem::path& dir, const std::string& file) const {
    const auto path = data::locate_task_file(dir, "sciq", file, kWhere);
    nlohmann::json all;
    try {
      all = nlohmann::json::parse(data::read_whole_file(path));
    } catch (const nlohmann::json::exception& e) {
      throw DataError(path.string(), std::string("invalid JSON: ") + e.what());
    }
    if (!all.is_array()) throw DataError(path.string(), "expected a JSON array of records");
    std::vector<SciqDoc> docs;
    for (std::size_t i = 0; i < all.size(); ++i) {
      const std::string w = path.string() + ": record " + std::to_string(i);
      const auto& j = all[i];
      docs.push_back({string_field(j, "question", w), string_field(j, "distractor1", w),
                      string_field(j, "distractor2", w), string_field(j, "distractor3", w),
                      string_field(j, "correct_answer", w), string_field(j, "support", w)});
    }
    return docs;
  }

  std::string name_ = "sciq";
};

}  // namespace

std::unique_ptr<Task> make_sciq() { return std::make_unique<Sciq>(); }

}  // namespace pythia::tasks
