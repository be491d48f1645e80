#include "harness/evaluator.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <numeric>

#include "data/error.h"
#include "model/logit_ops.h"
#include "tasks/python_random.h"
#include "tasks/python_text.h"

namespace pythia::harness {

using tasks::RequestAnswer;

TokenRequest encode_request(const EncodeFn& encode, std::string_view context,
                            std::string_view continuation, int max_length, Token prefix_token) {
  TokenRequest r;
  if (context.empty()) {
    // TemplateLM.loglikelihood: context "" -> [prefix_token_id]; if the continuation starts with
    // the prefix token, that token becomes the context.
    r.continuation_ids = encode(continuation);
    if (!r.continuation_ids.empty() && r.continuation_ids.front() == prefix_token) {
      r.context_ids = {r.continuation_ids.front()};
      r.continuation_ids.erase(r.continuation_ids.begin());
    } else {
      r.context_ids = {prefix_token};
    }
  } else {
    // _encode_pair: move trailing whitespace into the continuation, encode jointly.
    const std::size_t n_space = tasks::trailing_space_bytes(context);
    std::string ctx(context.substr(0, context.size() - n_space));
    std::string cont(context.substr(context.size() - n_space));
    cont.append(continuation);
    std::vector<Token> whole = encode(ctx + cont);
    r.context_ids = encode(ctx);
    const std::size_t n_ctx = std::min(r.context_ids.size(), whole.size());
    r.continuation_ids.assign(whole.begin() + static_cast<std::ptrdiff_t>(n_ctx), whole.end());
  }
  if (r.continuation_ids.empty()) {
    throw DataError("request", "continuation encodes to no tokens (context '" +
                                   std::string(context.substr(0, 80)) + "...')");
  }
  if (static_cast<int>(r.continuation_ids.size()) > max_length) {
    throw DataError("request", "continuation of " + std::to_string(r.continuation_ids.size()) +
                                   " tokens exceeds max_length " + std::to_string(max_length));
  }
  // inp = (ctx + cont)[-(max_length + 1):][:-1]: drop tokens from the left of the context.
  const std::size_t total = r.context_ids.size() + r.continuation_ids.size();
  const std::size_t keep = static_cast<std::size_t>(max_length) + 1;
  if (total > keep) {
    r.truncated_left = static_cast<int>(total - keep);
    r.context_ids.erase(r.context_ids.begin(), r.context_ids.begin() + r.truncated_left);
  }
  return r;
}

std::vector<TokenRequest> rolling_windows(std::span<const Token> tokens, int max_length,
                                          Token prefix_token) {
  std::vector<TokenRequest> out;
  const std::size_t n = tokens.size();
  const std::size_t L = static_cast<std::size_t>(max_length);
  if (n == 0) return out;
  const std::size_t first = std::min(L, n);
  TokenRequest w;
  w.context_ids = {prefix_token};
  w.continuation_ids.assign(tokens.begin(), tokens.begin() + static_cast<std::ptrdiff_t>(first));
  out.push_back(std::move(w));
  std::size_t predicted = first;
  while (predicted < n) {
    const std::size_t pred = std::min(n - predicted, L);
    const std::size_t end = predicted + pred;
    // input = tokens[end-L-1 : end-1]; disjoint: context = input[: L - (pred - 1)].
    const std::size_t in_start = end - L - 1;
    const std::size_t ctx_len = L - (pred - 1);
    TokenRequest x;
    x.context_ids.assign(tokens.begin() + static_cast<std::ptrdiff_t>(in_start),
                         tokens.begin() + static_cast<std::ptrdiff_t>(in_start + ctx_len));
    x.continuation_ids.assign(tokens.begin() + static_cast<std::ptrdiff_t>(end - pred),
                              tokens.begin() + static_cast<std::ptrdiff_t>(end));
    out.push_back(std::move(x));
    predicted += pred;
  }
  return out;
}

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

std::vector<results::MetricValue> aggregate(const std::vector<tasks::MetricSpec>& specs,
                                            const std::vector<tasks::DocResult>& docs,
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
      case tasks::Aggregation::kMean:
        v.value = tasks::mean(xs);
        break;
      case tasks::Aggregation::kPerplexity:
        v.value = tasks::perplexity(xs);
        break;
      case tasks::Aggregation::kWeightedPerplexity:
        v.value = tasks::weighted_perplexity(pairs);
        break;
      case tasks::Aggregation::kBitsPerByte:
        v.value = tasks::bits_per_byte(pairs);
        break;
    }
    if (!order.empty()) {
      std::vector<double> shuffled;
      for (std::size_t i : order) shuffled.push_back(xs.at(i));
      xs.swap(shuffled);
    }
    v.stderr_value = tasks::stderr_for(spec.aggregation, xs, bootstrap_iters);
    out.push_back(v);
  }
  return out;
}

