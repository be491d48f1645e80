// wikitext — reproduces lm-eval v0.4 `lm_eval/tasks/wikitext/wikitext.yaml` (blob c31d920dde54)
// with `preprocess_wikitext.py` (blob e5dff22b2805), commit 4e7e0d4; metadata.version 2.0 (v0.3
// `lm_eval/tasks/wikitext.py` VERSION 1). Spec tasks.md §2.7: one loglikelihood_rolling request
// per page on wikitext_detokenizer(page); words and bytes counted on the ORIGINAL page.
// Data: wikitext-2-raw/wiki.test.raw, cut into pages like EleutherAI/wikitext_document_level
// (config wikitext-2-raw-v1, split test: 62 pages).
#include <memory>

#include "data/jsonl_reader.h"
#include "data/task_data.h"
#include "tasks/doc_fields.h"
#include "tasks/lm_eval_config.h"
#include "tasks/python_text.h"
#include "tasks/registry.h"
#include "tasks/wikitext_detokenizer.h"

namespace pythia::tasks {

namespace {

// preprocess_wikitext.py's functions, logged by lm-eval as their source.
constexpr const char* kDetokenizerSource = R"py(def wikitext_detokenizer(doc):
    string = doc["page"]
    # contractions
    string = string.replace("s '", "s'")
    string = re.sub(r"/' [0-9]/", r"/'[0-9]/", string)
    # number separators
    string = string.replace(" @-@ ", "-")
    string = string.replace(" @,@ ", ",")
    string = string.replace(" @.@ ", ".")
    # punctuation
    string = string.replace(" : ", ": ")
    string = string.replace(" ; ", "; ")
    string = string.replace(" . ", ". ")
    string = string.replace(" ! ", "! ")
    string = string.replace(" ? ", "? ")
    string = string.replace(" , ", ", ")
    # double brackets
    string = re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", string)
    string = re.sub(r"\[\s*([^\]]*?)\s*\]", r"[\1]", string)
    string = re.sub(r"{\s*([^}]*?)\s*}", r"{\1}", string)
    string = re.sub(r"\"\s*([^\"]*?)\s*\"", r'"\1"', string)
    string = re.sub(r"'\s*([^']*?)\s*'", r"'\1'", string)
    # miscellaneous
    string = string.replace("= = = =", "====")
    string = string.replace("= = =", "===")
    string = string.replace("= =", "==")
    string = string.replace(" " + chr(176) + " ", chr(176))
    string = string.replace(" \n", "\n")
    string = string.replace("\n ", "\n")
    string = string.replace(" N ", " 1 ")
    string = string.replace(" 's", "'s")

    return string
)py";
constexpr const char* kProcessResultsSource = R"py(def process_results(doc, results):
    (loglikelihood,) = results
    # IMPORTANT: wikitext counts number of words in *original doc before detokenization*
    _words = len(re.split(r"\s+", doc["page"]))
    _bytes = len(doc["page"].encode("utf-8"))
    return {
        "word_perplexity": (loglikelihood, _words),
        "byte_perplexity": (loglikelihood, _bytes),
        "bits_per_byte": (loglikelihood, _bytes),
    }
)py";

struct WikitextDoc {
  std::string page;
};

class Wikitext final : public DocTask<Task, WikitextDoc> {
 public:
  const std::string& name() const override { return name_; }
  double version() const override { return 2.0; }
  std::vector<MetricSpec> metrics() const override {
    return {{"word_perplexity", Aggregation::kWeightedPerplexity, false},
            {"byte_perplexity", Aggregation::kWeightedPerplexity, false},
            {"bits_per_byte", Aggregation::kBitsPerByte, false}};
  }
  nlohmann::json config() const override {
    // The YAML lists metric names only (aggregations come from process_results).
    return zero_shot_config(
        {{"task", "wikitext"},
         {"dataset_path", "EleutherAI/wikitext_document_level"},
         {"dataset_name", "wikitext-2-raw-v1"},
         {"training_split", "train"},
         {"validation_split", "validation"},
         {"test_split", "test"},
         {"doc_to_text", ""},
         {"doc_to_target", kDetokenizerSource},
         {"process_results", kProcessResultsSource},
         {"metric_list",
          {{{"metric", "word_perplexity"}}, {{"metric", "byte_perplexity"}}, {{"metric", "bits_per_byte"}}}},
         {"output_type", "loglikelihood_rolling"},
         {"doc_to_decontamination_query", "{{page}}"}},
        2.0, "lm_eval/tasks/wikitext/wikitext.yaml",
        {{"doc_to_target", "<function wikitext_detokenizer>"}});
  }
  std::vector<std::string> data_files() const override { return {"wikitext/wiki.test.raw"}; }

  // loglikelihood_rolling: construct_requests discards the few-shot context, so k-shot requests
  // are the zero-shot ones (lm-eval still samples from the train split; nothing depends on it).
  FewshotSource fewshot_source() const override { return {.uses_context = false, .split = "train"}; }

  std::vector<Request> requests(std::int64_t d) const override {
    return {Request{RequestType::kLoglikelihoodRolling, d, 0, "", wikitext_detokenize(doc(d).page)}};
  }

  DocResult process(std::int64_t d, const std::vector<RequestAnswer>& answers) const override {
    const std::string& page = doc(d).page;
    const double ll = answers.at(0).logprob;
    const auto words = static_cast<double>(wikitext_word_count(page));
    const auto bytes = static_cast<double>(page.size());
    DocResult r;
    r.items = {{ll, words}, {ll, bytes}, {ll, bytes}};
    r.log = {{"target", wikitext_detokenize(page)}, {"words", words}, {"bytes", bytes}};
    return r;
  }

 protected:
  std::vector<WikitextDoc> read_docs(const std::filesystem::path& dir) const override {
    const auto path = data::locate_task_file(
        dir, "wikitext", "wiki.test.raw",
        "It is wikitext-2-raw/wiki.test.raw from wikitext-2-raw-v1.zip (Salesforce WikiText, "
        "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-raw-v1.zip).");
    const std::string raw = data::read_whole_file(path);
    if (const auto bad = find_invalid_utf8(raw)) {
      throw DataError(path.string(), "invalid UTF-8 at byte " + std::to_string(*bad));
    }
    std::vector<WikitextDoc> docs;
    for (auto& page : split_wikitext_documents(raw)) docs.push_back({std::move(page)});
    return docs;
  }

 private:
  std::string name_ = "wikitext";
};

}  // namespace

std::unique_ptr<Task> make_wikitext() { return std::make_unique<Wikitext>(); }

}  // namespace pythia::tasks
