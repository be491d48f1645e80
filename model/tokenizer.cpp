#include "model/tokenizer.h"

#include <unordered_map>

#include <nlohmann/json.hpp>

#include "data/error.h"
#include "data/jsonl_reader.h"
#include "model/added_tokens.h"
#include "model/bpe.h"
#include "model/pretokenizer.h"
#include "model/utf8.h"

namespace pythia::model {

using nlohmann::json;

struct Tokenizer::Impl {
  std::unique_ptr<BpeModel> bpe;
  bool nfc = false;
  AddedTokenMatcher raw_matcher;         // added tokens with normalized = false
  AddedTokenMatcher normalized_matcher;  // added tokens with normalized = true
  std::unordered_map<std::string, std::int32_t> model_vocab;
  std::unordered_map<std::string, std::int32_t> added_vocab;
  int vocab_size = 0;
  // Decoder table: bytes of id i are decode_bytes[decode_offset[i], decode_offset[i+1]).
  std::string decode_bytes;
  std::vector<std::uint32_t> decode_offset;
  std::vector<std::uint8_t> known;    // 1 if the id exists
  std::vector<std::uint8_t> special;  // 1 if the id is a special added token

  void encode_normalized_gap(std::string_view text, std::vector<std::int32_t>& out) const;
  void encode_raw_gap(std::string_view text, std::vector<std::int32_t>& out) const;
};

namespace {

// The value at `key` if present and not null, else nullptr.
const json* field(const json& obj, const char* key) {
  if (!obj.is_object()) return nullptr;
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string type_of(const json* section) {
  if (section == nullptr) return "";
  const json* t = field(*section, "type");
  return (t != nullptr && t->is_string()) ? t->get<std::string>() : "?";
}

bool flag(const json& obj, const char* key, bool fallback) {
  const json* v = field(obj, key);
  return (v != nullptr && v->is_boolean()) ? v->get<bool>() : fallback;
}

void check_sections(const json& root, const std::string& name) {
  const std::string normalizer = type_of(field(root, "normalizer"));
  if (!normalizer.empty() && normalizer != "NFC") {
    throw DataError(name, "normalizer type '" + normalizer + "' is not supported (only NFC)");
  }
  const json* pre = field(root, "pre_tokenizer");
  if (type_of(pre) != "ByteLevel") {
    throw DataError(name, "pre_tokenizer type '" + type_of(pre) +
                              "' is not supported (only ByteLevel)");
  }
  if (flag(*pre, "add_prefix_space", false) || !flag(*pre, "use_regex", true)) {
    throw DataError(name, "ByteLevel pre_tokenizer with add_prefix_space = true or use_regex = "
                          "false is not supported");
  }
  const std::string decoder = type_of(field(root, "decoder"));
  if (!decoder.empty() && decoder != "ByteLevel") {
    throw DataError(name, "decoder type '" + decoder + "' is not supported (only ByteLevel)");
  }
  const json* model = field(root, "model");
  if (model == nullptr || type_of(model) != "BPE") {
    throw DataError(name, "model type '" + type_of(model) + "' is not supported (only BPE)");
  }
  for (const char* key : {"dropout", "unk_token", "continuing_subword_prefix",
                          "end_of_word_suffix"}) {
    if (field(*model, key) != nullptr) {
      throw DataError(name, std::string("BPE option '") + key + "' is not supported");
    }
  }
  if (flag(*model, "byte_fallback", false) || flag(*model, "ignore_merges", false)) {
    throw DataError(name, "BPE byte_fallback / ignore_merges are not supported");
  }
}

std::vector<std::pair<std::string, std::string>> read_merges(const json& list,
                                                             const std::string& name) {
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(list.size());
  for (const json& m : list) {
    if (m.is_string()) {  // "a b" (the 20B file's form)
      const auto& s = m.get_ref<const std::string&>();
      const auto space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos) {
        throw DataError(name, "merge '" + s + "' is not two space-separated tokens");
      }
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());  // ["a", "b"]
    } else {
      throw DataError(name, "a BPE merge is neither \"a b\" nor [\"a\", \"b\"]");
    }
  }
  return merges;
}

// Bytes the ByteLevel decoder produces for one token string (decoders/byte_level.rs).
std::string token_bytes(const std::string& token) {
  if (auto bytes = byte_level_to_bytes(token)) return *bytes;
  return token;
}

}  // namespace

