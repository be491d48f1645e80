// Restricted pickle VM for torch state_dicts (see the header): the opcode machine (byte reading,
// stack, marks, memo) and the state_dict extraction. Opcode meanings follow CPython's
// Lib/pickletools.py (3.11). What GLOBAL, REDUCE and BINPERSID may name and build (the
// allowlist, after torch/_weights_only_unpickler.py) and the Value model are in
// pickle_allowlist.h/.cpp.
#include "model/restricted_unpickler.h"

#include <bit>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>
#include <utility>

#include "data/error.h"
#include "model/pickle_allowlist.h"

namespace pythia::model {
namespace {

using pickle::Arena;
using pickle::Kind;
using pickle::kind_name;
using pickle::OpSite;
using pickle::ValuePtr;

// Bound on the opcodes one pickle may execute. Each allocates at most one value (~250 bytes with
// its arena slot), stack or memo entry for as little as one pickle byte ('N', 'h', '('), so
// without it a 1 GiB data.pkl (a few MB deflated) would ask for hundreds of GB. torch writes ~40
// opcodes per tensor: 2^21 allows ~50k tensors (Pythia-12B has under 1000) and caps the memory
// at ~600 MB plus the strings (no larger than the pickle).
constexpr std::size_t kMaxOpcodes = std::size_t{1} << 21;

class Machine {
 public:
  Machine(std::span<const std::byte> data, const std::string& file) : data_(data), file_(file) {}

  ValuePtr run();

 private:
  ValuePtr make(Kind k) { return arena_.make(k); }
  OpSite site() const { return OpSite{file_, op_pos_}; }
  [[noreturn]] void fail(const std::string& problem) const { site().fail(problem); }

  const std::byte* take(std::uint64_t n) {
    if (n > data_.size() - pos_) fail("truncated pickle");
    const std::byte* p = data_.data() + pos_;
    pos_ += static_cast<std::size_t>(n);
    return p;
  }
  template <typename T>
  T read_le() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  std::string read_line() {
    std::string s;
    while (true) {
      const char c = static_cast<char>(*take(1));
      if (c == '\n') return s;
      s.push_back(c);
      if (s.size() > 256) fail("GLOBAL name too long");
    }
  }
  std::string read_string(std::uint64_t n) {
    const std::byte* p = take(n);
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
  }

