#include "tasks/aggregate.h"

namespace pythia::tasks {

std::vector<results::MetricValue> aggregate(const std::vector<MetricSpec>& specs,
                                            const std::vector<DocResult>& docs,
                                            std::int64_t bootstrap_iters,
                                            const std::vector<std::size_t>& order) {
  std::vector<results::MetricValue> out;
  for (std::size_t m = 0; m < specs.size(); ++m) {
    const auto& spec = specs[m];
    std::vector<double> xs;
    std::vector<std::pair<double, double>> pairs;
    for (const auto& d : docs) {
      xs.push_back(d.items.at(m).value);
      pairs.emplace_back(d.items.at(m).value, d.items.at(m).weight);
    }
    results::MetricValue v;
    v.name = spec.name;
    v.higher_is_better = spec.higher_is_better;
    switch (spec.aggregation) {
      case Aggregation::kMean:
        v.value = mean(xs);
        break;
      case Aggregation::kPerplexity:
        v.value = perplexity(xs);
        break;
      case Aggregation::kWeightedPerplexity:
        v.value = weighted_perplexity(pairs);
        break;
      case Aggregation::kBitsPerByte:
        v.value = bits_per_byte(pairs);
        break;
    }
    if (!order.empty()) {
      std::vector<double> shuffled;
      for (std::size_t i : order) shuffled.push_back(xs.at(i));
      xs.swap(shuffled);
    }
    v.stderr_value = stderr_for(spec.aggregation, xs, bootstrap_iters);
    out.push_back(v);
  }
  return out;
}

}  // namespace pythia::tasks
