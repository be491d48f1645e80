// See published_evals.h.
#include "results/published_evals.h"

#include <charconv>
#include <regex>

#include "data/checkpoint_step.h"
#include "results/output_layout.h"

namespace pythia::results {
namespace {

using nlohmann::json;

std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string arg_of(const std::string& args, const std::string& key) {
  std::size_t p = 0;
  while (p <= args.size()) {
    const auto e = args.find(',', p);
    const std::string part = args.substr(p, e == std::string::npos ? std::string::npos : e - p);
    if (part.rfind(key + "=", 0) == 0) return part.substr(key.size() + 1);
    if (e == std::string::npos) break;
    p = e + 1;
  }
  return "";
}

}  // namespace

std::optional<PublishedFileName> parse_published_file_name(std::string_view filename) {
  static const std::regex v1(R"(^(.+?)(?:-(\d+)shot)?_step(\d{1,18})\.json$)");
  static const std::regex v0(R"(^(.+?)-(\d+)shot-global_step(\d{1,18})_eval_results_[0-9-]+\.json$)");
  const std::string name(filename);
  std::smatch m;
  PublishedFileName out;
  if (std::regex_match(name, m, v0) || std::regex_match(name, m, v1)) {
    out.size = m[1].str();
    out.num_fewshot = m[2].matched ? static_cast<int>(*to_int(m[2].str())) : 0;
    const auto step = to_int(m[3].str());
    if (!step) return std::nullopt;
    out.step = *step;
    return out;
  }
  return std::nullopt;
}

EvalCheckpoint eval_checkpoint(const EvalFile& f, const std::string& folder_key) {
  EvalCheckpoint c;
  const json& cfg = f.run.config;
  const auto name = parse_published_file_name(f.path.filename().string());
  std::string model;
  std::optional<std::int64_t> content_step;
  if (cfg.is_object() && cfg.contains("model_args")) {
    const json& args = cfg["model_args"];
    if (args.is_string()) {
      model = arg_of(args.get<std::string>(), "pretrained");
    } else if (args.is_object() && args.contains("iteration") && args["iteration"].is_number_integer()) {
      content_step = args["iteration"].get<std::int64_t>();  // pythia-v0 (gpt-neox arguments)
    }
  }
  if (!content_step) content_step = data::step_of_revision(revision_of_eval(f, folder_key));
  if (model.empty() && cfg.is_object() && cfg.contains("model") && cfg["model"].is_string() &&
      cfg["model"] != "hf-causal" && cfg["model"] != "neox") {
    model = cfg["model"].get<std::string>();
  }
  if (model.empty() && name) model = name->size;
  if (model.empty()) {
    const auto slash = folder_key.find('/');
    model = folder_key.substr(0, slash);  // ours: <model>/<revision>
  }
  c.model = published_size_name(model);
  if (name) {
    if (content_step && *content_step != name->step) {
      throw ResultsFileError(f.path.string(), "the file name says step " + std::to_string(name->step) +
                                                  " but its config names step " +
                                                  std::to_string(*content_step));
    }
    c.step = name->step;
  } else {
    c.step = content_step;
  }
  if (cfg.is_object() && cfg.contains("num_fewshot") && cfg["num_fewshot"].is_number_integer()) {
    c.num_fewshot = cfg["num_fewshot"].get<int>();
  } else if (!f.run.tasks.empty() && f.layout == EvalLayout::kLmEvalV04) {
    c.num_fewshot = f.run.tasks.front().num_fewshot;
  } else if (name) {
    c.num_fewshot = name->num_fewshot;
  }
  return c;
}

std::string checkpoint_label(const EvalCheckpoint& c) {
  return c.model + " " + (c.step ? "step" + std::to_string(*c.step) : std::string("main")) + " " +
         std::to_string(c.num_fewshot) + "-shot";
}

}  // namespace pythia::results
