// A restricted unpickler for torch state_dicts: the C++ counterpart of
// torch.load(weights_only=True) (torch/_weights_only_unpickler.py, torch 2.x), without Python.
//
// Understands the pickle opcodes torch.save (protocol 2) emits for a dict of tensors: PROTO,
// FRAME, MARK, STOP, EMPTY_DICT/LIST/TUPLE, TUPLE/TUPLE1-3, (SHORT_)BINUNICODE(8), (SHORT_)BINBYTES,
// BININT/BININT1/BININT2/LONG1, BINFLOAT, NONE, NEWTRUE/NEWFALSE, SETITEM(S), APPEND(S),
// BINPUT/LONG_BINPUT/MEMOIZE/BINGET/LONG_BINGET, BINPERSID, REDUCE, BUILD, GLOBAL, STACK_GLOBAL.
// Any other opcode is refused.
//
// GLOBAL / STACK_GLOBAL are accepted only for this allowlist, and checked when the opcode is read
// (before anything could be called; nothing is ever called anyway):
//   collections.OrderedDict                   -> an empty dict (REDUCE with no arguments)
//   torch._utils._rebuild_tensor_v2           -> a tensor view of a storage
//   torch._utils._rebuild_parameter           -> its tensor argument
//   torch.{Half,BFloat16,Float,Double,Long,Int,Short,Char,Byte,Bool}Storage
//                                             -> storage types inside persistent ids only
// Anything else, e.g. posix.system or builtins.eval, -> DataError(file, "pickle names global
// 'posix.system', which is not allowed in a state_dict; refusing to load").
//
// Persistent ids are torch's ('storage', <StorageType>, key, location, numel) tuples.
// BUILD is accepted only on a dict (OrderedDict's `_metadata` attribute), whose state is dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/tensor_store.h"

namespace pythia::model {

struct PickledStorage {
  DType dtype = DType::kU8;
  std::string key;       // file name under <archive>/data/
  std::string location;  // "cpu", "cuda:0", ... (informational)
  std::int64_t numel = 0;
};

struct PickledTensor {
  std::string name;                        // state_dict key
  std::shared_ptr<const PickledStorage> storage;  // shared between tensors that share a storage
  std::int64_t storage_offset = 0;         // in elements
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> stride;        // in elements
};

// Parses `pkl` (the bytes of data.pkl), which must pickle a dict (or OrderedDict) from str to
// tensor. Returns the entries in pickle order. Throws DataError(file, ...) for malformed input,
// a disallowed opcode or global, or a value that is not a tensor.
std::vector<PickledTensor> unpickle_state_dict(std::span<const std::byte> pkl,
                                               const std::string& file);

}  // namespace pythia::model
