// Checkpoint loading speed and memory.
//
//   bench_loader --model DIR [--reps N]
//       load_gpt_neox(DIR) (the path every command takes: memory check, TensorStore::open, each
//       matrix packed in its stored dtype straight from the mapped file, pages released as it
//       goes): wall time per load, peak resident set (VmHWM) and bytes per parameter, resident
//       set after the load, weight bytes and dtypes. Run it on bench/make_random_pythia.py's
//       folders (pythia-1.4b / 6.9b shapes). Warm or cold page cache is up to the caller (cold:
//       `sync; echo 1 > /proc/sys/vm/drop_caches` as root before the run).
//   bench_loader [millions of elements (default 64)] [reps (default 5)]
//       synthetic : one F16 / BF16 / F32 tensor of N elements in a model.safetensors written to a
//                   temp folder (page cache warm after the first rep): TensorStore::open, read_f32
//                   (the fp32 conversion, now used for LayerNorm vectors and biases only), packing
//                   into panels of the stored dtype (PackedWeight, what the model loader does for
//                   every matrix), against a plain memcpy of the same mapped bytes (the
//                   memory-bandwidth ceiling of a one-pass load)
//       pythia-tiny: tests/fixtures/pythia-tiny, safetensors vs pytorch_model.bin (gunzipped to a
//                   temp folder; the .bin open includes the CRC-32 pass over every storage)
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/bench_common.h"
#include "model/gemm.h"
#include "model/gpt_neox.h"
#include "model/tensor_store.h"

namespace fs = std::filesystem;
using pythia::bench::seconds_since;
using pythia::model::TensorStore;

namespace {

void write_safetensors(const fs::path& file, const char* dtype, std::size_t n, std::size_t esize) {
  std::string header = std::string("{\"w\":{\"dtype\":\"") + dtype + "\",\"shape\":[" +
                       std::to_string(n) + "],\"data_offsets\":[0," + std::to_string(n * esize) +
                       "]}}";
  while (header.size() % 8) header += ' ';
  std::ofstream out(file, std::ios::binary);
  const std::uint64_t len = header.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out << header;
  std::vector<char> chunk(1 << 20);
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>((i * 2654435761u) >> 13);
  std::size_t left = n * esize;
  while (left > 0) {
    const std::size_t k = std::min(left, chunk.size());
    out.write(chunk.data(), static_cast<std::streamsize>(k));
    left -= k;
  }
}

struct Stats {
  std::vector<double> v;
  double best() const { return *std::min_element(v.begin(), v.end()); }
  double median() const {
    auto c = v;
    std::sort(c.begin(), c.end());
    return c[c.size() / 2];
  }
};

// A "Vm...:  123 kB" line of /proc/self/status, in bytes (0 if absent).
std::uint64_t proc_status_bytes(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string k = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(k, 0) == 0) return std::strtoull(line.c_str() + k.size(), nullptr, 10) * 1024;
  }
  return 0;
}

