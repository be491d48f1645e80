// PLACEHOLDER until the owning change lands: refuses to run rather than pretend.
#include "data/error.h"
#include "harness/commands.h"

namespace pythia::harness {

int run_eval(const Args& /*args*/) { throw UsageError("'eval' is not implemented yet"); }

}  // namespace pythia::harness
