#include "eval/request_scoring.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <numeric>

#include "model/logit_ops.h"

namespace pythia::eval {

using tasks::RequestAnswer;

namespace {

struct Group {
  std::size_t first = 0, count = 0;  // requests [first, first + count)
  std::uint64_t cost = 0;            // positions fed
};

// Log-probability and greedy flag of `target` under one logit row.
inline void score_row(std::span<const float> row, Token target, double& lp, bool& greedy) {
  lp = static_cast<double>(row[static_cast<std::size_t>(target)]) - model::logsumexp(row);
  greedy = model::argmax(row) == target;
}

void score_group(const model::CausalLm& lm, std::span<const TokenRequest> reqs, const Group& g,
                 std::vector<RequestAnswer>& answers) {
  const auto& ctx = reqs[g.first].context_ids;
  const int n = static_cast<int>(ctx.size());
  std::size_t max_cont = 0;
  for (std::size_t i = g.first; i < g.first + g.count; ++i) {
    max_cont = std::max(max_cont, reqs[i].continuation_ids.size());
  }
  // Shared part: context[:-1] (no logits). Per request: the rest of the context +
  // continuation[:-1], scoring the rows that predict continuation tokens (one logit computation
  // per request).
  model::KvCache cache = lm.make_cache(n + static_cast<int>(max_cont) - 1);
  // A group of one request (lambada, winogrande, rolling windows) feeds everything in one call.
  const int shared = g.count == 1 ? 0 : n - 1;
  if (shared > 0) {
    lm.forward(std::span<const Token>(ctx.data(), static_cast<std::size_t>(shared)), cache, {},
               [](int, std::span<const float>) {});
  }
  std::vector<Token> inp;
  std::vector<int> rows;
  std::vector<double> lps;
  std::vector<char> greedy;
  for (std::size_t i = g.first; i < g.first + g.count; ++i) {
    const auto& cont = reqs[i].continuation_ids;
    const std::size_t m = cont.size();
    cache.truncate(shared);
    inp.assign(ctx.begin() + shared, ctx.end());
    inp.insert(inp.end(), cont.begin(), cont.end() - 1);
    rows.resize(m);
    std::iota(rows.begin(), rows.end(), n - 1 - shared);
    lps.assign(m, 0.0);
    greedy.assign(m, 0);
    lm.forward(inp, cache, rows, [&](int k, std::span<const float> row) {
      const auto j = static_cast<std::size_t>(k - (n - 1 - shared));
      bool gr = false;
      score_row(row, cont[j], lps[j], gr);
      greedy[j] = gr;
    });
    RequestAnswer a;
    a.is_greedy = true;
    for (std::size_t j = 0; j < m; ++j) {
      a.logprob += lps[j];
      a.is_greedy = a.is_greedy && greedy[j];
    }
    answers[i] = a;
  }
}

}  // namespace

namespace {
std::vector<Group> make_groups(const model::CausalLm& lm, std::span<const TokenRequest> requests,
                               std::span<const std::int64_t> group_key) {
  std::vector<Group> groups;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    if (r.context_ids.empty() || r.continuation_ids.empty()) {
      throw std::logic_error("score_requests: empty context or continuation");
    }
    if (static_cast<int>(r.context_ids.size() + r.continuation_ids.size()) - 1 > lm.max_positions()) {
      throw std::logic_error("score_requests: request longer than the model's max positions");
    }
    const bool join = !groups.empty() && group_key[i] == group_key[i - 1] &&
                      requests[i - 1].context_ids == r.context_ids;
    if (!join) groups.push_back({i, 0, r.context_ids.size() - 1});
    groups.back().count++;
    groups.back().cost += r.continuation_ids.size();  // [context[-1]] + continuation[:-1]
  }
  return groups;
}
}  // namespace

std::uint64_t planned_positions(const model::CausalLm& lm, std::span<const TokenRequest> requests,
                                std::span<const std::int64_t> group_key) {
  std::uint64_t total = 0;
  for (const auto& g : make_groups(lm, requests, group_key)) total += g.cost;
  return total;
}

std::vector<RequestAnswer> score_requests(const model::CausalLm& lm,
                                          std::span<const TokenRequest> requests,
                                          std::span<const std::int64_t> group_key,
                                          const std::function<void(std::uint64_t)>& on_done) {
  const std::vector<Group> groups = make_groups(lm, requests, group_key);
  // Longest groups first (load balance only; the numbers do not depend on the order).
  std::vector<std::size_t> order(groups.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return groups[a].cost > groups[b].cost; });
  std::vector<RequestAnswer> answers(requests.size());
  tbb::parallel_for(std::size_t{0}, order.size(), [&](std::size_t k) {
    const Group& g = groups[order[k]];
    score_group(lm, requests, g, answers);
    if (on_done) on_done(g.cost);
  });
  return answers;
}

}  // namespace pythia::eval