int bench_model(const fs::path& dir, int reps) {
  pythia::bench::print_machine_header("bench_loader", "TBB threads for packing");
  std::printf("\nmodel %s: load_gpt_neox, %d load(s)\n", dir.c_str(), reps);
  std::printf("  before: VmRSS %.3f GB, VmHWM %.3f GB\n", proc_status_bytes("VmRSS") / 1e9,
              proc_status_bytes("VmHWM") / 1e9);
  Stats t;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto m = pythia::model::load_gpt_neox(dir);
    t.v.push_back(seconds_since(t0));
    const auto& c = m->config();
    const auto params = static_cast<std::uint64_t>(pythia::model::parameter_count(c));
    const std::uint64_t hwm = proc_status_bytes("VmHWM"), rss = proc_status_bytes("VmRSS");
    std::printf("  load %d: %.2f s; %s matrices; %.3f G parameters (C %d, layers %d, I %d, V %d); "
                "weights %.3f GB = %.3f bytes/parameter\n",
                r + 1, t.v.back(), m->weights().matrix_dtypes().c_str(), params / 1e9,
                c.hidden_size, c.num_hidden_layers, c.intermediate_size, c.vocab_size,
                m->weights().bytes() / 1e9, static_cast<double>(m->weights().bytes()) / params);
    std::printf("          resident after load (VmRSS) %.3f GB = %.3f bytes/parameter; peak so far "
                "(VmHWM) %.3f GB = %.3f bytes/parameter\n",
                rss / 1e9, static_cast<double>(rss) / params, hwm / 1e9,
                static_cast<double>(hwm) / params);
  }
  std::printf("  load time best %.2f s, median %.2f s\n", t.best(), t.median());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--model") {
    if (argc < 3) {
      std::fprintf(stderr, "usage: bench_loader --model DIR [--reps N] | bench_loader [millions] [reps]\n");
      return 2;
    }
    const int reps = argc > 4 && std::string(argv[3]) == "--reps" ? std::max(1, std::atoi(argv[4])) : 1;
    return bench_model(argv[2], reps);
  }
  const std::size_t millions = argc > 1 ? std::max(1, std::atoi(argv[1])) : 64;
  const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  const std::size_t n = millions << 20;
  pythia::bench::print_machine_header("bench_loader", "BLAS not used here");
  const fs::path dir = fs::temp_directory_path() / ("bench_loader_" + std::to_string(::getpid()));
  fs::create_directories(dir);

  std::printf("\nsynthetic: %zu M elements, %d reps (best / median seconds, GB/s of fp32 output)\n",
              millions, reps);
  for (const auto& [dtype, esize] : {std::pair{"F16", std::size_t{2}}, std::pair{"BF16", std::size_t{2}},
                                     std::pair{"F32", std::size_t{4}}}) {
    write_safetensors(dir / "model.safetensors", dtype, n, esize);
    Stats open_s, conv_s, copy_s, pack_s;
    std::vector<float> out(n);
    const std::int64_t shape[] = {static_cast<std::int64_t>(n)};
    for (int r = 0; r < reps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      const auto store = TensorStore::open(dir);
      open_s.v.push_back(seconds_since(t0));
      t0 = std::chrono::steady_clock::now();
      store.read_f32_into("w", shape, out);
      conv_s.v.push_back(seconds_since(t0));
      const auto* t = store.find("w");
      t0 = std::chrono::steady_clock::now();
      std::memcpy(out.data(), t->bytes.data(), t->bytes.size());  // baseline: same source bytes
      copy_s.v.push_back(seconds_since(t0));
      const auto pdt = std::string(dtype) == "F16"  ? pythia::model::PanelDType::kF16
                       : std::string(dtype) == "BF16" ? pythia::model::PanelDType::kBF16
                                                      : pythia::model::PanelDType::kF32;
      t0 = std::chrono::steady_clock::now();
      const pythia::model::PackedWeight packed(pdt, t->bytes.data(), static_cast<int>(n / 1024), 1024);
      pack_s.v.push_back(seconds_since(t0));
    }
    const double gb_out = static_cast<double>(n) * 4 / 1e9;
    const double gb_in = static_cast<double>(n * esize) / 1e9;
    std::printf("  %-4s open %.4f / %.4f s; read_f32 %.4f / %.4f s (%.2f GB/s out); memcpy of "
                "the %.2f GB input %.4f / %.4f s (%.2f GB/s); read_f32 / memcpy time = %.2f\n",
                dtype, open_s.best(), open_s.median(), conv_s.best(), conv_s.median(),
                gb_out / conv_s.best(), gb_in, copy_s.best(), copy_s.median(),
                gb_in / copy_s.best(), conv_s.best() / copy_s.best());
    std::printf("        pack as stored (PackedWeight [%zu, 1024] %s panels) %.4f / %.4f s (%.2f GB/s in); "
                "pack / memcpy time = %.2f\n",
                n / 1024, dtype, pack_s.best(), pack_s.median(), gb_in / pack_s.best(),
                pack_s.best() / copy_s.best());
    fs::remove(dir / "model.safetensors");
  }

  // pythia-tiny in both formats.
  const fs::path tiny = fs::path(PYTHIA_SOURCE_DIR) / "tests/fixtures/pythia-tiny";
  const fs::path bin_dir = dir / "bin";
  fs::create_directories(bin_dir);
  if (gzFile in = gzopen((tiny / "pytorch_model.bin.gz").c_str(), "rb")) {
    std::ofstream out(bin_dir / "pytorch_model.bin", std::ios::binary);
    std::vector<char> buf(1 << 20);
    int k;
    while ((k = gzread(in, buf.data(), static_cast<unsigned>(buf.size()))) > 0) out.write(buf.data(), k);
    gzclose(in);
  }
  std::printf("\npythia-tiny (6.54 M parameters + buffers), %d reps: open + read_f32 of all 28 "
              "parameters (best / median ms)\n", reps);
  for (const auto& [label, d] : {std::pair{"model.safetensors", tiny},
                                 std::pair{"pytorch_model.bin", bin_dir}}) {
    Stats s_open, s_all;
    for (int r = 0; r < reps; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      const auto store = TensorStore::open(d);
      s_open.v.push_back(seconds_since(t0) * 1e3);
      for (const auto& name : store.names()) {
        const auto* t = store.find(name);
        if (t->dtype == pythia::model::DType::kF16 && name.find("attention.bias") == std::string::npos &&
            name.find("masked_bias") == std::string::npos && name.find("inv_freq") == std::string::npos) {
          (void)store.read_f32(name, t->shape);
        }
      }
      s_all.v.push_back(seconds_since(t0) * 1e3);
    }
    std::printf("  %-18s open %.2f / %.2f ms; open + convert %.2f / %.2f ms\n", label,
                s_open.best(), s_open.median(), s_all.best(), s_all.median());
  }
  fs::remove_all(dir);
  return 0;
}
