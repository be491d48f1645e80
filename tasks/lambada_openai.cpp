// lambada_openai — reproduces lm-eval v0.4 `lm_eval/tasks/lambada/lambada_openai.yaml`
// (blob e159a6c7a0f6, commit 4e7e0d4; metadata.version 1.0; v0.3 `lm_eval/tasks/lambada.py`
// LambadaOpenAI VERSION 0). Spec tasks.md §2.1.
// Data: OpenAI's lambada_test.jsonl (5153 lines of {"text": ...}), the file behind
// EleutherAI/lambada_openai `default` split `test`.
#include <memory>

#include "data/task_data.h"
#include "tasks/doc_fields.h"
#include "tasks/doc_files.h"
#include "tasks/lm_eval_config.h"
#include "tasks/registry.h"

namespace pythia::tasks {

namespace {

struct LambadaDoc {
  std::string text;
};

class LambadaOpenAi final : public DocTask<Task, LambadaDoc> {
 public:
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  std::vector<MetricSpec> metrics() const override {
    return {{"perplexity", Aggregation::kPerplexity, false}, {"acc", Aggregation::kMean, true}};
  }
  nlohmann::json config() const override {
    return zero_shot_config({{"task", "lambada_openai"},
                             {"dataset_path", "EleutherAI/lambada_openai"},
                             {"dataset_name", "default"},
                             {"test_split", "test"},
                             {"doc_to_text", "{{text.split(' ')[:-1]|join(' ')}}"},
                             {"doc_to_target", "{{' '+text.split(' ')[-1]}}"},
                             {"metric_list", metric_list(metrics())},
                             {"output_type", "loglikelihood"},
                             {"doc_to_decontamination_query", "{{text}}"}},
                            1.0, "lm_eval/tasks/lambada/lambada_openai.yaml");
  }
  std::vector<std::string> data_files() const override {
    return {"lambada_openai/lambada_test.jsonl"};
  }

  std::vector<Request> requests(std::int64_t d) const override {
    const auto [context, target] = lambada_split(doc(d).text);
    return {Request{RequestType::kLoglikelihood, d, 0, fewshot_prefix(d) + context, target}};
  }

  // No training or validation split: lm-eval draws examples from the test split itself (the
  // whole split, whatever --limit), without excluding the scored document (fewshot split null !=
  // test_split "test"), so an example can be the document itself.
  FewshotSource fewshot_source() const override { return {.split = "test"}; }

  DocResult process(std::int64_t d, const std::vector<RequestAnswer>& answers) const override {
    DocResult r;
    r.items.push_back({answers.at(0).logprob, 1.0});
    r.items.push_back({answers.at(0).is_greedy ? 1.0 : 0.0, 1.0});
    r.log = {{"target", lambada_split(doc(d).text).second}};
    return r;
  }

 protected:
  std::vector<LambadaDoc> read_fewshot_docs(const std::filesystem::path& dir) const override {
    return read_docs(dir);
  }
  // doc_to_text + target_delimiter " " + doc_to_target (which starts with its own space).
  std::string render_example(const LambadaDoc& x) const override {
    const auto [context, target] = lambada_split(x.text);
    return context + " " + target;
  }
  bool same_row(const LambadaDoc& a, const LambadaDoc& b) const override { return a.text == b.text; }

  std::vector<LambadaDoc> read_docs(const std::filesystem::path& dir) const override {
    const auto path = data::locate_task_file(
        dir, "lambada_openai", "lambada_test.jsonl",
        "It is OpenAI's LAMBADA test file (https://openaipublic.blob.core.windows.net/"
        "gpt-2/data/lambada_test.jsonl, sha256 4aa8d02c...), also the data of the Hugging Face "
        "dataset EleutherAI/lambada_openai.");
    std::vector<LambadaDoc> docs;
    for_each_record(path, [&](const nlohmann::json& j, const std::string& w) {
      docs.push_back({string_field(j, "text", w)});
    });
    return docs;
  }

 private:
  std::string name_ = "lambada_openai";
};

}  // namespace

std::pair<std::string, std::string> lambada_split(const std::string& text) {
  // doc_to_text: " ".join(text.split(" ")[:-1]); doc_to_target: " " + text.split(" ")[-1].
  const std::size_t pos = text.rfind(' ');
  std::string target(" ");
  if (pos == std::string::npos) return {"", target.append(text)};
  target.append(text, pos + 1, std::string::npos);
  return {text.substr(0, pos), std::move(target)};
}

std::unique_ptr<Task> make_lambada_openai() { return std::make_unique<LambadaOpenAi>(); }

}  // namespace pythia::tasks
