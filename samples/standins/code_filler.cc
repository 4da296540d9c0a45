#include "samples/standins/code_filler.h"

#include <array>
#include <cstddef>

#include "samples/standins/xorshift.h"

namespace hotfix::standins {

namespace {

// An instruction-like template: fixed opcode bytes, then `operand` bytes that vary.
struct Pattern {
  std::string_view opcode;
  std::size_t operand;
};

using namespace std::string_view_literals;

// x86-flavoured sequences: prologues, moves, calls, tests and branches, returns, padding.
constexpr std::array kPatterns{
    Pattern{"\x8b\xff\x55\x8b\xec"sv, 0},  // mov edi,edi; push ebp; mov ebp,esp
    Pattern{"\x83\xec"sv, 1},              // sub esp, imm8
    Pattern{"\x8b\x45"sv, 1},              // mov eax, [ebp+d8]
    Pattern{"\x89\x45"sv, 1},              // mov [ebp+d8], eax
    Pattern{"\x8b\x4d"sv, 1},              // mov ecx, [ebp+d8]
    Pattern{"\x8b\x55"sv, 1},              // mov edx, [ebp+d8]
    Pattern{"\xe8"sv, 4},                  // call rel32
    Pattern{"\xff\x15"sv, 4},              // call [imm32]
    Pattern{"\x85\xc0\x74"sv, 1},          // test eax,eax; je rel8
    Pattern{"\x85\xc0\x0f\x84"sv, 4},      // test eax,eax; je rel32
    Pattern{"\x33\xc0"sv, 0},              // xor eax,eax
    Pattern{"\x50"sv, 0},                  // push eax
    Pattern{"\x56\x57"sv, 0},              // push esi; push edi
    Pattern{"\x5f\x5e"sv, 0},              // pop edi; pop esi
    Pattern{"\x6a\x00"sv, 0},              // push 0
    Pattern{"\x68"sv, 4},                  // push imm32
    Pattern{"\xb8"sv, 4},                  // mov eax, imm32
    Pattern{"\x8d\x45"sv, 1},              // lea eax, [ebp+d8]
    Pattern{"\x3b\xc6\x75"sv, 1},          // cmp eax,esi; jne rel8
    Pattern{"\xeb"sv, 1},                  // jmp rel8
    Pattern{"\x5d\xc2\x04\x00"sv, 0},      // pop ebp; ret 4
    Pattern{"\xc9\xc3"sv, 0},              // leave; ret
    Pattern{"\xcc\xcc\xcc\xcc\xcc"sv, 0},  // int3 padding between functions
    Pattern{"\x90\x90"sv, 0},              // nop nop
};

}  // namespace

std::uint64_t filler_seed(std::string_view text) {
  // FNV-1a, 64-bit.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string code_like_bytes(std::uint64_t seed, std::size_t count) {
  Xorshift rng(seed);
  std::string out;
  out.reserve(count + 16);
  while (out.size() < count) {
    std::uint64_t r = rng.next();
    // Real code repeats idioms: now and then copy a recent run, which LZ matching finds.
    std::size_t back = 64 + ((r >> 8) & 0xfff);
    if ((r & 0xf) == 0 && out.size() > 4096 && back <= out.size()) {
      std::size_t length = 8 + ((r >> 3) & 0x1f);
      std::size_t from = out.size() - back;
      for (std::size_t i = 0; i < length; ++i) {
        char c = out[from + i];  // by value: push_back may reallocate
        out.push_back(c);
      }
      continue;
    }
    r >>= 20;
    const Pattern& p = kPatterns[r % kPatterns.size()];
    out.append(p.opcode);
    r >>= 8;
    // Operands stay small most of the time, as displacements and near targets do.
    for (std::size_t i = 0; i < p.operand; ++i) {
      unsigned char b = (i == 0)                       ? static_cast<unsigned char>(r & 0xff)
                        : ((r >> (8 * i)) & 0x07) == 0 ? 0xff
                                                       : 0x00;
      if (i == 0 && p.operand == 1) b &= 0x3c;  // stack offsets: aligned, small
      out.push_back(static_cast<char>(b));
    }
  }
  out.resize(count);
  return out;
}

}  // namespace hotfix::standins
