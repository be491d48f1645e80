// tokenizer.json (model/tokenizer.h Tokenizer::from_json_text, which from_file runs on the file's
// text). A tokenizer that loads is then used: encode of a few fixed texts (added tokens, space
// runs, NFC, multi-byte characters) and decode of every id up to a bound, so tables built from a
// hostile file are exercised too.
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "model/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  fuzz::expect_clean([&] {
    const auto tok = model::Tokenizer::from_json_text(fuzz::as_text(data, size), "fuzz/tokenizer.json");
    static const std::string_view kTexts[] = {
        "", "Hello world", "  two  spaces\n\n\tand tabs   ", "<|endoftext|>x<|padding|>",
        "caf\xC3\xA9 cafe\xCC\x81 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80", std::string_view("a\0b", 3), "'s 've 123 ..."};
    std::vector<std::int32_t> ids;
    for (const std::string_view t : kTexts) {
      ids = tok.encode(t);
      (void)tok.decode(ids);
      (void)tok.decode(ids, true);
    }
    std::vector<std::int32_t> all;
    for (std::int32_t i = -2; i < tok.vocab_size() + 2 && i < 4096; ++i) all.push_back(i);
    (void)tok.decode(all);
    (void)tok.token_to_id("<|endoftext|>");
  });
  return 0;
}
