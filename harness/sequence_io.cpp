#include "harness/sequence_io.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "data/error.h"
#include "data/jsonl_reader.h"

namespace pythia::harness {

void add_sequence_io_options(boost::program_options::options_description& desc,
                             SequenceIoOptions& o) {
  namespace po = boost::program_options;
  desc.add_options()
      ("input,i", po::value<std::string>(&o.input),
       "input JSON-lines file (\"-\" = stdin, may be gzip): {\"ids\": [...]} or {\"text\": ...}")
      ("output,o", po::value<std::string>(&o.output), "output JSON-lines file (\"-\" = stdout)")
      ("tokenizer", po::value<std::string>(&o.tokenizer),
       "tokenizer.json for {\"text\"} lines (default: the model folder's tokenizer.json)");
}

void require_input_output(const SequenceIoOptions& o) {
  if (o.input.empty() || o.output.empty()) throw UsageError("--input and --output are required");
}

std::optional<model::Tokenizer> load_text_tokenizer(const SequenceIoOptions& o,
                                                    const std::filesystem::path& model_dir) {
  if (!o.tokenizer.empty()) return model::Tokenizer::from_file(o.tokenizer);
  if (std::filesystem::exists(model_dir / "tokenizer.json"))
    return model::Tokenizer::from_file(model_dir / "tokenizer.json");
  return std::nullopt;
}

namespace {

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

SequenceLine parse_line(const std::string& where, const std::string& line,
                        const model::Tokenizer* tokenizer, const SequenceLimits& limits) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(where, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw DataError(where, "expected a JSON object with \"ids\" or \"text\"");
  SequenceLine s;
  s.where = where;
  const auto ids = j.find("ids");
  const auto text = j.find("text");
  if (ids != j.end()) {
    if (!ids->is_array()) throw DataError(where, "\"ids\" must be an array of token ids");
    s.ids.reserve(ids->size());
    for (const auto& v : *ids) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0 ||
          v.get<std::int64_t>() >= limits.vocab_size) {
        throw DataError(where, "\"ids\" holds " + v.dump() + ", not a token id in [0, " +
                                   std::to_string(limits.vocab_size) + ")");
      }
      s.ids.push_back(static_cast<model::Token>(v.get<std::int64_t>()));
    }
  } else if (text != j.end()) {
    if (!text->is_string()) throw DataError(where, "\"text\" must be a string");
    if (tokenizer == nullptr)
      throw DataError(where, "a \"text\" line needs a tokenizer (the model folder's "
                             "tokenizer.json or --tokenizer)");
    try {
      s.ids = tokenizer->encode(text->get_ref<const std::string&>());
    } catch (const DataError& e) {
      throw DataError(where, e.what());
    }
  } else {
    throw DataError(where, "expected a field \"ids\" (token ids) or \"text\"");
  }
  if (s.ids.empty()) throw DataError(where, "empty sequence");
  if (static_cast<int>(s.ids.size()) > limits.max_len) {
    throw DataError(where, "sequence of " + std::to_string(s.ids.size()) +
                               " tokens is longer than " + std::to_string(limits.max_len) +
                               limits.max_len_reason);
  }
  return s;
}

}  // namespace

void for_each_sequence_block(const std::string& input, const model::Tokenizer* tokenizer,
                             const SequenceLimits& limits, std::size_t block,
                             const std::function<void(std::vector<SequenceLine>&)>& fn) {
  std::vector<SequenceLine> batch;
  auto take = [&](const std::string& where, const std::string& line) {
    if (blank(line)) return;
    batch.push_back(parse_line(where, line, tokenizer, limits));
    if (batch.size() >= block) {
      fn(batch);
      batch.clear();
    }
  };
  std::string line;
  if (input == "-") {
    std::int64_t n = 0;
    while (std::getline(std::cin, line)) take("<stdin>:" + std::to_string(++n), line);
  } else {
    data::LineReader reader(input);
    while (reader.next(line)) take(reader.where(), line);
  }
  if (!batch.empty()) fn(batch);
}

std::int64_t longest_sequence_bound(const std::string& input) {
  if (input == "-") return 0;
  std::int64_t longest = 0;
  try {
    data::LineReader reader(input);
    std::string line;
    while (reader.next(line)) {
      if (blank(line)) continue;
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object()) continue;
      if (const auto ids = j.find("ids"); ids != j.end() && ids->is_array()) {
        longest = std::max(longest, static_cast<std::int64_t>(ids->size()));
      } else if (const auto text = j.find("text"); text != j.end() && text->is_string()) {
        longest = std::max(longest, 5 * static_cast<std::int64_t>(text->get_ref<const std::string&>().size()));
      }
    }
  } catch (const DataError&) {
    return 0;  // unreadable: the real pass reports it
  }
  return longest;
}

void check_tokenizer_path(const SequenceIoOptions& o) {
  if (o.tokenizer.empty()) return;
  std::ifstream f(o.tokenizer, std::ios::binary);
  if (!f) throw DataError(o.tokenizer, "cannot open the tokenizer file (--tokenizer)");
}

OutputFile::OutputFile(const std::string& path) : path_(path), out_(&std::cout) {
  if (path != "-") {
    file_.open(path, std::ios::binary | std::ios::trunc);
    if (!file_) throw DataError(path, "cannot open for writing");
    out_ = &file_;
  }
}

void OutputFile::close() {
  out_->flush();
  if (!*out_) throw DataError(path_, "write failed");
  if (file_.is_open()) file_.close();
}

}  // namespace pythia::harness
