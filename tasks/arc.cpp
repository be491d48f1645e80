// arc_easy / arc_challenge — reproduce lm-eval v0.4 `lm_eval/tasks/arc/arc_easy.yaml` (blob
// 1b2e369a4e19) and `arc_challenge.yaml` (blob 2ad5149095e1, which includes arc_easy.yaml), commit
// 4e7e0d4; metadata.version 1.0 (v0.3 `lm_eval/tasks/arc.py` VERSION 0). Spec tasks.md §2.4-2.5.
// Data: ARC-V1-Feb2018 ARC-Easy-Test.jsonl / ARC-Challenge-Test.jsonl (id, question{stem,
// choices[{text,label}]}, answerKey) = Hugging Face allenai/ai2_arc split `test`.
#include <algorithm>
#include <memory>

#include "data/task_data.h"
#include "tasks/doc_fields.h"
#include "tasks/doc_files.h"
#include "tasks/lm_eval_config.h"
#include "tasks/multiple_choice_task.h"
#include "tasks/registry.h"

namespace pythia::tasks {

namespace {

// arc_challenge.yaml includes arc_easy.yaml and changes task, dataset_name and nothing else.
nlohmann::json arc_config(const std::string& task, const std::string& dataset_name,
                          const std::vector<MetricSpec>& metrics) {
  const char* text = "Question: {{question}}\nAnswer:";
  return zero_shot_config({{"task", task},
                           {"dataset_path", "allenai/ai2_arc"},
                           {"dataset_name", dataset_name},
                           {"training_split", "train"},
                           {"validation_split", "validation"},
                           {"test_split", "test"},
                           {"doc_to_text", text},
                           {"doc_to_target", "{{choices.label.index(answerKey)}}"},
                           {"doc_to_choice", "{{choices.text}}"},
                           {"metric_list", metric_list(metrics)},
                           {"output_type", "multiple_choice"},
                           {"doc_to_decontamination_query", text}},
                          1.0, "lm_eval/tasks/arc/" + task + ".yaml");
}
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
  Arc(std::string name, std::string file, std::string train_file, std::string dataset_name)
      : DocTask(true),
        name_(std::move(name)),
        file_(std::move(file)),
        train_file_(std::move(train_file)),
        dataset_name_(std::move(dataset_name)) {}
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  nlohmann::json config() const override { return arc_config(name_, dataset_name_, metrics()); }
  std::vector<std::string> data_files() const override { return {name_ + "/" + file_}; }

  FewshotSource fewshot_source() const override { return {.split = "train"}; }
  McPrompt prompt(std::int64_t d) const override { return prompt_of(doc(d)); }
  McPrompt prompt_of(const ArcDoc& x) const {
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
    return read_file(dir, file_);
  }
  // The training split (few-shot pool): ARC-*-Train.jsonl of the same release.
  std::vector<ArcDoc> read_fewshot_docs(const std::filesystem::path& dir) const override {
    return read_file(dir, train_file_);
  }
  std::string render_example(const ArcDoc& x) const override { return mc_fewshot_example(prompt_of(x)); }
  bool same_row(const ArcDoc& a, const ArcDoc& b) const override {
    return a.id == b.id && a.question == b.question && a.texts == b.texts && a.labels == b.labels &&
           a.gold == b.gold;
  }

 private:
  std::vector<ArcDoc> read_file(const std::filesystem::path& dir, const std::string& file) const {
    const auto path = data::locate_task_file(dir, name_, file, kWhere);
    std::vector<ArcDoc> docs;
    for_each_record(path, [&](const nlohmann::json& j, const std::string& w) {
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

  std::string name_, file_, train_file_, dataset_name_;
};

}  // namespace

std::unique_ptr<Task> make_arc_easy() {
  return std::make_unique<Arc>("arc_easy", "ARC-Easy-Test.jsonl", "ARC-Easy-Train.jsonl", "ARC-Easy");
}
std::unique_ptr<Task> make_arc_challenge() {
  return std::make_unique<Arc>("arc_challenge", "ARC-Challenge-Test.jsonl", "ARC-Challenge-Train.jsonl",
                               "ARC-Challenge");
}

}  // namespace pythia::tasks
