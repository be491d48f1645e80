// tasks/wikitext_detokenizer + python_text: lm-eval's wikitext_detokenizer, the document splitter
// and word counts. Expected values were produced by running lm-eval's Python code
// (preprocess_wikitext.py / v0.3.0 wikitext.py _generate_examples / re.split) on these inputs.
#include "tasks/wikitext_detokenizer.h"

#include <gtest/gtest.h>

#include "tasks/python_text.h"

using namespace pythia::tasks;

TEST(WikitextDetokenizer, SpecWorkedExample) {
  const std::string page =
      " = Robert Boulter = \n \n Robert Boulter is an English film , television and theatre actor . He had a guest @-@ starring role on the television series The Bill in 2000 . In 2004 Boulter landed a role as \" Craig \" in the episode \" Teddy 's Story \" of the television series The Long Firm ; he starred alongside actors Mark Strong and Derek Jacobi . \n \n = = Career = = \n \n \n = = = 2000 \u2013 2005 = = = \n \n The census of 754 recorded 52 @.@ 9 million people ( 1 @,@ 000 ) . \n";
  const std::string want =
      " = Robert Boulter =\n\nRobert Boulter is an English film, television and theatre actor. He had a guest-starring role on the television series The Bill in 2000. In 2004 Boulter landed a role as \"Craig\" in the episode \"Teddy's Story\" of the television series The Long Firm; he starred alongside actors Mark Strong and Derek Jacobi.\n\n== Career ==\n\n\n=== 2000 \u2013 2005 ===\n\nThe census of 754 recorded 52.9 million people (1,000).\n";
  EXPECT_EQ(wikitext_detokenize(page), want);
  EXPECT_EQ(wikitext_word_count(page), 100u);
  EXPECT_EQ(page.size(), 468u);
}

TEST(WikitextDetokenizer, PairingSemanticsOfPythonRegexes) {
  EXPECT_EQ(wikitext_detokenize("( a ( b ) c )"), "(a ( b) c )");
  EXPECT_EQ(wikitext_detokenize("\" a \" b \" c \" d \""), "\"a\" b \"c\" d \"");
  EXPECT_EQ(wikitext_detokenize("x '\u00a0y\u3000' z ' w"), "x 'y' z ' w");
  EXPECT_EQ(wikitext_detokenize("a /' 7/ b"), "a /'[0-9]/ b");
  EXPECT_EQ(wikitext_detokenize("[ x\n ] { y } ( z"), "[x] {y} ( z");
  EXPECT_EQ(wikitext_detokenize("the peoples ' Perl is ' great ' ok"), "the peoples'Perl is' great ' ok");
  EXPECT_EQ(wikitext_detokenize("10 \u00b0 C and N items 's"), "10\u00b0C and 1 items's");
  EXPECT_EQ(wikitext_detokenize("= = = = D = = = ="), "==== D ====");
  EXPECT_EQ(wikitext_detokenize("(\u2009)"), "()");
}

TEST(WikitextSplit, DocumentLevelBuilderRule) {
  const auto docs = split_wikitext_documents(" \n = A = \n \n text \n = = B = = \n \n x \n = C = \n \n y \n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], " = A = \n \n text \n = = B = = \n \n x ");
  EXPECT_EQ(docs[1], " = C = \n \n y \n");
}

TEST(PythonText, SplitWhitespaceCountAndStrip) {
  EXPECT_EQ(python_split_ws_count(""), 1u);
  EXPECT_EQ(python_split_ws_count(" "), 2u);
  EXPECT_EQ(python_split_ws_count("a"), 1u);
  EXPECT_EQ(python_split_ws_count(" a "), 3u);
  EXPECT_EQ(python_split_ws_count("a\u00a0b\u2028c"), 3u);
  EXPECT_EQ(python_split_ws_count("\u3000x"), 2u);
  EXPECT_EQ(py_strip(" \t\u00a0x y\u2009\n"), "x y");
  EXPECT_EQ(py_lstrip("\n\nab "), "ab ");
  EXPECT_EQ(py_rstrip("ab \u3000"), "ab");
  EXPECT_EQ(trailing_space_bytes("ab \u00a0"), 3u);
  EXPECT_EQ(code_point_length("caf\u00e9 \u2192"), 6u);
  EXPECT_FALSE(find_invalid_utf8("ok \u00e9").has_value());
  EXPECT_EQ(find_invalid_utf8(std::string("ab\xC3", 3)), 2u);
  EXPECT_EQ(find_invalid_utf8(std::string("\xED\xA0\x80", 3)), 0u);  // surrogate
}
