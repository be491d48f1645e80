#include "eval/evaluator.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <numeric>

#include "data/error.h"
#include "tasks/aggregate.h"
#include "tasks/python_random.h"

namespace pythia::eval {

using tasks::RequestAnswer;

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
  const ScoringOptions scoring{settings.share_prefixes};
  total = planned_positions(lm, flat, keys, scoring);
  const auto answers = score_requests(
      lm, flat, keys,
      [&](std::uint64_t n) {
        if (settings.progress) settings.progress(n, total);
      },
      scoring);
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
  ev.result.num_fewshot = task.num_fewshot();
  ev.result.n_original = task.n_original();
  ev.result.n_effective = n_docs;
  ev.result.task_config = task.config();
  if (task.num_fewshot() > 0) ev.result.task_config["num_fewshot"] = task.num_fewshot();
  if (n_docs > 0) ev.result.metrics = tasks::aggregate(task.metrics(), ev.docs, settings.bootstrap_iters, order);
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

}  // namespace pythia::eval
