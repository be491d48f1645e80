#include "tasks/lm_eval_config.h"

namespace pythia::tasks {

namespace {
const char* aggregation_name(Aggregation a) {
  switch (a) {
    case Aggregation::kMean: return "mean";
    case Aggregation::kPerplexity: return "perplexity";
    case Aggregation::kWeightedPerplexity: return "weighted_perplexity";
    case Aggregation::kBitsPerByte: return "bits_per_byte";
  }
  return "mean";
}
}  // namespace

nlohmann::json zero_shot_config(nlohmann::json own, double version,
                                const std::string& config_source, const nlohmann::json& fewshot) {
  nlohmann::json c = std::move(own);
  c["unsafe_code"] = false;
  c["description"] = "";
  c["target_delimiter"] = " ";
  c["fewshot_delimiter"] = "\n\n";
  nlohmann::json f = {{"sampler", "default"},
                      {"split", nullptr},
                      {"process_docs", nullptr},
                      {"fewshot_indices", nullptr},
                      {"samples", nullptr},
                      {"doc_to_text", c.at("doc_to_text")},
                      {"doc_to_choice", c.value("doc_to_choice", nlohmann::json())},
                      {"doc_to_target", c.at("doc_to_target")},
                      {"gen_prefix", nullptr},
                      {"fewshot_delimiter", "\n\n"},
                      {"target_delimiter", " "}};
  f.update(fewshot);
  c["fewshot_config"] = std::move(f);
  c["num_fewshot"] = 0;
  c["repeats"] = 1;
  c["should_decontaminate"] = true;
  c["metadata"] = {{"version", version}, {"config_source", config_source}};
  return c;
}

nlohmann::json metric_list(const std::vector<MetricSpec>& metrics) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : metrics) {
    list.push_back({{"metric", m.name},
                    {"aggregation", aggregation_name(m.aggregation)},
                    {"higher_is_better", m.higher_is_better}});
  }
  return list;
}

}  // namespace pythia::tasks
