// PLACEHOLDER until the owning change lands: refuses to run rather than pretend.
#include "data/error.h"
#include "harness/commands.h"

namespace pythia::harness {

int run_tokenize(const Args& /*args*/) { throw UsageError("'tokenize' is not implemented yet"); }

}  // namespace pythia::harness
