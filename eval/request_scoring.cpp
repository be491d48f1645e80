#include "eval/request_scoring.h"

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <numeric>

#include "model/logit_ops.h"

namespace pythia::eval {

using tasks::RequestAnswer;

namespace {

struct Group {
  std::size_t first = 0, count = 0;  // requests [first, first + count)
  std::uint64_t cost = 0;            // positions fed when nothing is reused
};

// A run of groups scored one after the other in one KvCache (one task of the parallel loop).
struct Chunk {
  std::size_t first = 0, count = 0;  // positions [first, first + count) of Plan::order
  std::uint64_t cost = 0;            // positions fed, prefix reuse counted
  int capacity = 0;                  // cache positions the chunk needs
};

struct Plan {
  std::vector<Group> groups;
  std::vector<std::size_t> order;  // groups in scoring order
  std::vector<int> keep;           // per order position: cached prefix reused (0 = fresh)
  std::vector<Chunk> chunks;
};

// Log-probability and greedy flag of `target` under one logit row.
inline void score_row(std::span<const float> row, Token target, double& lp, bool& greedy) {
  lp = static_cast<double>(row[static_cast<std::size_t>(target)]) - model::logsumexp(row);
  greedy = model::argmax(row) == target;
}

std::size_t common_prefix(std::span<const Token> a, std::span<const Token> b) {
  const auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  return static_cast<std::size_t>(ia - a.begin());
}

// What the cache holds after a group: its context and the last continuation but its last token.
std::vector<Token> tokens_after(std::span<const TokenRequest> reqs, const Group& g) {
  std::vector<Token> t = reqs[g.first].context_ids;
  const auto& cont = reqs[g.first + g.count - 1].continuation_ids;
  t.insert(t.end(), cont.begin(), cont.end() - 1);
  return t;
}

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

Plan make_plan(const model::CausalLm& lm, std::span<const TokenRequest> reqs,
               std::span<const std::int64_t> group_key, const ScoringOptions& opt) {
  Plan p;
  p.groups = make_groups(lm, reqs, group_key);
  const std::size_t n = p.groups.size();
  p.order.resize(n);
  std::iota(p.order.begin(), p.order.end(), 0);
  p.keep.assign(n, 0);
  auto capacity = [&](const Group& g) {
    std::size_t m = 0;
    for (std::size_t i = g.first; i < g.first + g.count; ++i) {
      m = std::max(m, reqs[i].continuation_ids.size());
    }
    return static_cast<int>(reqs[g.first].context_ids.size() + m - 1);
  };
  const bool share = opt.share_prefixes && lm.forward_is_split_invariant() && n > 1;
  if (!share) {  // every group alone in a fresh cache, longest first (load balance only)
    std::stable_sort(p.order.begin(), p.order.end(), [&](std::size_t a, std::size_t b) {
      return p.groups[a].cost > p.groups[b].cost;
    });
    for (std::size_t k = 0; k < n; ++k) {
      const Group& g = p.groups[p.order[k]];
      p.chunks.push_back({k, 1, g.cost, capacity(g)});
    }
    return p;
  }
  // Sorted by context, groups sharing a prefix are neighbours.
  std::stable_sort(p.order.begin(), p.order.end(), [&](std::size_t a, std::size_t b) {
    return reqs[p.groups[a].first].context_ids < reqs[p.groups[b].first].context_ids;
  });
  std::uint64_t total = 0;
  for (const auto& g : p.groups) total += g.cost;
  // About 8 chunks per thread of the calling arena. Where the chunks are cut changes only what is
  // reused, never a number (split invariance).
  const auto threads = static_cast<std::uint64_t>(std::max(1, tbb::this_task_arena::max_concurrency()));
  const std::uint64_t target = std::max<std::uint64_t>(1, total / (8 * threads));
  std::vector<Token> held;  // what the chunk's cache holds after the previous group
  for (std::size_t k = 0; k < n; ++k) {
    const Group& g = p.groups[p.order[k]];
    if (p.chunks.empty() || p.chunks.back().cost >= target) {
      p.chunks.push_back({k, 0, 0, 0});
      held.clear();
    }
    Chunk& c = p.chunks.back();
    const auto& ctx = reqs[g.first].context_ids;
    const int keep = static_cast<int>(std::min(common_prefix(held, ctx), ctx.size() - 1));
    p.keep[k] = keep;
    c.count++;
    c.cost += g.cost - static_cast<std::uint64_t>(keep);
    c.capacity = std::max(c.capacity, capacity(g));
    held = tokens_after(reqs, g);
  }
  // Costliest chunks first (load balance only).
  std::stable_sort(p.chunks.begin(), p.chunks.end(),
                   [](const Chunk& a, const Chunk& b) { return a.cost > b.cost; });
  return p;
}

// Scores group g in `cache`, whose first `keep` positions already hold g's context prefix.
void score_group(const model::CausalLm& lm, std::span<const TokenRequest> reqs, const Group& g,
                 int keep, model::KvCache& cache, std::vector<RequestAnswer>& answers) {
  const auto& ctx = reqs[g.first].context_ids;
  const int n = static_cast<int>(ctx.size());
  // Shared part: context[:-1] (no logits). Per request: the rest of the context +
  // continuation[:-1], scoring the rows that predict continuation tokens (one logit computation
  // per request). A lone request with nothing cached is fed in one call.
  cache.truncate(keep);
  const int shared = (g.count == 1 && keep == 0) ? 0 : n - 1;
  if (shared > keep) {
    lm.forward(std::span<const Token>(ctx.data() + keep, static_cast<std::size_t>(shared - keep)),
               cache, {}, [](int, std::span<const float>) {});
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

std::uint64_t planned_positions(const model::CausalLm& lm, std::span<const TokenRequest> requests,
                                std::span<const std::int64_t> group_key,
                                const ScoringOptions& options) {
  std::uint64_t total = 0;
  for (const auto& c : make_plan(lm, requests, group_key, options).chunks) total += c.cost;
  return total;
}

std::vector<RequestAnswer> score_requests(const model::CausalLm& lm,
                                          std::span<const TokenRequest> requests,
                                          std::span<const std::int64_t> group_key,
                                          const std::function<void(std::uint64_t)>& on_done,
                                          const ScoringOptions& options) {
  const Plan plan = make_plan(lm, requests, group_key, options);
  std::vector<RequestAnswer> answers(requests.size());
  tbb::parallel_for(std::size_t{0}, plan.chunks.size(), [&](std::size_t c) {
    const Chunk& chunk = plan.chunks[c];
    model::KvCache cache = lm.make_cache(chunk.capacity);
    for (std::size_t k = chunk.first; k < chunk.first + chunk.count; ++k) {
      const Group& g = plan.groups[plan.order[k]];
      score_group(lm, requests, g, plan.keep[k], cache, answers);
      const std::uint64_t cost = g.cost - static_cast<std::uint64_t>(plan.keep[k]);
      if (on_done) on_done(cost);
    }
  });
  return answers;
}

}  // namespace pythia::eval
