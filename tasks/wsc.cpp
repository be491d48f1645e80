// wsc — reproduces lm-eval v0.4 `lm_eval/tasks/super_glue/wsc/default.yaml` + `preprocess_wsc.py`
// (commit 4e7e0d4; metadata.version 1.0; v0.3 `lm_eval/tasks/superglue.py` SGWinogradSchemaChallenge
// VERSION 0, the `wsc` of Pythia's published evals/: 104 documents, stderr sqrt(p(1-p)/103)).
// Data: SuperGLUE v2 WSC.zip `WSC/val.jsonl` (evaluated: the validation split, the YAML has no
// test split) and `WSC/train.jsonl` (few-shot pool), rows {text, target{span1_index, span2_index,
// span1_text, span2_text}, idx, label} = Hugging Face aps/super_glue config `wsc.fixed`: the
// dataset script's `_fix_wst` (span texts not found in the text get the case of the text's word at
// the span index, trailing '.' removed, '\n' -> ' ') is applied here, quirks included.
// doc_to_text (default_doc_to_text):
//   pre  = " ".join(text.split()[:span2_index]);  post = text[len(pre) + len(span2_text) + 1:]
//   "Passage: " + general_detokenize(pre + " *" + span2_text + "*" + post) + "\n" +
//   "Question: In the passage above, does the pronoun \"*" + span2_text + "*\" refer to \"*" +
//   span1_text + "*\"?\nAnswer:"
// choices ['no', 'yes'], gold = label; metric acc only. Few-shot: the train split; lm-eval passes
// the scored document for exclusion (fewshot split null == test split null).
#include <algorithm>
#include <cctype>
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
    "Get val.jsonl (few-shot: train.jsonl) from SuperGLUE v2 WSC.zip "
    "(https://dl.fbaipublicfiles.com/glue/superglue/data/v2/WSC.zip, folder WSC/).";

// Python str.split() without arguments: the maximal runs of non-whitespace.
std::vector<std::string> py_split(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0, start = std::string_view::npos;
  while (i < s.size()) {
    std::size_t len = 1;
    const std::uint32_t cp = code_point_at(s, i, len);
    if (is_python_space(cp)) {
      if (start != std::string_view::npos) out.emplace_back(s.substr(start, i - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = i;
    }
    i += len;
  }
  if (start != std::string_view::npos) out.emplace_back(s.substr(start));
  return out;
}

// s[n:] in Python (n in code points; past the end -> "").
std::string_view py_suffix(std::string_view s, std::size_t n) {
  std::size_t i = 0;
  for (std::size_t k = 0; k < n && i < s.size(); ++k) {
    std::size_t len = 1;
    code_point_at(s, i, len);
    i += len;
  }
  return s.substr(i);
}

struct WscDoc {
  std::string text, span1_text, span2_text;
  std::int64_t span1_index = 0, span2_index = 0, idx = 0;
  int label = 0;
};

bool is_ascii_lower(char c) { return c >= 'a' && c <= 'z'; }

// super_glue.py `_fix_wst` for one span (k = "span1" / "span2"), Python semantics kept: the
// "theyscold" branch sets span2_index to 10 whatever k is (its str.replace result is dropped).
void fix_span(WscDoc& ex, bool first, const std::string& where) {
  std::string& text = first ? ex.span1_text : ex.span2_text;
  const std::int64_t index = first ? ex.span1_index : ex.span2_index;
  if (ex.text.find(text) != std::string::npos) return;
  if (text == "Kamenev and Zinoviev" || text == "Kamenev, Zinoviev, and Stalin") return;
  if (text.find("theyscold") != std::string::npos) ex.span2_index = 10;
  const auto words = py_split(ex.text);
  const char* k = first ? "span1" : "span2";
  if (index < 0 || index >= static_cast<std::int64_t>(words.size())) {
    throw DataError(where, std::string(k) + "_index " + std::to_string(index) + " is not a word index of 'text' (" +
                               std::to_string(words.size()) + " words)");
  }
  const std::string& word = words[static_cast<std::size_t>(index)];
  if (text.empty() || static_cast<unsigned char>(word[0]) >= 0x80 || static_cast<unsigned char>(text[0]) >= 0x80) {
    throw DataError(where, std::string(k) + "_text '" + text +
                               "' is not in 'text' and its case fix (wsc.fixed) needs ASCII first letters");
  }
  text[0] = is_ascii_lower(word[0]) ? static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])))
                                    : static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  while (!text.empty() && text.back() == '.') text.pop_back();
  text = py_replace(text, "\n", " ");
  if (ex.text.find(text) == std::string::npos) {
    throw DataError(where, std::string(k) + "_text '" + text + "' is not a substring of 'text' even after the wsc.fixed repair");
  }
}

class Wsc final : public DocTask<MultipleChoiceTask, WscDoc> {
 public:
  Wsc() : DocTask(false) {}
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  nlohmann::json config() const override {
    // The YAML's `tag` is not part of the logged config.
    auto c = zero_shot_config({{"task", "wsc"},
                               {"dataset_path", "aps/super_glue"},
                               {"dataset_name", "wsc.fixed"},
                               {"training_split", "train"},
                               {"validation_split", "validation"},
                               {"doc_to_text", kDocToTextSource},
                               {"doc_to_target", "label"},
                               {"doc_to_choice", {"no", "yes"}},
                               {"metric_list", {{{"metric", "acc"}}}},
                               {"output_type", "multiple_choice"}},
                              1.0, "lm_eval/tasks/super_glue/wsc/default.yaml",
                              {{"doc_to_text", "<function default_doc_to_text>"}});
    c["should_decontaminate"] = false;  // no doc_to_decontamination_query in the YAML
    return c;
  }
  std::vector<std::string> data_files() const override { return {"wsc/val.jsonl"}; }

