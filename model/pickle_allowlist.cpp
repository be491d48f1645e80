// The restricted unpickler's allowlist (see pickle_allowlist.h): which globals a state_dict
// pickle may name, torch's persistent storage ids, and the REDUCE calls that rebuild tensors.
// The allowlist follows torch/_weights_only_unpickler.py.
#include "model/pickle_allowlist.h"

#include <optional>

#include "data/error.h"

namespace pythia::model::pickle {
namespace {

std::optional<DType> storage_dtype(const std::string& name) {
  static const std::pair<const char*, DType> kTable[] = {
      {"HalfStorage", DType::kF16},  {"BFloat16Storage", DType::kBF16},
      {"FloatStorage", DType::kF32}, {"DoubleStorage", DType::kF64},
      {"LongStorage", DType::kI64},  {"IntStorage", DType::kI32},
      {"ShortStorage", DType::kI16}, {"CharStorage", DType::kI8},
      {"ByteStorage", DType::kU8},   {"BoolStorage", DType::kBool}};
  for (const auto& [n, t] : kTable) {
    if (name == n) return t;
  }
  return std::nullopt;
}

// The ints of a tuple of ints; ok = false if `v` is anything else.
std::vector<std::int64_t> int_tuple(const ValuePtr& v, bool& ok) {
  std::vector<std::int64_t> out;
  ok = v->kind == Kind::kTuple;
  if (!ok) return out;
  for (const auto& x : v->items) {
    if (x->kind != Kind::kInt) {
      ok = false;
      return out;
    }
    out.push_back(x->i);
  }
  return out;
}

}  // namespace

void OpSite::fail(const std::string& problem) const {
  throw DataError(file, "data.pkl: " + problem + " (at byte " + std::to_string(op_pos) + ")");
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kBytes: return "bytes";
    case Kind::kTuple: return "tuple";
    case Kind::kList: return "list";
    case Kind::kDict: return "dict";
    case Kind::kGlobal: return "global";
    case Kind::kStorage: return "storage";
    case Kind::kTensor: return "tensor";
  }
  return "?";
}

ValuePtr resolve_global(Arena& arena, const OpSite& site, const std::string& module,
                        const std::string& name) {
  auto g = arena.make(Kind::kGlobal);
  g->s = module + "." + name;
  if (module == "collections" && name == "OrderedDict") {
    g->global = Global::kOrderedDict;
  } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    g->global = Global::kRebuildTensorV2;
  } else if (module == "torch._utils" && name == "_rebuild_parameter") {
    g->global = Global::kRebuildParameter;
  } else if (const auto dt = storage_dtype(name); module == "torch" && dt) {
    g->global = Global::kStorageType;
    g->storage_dtype = *dt;
  } else {
    throw DataError(site.file, "pickle names global '" + g->s +
                                   "', which is not allowed in a state_dict; refusing to load");
  }
  return g;
}

ValuePtr persistent_load(Arena& arena, const OpSite& site, const ValuePtr& pid) {
  // torch/serialization.py _save: ('storage', storage_type, key, location, numel)
  if (pid->kind != Kind::kTuple || pid->items.size() != 5 ||
      pid->items[0]->kind != Kind::kString || pid->items[0]->s != "storage") {
    site.fail("persistent id is not a ('storage', type, key, location, numel) tuple");
  }
  const auto& type = pid->items[1];
  const auto& key = pid->items[2];
  const auto& loc = pid->items[3];
  const auto& numel = pid->items[4];
  if (type->kind != Kind::kGlobal || type->global != Global::kStorageType) {
    site.fail("persistent id names no torch storage type");
  }
  if (key->kind != Kind::kString || loc->kind != Kind::kString || numel->kind != Kind::kInt ||
      numel->i < 0) {
    site.fail("persistent id has a malformed key, location or element count");
  }
  if (key->s.empty() || key->s.find('/') != std::string::npos || key->s.find("..") != std::string::npos) {
    site.fail("storage key \"" + key->s + "\" is not a plain name");
  }
  // Storages are shared between tensors: one PickledStorage per key.
  auto v = arena.make(Kind::kStorage);
  auto st = std::make_shared<PickledStorage>();
  st->dtype = type->storage_dtype;
  st->key = key->s;
  st->location = loc->s;
  st->numel = numel->i;
  v->storage = std::move(st);
  return v;
}

ValuePtr reduce(Arena& arena, const OpSite& site, const ValuePtr& callable, const ValuePtr& args) {
  if (callable->kind != Kind::kGlobal) {
    site.fail(std::string("REDUCE calls a ") + kind_name(callable->kind) +
              ", not an allowed global");
  }
  if (args->kind != Kind::kTuple) site.fail("REDUCE arguments are not a tuple");
  const auto& a = args->items;
  switch (callable->global) {
    case Global::kOrderedDict:
      if (!a.empty()) site.fail("collections.OrderedDict called with arguments");
      return arena.make(Kind::kDict);
    case Global::kRebuildParameter:
      // _rebuild_parameter(data, requires_grad, backward_hooks)
      if (a.size() != 3 || a[0]->kind != Kind::kTensor) {
        site.fail("torch._utils._rebuild_parameter expects (tensor, requires_grad, hooks)");
      }
      return a[0];
    case Global::kRebuildTensorV2: {
      // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks
      //                    [, metadata])
      if ((a.size() != 6 && a.size() != 7) || a[0]->kind != Kind::kStorage ||
          a[1]->kind != Kind::kInt) {
        site.fail("torch._utils._rebuild_tensor_v2 expects (storage, offset, size, stride, "
                  "requires_grad, hooks[, metadata])");
      }
      auto t = arena.make(Kind::kTensor);
      bool ok_size = false, ok_stride = false;
      t->tensor.storage = a[0]->storage;
      t->tensor.storage_offset = a[1]->i;
      t->tensor.shape = int_tuple(a[2], ok_size);
      t->tensor.stride = int_tuple(a[3], ok_stride);
      if (!ok_size || !ok_stride || t->tensor.shape.size() != t->tensor.stride.size()) {
        site.fail("torch._utils._rebuild_tensor_v2: size and stride must be int tuples of equal "
                  "length");
      }
      return t;
    }
    case Global::kStorageType:
      break;
  }
  site.fail("global '" + callable->s + "' may not be called");
}

}  // namespace pythia::model::pickle
