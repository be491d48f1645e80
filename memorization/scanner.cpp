#include "memorization/scanner.h"

#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <vector>

#include "model/greedy_decoder.h"

namespace pythia::memorization {
using model::GreedyChoice;

MemorizationScanner::MemorizationScanner(const model::CausalLm& lm, ScanConfig config)
    : lm_(lm), config_(config) {
  if (config_.prefix_len < 1 || config_.continuation_len < 1) {
    throw std::invalid_argument("MemorizationScanner: prefix and continuation must be >= 1 token");
  }
  if (config_.window() - 1 > lm_.max_positions()) {
    throw std::invalid_argument("MemorizationScanner: prefix + continuation - 1 exceeds the model's " +
                                std::to_string(lm_.max_positions()) + " positions");
  }
  std::vector<int>& ends = config_.stage_ends;
  if (ends.empty()) ends.push_back(config_.window() - 1);
  for (std::size_t k = 0; k < ends.size(); ++k) {
    if ((k == 0 && ends[k] < config_.prefix_len) || (k > 0 && ends[k] <= ends[k - 1])) {
      throw std::invalid_argument("MemorizationScanner: stage_ends must increase from >= prefix_len");
    }
  }
  if (ends.back() != config_.window() - 1) {
    throw std::invalid_argument("MemorizationScanner: the last stage must end at prefix + continuation - 1");
  }
}

model::KvCache MemorizationScanner::take_cache() const {
  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    if (!pool_->free.empty()) {
      model::KvCache c = std::move(pool_->free.back());
      pool_->free.pop_back();
      c.clear();
      return c;
    }
  }
  return lm_.make_cache(config_.window() - 1);
}

void MemorizationScanner::give_back(model::KvCache& cache) const {
  if (cache.capacity() == config_.window() - 1) {  // not an empty KvCache()
    std::lock_guard<std::mutex> lock(pool_->mu);
    if (pool_->free.size() < pool_->cap) pool_->free.push_back(std::move(cache));
  }
  cache = model::KvCache();  // moved into the pool or freed here
}

std::vector<int> default_stage_ends(int prefix_len, int continuation_len) {
  const int last = prefix_len + continuation_len - 1;
  std::vector<int> ends;
  for (const int e : {prefix_len + 1, prefix_len + 5, prefix_len + 13}) {
    if (e < last) ends.push_back(e);
  }
  ends.push_back(last);
  return ends;
}

