// read_neox_config: config.json of a GPTNeoXForCausalLM checkpoint.
//
// Reference: transformers v4.40.2 src/transformers/models/gpt_neox/configuration_gpt_neox.py
// (GPTNeoXConfig). Keys absent from the file take that class's defaults where a default makes
// sense for any checkpoint (rotary_pct 0.25, rotary_emb_base 10000, layer_norm_eps 1e-5,
// use_parallel_residual true, hidden_act "gelu", tie_word_embeddings false, bos 0, eos 2); the
// sizes have 20B-sized defaults there, which would silently give a wrong model, so they are
// required here. Newer transformers spell the RoPE base `rope_theta`; both are accepted (and
// must agree when both are present). Unknown keys are ignored, as transformers ignores them.
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "data/error.h"
#include "model/neox_config.h"

namespace pythia::model {
namespace {

using nlohmann::json;

constexpr int kMaxJsonDepth = 64;

class Reader {
 public:
  Reader(const json& j, std::string file) : j_(j), file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& problem) const { throw DataError(file_, problem); }

  const json* get(const char* key) const {
    const auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  // A required positive integer.
  int positive_int(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) fail(std::string("required key '") + key + "' is missing");
    if (!v->is_number_integer()) {
      fail(std::string("key '") + key + "' = " + v->dump() + " is not an integer");
    }
    const auto x = v->get<std::int64_t>();
    if (x <= 0 || x > 1'000'000'000) {
      fail(std::string("key '") + key + "' = " + v->dump() + " must be a positive integer");
    }
    return static_cast<int>(x);
  }

  std::optional<double> number(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) fail(std::string("key '") + key + "' = " + v->dump() + " is not a number");
    return v->get<double>();
  }

  std::optional<bool> boolean(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      fail(std::string("key '") + key + "' = " + v->dump() + " is not true/false");
    }
    return v->get<bool>();
  }

  std::optional<std::string> string(const char* key) const {
    const json* v = get(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) fail(std::string("key '") + key + "' = " + v->dump() + " is not a string");
    return v->get<std::string>();
  }

  // bos/eos: an integer id, or null (no such token) -> -1.
  int token_id(const char* key, int dflt) const {
    const json* v = get(key);
    if (v == nullptr) return dflt;
    if (v->is_null()) return -1;
    if (!v->is_number_integer() || v->get<std::int64_t>() < 0 ||
        v->get<std::int64_t>() > 1'000'000'000) {
      fail(std::string("key '") + key + "' = " + v->dump() + " is not a token id");
    }
    return static_cast<int>(v->get<std::int64_t>());
  }

 private:
  const json& j_;
  std::string file_;
};

}  // namespace

