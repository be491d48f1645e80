# Every dependency is a Debian package (installed by .ci/run).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(TBB REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS program_options)
# OpenBLAS (Debian libopenblas-dev): the only BLAS we call, from model/gemm.cpp.
pkg_check_modules(OPENBLAS REQUIRED IMPORTED_TARGET openblas)
# utf8proc: Unicode NFC and general categories for the tokenizer (hand-made tables are a bug farm).
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)
# libzip: the torch zip container of pytorch_model.bin (zip64 for multi-GB shards).
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