  FewshotSource fewshot_source() const override {
    return {.exclude_eval_doc = true, .split = "train"};  // fewshot split null == test_split null
  }
  McPrompt prompt(std::int64_t d) const override { return prompt_of(doc(d)); }
  McPrompt prompt_of(const WscDoc& x) const {
    McPrompt p;
    p.contexts = {wsc_doc_to_text(x.text, x.span1_text, x.span2_text, x.span2_index)};
    p.choices = {"no", "yes"};
    p.continuations = {" no", " yes"};
    p.gold = x.label;
    p.target = x.label;
    return p;
  }

 protected:
  std::vector<WscDoc> read_docs(const std::filesystem::path& dir) const override {
    return read_file(dir, "val.jsonl");
  }
  std::vector<WscDoc> read_fewshot_docs(const std::filesystem::path& dir) const override {
    return read_file(dir, "train.jsonl");
  }
  std::string render_example(const WscDoc& x) const override { return mc_fewshot_example(prompt_of(x)); }
  // HF row {text, span1_index, span2_index, span1_text, span2_text, idx, label}.
  bool same_row(const WscDoc& a, const WscDoc& b) const override {
    return a.text == b.text && a.span1_index == b.span1_index && a.span2_index == b.span2_index &&
           a.span1_text == b.span1_text && a.span2_text == b.span2_text && a.idx == b.idx &&
           a.label == b.label;
  }

 private:
  static constexpr const char* kDocToTextSource =
      "def default_doc_to_text(x):\n    raw_passage = x[\"text\"]\n    # NOTE: HuggingFace span "
      "indices are word-based not character-based.\n    pre = \" \".join(raw_passage.split()[: "
      "x[\"span2_index\"]])\n    post = raw_passage[len(pre) + len(x[\"span2_text\"]) + 1 :]\n    "
      "passage = general_detokenize(pre + \" *{}*\".format(x[\"span2_text\"]) + post)\n    noun = "
      "x[\"span1_text\"]\n    pronoun = x[\"span2_text\"]\n    text = (\n        f\"Passage: "
      "{passage}\\n\"\n        + f'Question: In the passage above, does the pronoun \"*{pronoun}*\" "
      "refer to \"*{noun}*\"?\\n'\n        + \"Answer:\"\n    )\n    return text\n";

  std::vector<WscDoc> read_file(const std::filesystem::path& dir, const std::string& file) const {
    const auto path = data::locate_task_file(dir, name_, file, kWhere);
    std::vector<WscDoc> docs;
    for_each_record(path, [&](const nlohmann::json& j, const std::string& w) {
      WscDoc x;
      x.text = string_field(j, "text", w);
      const auto& t = field(j, "target", w);
      auto int_field = [&](const nlohmann::json& o, const char* key) {
        const auto& v = field(o, key, w);
        if (!v.is_number_integer()) throw DataError(w, std::string("field '") + key + "' is not an integer");
        return v.get<std::int64_t>();
      };
      x.span1_index = int_field(t, "span1_index");
      x.span2_index = int_field(t, "span2_index");
      x.span1_text = string_field(t, "span1_text", w);
      x.span2_text = string_field(t, "span2_text", w);
      x.idx = int_field(j, "idx");
      const auto& label = field(j, "label", w);
      if (!label.is_boolean()) throw DataError(w, "field 'label' is not true/false (the unlabelled test split cannot be scored)");
      x.label = label.get<bool>() ? 1 : 0;
      if (x.span2_index < 0) throw DataError(w, "span2_index is negative");
      fix_span(x, true, w);
      fix_span(x, false, w);
      docs.push_back(std::move(x));
    });
    return docs;
  }

  std::string name_ = "wsc";
};

}  // namespace

std::string general_detokenize(std::string_view s) {
  std::string t = py_replace(s, " n't", "n't");
  t = py_replace(t, " )", ")");
  t = py_replace(t, "( ", "(");
  t = py_replace(t, "\" ", "\"");
  t = py_replace(t, " \"", "\"");
  std::string out;  // re.sub(r" (['.,])", r"\1", t)
  out.reserve(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == ' ' && i + 1 < t.size() && (t[i + 1] == '\'' || t[i + 1] == '.' || t[i + 1] == ',')) continue;
    out += t[i];
  }
  return out;
}

std::string wsc_doc_to_text(std::string_view text, std::string_view span1_text,
                            std::string_view span2_text, std::int64_t span2_index) {
  const auto words = py_split(text);
  std::string pre;
  const auto n = std::min<std::size_t>(static_cast<std::size_t>(std::max<std::int64_t>(span2_index, 0)), words.size());
  for (std::size_t i = 0; i < n; ++i) pre += (i ? " " : "") + words[i];
  const std::string_view post = py_suffix(text, code_point_length(pre) + code_point_length(span2_text) + 1);
  const std::string passage = general_detokenize(pre + " *" + std::string(span2_text) + "*" + std::string(post));
  return "Passage: " + passage + "\nQuestion: In the passage above, does the pronoun \"*" + std::string(span2_text) +
         "*\" refer to \"*" + std::string(span1_text) + "*\"?\nAnswer:";
}

std::unique_ptr<Task> make_wsc() { return std::make_unique<Wsc>(); }

}  // namespace pythia::tasks
