// `--compute fp32|bf16` (memorize, eval): which arithmetic the large products of the model use
// (model/gpt_neox.h Compute). fp32 (default) is the exact path, unchanged. bf16 builds bf16
// copies of the matrices next to the loaded weights (~2 more bytes per parameter), after
// checking that they fit in the memory left (DataError naming the model folder otherwise). The
// command also declares them in its Workload (bf16_copies) so the check before loading counts them.
//
//   std::string compute = "fp32";
//   add_compute_option(desc, compute, "...what bf16 means for this command...");
//   const model::Compute c = parse_compute_flag(compute);          // UsageError
//   std::unique_ptr<model::GptNeox> fast = with_compute_checked(lm, c);
#pragma once

#include <boost/program_options/options_description.hpp>
#include <memory>
#include <string>

#include "harness/model_options.h"
#include "model/gpt_neox.h"

namespace pythia::harness {

// Registers --compute (bound to `value`), `what_bf16_does` appended to the help text.
void add_compute_option(boost::program_options::options_description& desc, std::string& value,
                        const std::string& what_bf16_does);

// "fp32" | "bf16" -> Compute; UsageError naming --compute otherwise.
model::Compute parse_compute_flag(const std::string& value);

// lm.model->with_compute(c) (sharing the weights). The copies are already counted by the memory
// check before loading when the command's Workload sets bf16_copies (model/memory_check.h); for
// kBf16 this checks again, against what is available now that the model is loaded, that
// model::bf16_copy_bytes + 5 % fits (skipped with PYTHIA_SKIP_MEMORY_CHECK=1): DataError naming
// lm.dir and both sizes otherwise.
std::unique_ptr<model::GptNeox> with_compute_checked(const LoadedModel& lm, model::Compute c);

}  // namespace pythia::harness
