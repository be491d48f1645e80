// Evaluation data files of the nine core lm-eval tasks and MMLU (tasks/*.cpp read_docs through
// Task::load): JSON lines (lambada_openai, arc_easy, arc_challenge, wsc), JSON lines +
// one-label-per-line files (piqa, winogrande), one JSON array (sciq), raw text (wikitext),
// blank-line separated records (logiqa) and CSV (mmlu); plain or gzip. Documents that load are
// then turned into requests and scored as the evaluator does, and the per-document log is
// serialized as the samples writer does.
//
// Input layout: byte 0 = mode, the rest = the task's first data file; for tasks with two data
// files (piqa, winogrande: JSONL + labels; mmlu: test CSV + dev CSV) the rest is split at
// "|LABELS|" into the first and the second file.
//   (mode & 0x7f) % 10: the task: 0-8 the core tasks in registry order (lambada_openai piqa
//   winogrande arc_easy arc_challenge sciq wsc logiqa wikitext), 9 mmlu_abstract_algebra;
//   mode & 0x80: the first data file is written gzip-compressed as <name>.gz (others stay plain).
#include <zlib.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "tasks/registry.h"
#include "tasks/task.h"

namespace {

void write_gzip(const std::filesystem::path& path, std::string_view bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) std::abort();
  if (!bytes.empty() && gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) <= 0) std::abort();
  if (gzclose(f) != Z_OK) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pythia;
  if (size == 0) return 0;
  const unsigned mode = data[0];
  const auto& names = tasks::task_names();
  const std::size_t pick = (mode & 0x7f) % (names.size() + 1);
  const auto task = tasks::make_task(pick < names.size() ? names[pick] : "mmlu_abstract_algebra");
  const auto files = task->data_files();
  const auto parts = fuzz::split(fuzz::as_text(data + 1, size - 1), "|LABELS|");

  fuzz::clear_scratch();
  const auto dir = fuzz::scratch_dir() / "data";
  const auto first = dir / files[0];
  std::filesystem::create_directories(first.parent_path());
  if (mode & 0x80) {
    write_gzip(first.string() + ".gz", parts[0]);
  } else {
    fuzz::write_file(first, parts[0]);
  }
  for (std::size_t k = 1; k < files.size(); ++k) {
    fuzz::write_file(dir / files[k], k < parts.size() ? parts[k] : std::string_view());
  }
  fuzz::expect_clean([&] {
    task->load(dir, std::nullopt);
    (void)task->config().dump();
    const std::int64_t n = std::min<std::int64_t>(task->size(), 32);
    for (std::int64_t d = 0; d < n; ++d) {
      const auto requests = task->requests(d);
      std::vector<tasks::RequestAnswer> answers;
      for (std::size_t i = 0; i < requests.size(); ++i) {
        answers.push_back({-1.0 - static_cast<double>(i % 3), i % 2 == 0});
      }
      const auto result = task->process(d, answers);
      (void)result.log.dump();
    }
  });
  return 0;
}