  ValuePtr pop() {
    if (stack_.size() <= floor()) fail("pickle stack underflow");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  ValuePtr& top() {
    if (stack_.size() <= floor()) fail("pickle stack underflow");
    return stack_.back();
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<ValuePtr> pop_mark() {
    if (marks_.empty()) fail("pickle pops a MARK that was never pushed");
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> out(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(m)),
                              std::make_move_iterator(stack_.end()));
    stack_.resize(m);
    return out;
  }

  void set_items(const ValuePtr& target, std::vector<ValuePtr>& kv);
  void memo_put(std::uint64_t index) { memo_[index] = top(); }
  ValuePtr memo_get(std::uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("pickle reads memo entry " + std::to_string(index) + ", never stored");
    return it->second;
  }

  std::span<const std::byte> data_;
  const std::string& file_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;
  std::size_t opcodes_ = 0;
  std::vector<ValuePtr> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, ValuePtr> memo_;
  Arena arena_;
};

void Machine::set_items(const ValuePtr& target, std::vector<ValuePtr>& kv) {
  if (target->kind != Kind::kDict) fail("SETITEM(S) on a " + std::string(kind_name(target->kind)));
  if (kv.size() % 2 != 0) fail("SETITEMS with an odd number of items");
  for (std::size_t i = 0; i < kv.size(); i += 2) {
    target->dict.emplace_back(std::move(kv[i]), std::move(kv[i + 1]));
  }
}

ValuePtr Machine::run() {
  while (true) {
    op_pos_ = pos_;
    if (++opcodes_ > kMaxOpcodes) {
      fail("pickle has more than " + std::to_string(kMaxOpcodes) +
           " opcodes: too large for a state_dict");
    }
    const auto op = static_cast<unsigned char>(*take(1));
    switch (op) {
      case 0x80: {  // PROTO
        const auto proto = read_le<std::uint8_t>();
        if (proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
        break;
      }
      case 0x95: (void)read_le<std::uint64_t>(); break;  // FRAME (length hint only)
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case '.': {  // STOP
        ValuePtr v = pop();
        if (!stack_.empty() || !marks_.empty()) fail("pickle leaves values on the stack at STOP");
        return v;
      }
      case '}': stack_.push_back(make(Kind::kDict)); break;   // EMPTY_DICT
      case ']': stack_.push_back(make(Kind::kList)); break;   // EMPTY_LIST
      case ')': stack_.push_back(make(Kind::kTuple)); break;  // EMPTY_TUPLE
      case 't': {  // TUPLE
        auto t = make(Kind::kTuple);
        t->items = pop_mark();
        stack_.push_back(std::move(t));
        break;
      }
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        const std::size_t n = op - 0x84u;
        auto t = make(Kind::kTuple);
        t->items.resize(n);
        for (std::size_t k = n; k-- > 0;) t->items[k] = pop();
        stack_.push_back(std::move(t));
        break;
      }
      case 'X': case 0x8c: case 0x8d: {  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
        const std::uint64_t n = op == 'X'    ? read_le<std::uint32_t>()
                                : op == 0x8c ? read_le<std::uint8_t>()
                                             : read_le<std::uint64_t>();
        auto v = make(Kind::kString);
        v->s = read_string(n);
        stack_.push_back(std::move(v));
        break;
      }
      case 'B': case 'C': {  // BINBYTES, SHORT_BINBYTES
        const std::uint64_t n = op == 'B' ? read_le<std::uint32_t>() : read_le<std::uint8_t>();
        auto v = make(Kind::kBytes);
        v->s = read_string(n);
        stack_.push_back(std::move(v));
        break;
      }
      case 'J': case 'K': case 'M': {  // BININT, BININT1, BININT2
        auto v = make(Kind::kInt);
        v->i = op == 'J' ? read_le<std::int32_t>()
               : op == 'K' ? read_le<std::uint8_t>()
                           : read_le<std::uint16_t>();
        stack_.push_back(std::move(v));
        break;
      }
      case 0x8a: {  // LONG1: n-byte little-endian two's complement
        const auto n = read_le<std::uint8_t>();
        if (n > 8) fail("LONG1 integer wider than 64 bits");
        std::uint64_t u = 0;
        const std::byte* p = take(n);
        for (unsigned k = 0; k < n; ++k) u |= static_cast<std::uint64_t>(p[k]) << (8 * k);
        if (n > 0 && n < 8 && (static_cast<unsigned>(p[n - 1]) & 0x80u)) u |= ~0ULL << (8 * n);
        auto v = make(Kind::kInt);
        v->i = static_cast<std::int64_t>(u);
        stack_.push_back(std::move(v));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian double
        std::uint64_t u = 0;
        const std::byte* p = take(8);
        for (int k = 0; k < 8; ++k) u = (u << 8) | static_cast<std::uint64_t>(p[k]);
        auto v = make(Kind::kFloat);
        v->f = std::bit_cast<double>(u);
        stack_.push_back(std::move(v));
        break;
      }
      case 'N': stack_.push_back(make(Kind::kNone)); break;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        auto v = make(Kind::kBool);
        v->i = op == 0x88;
        stack_.push_back(std::move(v));
        break;
      }
      case 's': {  // SETITEM
        std::vector<ValuePtr> kv(2);
        kv[1] = pop();
        kv[0] = pop();
        set_items(top(), kv);
        break;
      }
      case 'u': {  // SETITEMS
        auto kv = pop_mark();
        set_items(top(), kv);
        break;
      }
      case 'a': {  // APPEND
        ValuePtr v = pop();
        if (top()->kind != Kind::kList) fail("APPEND to a non-list");
        top()->items.push_back(std::move(v));
        break;
      }
      case 'e': {  // APPENDS
        auto vs = pop_mark();
        if (top()->kind != Kind::kList) fail("APPENDS to a non-list");
        for (auto& v : vs) top()->items.push_back(std::move(v));
        break;
      }
      case 'q': memo_put(read_le<std::uint8_t>()); break;    // BINPUT
      case 'r': memo_put(read_le<std::uint32_t>()); break;   // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;              // MEMOIZE
      case 'h': stack_.push_back(memo_get(read_le<std::uint8_t>())); break;   // BINGET
      case 'j': stack_.push_back(memo_get(read_le<std::uint32_t>())); break;  // LONG_BINGET
      case 'c': {  // GLOBAL "module\nname\n": checked against the allowlist right here
        std::string module = read_line();
        std::string name = read_line();
        stack_.push_back(pickle::resolve_global(arena_, site(), module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        ValuePtr name = pop();
        ValuePtr module = pop();
        if (module->kind != Kind::kString || name->kind != Kind::kString) {
          fail("STACK_GLOBAL operands are not strings");
        }
        stack_.push_back(pickle::resolve_global(arena_, site(), module->s, name->s));
        break;
      }
      case 'Q': {  // BINPERSID
        ValuePtr pid = pop();
        stack_.push_back(pickle::persistent_load(arena_, site(), pid));
        break;
      }
      case 'R': {  // REDUCE
        ValuePtr args = pop();
        ValuePtr callable = pop();
        stack_.push_back(pickle::reduce(arena_, site(), callable, args));
        break;
      }
      case 'b': {  // BUILD: only OrderedDict's _metadata attribute; dropped
        (void)pop();  // the state: {'_metadata': OrderedDict(...)}
        if (top()->kind != Kind::kDict) {
          fail(std::string("BUILD on a ") + kind_name(top()->kind) + " is not allowed");
        }
        break;
      }
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", op);
        fail(std::string("pickle opcode ") + buf +
             (op >= 0x20 && op < 0x7f ? std::string(" ('") + static_cast<char>(op) + "')" : "") +
             " is not allowed in a state_dict");
      }
    }
  }
}

}  // namespace

std::vector<PickledTensor> unpickle_state_dict(std::span<const std::byte> pkl,
                                               const std::string& file) {
  Machine m(pkl, file);
  const ValuePtr root = m.run();
  if (root->kind != Kind::kDict) {
    throw DataError(file, std::string("data.pkl holds a ") + kind_name(root->kind) +
                              ", not a state_dict (a dict of tensors)");
  }
  std::vector<PickledTensor> out;
  out.reserve(root->dict.size());
  // Tensors built from the same persistent id key share one PickledStorage.
  std::map<std::string, std::shared_ptr<const PickledStorage>> storages;
  for (const auto& [k, v] : root->dict) {
    if (k->kind != Kind::kString) {
      throw DataError(file, std::string("data.pkl: state_dict key is a ") + kind_name(k->kind) +
                                ", not a str");
    }
    if (v->kind != Kind::kTensor) {
      throw DataError(file, "data.pkl: state_dict entry '" + k->s + "' is a " +
                                kind_name(v->kind) + ", not a tensor");
    }
    PickledTensor t = v->tensor;
    t.name = k->s;
    auto [it, inserted] = storages.emplace(t.storage->key, t.storage);
    if (!inserted) {
      if (it->second->dtype != t.storage->dtype || it->second->numel != t.storage->numel) {
        throw DataError(file, "data.pkl: storage '" + t.storage->key +
                                  "' is described twice with different types or sizes");
      }
      t.storage = it->second;
    }
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace pythia::model
