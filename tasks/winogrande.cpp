// winogrande — reproduces lm-eval v0.4 `lm_eval/tasks/winogrande/default.yaml` (blob 5321b95f8f13)
// with `preprocess_winogrande.py` (blob 2f2076a76290), commit 4e7e0d4; metadata.version 1.0
// (v0.3 `lm_eval/tasks/winogrande.py` VERSION 0). Spec tasks.md §2.3 ("partial evaluation": two
// contexts sentence[:i] + option, one shared continuation " " + sentence[i+1:].strip()).
// Data: WinoGrande 1.1 dev.jsonl (qID, sentence, option1, option2, answer) + dev-labels.lst
// = Hugging Face allenai/winogrande `winogrande_xl` split `validation`.
#include <memory>

#include "data/task_data.h"
#include "tasks/doc_fields.h"
#include "tasks/doc_files.h"
#include "tasks/lm_eval_config.h"
#include "tasks/multiple_choice_task.h"
#include "tasks/python_text.h"
#include "tasks/registry.h"

namespace pythia::tasks {

namespace {

constexpr const char* kWhere =
    "Get dev.jsonl and dev-labels.lst (few-shot: train_xl.jsonl, train_xl-labels.lst) from "
    "winogrande_1.1.zip "
    "(https://storage.googleapis.com/ai2-mosaic/public/winogrande/winogrande_1.1.zip).";

struct WinograndeDoc {
  std::string sentence, option1, option2;
  int answer = 1;            // "1" or "2"
  std::size_t blank = 0;     // byte index of the first '_'
};

class Winogrande final : public DocTask<MultipleChoiceTask, WinograndeDoc> {
 public:
  Winogrande() : DocTask(false) {}
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  nlohmann::json config() const override {
    // doc_to_* are the functions of preprocess_winogrande.py, logged as their source.
    return zero_shot_config(
        {{"task", "winogrande"},
         {"dataset_path", "allenai/winogrande"},
         {"dataset_name", "winogrande_xl"},
         {"training_split", "train"},
         {"validation_split", "validation"},
         {"doc_to_text",
          "def doc_to_text(doc):\n    answer_to_num = {\"1\": 0, \"2\": 1}\n    return "
          "answer_to_num[doc[\"answer\"]]\n"},
         {"doc_to_target",
          "def doc_to_target(doc):\n    idx = doc[\"sentence\"].index(\"_\") + 1\n    return "
          "doc[\"sentence\"][idx:].strip()\n"},
         {"doc_to_choice",
          "def doc_to_choice(doc):\n    idx = doc[\"sentence\"].index(\"_\")\n    options = "
          "[doc[\"option1\"], doc[\"option2\"]]\n    return [doc[\"sentence\"][:idx] + opt for "
          "opt in options]\n"},
         {"metric_list", metric_list(metrics())},
         {"output_type", "multiple_choice"},
         {"doc_to_decontamination_query", "sentence"}},
        1.0, "lm_eval/tasks/winogrande/default.yaml",
        {{"doc_to_text", "<function doc_to_text>"},
         {"doc_to_choice", "<function doc_to_choice>"},
         {"doc_to_target", "<function doc_to_target>"}});
  }
  std::vector<std::string> data_files() const override {
    return {"winogrande/dev.jsonl", "winogrande/dev-labels.lst"};
  }

  FewshotSource fewshot_source() const override {
    return {.exclude_eval_doc = true, .split = "train"};  // fewshot split null == test_split null
  }
  McPrompt prompt(std::int64_t d) const override { return prompt_of(doc(d)); }
  McPrompt prompt_of(const WinograndeDoc& x) const {
    const std::string prefix = x.sentence.substr(0, x.blank);
    const std::string target(py_strip(std::string_view(x.sentence).substr(x.blank + 1)));
    McPrompt p;
    p.choices = {prefix + x.option1, prefix + x.option2};  // doc_to_choice = the contexts
    p.contexts = p.choices;
    p.continuations = {" " + target};
    p.gold = x.answer - 1;  // doc_to_text: {"1": 0, "2": 1}[answer]
    p.target = target;
    return p;
  }

 protected:
  std::vector<WinograndeDoc> read_docs(const std::filesystem::path& dir) const override {
    return read_split(dir, "dev");
  }
  // The training split of config winogrande_xl (few-shot pool): train_xl.jsonl + labels.
  std::vector<WinograndeDoc> read_fewshot_docs(const std::filesystem::path& dir) const override {
    return read_split(dir, "train_xl");
  }
  std::string render_example(const WinograndeDoc& x) const override {
    return mc_fewshot_example(prompt_of(x));
  }
  // HF row {sentence, option1, option2, answer} (qID is not in it).
  bool same_row(const WinograndeDoc& a, const WinograndeDoc& b) const override {
    return a.sentence == b.sentence && a.option1 == b.option1 && a.option2 == b.option2 &&
           a.answer == b.answer;
  }

 private:
  std::vector<WinograndeDoc> read_split(const std::filesystem::path& dir, const std::string& stem) const {
    const auto jpath = data::locate_task_file(dir, "winogrande", stem + ".jsonl", kWhere);
    const auto lpath = data::locate_task_file(dir, "winogrande", stem + "-labels.lst", kWhere);
    std::vector<WinograndeDoc> docs;
    std::vector<std::string> answers;
    for_each_record(jpath, [&](const nlohmann::json& j, const std::string& w) {
      WinograndeDoc x{string_field(j, "sentence", w), string_field(j, "option1", w),
                      string_field(j, "option2", w), 1, 0};
      x.blank = x.sentence.find('_');
      if (x.blank == std::string::npos) throw DataError(w, "sentence has no '_' blank");
      answers.push_back(j.contains("answer") && j["answer"].is_string() ? j["answer"].get<std::string>()
                                                                       : "");
      docs.push_back(std::move(x));
    });
    const auto labels = read_labels(lpath, docs.size(), jpath);
    for (std::size_t i = 0; i < labels.size(); ++i) {
      const std::string l = trim_ascii(labels[i]);
      const std::string w = at_line(lpath.string(), static_cast<std::int64_t>(i + 1));
      if (l != "1" && l != "2") throw DataError(w, "label must be 1 or 2, got '" + labels[i] + "'");
      if (!answers[i].empty() && answers[i] != l) {
        throw DataError(w, "label " + l + " disagrees with 'answer' \"" + answers[i] + "\" of " +
                               at_line(jpath.string(), static_cast<std::int64_t>(i + 1)));
      }
      docs[i].answer = l == "2" ? 2 : 1;
    }
    return docs;
  }

  std::string name_ = "winogrande";
};

}  // namespace

std::unique_ptr<Task> make_winogrande() { return std::make_unique<Winogrande>(); }

}  // namespace pythia::tasks
