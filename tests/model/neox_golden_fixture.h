// Shared helpers for the GPT-NeoX golden tests (tests/model/gpt_neox_*_golden_test.cpp): paths of
// the vendored fixtures, JSON and raw-f32 readers, and one forward pass that collects the
// per-position statistics the goldens record. Header-only (each test is its own binary).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/gpt_neox.h"
#include "model/logit_ops.h"

namespace pythia::model::testing {

namespace fs = std::filesystem;

inline fs::path fixtures() { return fs::path(PYTHIA_FIXTURES_DIR); }
inline fs::path golden_dir(const std::string& model) { return fixtures() / "golden" / model; }
inline fs::path model_dir(const std::string& model) { return fixtures() / model; }

inline nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return nlohmann::json::parse(in);
}

inline std::vector<float> read_f32(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  in.seekg(0, std::ios::end);
  const auto n = static_cast<std::size_t>(in.tellg()) / sizeof(float);
  in.seekg(0);
  std::vector<float> v(n);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(float)));
  return v;
}

// One model per name, loaded once per test binary.
inline const GptNeox& model(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<GptNeox>> models;
  std::lock_guard<std::mutex> lock(mu);
  auto& m = models[name];
  if (!m) m = load_gpt_neox(model_dir(name));
  return *m;
}

// Per-position statistics of one teacher-forced forward pass (all rows requested).
struct SequenceStats {
  std::vector<double> logsumexp;
  std::vector<int> argmax;
  std::vector<float> gap;                      // top1 - top2
  std::vector<double> next_logprob;            // length T-1
  std::map<int, std::vector<float>> full_rows;  // requested positions
};

inline SequenceStats run_sequence(const GptNeox& m, const std::vector<Token>& ids,
                                  const std::vector<int>& keep_rows) {
  const int T = static_cast<int>(ids.size());
  SequenceStats s;
  s.logsumexp.resize(ids.size());
  s.argmax.resize(ids.size());
  s.gap.resize(ids.size());
  s.next_logprob.resize(ids.size() - 1);
  std::vector<int> rows(ids.size());
  for (int i = 0; i < T; ++i) rows[static_cast<std::size_t>(i)] = i;
  for (int r : keep_rows) s.full_rows[r];
  KvCache cache = m.make_cache(T);
  m.forward(ids, cache, rows, [&](int row, std::span<const float> logits) {
    const auto r = static_cast<std::size_t>(row);
    s.logsumexp[r] = logsumexp(logits);
    const Top2 t = top2(logits);
    s.argmax[r] = t.best_id;
    s.gap[r] = t.best - t.second;
    if (row + 1 < T) s.next_logprob[r] = logits[static_cast<std::size_t>(ids[r + 1])] - s.logsumexp[r];
    auto it = s.full_rows.find(row);  // the map's nodes exist already: concurrent writes are safe
    if (it != s.full_rows.end()) it->second.assign(logits.begin(), logits.end());
  });
  return s;
}

// max |a - b| and the first index where |a - b| > tol, printed.
struct DiffReport {
  double max_abs = 0.0;
  long first_bad = -1;
  long n_bad = 0;
};

template <typename A, typename B>
DiffReport compare(const std::string& what, const A& got, const B& want, double tol) {
  DiffReport d;
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i) {
    const double e = std::abs(static_cast<double>(got[i]) - static_cast<double>(want[i]));
    if (!(e <= d.max_abs)) d.max_abs = e;
    if (!(e <= tol)) {
      if (d.first_bad < 0) d.first_bad = static_cast<long>(i);
      ++d.n_bad;
    }
  }
  std::printf("  %-48s n=%zu max|diff|=%.3g (tol %.0e)", what.c_str(), got.size(), d.max_abs, tol);
  if (d.first_bad >= 0) {
    const auto i = static_cast<std::size_t>(d.first_bad);
    std::printf("  FIRST MISMATCH at %ld: got %.9g want %.9g (%ld bad)", d.first_bad,
                static_cast<double>(got[i]), static_cast<double>(want[i]), d.n_bad);
  }
  std::printf("\n");
  EXPECT_EQ(got.size(), want.size()) << what;
  EXPECT_LT(d.first_bad, 0) << what << ": max abs diff " << d.max_abs;
  return d;
}

}  // namespace pythia::model::testing
