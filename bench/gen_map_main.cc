// duet_gen_map LINES OUTPUT: writes the benchmark's generated map file (see
// map_generator.h) to OUTPUT, for timing the real duetc binary on it
// (scripts/bench.sh).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

#include "bench/map_generator.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s LINES OUTPUT\n", argv[0]);
    return 2;
  }
  char* end = nullptr;
  unsigned long long lines = std::strtoull(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0') {
    std::fprintf(stderr, "duet_gen_map: LINES must be a number, got '%s'\n", argv[1]);
    return 2;
  }
  std::string text;
  try {
    text = duet::bench::GenerateMapFile(static_cast<size_t>(lines));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duet_gen_map: %s\n", e.what());
    return 2;
  }
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::fprintf(stderr, "duet_gen_map: cannot write %s\n", argv[2]);
    return 1;
  }
  return 0;
}