std::vector<RequestRecord> prepare_requests(const tasks::Task& task, const EncodeFn& encode,
                                            int max_length, Token prefix_token) {
  const std::int64_t n_docs = task.size();
  // 1. Requests (strings) per document, in lm-eval order.
  std::vector<std::vector<tasks::Request>> per_doc(static_cast<std::size_t>(n_docs));
  tbb::parallel_for(std::int64_t{0}, n_docs, [&](std::int64_t d) {
    per_doc[static_cast<std::size_t>(d)] = task.requests(d);
  });
  std::vector<RequestRecord> records;
  for (auto& reqs : per_doc) {
    for (auto& r : reqs) records.push_back(RequestRecord{std::move(r), {}, {}, {}, {}});
  }
  // 2. Encode (in parallel over requests; the tokenizer is thread-safe).
  tbb::parallel_for(std::size_t{0}, records.size(), [&](std::size_t i) {
    auto& rec = records[i];
    if (rec.request.type == tasks::RequestType::kLoglikelihood) {
      rec.scored.tokens = encode_request(encode, rec.request.context, rec.request.continuation,
                                         max_length, prefix_token);
    } else {
      rec.token_ids = encode(rec.request.continuation);
      for (auto& w : rolling_windows(rec.token_ids, max_length, prefix_token)) {
        rec.windows.push_back(ScoredRequest{std::move(w), {}});
      }
    }
  });
  return records;
}

TaskEvaluation evaluate_task(const tasks::Task& task, const model::CausalLm& lm,
                             const EncodeFn& encode, const EvalSettings& settings) {
  TaskEvaluation ev;
  const std::int64_t n_docs = task.size();
  ev.records = prepare_requests(task, encode, lm.max_positions(), settings.prefix_token);

  // 3. Flatten to token requests (rolling windows each their own group) and score.
  std::vector<TokenRequest> flat;
  std::vector<std::int64_t> keys;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < ev.records.size(); ++i) {
    const auto& rec = ev.records[i];
    if (rec.request.type == tasks::RequestType::kLoglikelihood) {
      flat.push_back(rec.scored.tokens);
      keys.push_back(rec.request.doc_id);
    } else {
      for (const auto& w : rec.windows) {
        flat.push_back(w.tokens);
        keys.push_back(-1 - static_cast<std::int64_t>(flat.size()));  // never joined
      }
    }
  }
  total = planned_positions(lm, flat, keys);
  const auto answers = score_requests(lm, flat, keys, [&](std::uint64_t n) {
    if (settings.progress) settings.progress(n, total);
  });
  ev.positions = total;

  // 4. Scatter answers back.
  std::size_t k = 0;
  for (auto& rec : ev.records) {
    if (rec.request.type == tasks::RequestType::kLoglikelihood) {
      rec.scored.answer = answers[k++];
      rec.answer = rec.scored.answer;
    } else {
      double sum = 0.0;  // Python sum() of the window log-probs, in order
      for (auto& w : rec.windows) {
        w.answer = answers[k++];
        sum += w.answer.logprob;
      }
      rec.answer = RequestAnswer{sum, false};
    }
  }

  // 5. Per-document metrics.
  ev.docs.resize(static_cast<std::size_t>(n_docs));
  std::size_t r = 0;
  for (std::int64_t d = 0; d < n_docs; ++d) {
    std::vector<RequestAnswer> doc_answers;
    while (r < ev.records.size() && ev.records[r].request.doc_id == d) {
      doc_answers.push_back(ev.records[r++].answer);
    }
    ev.docs[static_cast<std::size_t>(d)] = task.process(d, doc_answers);
  }

  // 6. Aggregates.
  std::vector<std::size_t> order;
  if (settings.v03_bootstrap_order) {
    order.resize(ev.docs.size());
    std::iota(order.begin(), order.end(), 0);
    tasks::PythonRandom rnd(42);
    rnd.shuffle(order);
  }
  ev.result.task = task.name();
  ev.result.version = task.version();
  ev.result.num_fewshot = 0;
  ev.result.n_original = task.n_original();
  ev.result.n_effective = n_docs;
  ev.result.task_config = task.config();
  if (n_docs > 0) ev.result.metrics = aggregate(task.metrics(), ev.docs, settings.bootstrap_iters, order);
  return ev;
}

nlohmann::json sample_json(const std::string& task, const RequestRecord& rec) {
  nlohmann::json j;
  j["task"] = task;
  j["doc_id"] = rec.request.doc_id;
  j["idx"] = rec.request.idx;
  auto window_json = [](const ScoredRequest& s) {
    return nlohmann::json{{"context_ids", s.tokens.context_ids},
                          {"continuation_ids", s.tokens.continuation_ids},
                          {"truncated_left", s.tokens.truncated_left},
                          {"logprob", s.answer.logprob},
                          {"is_greedy", s.answer.is_greedy}};
  };
  if (rec.request.type == tasks::RequestType::kLoglikelihood) {
    j["request_type"] = "loglikelihood";
    j["context"] = rec.request.context;
    j["continuation"] = rec.request.continuation;
    j["context_ids"] = rec.scored.tokens.context_ids;
    j["continuation_ids"] = rec.scored.tokens.continuation_ids;
    j["truncated_left"] = rec.scored.tokens.truncated_left;
    j["logprob"] = rec.answer.logprob;
    j["is_greedy"] = rec.answer.is_greedy;
  } else {
    j["request_type"] = "loglikelihood_rolling";
    j["text"] = rec.request.continuation;
    j["token_ids"] = rec.token_ids;
    j["n_tokens"] = rec.token_ids.size();
    auto& ws = j["windows"] = nlohmann::json::array();
    for (const auto& w : rec.windows) ws.push_back(window_json(w));
    j["logprob"] = rec.answer.logprob;
  }
  return j;
}

}  // namespace pythia::harness
