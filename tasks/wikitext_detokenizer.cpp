#include "tasks/wikitext_detokenizer.h"

#include "tasks/python_text.h"

namespace pythia::tasks {

namespace {

// re.sub(r"<open>\s*([^<close>]*?)\s*<close>", r"<open>\1<close>", s): each `open` that has a
// `close` after it pairs with the first such `close`; whitespace just inside is removed; scanning
// resumes after the `close`.
std::string pair_and_trim(std::string_view s, char open, char close) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (s[i] != open) {
      out.push_back(s[i++]);
      continue;
    }
    const std::size_t j = s.find(close, i + 1);
    if (j == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    out.push_back(open);
    out.append(py_strip(s.substr(i + 1, j - i - 1)));
    out.push_back(close);
    i = j + 1;
  }
  return out;
}

// re.sub(r"/' [0-9]/", r"/'[0-9]/", s): the slashes are literal characters.
std::string step2(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 5 <= s.size() && s[i] == '/' && s[i + 1] == '\'' && s[i + 2] == ' ' &&
        s[i + 3] >= '0' && s[i + 3] <= '9' && s[i + 4] == '/') {
      out.append("/'[0-9]/");
      i += 5;
    } else {
      out.push_back(s[i++]);
    }
  }
  return out;
}

}  // namespace

std::string wikitext_detokenize(std::string_view page) {
  std::string s = py_replace(page, "s '", "s'");                     // 1
  s = step2(s);                                                      // 2
  s = py_replace(s, " @-@ ", "-");                                   // 3
  s = py_replace(s, " @,@ ", ",");
  s = py_replace(s, " @.@ ", ".");
  s = py_replace(s, " : ", ": ");                                    // 4
  s = py_replace(s, " ; ", "; ");
  s = py_replace(s, " . ", ". ");
  s = py_replace(s, " ! ", "! ");
  s = py_replace(s, " ? ", "? ");
  s = py_replace(s, " , ", ", ");
  s = pair_and_trim(s, '(', ')');                                    // 5
  s = pair_and_trim(s, '[', ']');
  s = pair_and_trim(s, '{', '}');
  s = pair_and_trim(s, '"', '"');                                    // 6
  s = pair_and_trim(s, '\'', '\'');                                  // 7
  s = py_replace(s, "= = = =", "====");                              // 8
  s = py_replace(s, "= = =", "===");
  s = py_replace(s, "= =", "==");
  s = py_replace(s, " \xC2\xB0 ", "\xC2\xB0");                       // 9 (U+00B0)
  s = py_replace(s, " \n", "\n");                                    // 10
  s = py_replace(s, "\n ", "\n");
  s = py_replace(s, " N ", " 1 ");                                   // 11
  s = py_replace(s, " 's", "'s");                                    // 12
  return s;
}

std::vector<std::string> split_wikitext_documents(std::string_view raw) {
  std::vector<std::string> docs;
  std::vector<std::string_view> buffer;
  auto join = [&]() {
    std::string text;
    for (std::size_t k = 0; k < buffer.size(); ++k) {
      if (k > 0) text.push_back('\n');
      text.append(buffer[k]);
    }
    return text;
  };
  std::size_t start = 0;
  for (;;) {
    const std::size_t nl = raw.find('\n', start);
    const std::string_view line =
        raw.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    std::string r = py_replace(py_replace(line, "= = =", "==="), "= =", "==");
    const std::string_view stripped = py_strip(r);
    const bool heading = stripped.size() >= 2 && stripped.substr(0, 2) == "= " &&
                         stripped.substr(stripped.size() - 2) == " =";
    if (heading) {
      std::string text = join();
      if (!py_strip(text).empty()) docs.push_back(std::move(text));
      buffer.clear();
    }
    buffer.push_back(line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  docs.push_back(join());
  return docs;
}

std::size_t wikitext_word_count(std::string_view page) { return python_split_ws_count(page); }

}  // namespace pythia::tasks
