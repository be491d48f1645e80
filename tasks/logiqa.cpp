// logiqa — reproduces lm-eval v0.4 `lm_eval/tasks/logiqa/logiqa.yaml` + `utils_logiqa.py` (commit
// 4e7e0d4; metadata.version 1.0; v0.3 `lm_eval/tasks/logiqa.py` VERSION 0, the `logiqa` of Pythia's
// published evals/: 651 documents).
// Data: the LogiQA release files (github.com/lgw863/LogiQA-dataset) Test.txt (evaluated: the test
// split) and Train.txt (few-shot pool), read as the Hugging Face EleutherAI/logiqa script does
// (= lm-eval v0.3 lm_eval/datasets/logiqa/logiqa.py): the file (text mode: universal newlines) is
// stripped and split at "\n\n"; in each record line 0 is the label (stripped), line 1 the context,
// line 2 the question, lines 3.. the options with their first two characters ("A.") cut; context,
// question and options are normalized by `text.replace(".", ". ").strip()`.
// doc_to_text: "Passage: <context>\nQuestion: <question>\nChoices:\nA. <o1>\nB. <o2>\nC. <o3>\n
// D. <o4>\nAnswer:" (zip with a-d), doc_to_choice = options, doc_to_target = "abcd".index(label);
// metrics acc, acc_norm. Few-shot: the train split, no exclusion (fewshot split null != test).
#include <memory>

#include "data/gzip_stream.h"
#include "data/task_data.h"
#include "tasks/doc_fields.h"
#include "tasks/lm_eval_config.h"
#include "tasks/multiple_choice_task.h"
#include "tasks/python_text.h"
#include "tasks/registry.h"

namespace pythia::tasks {

namespace {

constexpr const char* kWhere =
    "Get Test.txt (few-shot: Train.txt) from the LogiQA release "
    "(https://github.com/lgw863/LogiQA-dataset, raw files at "
    "https://raw.githubusercontent.com/lgw863/LogiQA-dataset/master/).";

struct LogiqaDoc {
  std::string label, context, question;
  std::vector<std::string> options;
  int gold = 0;
};

// Splits `s` at every occurrence of `sep` (Python str.split(sep)).
std::vector<std::string_view> split_at(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + sep.size();
  }
}

std::string normalize(std::string_view text) { return std::string(py_strip(py_replace(text, ".", ". "))); }

class Logiqa final : public DocTask<MultipleChoiceTask, LogiqaDoc> {
 public:
  Logiqa() : DocTask(true) {}
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  nlohmann::json config() const override {
    return zero_shot_config({{"task", "logiqa"},
                             {"dataset_path", "EleutherAI/logiqa"},
                             {"dataset_name", "logiqa"},
                             {"training_split", "train"},
                             {"validation_split", "validation"},
                             {"test_split", "test"},
                             {"doc_to_text", kDocToTextSource},
                             {"doc_to_target", kDocToTargetSource},
                             {"doc_to_choice", "{{options}}"},
                             {"metric_list", metric_list(metrics())},
                             {"output_type", "multiple_choice"},
                             {"doc_to_decontamination_query", "{{context}}"}},
                            1.0, "lm_eval/tasks/logiqa/logiqa.yaml",
                            {{"doc_to_text", "<function doc_to_text>"},
                             {"doc_to_target", "<function doc_to_target>"}});
  }
  std::vector<std::string> data_files() const override { return {"logiqa/Test.txt"}; }

  FewshotSource fewshot_source() const override { return {.split = "train"}; }
  McPrompt prompt(std::int64_t d) const override { return prompt_of(doc(d)); }
  McPrompt prompt_of(const LogiqaDoc& x) const {
    McPrompt p;
    std::string text = "Passage: " + x.context + "\nQuestion: " + x.question + "\nChoices:\n";
    static const char* kLetters[] = {"A", "B", "C", "D"};
    for (std::size_t i = 0; i < x.options.size() && i < 4; ++i) text += std::string(kLetters[i]) + ". " + x.options[i] + "\n";
    p.contexts = {text + "Answer:"};
    p.choices = x.options;
    for (const auto& o : x.options) p.continuations.push_back(" " + o);
    p.gold = x.gold;
    p.target = x.gold;
    return p;
  }

