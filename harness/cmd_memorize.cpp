// PLACEHOLDER until the owning change lands: refuses to run rather than pretend.
#include "data/error.h"
#include "harness/commands.h"

namespace pythia::harness {

int run_memorize(const Args& /*args*/) { throw UsageError("'memorize' is not implemented yet"); }

}  // namespace pythia::harness
