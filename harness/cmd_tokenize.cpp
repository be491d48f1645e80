// `pythia-harness tokenize`: JSON lines of text -> token ids with the GPT-NeoX-20B tokenizer
// (model/tokenizer.h; identical to Hugging Face tokenizers 0.23.2 encode(text,
// add_special_tokens=False), as lm-eval calls it), or ids -> text with --decode.
#include <boost/program_options.hpp>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "data/error.h"
#include "data/jsonl_reader.h"
#include "harness/cli_util.h"
#include "harness/commands.h"
#include "model/model_resolver.h"
#include "model/tokenizer.h"

namespace pythia::harness {
namespace {

namespace po = boost::program_options;

const char* const kUsage =
    "Usage: pythia-harness tokenize (--model M [--revision R] | --tokenizer F)\n"
    "                               --input IN.jsonl --output OUT.jsonl [--decode]\n"
    "                               [--skip-special-tokens]\n"
    "\n"
    "Encode: every input line {\"text\": \"...\"} becomes one output line {\"ids\": [...]}, the\n"
    "token ids of the GPT-NeoX-20B tokenizer exactly as Hugging Face tokenizers encodes them with\n"
    "add_special_tokens=False (what lm-evaluation-harness does): no BOS/EOS, no prefix space;\n"
    "<|endoftext|> and <|padding|> written in the text are matched as special tokens.\n"
    "Decode (--decode): every input line {\"ids\": [...]} becomes {\"text\": \"...\"}; the bytes\n"
    "of all tokens are joined and invalid UTF-8 becomes U+FFFD; ids the tokenizer does not know\n"
    "(e.g. 50277..50303 of the padded embedding) are dropped.\n"
    "Output lines are in input order; blank input lines are skipped. Other keys are ignored.\n"
    "Input may be gzip-compressed (detected from the content).\n"
    "\n"
    "Exit status: 0 ok, 2 usage error, 3 a file that cannot be read or a bad line (the message\n"
    "names file:line).\n"
    "\n"
    "Options";

struct Options {
  std::string model, revision, tokenizer, input, output;
  bool decode = false, skip_special = false;
};

// Calls fn(where, line) for every non-blank line of `input` ("-" = stdin).
template <typename Fn>
void for_each_line(const std::string& input, Fn&& fn) {
  const auto blank = [](const std::string& s) {
    return s.find_first_not_of(" \t\r\n") == std::string::npos;
  };
  std::string line;
  if (input == "-") {
    std::int64_t n = 0;
    while (std::getline(std::cin, line)) {
      ++n;
      if (!blank(line)) fn("<stdin>:" + std::to_string(n), line);
    }
    return;
  }
  data::LineReader reader(input);
  while (reader.next(line)) {
    if (!blank(line)) fn(reader.where(), line);
  }
}

nlohmann::json parse_object(const std::string& where, const std::string& line) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    throw DataError(where, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw DataError(where, "expected a JSON object");
  return j;
}

std::string encode_line(const model::Tokenizer& tok, const std::string& where,
                        const std::string& line) {
  const nlohmann::json j = parse_object(where, line);
  const auto it = j.find("text");
  if (it == j.end() || !it->is_string()) {
    throw DataError(where, "expected a string field \"text\"");
  }
  std::vector<std::int32_t> ids;
  try {
    ids = tok.encode(it->get_ref<const std::string&>());
  } catch (const DataError& e) {
    throw DataError(where, e.what());
  }
  return nlohmann::json{{"ids", ids}}.dump();
}

std::string decode_line(const model::Tokenizer& tok, const std::string& where,
                        const std::string& line, bool skip_special) {
  const nlohmann::json j = parse_object(where, line);
  const auto it = j.find("ids");
  if (it == j.end() || !it->is_array()) throw DataError(where, "expected an array field \"ids\"");
  std::vector<std::int32_t> ids;
  ids.reserve(it->size());
  for (const auto& v : *it) {
    if (!v.is_number_integer() || v.get<std::int64_t>() < INT32_MIN ||
        v.get<std::int64_t>() > INT32_MAX) {
      throw DataError(where, "\"ids\" holds " + v.dump() + ", not a 32-bit integer");
    }
    ids.push_back(static_cast<std::int32_t>(v.get<std::int64_t>()));
  }
  return nlohmann::json{{"text", tok.decode(ids, skip_special)}}.dump();
}

}  // namespace

int run_tokenize(const Args& args) {
  Options o;
  po::options_description desc(kUsage);
  desc.add_options()
      ("help,h", "print this help")
      ("model", po::value<std::string>(&o.model),
       "checkpoint whose tokenizer.json to use: a checkpoint folder, a folder of step*/ revision "
       "folders, or a Hugging Face repo id in the local HF cache (never downloaded)")
      ("revision", po::value<std::string>(&o.revision),
       "revision of --model (e.g. step143000; default: none for a folder, \"main\" for a repo id)")
      ("tokenizer", po::value<std::string>(&o.tokenizer),
       "tokenizer.json file (plain or .gz) to use instead of --model, e.g. the GPT-NeoX-20B "
       "tokenizer (EleutherAI/pythia utils/20B_tokenizer.json)")
      ("input,i", po::value<std::string>(&o.input),
       "input JSON-lines file (\"-\" = stdin); lines {\"text\": ...}, or {\"ids\": [...]} with "
       "--decode")
      ("output,o", po::value<std::string>(&o.output),
       "output JSON-lines file (\"-\" = stdout); lines {\"ids\": [...]}, or {\"text\": ...} with "
       "--decode")
      ("decode", po::bool_switch(&o.decode), "decode ids to text instead of encoding text")
      ("skip-special-tokens", po::bool_switch(&o.skip_special),
       "with --decode: drop the special tokens <|endoftext|> (0) and <|padding|> (1), as HF "
       "decode(skip_special_tokens=True); default keeps them, as HF's default");
  if (!parse_or_help(args, desc)) return 0;
  if (o.model.empty() == o.tokenizer.empty()) {
    throw UsageError("give exactly one of --model and --tokenizer");
  }
  if (!o.revision.empty() && o.model.empty()) throw UsageError("--revision needs --model");
  if (o.input.empty() || o.output.empty()) throw UsageError("--input and --output are required");
  if (o.skip_special && !o.decode) throw UsageError("--skip-special-tokens needs --decode");

  const std::filesystem::path tok_path =
      o.tokenizer.empty()
          ? model::Tokenizer::locate(model::resolve_model(o.model, o.revision).dir)
          : std::filesystem::path(o.tokenizer);
  const model::Tokenizer tok = model::Tokenizer::from_file(tok_path);

  std::ofstream file;
  std::ostream* out = &std::cout;
  if (o.output != "-") {
    file.open(o.output, std::ios::binary | std::ios::trunc);
    if (!file) throw DataError(o.output, "cannot open for writing");
    out = &file;
  }
  std::int64_t n_lines = 0;
  for_each_line(o.input, [&](const std::string& where, const std::string& line) {
    *out << (o.decode ? decode_line(tok, where, line, o.skip_special)
                      : encode_line(tok, where, line))
         << '\n';
    ++n_lines;
  });
  out->flush();
  if (!*out) throw DataError(o.output, "write failed");
  if (o.output != "-") {
    std::fprintf(stderr, "tokenize: %lld lines %s to %s\n", static_cast<long long>(n_lines),
                 o.decode ? "decoded" : "encoded", o.output.c_str());
  }
  return 0;
}

}  // namespace pythia::harness
