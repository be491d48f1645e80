// mmlu_<subject> (57 tasks) and the mmlu group — reproduce lm-eval v0.4 (commit 4e7e0d4)
// `lm_eval/tasks/mmlu/default/_default_template_yaml` + `mmlu_<subject>.yaml` (metadata.version
// 1.0; the published Pythia files call them hendrycksTest-<subject>, lm-eval v0.3, version 0):
//   description  "The following are multiple choice questions (with answers) about <subject with
//                spaces>.\n\n"  (at 0-shot too; fewshot.cpp puts it before the examples)
//   doc_to_text  "{{question.strip()}}\nA. {{choices[0]}}\nB. ...\nD. {{choices[3]}}\nAnswer:"
//   choices      ["A", "B", "C", "D"] (continuations " A" ... " D"), target `answer` (0-3), acc
//   few-shot     split dev, sampler first_n (the first k dev rows, no exclusion: dev != test)
// Data (`<data_dir>/mmlu/`): `test/<subject>_test.csv`, `dev/<subject>_dev.csv` — Hendrycks'
// data.tar layout (no header; question, A, B, C, D, answer letter) or the cais/mmlu dump layout
// (header `question,choice0,choice1,choice2,choice3,answer`, answer 0-3); RFC 4180 quoting,
// fields may span lines (tasks/csv_records.h). Errors name "<file>:<line>".
#include "tasks/mmlu.h"

#include <cmath>
#include <map>
#include <stdexcept>

#include "data/error.h"
#include "data/gzip_stream.h"
#include "data/task_data.h"
#include "tasks/csv_records.h"
#include "tasks/lm_eval_config.h"
#include "tasks/multiple_choice_task.h"
#include "tasks/python_text.h"

