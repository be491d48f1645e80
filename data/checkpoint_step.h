// THE parser of checkpoint revision names, for the whole project: "step143000" (Pythia's hub
// branches and our stepN/ folders) and "global_step71500" (GPT-NeoX/Megatron checkpoint folders)
// name training step N. Used to sort revisions (model/model_resolver.h), to choose the rows a
// checkpoint has seen (memorization/row_range.h) and to place results on the step axis
// (results/results_reader.h). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace pythia::data {

// N for "stepN" or "global_stepN" (N: 1 to 18 decimal digits, nothing after them); else nullopt
// ("main", "step", "step12a", "mystep3").
std::optional<std::int64_t> step_of_revision(std::string_view revision);

}  // namespace pythia::data