 protected:
  std::vector<LogiqaDoc> read_docs(const std::filesystem::path& dir) const override {
    return read_file(dir, "Test.txt");
  }
  std::vector<LogiqaDoc> read_fewshot_docs(const std::filesystem::path& dir) const override {
    return read_file(dir, "Train.txt");
  }
  std::string render_example(const LogiqaDoc& x) const override { return mc_fewshot_example(prompt_of(x)); }
  // HF row {label, context, question, options}.
  bool same_row(const LogiqaDoc& a, const LogiqaDoc& b) const override {
    return a.label == b.label && a.context == b.context && a.question == b.question && a.options == b.options;
  }

 private:
  static constexpr const char* kDocToTextSource =
      "def doc_to_text(doc) -> str:\n    \"\"\"\n    Passage: <passage>\n    Question: <question>\n    "
      "Choices:\n    A. <choice1>\n    B. <choice2>\n    C. <choice3>\n    D. <choice4>\n    Answer:\n    "
      "\"\"\"\n    choices = [\"a\", \"b\", \"c\", \"d\"]\n    prompt = \"Passage: \" + doc[\"context\"] + "
      "\"\\n\"\n    prompt += \"Question: \" + doc[\"question\"] + \"\\nChoices:\\n\"\n    for choice, "
      "option in zip(choices, doc[\"options\"]):\n        prompt += f\"{choice.upper()}. {option}\\n\"\n    "
      "prompt += \"Answer:\"\n    return prompt\n";
  static constexpr const char* kDocToTargetSource =
      "def doc_to_target(doc) -> int:\n    choices = [\"a\", \"b\", \"c\", \"d\"]\n    return "
      "choices.index(doc[\"label\"].strip())\n";

  std::vector<LogiqaDoc> read_file(const std::filesystem::path& dir, const std::string& file) const {
    const auto path = data::locate_task_file(dir, name_, file, kWhere);
    const std::string raw = data::read_whole_file(path);
    if (const auto bad = find_invalid_utf8(raw)) {
      throw DataError(path.string(), "not UTF-8 (byte offset " + std::to_string(*bad) + ")");
    }
    std::string text;  // Python text mode: universal newlines
    text.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\r') {
        text += '\n';
        if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
      } else {
        text += raw[i];
      }
    }
    std::vector<LogiqaDoc> docs;
    const auto records = split_at(py_strip(text), "\n\n");
    for (std::size_t r = 0; r < records.size(); ++r) {
      const std::string where = path.string() + " record " + std::to_string(r + 1);
      const auto lines = split_at(records[r], "\n");
      if (lines.size() < 3) {
        throw DataError(where, "has " + std::to_string(lines.size()) +
                                   " lines; a LogiQA record is a label line, a context line, a question line and the options");
      }
      LogiqaDoc x;
      x.label = std::string(py_strip(lines[0]));
      x.context = normalize(lines[1]);
      x.question = normalize(lines[2]);
      for (std::size_t i = 3; i < lines.size(); ++i) {
        std::size_t cut = 0;  // option[2:] in code points
        for (int k = 0; k < 2 && cut < lines[i].size(); ++k) {
          std::size_t len = 1;
          code_point_at(lines[i], cut, len);
          cut += len;
        }
        x.options.push_back(normalize(lines[i].substr(cut)));
      }
      if (x.label.size() != 1 || x.label[0] < 'a' || x.label[0] > 'd') {
        throw DataError(where, "label '" + x.label + "' is not one of a, b, c, d");
      }
      x.gold = x.label[0] - 'a';
      if (x.gold >= static_cast<int>(x.options.size())) {
        throw DataError(where, "label '" + x.label + "' but only " + std::to_string(x.options.size()) + " options");
      }
      docs.push_back(std::move(x));
    }
    return docs;
  }

  std::string name_ = "logiqa";
};

}  // namespace

std::unique_ptr<Task> make_logiqa() { return std::make_unique<Logiqa>(); }

}  // namespace pythia::tasks