Tokenizer Tokenizer::from_file(const std::filesystem::path& tokenizer_json) {
  // read_whole_file gunzips when the content is gzip, so tokenizer.json.gz works too.
  return from_json_text(data::read_whole_file(tokenizer_json), tokenizer_json.string());
}

Tokenizer Tokenizer::from_json_text(std::string_view json_text, const std::string& name) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::exception& e) {
    throw DataError(name, std::string("not valid JSON: ") + e.what());
  }
  if (!root.is_object()) throw DataError(name, "not a tokenizer.json object");
  check_sections(root, name);
  auto impl = std::make_shared<Impl>();
  impl->nfc = type_of(field(root, "normalizer")) == "NFC";

  const json& model = root["model"];
  const json* vocab = field(model, "vocab");
  const json* merges = field(model, "merges");
  if (vocab == nullptr || !vocab->is_object() || merges == nullptr || !merges->is_array()) {
    throw DataError(name, "BPE model lacks a 'vocab' object or a 'merges' array");
  }
  std::int32_t max_id = -1;
  for (const auto& [token, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
        id.get<std::int64_t>() > 100'000'000) {
      throw DataError(name, "vocab entry '" + token + "' has no valid id");
    }
    impl->model_vocab.emplace(token, id.get<std::int32_t>());
    max_id = std::max(max_id, id.get<std::int32_t>());
  }
  impl->bpe = std::make_unique<BpeModel>(impl->model_vocab, read_merges(*merges, name), name);

  // Added tokens.
  std::vector<AddedToken> raw, normalized;
  const json* added = field(root, "added_tokens");
  if (added != nullptr) {
    if (!added->is_array()) throw DataError(name, "'added_tokens' is not an array");
    for (const json& a : *added) {
      const json* id = field(a, "id");
      const json* content = field(a, "content");
      if (id == nullptr || !id->is_number_integer() || id->get<std::int64_t>() < 0 ||
          id->get<std::int64_t>() > 100'000'000 || content == nullptr || !content->is_string()) {
        throw DataError(name, "an added token lacks a valid 'id' or 'content'");
      }
      AddedToken t;
      t.id = id->get<std::int32_t>();
      t.content = content->get<std::string>();
      if (find_invalid_utf8(t.content)) throw DataError(name, "added token is not valid UTF-8");
      t.special = flag(a, "special", false);
      t.single_word = flag(a, "single_word", false);
      t.lstrip = flag(a, "lstrip", false);
      t.rstrip = flag(a, "rstrip", false);
      t.normalized = flag(a, "normalized", !t.special);
      impl->added_vocab.emplace(t.content, t.id);
      max_id = std::max(max_id, t.id);
      if (t.normalized) {
        if (impl->nfc) t.content = nfc(t.content);  // HF matches normalized tokens normalized
        normalized.push_back(std::move(t));
      } else {
        raw.push_back(std::move(t));
      }
    }
  }
  impl->vocab_size = max_id + 1;

  // Decoder table; added tokens override the model's string for their id.
  std::vector<const std::string*> token_of(static_cast<std::size_t>(impl->vocab_size), nullptr);
  for (const auto& [token, id] : impl->model_vocab) token_of[static_cast<std::size_t>(id)] = &token;
  impl->special.assign(static_cast<std::size_t>(impl->vocab_size), 0);
  for (const auto* list : {&raw, &normalized}) {
    for (const AddedToken& t : *list) {
      if (t.special) impl->special[static_cast<std::size_t>(t.id)] = 1;
    }
  }
  for (const auto& [token, id] : impl->added_vocab) token_of[static_cast<std::size_t>(id)] = &token;
  impl->known.assign(static_cast<std::size_t>(impl->vocab_size), 0);
  impl->decode_offset.assign(static_cast<std::size_t>(impl->vocab_size) + 1, 0);
  for (std::size_t id = 0; id < token_of.size(); ++id) {
    impl->decode_offset[id] = static_cast<std::uint32_t>(impl->decode_bytes.size());
    if (token_of[id] == nullptr) continue;
    impl->known[id] = 1;
    impl->decode_bytes += token_bytes(*token_of[id]);
  }
  impl->decode_offset.back() = static_cast<std::uint32_t>(impl->decode_bytes.size());

  impl->raw_matcher = AddedTokenMatcher(std::move(raw));
  impl->normalized_matcher = AddedTokenMatcher(std::move(normalized));
  return Tokenizer(std::move(impl));
}