namespace pythia::tasks {

namespace {

using enum MmluCategory;

constexpr const char* kWhere =
    "MMLU: data.tar from https://github.com/hendrycks/test (folders data/test, data/dev), or the "
    "Hugging Face dataset cais/mmlu written as CSV (question,choice0..choice3,answer); put them in "
    "<data-dir>/mmlu/test/<subject>_test.csv and <data-dir>/mmlu/dev/<subject>_dev.csv.";

const std::vector<MmluSubject> kSubjects = {
    {"abstract_algebra", kStem, 100},
    {"anatomy", kStem, 135},
    {"astronomy", kStem, 152},
    {"business_ethics", kOther, 100},
    {"clinical_knowledge", kOther, 265},
    {"college_biology", kStem, 144},
    {"college_chemistry", kStem, 100},
    {"college_computer_science", kStem, 100},
    {"college_mathematics", kStem, 100},
    {"college_medicine", kOther, 173},
    {"college_physics", kStem, 102},
    {"computer_security", kStem, 100},
    {"conceptual_physics", kStem, 235},
    {"econometrics", kSocialSciences, 114},
    {"electrical_engineering", kStem, 145},
    {"elementary_mathematics", kStem, 378},
    {"formal_logic", kHumanities, 126},
    {"global_facts", kOther, 100},
    {"high_school_biology", kStem, 310},
    {"high_school_chemistry", kStem, 203},
    {"high_school_computer_science", kStem, 100},
    {"high_school_european_history", kHumanities, 165},
    {"high_school_geography", kSocialSciences, 198},
    {"high_school_government_and_politics", kSocialSciences, 193},
    {"high_school_macroeconomics", kSocialSciences, 390},
    {"high_school_mathematics", kStem, 270},
    {"high_school_microeconomics", kSocialSciences, 238},
    {"high_school_physics", kStem, 151},
    {"high_school_psychology", kSocialSciences, 545},
    {"high_school_statistics", kStem, 216},
    {"high_school_us_history", kHumanities, 204},
    {"high_school_world_history", kHumanities, 237},
    {"human_aging", kOther, 223},
    {"human_sexuality", kSocialSciences, 131},
    {"international_law", kHumanities, 121},
    {"jurisprudence", kHumanities, 108},
    {"logical_fallacies", kHumanities, 163},
    {"machine_learning", kStem, 112},
    {"management", kOther, 103},
    {"marketing", kOther, 234},
    {"medical_genetics", kOther, 100},
    {"miscellaneous", kOther, 783},
    {"moral_disputes", kHumanities, 346},
    {"moral_scenarios", kHumanities, 895},
    {"nutrition", kOther, 306},
    {"philosophy", kHumanities, 311},
    {"prehistory", kHumanities, 324},
    {"professional_accounting", kOther, 282},
    {"professional_law", kHumanities, 1534},
    {"professional_medicine", kOther, 272},
    {"professional_psychology", kSocialSciences, 612},
    {"public_relations", kSocialSciences, 110},
    {"security_studies", kSocialSciences, 245},
    {"sociology", kSocialSciences, 201},
    {"us_foreign_policy", kSocialSciences, 100},
    {"virology", kOther, 166},
    {"world_religions", kHumanities, 171},
};

struct MmluDoc {
  std::string question;
  std::vector<std::string> choices;  // 4
  int answer = 0;
};

const std::vector<std::string> kLetters = {"A", "B", "C", "D"};

std::vector<MmluDoc> read_mmlu_csv(const std::filesystem::path& path) {
  const std::string file = path.string();
  const auto records = parse_csv(data::read_whole_file(path), file);
  std::vector<MmluDoc> docs;
  std::size_t first = 0;
  bool numeric = false;  // cais/mmlu dump: answer 0-3 after a header row
  if (!records.empty() &&
      records[0].fields ==
          std::vector<std::string>{"question", "choice0", "choice1", "choice2", "choice3", "answer"}) {
    first = 1;
    numeric = true;
  }
  for (std::size_t r = first; r < records.size(); ++r) {
    const auto& rec = records[r];
    const std::string where = file + ":" + std::to_string(rec.line);
    if (rec.fields.size() != 6) {
      throw DataError(where, "expected 6 fields (question, 4 choices, answer), found " +
                                 std::to_string(rec.fields.size()));
    }
    const std::string& a = rec.fields[5];
    int answer = -1;
    if (numeric && a.size() == 1 && a[0] >= '0' && a[0] <= '3') answer = a[0] - '0';
    if (!numeric && a.size() == 1 && a[0] >= 'A' && a[0] <= 'D') answer = a[0] - 'A';
    if (answer < 0) {
      throw DataError(where, "answer '" + a + "' is not " + (numeric ? "0-3" : "A-D"));
    }
    docs.push_back({rec.fields[0], {rec.fields.begin() + 1, rec.fields.begin() + 5}, answer});
  }
  return docs;
}

std::string spaced(const char* subject) {
  std::string s = subject;
  for (char& c : s) c = c == '_' ? ' ' : c;
  return s;
}

class Mmlu final : public DocTask<MultipleChoiceTask, MmluDoc> {
 public:
  explicit Mmlu(const MmluSubject& s)
      : DocTask(false),
        subject_(s.name),
        name_("mmlu_" + subject_),
        description_("The following are multiple choice questions (with answers) about " +
                     spaced(s.name) + ".\n\n") {}
  const std::string& name() const override { return name_; }
  double version() const override { return 1.0; }
  nlohmann::json config() const override {
    const char* text =
        "{{question.strip()}}\nA. {{choices[0]}}\nB. {{choices[1]}}\nC. {{choices[2]}}\nD. "
        "{{choices[3]}}\nAnswer:";
    auto c = zero_shot_config({{"task", name_},
                               {"task_alias", subject_},
                               {"dataset_path", "cais/mmlu"},
                               {"dataset_name", subject_},
                               {"test_split", "test"},
                               {"fewshot_split", "dev"},
                               {"doc_to_text", text},
                               {"doc_to_target", "answer"},
                               {"doc_to_choice", kLetters},
                               {"metric_list", metric_list(metrics())},
                               {"output_type", "multiple_choice"}},
                              1.0, "lm_eval/tasks/mmlu/default/" + name_ + ".yaml",
                              {{"sampler", "first_n"}, {"split", "dev"}});
    c["description"] = description_;
    c["should_decontaminate"] = false;  // no doc_to_decontamination_query
    return c;
  }
  std::vector<std::string> data_files() const override {
    return {"mmlu/test/" + subject_ + "_test.csv", "mmlu/dev/" + subject_ + "_dev.csv"};
  }
  std::string description(std::int64_t /*doc*/) const override { return description_; }
  FewshotSource fewshot_source() const override { return {.first_n = true, .split = "dev"}; }
  McPrompt prompt(std::int64_t d) const override { return prompt_of(doc(d)); }

 protected:
  std::vector<MmluDoc> read_docs(const std::filesystem::path& dir) const override {
    return read_mmlu_csv(data::locate_task_file(dir, "mmlu", data_files()[0].substr(5), kWhere));
  }
  std::vector<MmluDoc> read_fewshot_docs(const std::filesystem::path& dir) const override {
    return read_mmlu_csv(data::locate_task_file(dir, "mmlu", data_files()[1].substr(5), kWhere));
  }
  std::string render_example(const MmluDoc& x) const override { return mc_fewshot_example(prompt_of(x)); }
  bool same_row(const MmluDoc& a, const MmluDoc& b) const override {
    return a.question == b.question && a.choices == b.choices && a.answer == b.answer;
  }

 private:
  static McPrompt prompt_of(const MmluDoc& x) {
    McPrompt p;
    std::string text{py_strip(x.question)};
    for (std::size_t i = 0; i < 4; ++i) text += "\n" + kLetters[i] + ". " + x.choices[i];
    text += "\nAnswer:";
    p.contexts = {std::move(text)};
    p.choices = kLetters;
    for (const auto& l : kLetters) p.continuations.push_back(" " + l);
    p.gold = x.answer;
    p.target = x.answer;
    return p;
  }

