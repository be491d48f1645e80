// SHA-256 against the FIPS 180-4 example vectors.
#include "data/sha256.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

using pythia::data::Sha256;
using pythia::data::sha256_file;

namespace {

std::string hash(const std::string& s, std::size_t piece = 0) {
  Sha256 h;
  if (piece == 0) {
    h.update({reinterpret_cast<const unsigned char*>(s.data()), s.size()});
  } else {
    for (std::size_t i = 0; i < s.size(); i += piece) {
      const std::size_t n = std::min(piece, s.size() - i);
      h.update({reinterpret_cast<const unsigned char*>(s.data()) + i, n});
    }
  }
  return h.hex_digest();
}

TEST(Sha256, FipsVectors) {
  EXPECT_EQ(hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(hash(two_blocks), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hash(two_blocks, 5), hash(two_blocks));
  const std::string million(1000000, 'a');
  EXPECT_EQ(hash(million, 4099), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, File) {
  const auto p = std::filesystem::temp_directory_path() / ("sha_" + std::to_string(::getpid()));
  {
    std::ofstream f(p, std::ios::binary);
    f << "abc";
  }
  EXPECT_EQ(sha256_file(p), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::filesystem::remove(p);
  EXPECT_ANY_THROW(sha256_file(p));
}

}  // namespace