void MemorizationScanner::score(std::span<const model::Token> windows,
                                std::span<const std::uint64_t> indices, std::span<RowScore> out,
                                bool parallel, std::span<TokenStat> stats) const {
  const int P = config_.prefix_len, L = config_.continuation_len, W = config_.window();
  const std::size_t B = indices.size();
  if (windows.size() != B * static_cast<std::size_t>(W) || out.size() != B) {
    throw std::invalid_argument("MemorizationScanner::score: inconsistent batch sizes");
  }
  const int excluded = config_.eod_policy == EodPolicy::kReference ? config_.eod_id : -1;
  const int vocab = lm_.vocab_size();
  const bool with_stats = !stats.empty();
  if (with_stats && stats.size() != B * static_cast<std::size_t>(L)) {
    throw std::invalid_argument("MemorizationScanner::score: stats must hold rows x continuation_len");
  }
  // Token statistics need the logits of every continuation position: one stage.
  const std::vector<int> one_stage{W - 1};
  const std::vector<int>& stage_ends = with_stats || config_.stage_ends.empty() ? one_stage : config_.stage_ends;

  {
    std::lock_guard<std::mutex> lock(pool_->mu);
    pool_->cap = std::max(pool_->cap, B);
  }
  std::vector<model::KvCache> caches(B);
  std::vector<model::Token> last(B);  // the greedy token to feed next (decode phase)
  std::vector<int> next_t(B, W);      // position t whose greedy token the next decode yields

  auto teacher_forced = [&](std::size_t b) {
    const std::span<const model::Token> x = windows.subspan(b * static_cast<std::size_t>(W), W);
    for (model::Token tok : x) {
      if (tok < 0 || tok >= vocab) {
        throw std::invalid_argument("MemorizationScanner: token id " + std::to_string(tok) +
                                    " outside the model's vocabulary in row " + std::to_string(indices[b]));
      }
    }
    RowScore r;
    r.index = indices[b];
    r.eod_in_target = std::find(x.begin() + P, x.end(), config_.eod_id) != x.end();
    // steps[k]: the decision at position P-1+k (predicting t = P+k).
    std::vector<GreedyChoice> steps(static_cast<std::size_t>(L));
    std::vector<int> logit_rows;
    caches[b] = take_cache();
    // Stages x[begin .. end-1]; the first mismatch m and the teacher-forced part of min_margin /
    // NaN (positions P-1 .. m-1), in position order as in one pass.
    int m = W, begin = 0;
    for (const int end : stage_ends) {
      const int first_pos = std::max(begin, P - 1);  // first position with a logit row
      logit_rows.clear();
      for (int pos = first_pos; pos < end; ++pos) logit_rows.push_back(pos - begin);
      lm_.forward(x.subspan(static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)), caches[b],
                  logit_rows, [&](int row, std::span<const float> logits) {
                    // `row` is a token index of this call (causal_lm.h): position begin + row.
                    const int k = begin + row - (P - 1);
                    if (k < 0 || k >= L || begin + row < first_pos) {
                      throw std::logic_error("CausalLm::forward: unexpected logit row");
                    }
                    steps[static_cast<std::size_t>(k)] = model::greedy_choice(logits, excluded);
                    if (with_stats) {
                      stats[b * static_cast<std::size_t>(L) + static_cast<std::size_t>(k)] =
                          token_stat(logits, x[static_cast<std::size_t>(P + k)]);
                    }
                  });
      for (int t = first_pos + 1; t <= end; ++t) {
        const GreedyChoice& s = steps[static_cast<std::size_t>(t - 1 - (P - 1))];
        r.min_margin = std::min(r.min_margin, s.margin);
        if (s.nan) {
          r.nan = true;
          m = t;
          break;
        }
        if (s.token != x[static_cast<std::size_t>(t)]) {
          m = t;
          break;
        }
      }
      begin = end;
      if (m < W) break;
    }
    r.first_mismatch = m;
    r.matches = m - P;
    if (r.nan) {
      r.matches = 0;
    } else if (m == W) {
      r.memorized = true;
      r.score_known = true;
    } else if (config_.exact_score) {
      // Greedy prefix == x[0..m-1]: keep those cache entries, drop the rest (spec §4.2).
      caches[b].truncate(m);
      last[b] = steps[static_cast<std::size_t>(m - P)].token;  // g[m], a miss
      next_t[b] = m + 1;
      r.score_known = true;
    }
    if (next_t[b] >= W) give_back(caches[b]);  // no decoding: done with the cache
    out[b] = r;
  };
  if (parallel && B > 1) {
    // A row's failure is kept, not thrown through parallel_for: every row's task ends normally, so
    // parallel_for returns by its normal wait, after all of them, before `caches` can be unwound
    // (a throw returns by TBB's cancellation path, an order kept inside libtbb that TSan does not
    // see: it reported the unwinding as a race), and the error reported is the lowest failing
    // row's whatever the threads, as in the serial loop.
    std::vector<std::exception_ptr> failed(B);
    tbb::parallel_for(std::size_t{0}, B, [&](std::size_t b) {
      try {
        teacher_forced(b);
      } catch (...) {
        failed[b] = std::current_exception();
      }
    });
    for (const std::exception_ptr& e : failed) {
      if (e) std::rethrow_exception(e);
    }
  } else {
    for (std::size_t b = 0; b < B; ++b) teacher_forced(b);
  }

  // Greedy decoding after the first mismatch, one position per round for every unfinished row.
  std::vector<model::KvCache*> cache_ptrs;
  std::vector<model::Token> first;
  std::vector<std::size_t> row_of;
  for (std::size_t b = 0; b < B; ++b) {
    if (out[b].score_known && !out[b].memorized && next_t[b] < W) {
      cache_ptrs.push_back(&caches[b]);
      first.push_back(last[b]);
      row_of.push_back(b);
    }
  }
  model::greedy_decode(lm_, cache_ptrs, first, excluded, [&](std::size_t j, const GreedyChoice& s) {
    const std::size_t b = row_of[j];
    RowScore& r = out[b];
    r.min_margin = std::min(r.min_margin, s.margin);
    if (s.nan) {
      r.nan = true;
      r.score_known = false;
      r.matches = 0;
      return false;
    }
    const int t = next_t[b];
    if (s.token == windows[b * static_cast<std::size_t>(W) + static_cast<std::size_t>(t)]) ++r.matches;
    next_t[b] = t + 1;
    return next_t[b] < W;
  });
  // Back to the pool for the next call (the rest, beyond the largest batch, is freed here).
  for (model::KvCache& c : caches) give_back(c);
  caches.clear();
}


}  // namespace pythia::memorization
