#include "tasks/multiple_choice_task.h"

#include <stdexcept>

#include "tasks/python_text.h"

namespace pythia::tasks {

namespace {
// numpy.argmax: first index of the maximum.
std::size_t first_argmax(const std::vector<double>& v) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[best]) best = i;
  }
  return best;
}
}  // namespace

std::string mc_fewshot_example(const McPrompt& p) {
  const auto gold = static_cast<std::size_t>(p.gold);
  if (p.contexts.size() > 1) return p.choices.at(gold) + p.continuations.at(0);
  return p.contexts.at(0) + " " + p.choices.at(gold);
}

double mc_acc(const std::vector<double>& lls, int gold) {
  return first_argmax(lls) == static_cast<std::size_t>(gold) ? 1.0 : 0.0;
}

double mc_acc_norm(const std::vector<double>& lls, const std::vector<std::string>& choices,
                   int gold) {
  std::vector<double> norm(lls.size());
  for (std::size_t i = 0; i < lls.size(); ++i) {
    norm[i] = lls[i] / static_cast<double>(code_point_length(choices.at(i)));
  }
  return first_argmax(norm) == static_cast<std::size_t>(gold) ? 1.0 : 0.0;
}

std::vector<MetricSpec> MultipleChoiceTask::metrics() const {
  std::vector<MetricSpec> m{{"acc", Aggregation::kMean, true}};
  if (with_acc_norm_) m.push_back({"acc_norm", Aggregation::kMean, true});
  return m;
}

std::vector<Request> MultipleChoiceTask::requests(std::int64_t doc) const {
  const McPrompt p = prompt(doc);
  const std::size_t n = p.choices.size();
  const std::string& prefix = fewshot_prefix(doc);
  std::vector<Request> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Request r;
    r.type = RequestType::kLoglikelihood;
    r.doc_id = doc;
    r.idx = static_cast<int>(i);
    r.context = prefix + (p.contexts.size() == 1 ? p.contexts[0] : p.contexts.at(i));
    r.continuation = p.continuations.size() == 1 ? p.continuations[0] : p.continuations.at(i);
    out.push_back(std::move(r));
  }
  return out;
}

DocResult MultipleChoiceTask::process(std::int64_t doc,
                                      const std::vector<RequestAnswer>& answers) const {
  const McPrompt p = prompt(doc);
  if (answers.size() != p.choices.size()) {
    throw std::logic_error(name() + ": answer count does not match choices");
  }
  std::vector<double> lls;
  for (const auto& a : answers) lls.push_back(a.logprob);
  DocResult r;
  r.items.push_back({mc_acc(lls, p.gold), 1.0});
  if (with_acc_norm_) r.items.push_back({mc_acc_norm(lls, p.choices, p.gold), 1.0});
  r.log = {{"target", p.target}, {"gold", p.gold}, {"choices", p.choices}};
  return r;
}

}  // namespace pythia::tasks