  std::string subject_, name_, description_;
};

const char* category_group(MmluCategory c) {
  switch (c) {
    case kStem: return "mmlu_stem";
    case kOther: return "mmlu_other";
    case kSocialSciences: return "mmlu_social_sciences";
    case kHumanities: return "mmlu_humanities";
  }
  return "";
}

}  // namespace

const std::vector<MmluSubject>& mmlu_subjects() { return kSubjects; }

const MmluSubject* find_mmlu_subject(const std::string& task_name) {
  if (task_name.rfind("mmlu_", 0) != 0) return nullptr;
  for (const auto& s : kSubjects) {
    if (task_name.compare(5, std::string::npos, s.name) == 0) return &s;
  }
  return nullptr;
}

std::unique_ptr<Task> make_mmlu(const std::string& task_name) {
  const MmluSubject* s = find_mmlu_subject(task_name);
  if (s == nullptr) throw std::invalid_argument("not an MMLU subject task: " + task_name);
  return std::make_unique<Mmlu>(*s);
}

std::vector<std::string> mmlu_group_names() {
  return {"mmlu", "mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities"};
}

std::string mmlu_group_alias(const std::string& group) {
  if (group == "mmlu") return "mmlu";
  if (group == "mmlu_stem") return "stem";
  if (group == "mmlu_other") return "other";
  if (group == "mmlu_social_sciences") return "social sciences";
  if (group == "mmlu_humanities") return "humanities";
  throw std::invalid_argument("not an MMLU group: " + group);
}

std::vector<std::string> mmlu_group_tasks(const std::string& group) {
  (void)mmlu_group_alias(group);  // validates
  std::vector<std::string> out;
  // "mmlu": the leaves of its children in _mmlu.yaml order (stem, other, social sciences,
  // humanities), each alphabetical — the order Group.get_all_tasks() sums in.
  for (const MmluCategory c : {kStem, kOther, kSocialSciences, kHumanities}) {
    if (group != "mmlu" && group != category_group(c)) continue;
    for (const auto& s : kSubjects) {
      if (s.category == c) out.push_back(std::string("mmlu_") + s.name);
    }
  }
  return out;
}

GroupValue aggregate_group(const std::vector<GroupMember>& members, bool weight_by_size) {
  if (members.empty()) throw std::invalid_argument("aggregate_group: no members");
  GroupValue g;
  double num = 0.0;  // Python: sum([metric * size ...]) / sum(sizes), left to right
  std::int64_t den = 0;
  bool all_stderr = true;
  for (const auto& m : members) {
    const std::int64_t w = weight_by_size ? m.size : 1;
    num += m.value * static_cast<double>(w);
    den += w;
    g.size += m.size;
    all_stderr = all_stderr && m.stderr_value.has_value();
  }
  g.value = num / static_cast<double>(den);
  if (all_stderr) {
    double pooled = 0.0;
    for (const auto& m : members) {
      const double n = static_cast<double>(m.size);
      pooled += (n - 1.0) * (*m.stderr_value * *m.stderr_value) * n;
    }
    const auto dof = g.size - static_cast<std::int64_t>(members.size());
    if (dof <= 0) throw std::invalid_argument("aggregate_group: pooled stderr needs more documents than tasks");
    g.stderr_value = std::sqrt(pooled / static_cast<double>(dof) / static_cast<double>(g.size));
  }
  return g;
}

std::vector<results::GroupResult> mmlu_group_results(const std::vector<results::TaskResult>& tasks) {
  std::map<std::string, const results::TaskResult*> by_name;
  for (const auto& t : tasks) by_name[t.task] = &t;
  std::vector<results::GroupResult> out;
  for (const std::string g : {"mmlu_stem", "mmlu_other", "mmlu_social_sciences", "mmlu_humanities", "mmlu"}) {
    std::vector<GroupMember> members;
    for (const auto& leaf : mmlu_group_tasks(g)) {
      const auto it = by_name.find(leaf);
      if (it == by_name.end()) return {};  // not the whole group: lm-eval would not report it
      const results::MetricValue* acc = nullptr;
      for (const auto& m : it->second->metrics) {
        if (m.name == "acc") acc = &m;
      }
      if (acc == nullptr) throw std::invalid_argument(leaf + " has no acc for the group " + g);
      members.push_back({acc->value, acc->stderr_value, it->second->n_effective});
    }
    const GroupValue v = aggregate_group(members);
    results::GroupResult r;
    r.name = g;
    r.alias = mmlu_group_alias(g);
    r.version = "2";
    r.subtasks = g == "mmlu" ? std::vector<std::string>{"mmlu_stem", "mmlu_other", "mmlu_social_sciences",
                                                        "mmlu_humanities"}
                             : mmlu_group_tasks(g);
    r.sample_len = v.size;
    r.metrics.push_back({"acc", v.value, v.stderr_value, true});
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace pythia::tasks
