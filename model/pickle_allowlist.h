// Internal to model/restricted_unpickler*: the value model of the restricted pickle VM and the
// allowlist, i.e. everything a state_dict pickle may name (GLOBAL), call (REDUCE) or reference
// (BINPERSID), and what each builds. The opcode machine (restricted_unpickler.cpp) owns the
// stack, memo and byte reading and calls these. Allowlist after torch/_weights_only_unpickler.py
// (torch 2.x); persistent ids as torch/serialization.py _save writes them. Nothing is executed:
// "calling" an allowed global only builds a Value. Not thread-safe per Arena; no global state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/restricted_unpickler.h"
#include "model/tensor_store.h"

namespace pythia::model::pickle {

// Values live in an Arena owned by the machine and refer to each other by plain pointers, so a
// hostile pickle can neither overflow the stack through recursive destruction of a deeply nested
// value (one TUPLE1 byte per level) nor leak through reference cycles (memo + APPEND).
struct Value;
using ValuePtr = Value*;

enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal,
                  kStorage, kTensor };

enum class Global { kOrderedDict, kRebuildTensorV2, kRebuildParameter, kStorageType };

struct Value {
  Kind kind = Kind::kNone;
  std::int64_t i = 0;                              // kBool, kInt
  double f = 0;                                    // kFloat
  std::string s;                                   // kString, kBytes, kGlobal (qualified name)
  Global global = Global::kOrderedDict;            // kGlobal
  DType storage_dtype = DType::kU8;                // kGlobal with kStorageType
  std::vector<ValuePtr> items;                     // kTuple, kList
  std::vector<std::pair<ValuePtr, ValuePtr>> dict; // kDict, insertion order
  std::shared_ptr<const PickledStorage> storage;   // kStorage, kTensor
  PickledTensor tensor;                            // kTensor (name unset)
};

// Owns every Value of one unpickling; pointers stay valid until the Arena is destroyed.
class Arena {
 public:
  ValuePtr make(Kind k) {
    values_.push_back(std::make_unique<Value>());
    values_.back()->kind = k;
    return values_.back().get();
  }

 private:
  std::vector<std::unique_ptr<Value>> values_;
};

// The opcode being executed, for error messages.
struct OpSite {
  const std::string& file;  // the checkpoint file, for DataError
  std::size_t op_pos = 0;   // byte offset of the opcode in data.pkl
  // Throws DataError(file, "data.pkl: <problem> (at byte <op_pos>)").
  [[noreturn]] void fail(const std::string& problem) const;
};

// "None", "int", "tuple", ... for error messages.
const char* kind_name(Kind k);

// GLOBAL / STACK_GLOBAL module.name: a kGlobal Value for an allowlisted name (see
// restricted_unpickler.h), else throws DataError(site.file, "pickle names global 'M.N', which is
// not allowed in a state_dict; refusing to load").
ValuePtr resolve_global(Arena& arena, const OpSite& site, const std::string& module,
                        const std::string& name);

// BINPERSID: a kStorage Value for torch's ('storage', <StorageType>, key, location, numel) tuple.
// Throws (site.fail) on any other persistent id or a key that is not a plain file name.
ValuePtr persistent_load(Arena& arena, const OpSite& site, const ValuePtr& pid);

// REDUCE callable(*args) for an allowlisted callable: OrderedDict() -> empty dict,
// _rebuild_tensor_v2 -> kTensor, _rebuild_parameter -> its tensor. Throws (site.fail) for
// anything else or malformed arguments.
ValuePtr reduce(Arena& arena, const OpSite& site, const ValuePtr& callable, const ValuePtr& args);

}  // namespace pythia::model::pickle
