// arc_easy / arc_challenge — reproduce lm-eval v0.4 `lm_eval/tasks/arc/arc_easy.yaml` (blob
// 1b2e369a4e19) and `arc_challenge.yaml` (blob 2ad5149095e1, which includes arc_easy.yaml), commit
// 4e7e0d4; metadata.version 1.0 (v0.3 `lm_eval/tasks/arc.py` VERSION 0). Spec tasks.md §2.4-2.5.
// Data: ARC-V1-Feb2018 ARC-Easy-Test.jsonl / ARC-Challenge-Test.jsonl (id, question{stem,
// choices[{text,label}]}, answerKey) = Hugging Face allenai/ai2_arc split `test`.
#include <memory>

#include "data/jsonl_reader.h"
#include "data/task_data.h"
#include "tasks/doc_fields.h"
#include "tasks/multiple_choice_task.h"
#include "tasks/registry.h"

namespace pythia::tasks {

namespace {

constexpr const char* kEasyConfig = R"json({
 "task": "arc_easy",
 "dataset_path": "allenai/ai2_arc",
 "dataset_name": "ARC-Easy",
 "training_split": "train",
 "validation_split": "validation",
 "test_split": "test",
 "doc_to_text": "Question: {{question}}\nAnswer:",
 "doc_to_target": "{{choices.label.index(answerKey)}}",
 "unsafe_code": false,
 "doc_to_choice": "{{choices.text}}",
 "description": "",
 "target_delimiter": " ",
 "fewshot_delimiter": "\n\n",
 "fewshot_config": {
  "sampler": "default",
  "split": null,
  "process_docs": null,
  "fewshot_indices": null,
  "samples": null,
  "doc_to_text": "Question: {{question}}\nAnswer:",
  "doc_to_choice": "{{choices.text}}",
  "doc_to_target": "{{choices.label.index(answerKey)}}",
  "gen_prefix": null,
  "fewshot_delimiter": "\n\n",
  "target_delimiter": " "
 },
 "num_fewshot": 0,
 "metric_list": [
  {
   "metric": "acc",
   "aggregation": "mean",
   "higher_is_better": true
  },
  {
   "metric": "acc_norm",
   "aggregation": "mean",
   "higher_is_better": true
  }
 ],
 "output_type": "multiple_choice",
 "repeats": 1,
 "should_decontaminate": true,
 "doc_to_decontamination_query": "Question: {{question}}\nAnswer:",
 "metadata": {
  "version": 1.0,
  "config_source": "lm_eval/tasks/arc/arc_easy.yaml"
 }
})json";
constexpr const char* kChallengeConfig = R"json({
 "task": "arc_challenge",
 "dataset_path": "allenai/ai2_arc",
 "dataset_name": "ARC-Challenge",
 "training_split": "train",
 "validation_split": "validation",
 "test_split": "test",
 "doc_to_text": "Question: {{question}}\nAnswer:",
 "doc_to_target": "{{choices.label.index(answerKey)}}",
 "unsafe_code": false,
 "doc_to_choice": "{{choices.text}}",
 "description": "",
 "target_delimiter": " ",
 "fewshot_delimiter": "\n\n",
 "fewshot_config": {
  "sampler": "default",
  "split": null,
  "process_docs": null,
  "fewshot_indices": null,
  "samples": null,
  "doc_to_text": "Question: {{question}}\nAnswer:",
  "doc_to_choice": "{{choices.text}}",
  "doc_to_target": "{{choices.label.index(answerKey)}}",
  "gen_prefix": null,
  "fewshot_delimiter": "\n\n",
  "target_delimiter": " "
 },
 "num_fewshot": 0,
 "metric_list": [
  {
   "metric": "acc",
   "aggregation": "mean",
   "higher_is_better": true
  },
  {
   "metric": "acc_norm",
   "aggregation": "mean",
   "higher_is_better": true
  }
 ],
 "output_type": "multiple_choice",
 "repeats": 1,
 "should_decontaminate": true,
 "doc_to_decontamination_query": "Question: {{question}}\nAnswer:",
 "metadata": {
  "version": 1.0,
  "config_source": "lm_eval/tasks/arc/arc_challenge.yaml"
 }
})json";
constexpr const char* kWhere =
    "It is in ARC-V1-Feb2018.zip from AI2 (https://allenai.org/data/arc), folder "
    "ARC-Easy/ or ARC-Challenge/.";

struct ArcDoc {
  std::string id, question;
  std::vector<std::string> texts, labels;
  int gold = 0;  // labels.index(answerKey)
};

class Arc final : public DocTask<MultipleChoiceTask, ArcDoc> {
 public:
  Arc(std::string name, std::string file, const char* config)
      : DocTask(true), name_(std::move(name)), file_(std::move(file)), config_(config) {}
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  nlohmann::json config() const override { return nlohmann::json::parse(config_); }
  std::vector<std::string> data_files() const override { return {name_ + "/" + file_}; }

  McPrompt prompt(std::int64_t d) const override {
    const ArcDoc& x = doc(d);
    McPrompt p;
    p.contexts = {"Question: " + x.question + "\nAnswer:"};
    p.choices = x.texts;
    for (const auto& t : x.texts) p.continuations.push_back(" " + t);
    p.gold = x.gold;
    p.target = x.gold;
    return p;
  }

 protected:
  std::vector<ArcDoc> read_docs(const std::filesystem::path& dir) const override {
    const auto path = data::locate_task_file(dir, name_, file_, kWhere);
    std::vector<ArcDoc> docs;
    data::for_each_jsonl(path, [&](std::int64_t line, const nlohmann::json& j) {
      const std::string w = at_line(path.string(), line);
      ArcDoc x;
      x.id = string_field(j, "id", w);
      const auto& q = field(j, "question", w);
      x.question = string_field(q, "stem", w);
      const auto& choices = field(q, "choices", w);
      if (!choices.is_array() || choices.empty()) throw DataError(w, "'question.choices' is not a non-empty list");
      for (const auto& c : choices) {
        x.texts.push_back(string_field(c, "text", w));
        x.labels.push_back(string_field(c, "label", w));
      }
      const std::string key = string_field(j, "answerKey", w);
      const auto it = std::find(x.labels.begin(), x.labels.end(), key);
      if (it == x.labels.end()) throw DataError(w, "answerKey '" + key + "' is not one of the choice labels");
      x.gold = static_cast<int>(it - x.labels.begin());
      docs.push_back(std::move(x));
    });
    return docs;
  }

 private:
  std::string name_, file_;
  const char* config_;
};

}  // namespace

std::unique_ptr<Task> make_arc_easy() {
  return std::make_unique<Arc>("arc_easy", "ARC-Easy-Test.jsonl", kEasyConfig);
}
std::unique_ptr<Task> make_arc_challenge() {
  return std::make_unique<Arc>("arc_challenge", "ARC-Challenge-Test.jsonl", kChallengeConfig);
}

}  // namespace pythia::tasks