NeoxConfig read_neox_config(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(file, "cannot open model config");
  json j;
  try {
    // nlohmann's dump() (used in the messages below) recurses once per nesting level, so a
    // hostile file nested a million levels deep would overflow the stack; a config.json nests
    // two levels. The callback sees every value with its depth and refuses deep ones early.
    j = json::parse(in, [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth) {
        throw DataError(file, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                  " levels: not a model config");
      }
      return true;
    });
  } catch (const json::exception& e) {
    throw DataError(file, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw DataError(file, "config is not a JSON object");
  const Reader r(j, file);

  // Identity: this must be a GPT-NeoX causal LM.
  const auto model_type = r.string("model_type");
  if (!model_type) r.fail("required key 'model_type' is missing");
  if (*model_type != "gpt_neox") {
    r.fail("key 'model_type' = \"" + *model_type + "\" is not supported (need \"gpt_neox\")");
  }
  if (const json* a = r.get("architectures"); a != nullptr && !a->is_null()) {
    if (!a->is_array()) r.fail("key 'architectures' = " + a->dump() + " is not a list");
    for (const auto& name : *a) {
      if (!name.is_string() || name.get<std::string>() != "GPTNeoXForCausalLM") {
        r.fail("key 'architectures' = " + a->dump() +
               " is not supported (need [\"GPTNeoXForCausalLM\"])");
      }
    }
  }

  NeoxConfig c;
  c.vocab_size = r.positive_int("vocab_size");
  c.hidden_size = r.positive_int("hidden_size");
  c.num_hidden_layers = r.positive_int("num_hidden_layers");
  c.num_attention_heads = r.positive_int("num_attention_heads");
  c.intermediate_size = r.positive_int("intermediate_size");
  c.max_position_embeddings = r.positive_int("max_position_embeddings");
  if (c.hidden_size % c.num_attention_heads != 0) {
    r.fail("key 'hidden_size' = " + std::to_string(c.hidden_size) +
           " is not divisible by 'num_attention_heads' = " +
           std::to_string(c.num_attention_heads));
  }

  c.rotary_pct = r.number("rotary_pct").value_or(0.25);
  if (!(c.rotary_pct > 0.0 && c.rotary_pct <= 1.0)) {
    r.fail("key 'rotary_pct' = " + j["rotary_pct"].dump() + " must be in (0, 1]");
  }
  if (c.rotary_dim() % 2 != 0 || c.rotary_dim() == 0) {
    r.fail("key 'rotary_pct' = " + j["rotary_pct"].dump() + " gives " +
           std::to_string(c.rotary_dim()) + " rotary dims per head (head size " +
           std::to_string(c.head_dim()) + "); GPT-NeoX rotary needs a positive even number");
  }
  const auto base = r.number("rotary_emb_base");
  const auto theta = r.number("rope_theta");
  if (base && theta && *base != *theta) {
    r.fail("keys 'rotary_emb_base' = " + j["rotary_emb_base"].dump() + " and 'rope_theta' = " +
           j["rope_theta"].dump() + " disagree");
  }
  c.rotary_emb_base = base ? *base : theta.value_or(10000.0);
  if (!(c.rotary_emb_base > 0.0) || !std::isfinite(c.rotary_emb_base)) {
    r.fail("key 'rotary_emb_base' = " + std::to_string(c.rotary_emb_base) + " must be positive");
  }
  if (const json* s = r.get("rope_scaling"); s != nullptr && !s->is_null()) {
    r.fail("key 'rope_scaling' = " + s->dump() +
           " is not supported (only unscaled rotary embeddings; need null)");
  }

  c.layer_norm_eps = r.number("layer_norm_eps").value_or(1e-5);
  if (!(c.layer_norm_eps > 0.0) || !std::isfinite(c.layer_norm_eps)) {
    r.fail("key 'layer_norm_eps' = " + j["layer_norm_eps"].dump() + " must be positive");
  }
  c.use_parallel_residual = r.boolean("use_parallel_residual").value_or(true);

  const auto act = r.string("hidden_act").value_or("gelu");
  if (act != "gelu") {
    r.fail("key 'hidden_act' = \"" + act + "\" is not supported (GPT-NeoX needs \"gelu\")");
  }
  if (r.boolean("tie_word_embeddings").value_or(false)) {
    r.fail("key 'tie_word_embeddings' = true is not supported (GPT-NeoX has separate embed_in "
           "and embed_out)");
  }
  // Newer transformers (>= 4.42) write attention_bias (default true); we need the biases.
  if (!r.boolean("attention_bias").value_or(true)) {
    r.fail("key 'attention_bias' = false is not supported (need the attention biases)");
  }
  if (const json* d = r.get("torch_dtype"); d != nullptr && !d->is_null()) {
    if (!d->is_string()) r.fail("key 'torch_dtype' = " + d->dump() + " is not a string");
    c.torch_dtype = d->get<std::string>();
  }
  c.bos_token_id = r.token_id("bos_token_id", 0);
  c.eos_token_id = r.token_id("eos_token_id", 2);
  // Type checks for the harmless keys (values are irrelevant for inference).
  for (const char* key : {"attention_dropout", "hidden_dropout", "initializer_range",
                          "classifier_dropout"}) {
    if (const json* v = r.get(key); v != nullptr && !v->is_null() && !v->is_number()) {
      r.fail(std::string("key '") + key + "' = " + v->dump() + " is not a number");
    }
  }
  (void)r.boolean("use_cache");
  (void)r.string("transformers_version");
  return c;
}

std::int64_t parameter_count(const NeoxConfig& c) {
  const std::int64_t V = c.vocab_size, C = c.hidden_size, I = c.intermediate_size;
  const std::int64_t layer = 2 * 2 * C + (3 * C * C + 3 * C) + (C * C + C) + (I * C + I) + (C * I + C);
  return 2 * V * C + c.num_hidden_layers * layer + 2 * C;
}

}  // namespace pythia::model