std::filesystem::path Tokenizer::locate(const std::filesystem::path& model_dir) {
  const auto path = model_dir / "tokenizer.json";
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw DataError(model_dir.string(),
                    "no tokenizer.json in the checkpoint folder; pass --tokenizer <file> "
                    "(e.g. the GPT-NeoX-20B tokenizer.json)");
  }
  return path;
}

// Steps 3-4 on NFC-normalized text: whitespace added tokens, then GPT-2 split + BPE.
void Tokenizer::Impl::encode_normalized_gap(std::string_view text,
                                            std::vector<std::int32_t>& out) const {
  const auto pretokenize = [&](std::string_view gap) {
    Gpt2Splitter splitter(gap);
    std::string_view piece;
    while (splitter.next(piece)) bpe->encode_piece(piece, out);
  };
  if (normalized_matcher.empty()) {
    pretokenize(text);
    return;
  }
  std::vector<TextSplit> splits;
  normalized_matcher.split(text, splits);
  for (const TextSplit& s : splits) {
    if (s.id >= 0) {
      out.push_back(s.id);
    } else {
      pretokenize(text.substr(s.begin, s.end - s.begin));
    }
  }
}

// Step 2: NFC on a gap between raw added tokens, then steps 3-4.
void Tokenizer::Impl::encode_raw_gap(std::string_view text, std::vector<std::int32_t>& out) const {
  if (!nfc || is_ascii(text)) {  // ASCII is already NFC: skip the copy
    encode_normalized_gap(text, out);
    return;
  }
  const std::string normalized = model::nfc(text);
  encode_normalized_gap(normalized, out);
}

void Tokenizer::encode_into(std::string_view text, std::vector<std::int32_t>& out) const {
  if (const auto bad = find_invalid_utf8(text)) {
    throw DataError("input text", "invalid UTF-8 at byte offset " + std::to_string(*bad));
  }
  if (impl_->raw_matcher.empty()) {
    impl_->encode_raw_gap(text, out);
    return;
  }
  std::vector<TextSplit> splits;
  impl_->raw_matcher.split(text, splits);
  for (const TextSplit& s : splits) {
    if (s.id >= 0) {
      out.push_back(s.id);
    } else {
      impl_->encode_raw_gap(text.substr(s.begin, s.end - s.begin), out);
    }
  }
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> out;
  out.reserve(text.size() / 3 + 4);
  encode_into(text, out);
  return out;
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special_tokens) const {
  const Impl& im = *impl_;
  std::string bytes;
  for (const std::int32_t id : ids) {
    if (id < 0 || id >= im.vocab_size) continue;
    const auto i = static_cast<std::size_t>(id);
    if (!im.known[i] || (skip_special_tokens && im.special[i])) continue;
    bytes.append(im.decode_bytes, im.decode_offset[i], im.decode_offset[i + 1] - im.decode_offset[i]);
  }
  return utf8_lossy(bytes);
}

int Tokenizer::vocab_size() const { return impl_->vocab_size; }

std::optional<std::int32_t> Tokenizer::token_to_id(std::string_view token) const {
  const std::string key(token);
  if (const auto it = impl_->added_vocab.find(key); it != impl_->added_vocab.end()) {
    return it->second;
  }
  if (const auto it = impl_->model_vocab.find(key); it != impl_->model_vocab.end()) {
    return it->second;
  }
  return std::nullopt;
}

void Tokenizer::clear_cache() const { impl_->bpe->clear_cache(); }

void Tokenizer::set_cache_enabled(bool on) { impl_->bpe->set_cache_enabled(on); }

}  // namespace pythia::model
