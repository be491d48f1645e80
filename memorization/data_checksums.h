// The "data" record of memorization.json: which memmap was scanned, its files with sizes and
// SHA-256 (spec memorization.md §2.1 "Checksums"), optionally checked against a list of expected
// hashes (Pythia's utils/shard_hashes.txt format, or sha256sum's output).
// Errors: DataError naming the list or the data file whose hash differs.
#pragma once

#include <nlohmann/json.hpp>

#include "data/indexed_dataset.h"
#include "memorization/scan_plan.h"

namespace pythia::memorization {

// {"prefix", "items", "dtype_code", "layout", "files": [{name, bytes, sha256[, verified]}],
// "checksums": note}. Hashes per plan.checksums; every file named in plan.verify_sha256 is hashed
// and must match. `layout_checked`: the preshuffled layout was verified.
nlohmann::ordered_json describe_data(const data::IndexedDataset& ds, const ScanPlan& plan,
                                     bool layout_checked);

}  // namespace pythia::memorization
