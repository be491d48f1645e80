#include "harness/compute_option.h"

#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "data/error.h"
#include "model/memory_check.h"

namespace pythia::harness {
namespace po = boost::program_options;

void add_compute_option(po::options_description& desc, std::string& value,
                        const std::string& what_bf16_does) {
  desc.add_options()("compute", po::value(&value)->default_value(value),
                     ("arithmetic of the large products (QKV, attention dense, MLP, embed_out): "
                      "fp32 (exact; default) or bf16 (bf16 x bf16 -> fp32 accumulation with "
                      "AVX512_BF16 vdpbf16ps when the CPU has it, deterministic; layer norm, "
                      "attention, softmax and the residual stay fp32; holds bf16 copies of the "
                      "matrices next to the weights, ~2 more bytes per parameter). " +
                      what_bf16_does).c_str());
}

model::Compute parse_compute_flag(const std::string& value) {
  model::Compute c{};
  if (!model::parse_compute(value, &c))
    throw UsageError("--compute must be fp32 or bf16 (got '" + value + "')");
  return c;
}

std::unique_ptr<model::GptNeox> with_compute_checked(const LoadedModel& lm, model::Compute c) {
  if (c == model::Compute::kBf16) {
    const char* skip = std::getenv("PYTHIA_SKIP_MEMORY_CHECK");
    const bool skipped = skip != nullptr && std::strcmp(skip, "1") == 0;
    const auto limit = skipped ? std::nullopt : model::available_memory();
    const std::uint64_t need = model::bf16_copy_bytes(lm.model->config()) / 20 * 21;
    if (limit && need > limit->available) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "--compute bf16 needs about %.1f GB more memory for the bf16 copies of the "
                    "matrices, but only %.1f GB is available (%s); use --compute fp32",
                    static_cast<double>(need) / 1e9, static_cast<double>(limit->available) / 1e9,
                    limit->source.c_str());
      throw DataError(lm.dir.string(), buf);
    }
  }
  return lm.model->with_compute(c);
}

}  // namespace pythia::harness
