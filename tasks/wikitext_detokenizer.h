// WikiText helpers of lm-eval's wikitext task:
//  - wikitext_detokenize: `wikitext_detokenizer` of lm_eval/tasks/wikitext/preprocess_wikitext.py
//    (blob e5dff22b2805, commit 4e7e0d4; identical to v0.3.0 lm_eval/tasks/wikitext.py), the 12
//    steps of spec tasks.md §2.7 with Python's str.replace / re.sub semantics (pairing of
//    brackets and quotes left to right, Unicode \s);
//  - split_wikitext_documents: EleutherAI/wikitext_document_level's cutting of wiki.test.raw into
//    pages (lm-eval v0.3.0 lm_eval/datasets/wikitext/wikitext.py `_generate_examples`), rule in
//    shared/data/tasks/SOURCES.md "wikitext";
//  - wikitext_word_count: len(re.split(r"\s+", page)).
// REQUIRES: valid UTF-8. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pythia::tasks {

std::string wikitext_detokenize(std::string_view page);

std::vector<std::string> split_wikitext_documents(std::string_view raw);

std::size_t wikitext_word_count(std::string_view page);

}  // namespace pythia::tasks
