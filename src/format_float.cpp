// SPDX-License-Identifier: MIT
// The formatter's float engine: a double's exact decimal value in a small
// bignum on the stack, rounded to what the spec asks for.
//
// Every finite double is m × 2^e with integer m < 2^53, so its decimal
// expansion ends: m × 2^e for e >= 0, m × 5^-e / 10^-e for e < 0. Holding
// that integer in base-10^9 limbs (at most 767 digits, for the smallest
// subnormal) gives every digit, and rounding the digit string is then exact:
// ties go to even on the true value, as glibc's printf does in the default
// rounding mode (0.35 is 0.34999... and "%.1f" gives "0.3"). No FP
// arithmetic is done on the value, so the result does not depend on the FP
// environment's rounding mode.
//
// The shortest text that reads back as the same double ("{}") is the first
// length n = 1, 2, ... at which one of the two n-digit neighbours of the
// value lies strictly inside the interval of reals that round to it (the
// halfway points to the adjacent doubles, exact as the same bignums, ends
// included when m is even since a tie then reads back to it); if both do,
// the nearer one (ties to even). This is slower than Ryu or Dragonbox but
// needs no tables: it costs a few bignums on the stack, about 1.2 KB.
#include <bit>

#include "format.hpp"

namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt {

namespace {

constexpr int kLimbs = 90;  // 4m+1 times 5^1076 has 769 digits: 86 limbs
constexpr std::uint32_t kBase = 1000000000;
constexpr std::uint32_t kPow10[10] = {1,      10,      100,      1000,      10000,
                                      100000, 1000000, 10000000, 100000000, 1000000000};
constexpr std::uint32_t kPow5[14] = {1,       5,        25,        125,       625,
                                     3125,    15625,    78125,     390625,    1953125,
                                     9765625, 48828125, 244140625, 1220703125};

// The exact decimal value of m × 2^e: 0.d0 d1 d2 ... × 10^point, d0 != 0.
struct Decimal {
  std::uint32_t limb[kLimbs];  // base 10^9, least significant first
  int n = 0;                   // limbs in use
  int top_digits = 0;          // digits in limb[n - 1]
  int ndigits = 0;             // 0: the value is 0
  int point = 1;

  void multiply(std::uint32_t factor) noexcept {
    std::uint64_t carry = 0;
    for (int k = 0; k < n; ++k) {
      std::uint64_t x = std::uint64_t{limb[k]} * factor + carry;
      limb[k] = static_cast<std::uint32_t>(x % kBase);
      carry = x / kBase;
    }
    while (carry != 0 && n < kLimbs) {
      limb[n++] = static_cast<std::uint32_t>(carry % kBase);
      carry /= kBase;
    }
  }

  void set(std::uint64_t m, int e) noexcept {
    n = 0;
    while (m != 0) {
      limb[n++] = static_cast<std::uint32_t>(m % kBase);
      m /= kBase;
    }
    if (n == 0) {
      ndigits = 0;
      point = 1;
      return;
    }
    int scale = 0;
    if (e >= 0) {
      for (; e >= 29; e -= 29) multiply(std::uint32_t{1} << 29);
      if (e > 0) multiply(std::uint32_t{1} << e);
    } else {
      scale = -e;
      int r = scale;
      for (; r >= 13; r -= 13) multiply(kPow5[13]);
      if (r > 0) multiply(kPow5[r]);
    }
    top_digits = 1;
    while (top_digits < 9 && limb[n - 1] >= kPow10[top_digits]) ++top_digits;
    ndigits = (n - 1) * 9 + top_digits;
    point = ndigits - scale;
  }

  int digit(int i) const noexcept {
    if (i < 0 || i >= ndigits) return 0;
    if (i < top_digits) return static_cast<int>(limb[n - 1] / kPow10[top_digits - 1 - i] % 10);
    int j = i - top_digits;
    return static_cast<int>(limb[n - 2 - j / 9] / kPow10[8 - j % 9] % 10);
  }

  bool nonzero_from(int i) const noexcept {
    for (int j = i < 0 ? 0 : i; j < ndigits; ++j)
      if (digit(j) != 0) return true;
    return false;
  }
};

// A rounded value: the first nd digits of a Decimal with the last one
// replaced by `last` (a carry), zeros after; 0.digits × 10^point. nd 0 is 0.
struct Digits {
  const Decimal* d;
  int nd;
  int last;
  int point;
  int at(int i) const noexcept {
    if (i < 0 || i >= nd) return 0;
    return i == nd - 1 ? last : d->digit(i);
  }
};

enum class Round { nearest, down, up };

// d rounded to its first r digits (r may be 0 or negative: a unit above the
// first digit), as `mode` says; nearest rounds ties to even.
Digits round_at(const Decimal& d, int r, Round mode) noexcept {
  Digits out{&d, 0, 0, d.point};
  if (d.ndigits == 0) {
    out.point = 1;
    return out;
  }
  if (r >= d.ndigits) {
    out.nd = d.ndigits;
    out.last = d.digit(d.ndigits - 1);
    return out;
  }
  bool up = false;
  if (mode == Round::up) {
    up = d.nonzero_from(r);
  } else if (mode == Round::nearest && r >= 0) {
    int rd = d.digit(r);
    up = rd > 5 || (rd == 5 && (d.nonzero_from(r + 1) || (d.digit(r - 1) & 1) != 0));
  }
  if (!up) {
    if (r <= 0) {
      out.point = 1;  // 0
      return out;
    }
    out.nd = r;
    out.last = d.digit(r - 1);
    return out;
  }
  if (r <= 0) {  // one unit of 10^(point - r)
    out.nd = 1;
    out.last = 1;
    out.point = d.point - r + 1;
    return out;
  }
  int j = r - 1;
  while (j >= 0 && d.digit(j) == 9) --j;
  if (j < 0) {
    out.nd = 1;
    out.last = 1;
    out.point = d.point + 1;
  } else {
    out.nd = j + 1;
    out.last = d.digit(j) + 1;
  }
  return out;
}

int compare(const Digits& a, const Decimal& b) noexcept {
  if (a.point != b.point) return a.point < b.point ? -1 : 1;
  int length = a.nd > b.ndigits ? a.nd : b.ndigits;
  for (int i = 0; i < length; ++i) {
    int x = a.at(i);
    int y = b.digit(i);
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

struct Parts {
  std::uint64_t m;
  int e;
  bool lower_gap_half;  // m is a power of two above the subnormals
};

Parts split(double value) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  std::uint64_t fraction = bits & ((std::uint64_t{1} << 52) - 1);
  int exponent = static_cast<int>((bits >> 52) & 0x7ff);
  if (exponent == 0) return {fraction, -1074, false};
  return {fraction | (std::uint64_t{1} << 52), exponent - 1075, fraction == 0 && exponent > 1};
}

// The shortest digits that read back as `value` (finite, positive).
Digits shortest(const Decimal& exact, Parts parts) noexcept {
  Decimal low;
  Decimal high;
  if (parts.lower_gap_half)
    low.set(4 * parts.m - 1, parts.e - 2);
  else
    low.set(2 * parts.m - 1, parts.e - 1);
  high.set(2 * parts.m + 1, parts.e - 1);
  const bool ends_in = (parts.m & 1) == 0;
  auto inside = [&](const Digits& c) {
    int lo = compare(c, low);
    int hi = compare(c, high);
    return (lo > 0 || (ends_in && lo == 0)) && (hi < 0 || (ends_in && hi == 0));
  };
  for (int n = 1; n < 17; ++n) {
    Digits down = round_at(exact, n, Round::down);
    Digits up = round_at(exact, n, Round::up);
    bool down_in = inside(down);
    bool up_in = inside(up);
    if (down_in && up_in) return round_at(exact, n, Round::nearest);
    if (down_in) return down;
    if (up_in) return up;
  }
  return round_at(exact, 17, Round::nearest);
}

// Writes dg in fixed notation with `frac` digits after the point, or in
// scientific notation with `frac` digits after the first; `trim` drops
// trailing zeros of the fraction (%g), `point` keeps the '.' ('#').
void put_body(Sink& out, const Digits& dg, bool scientific, int frac, bool trim, bool point,
              bool upper) noexcept {
  const bool zero = dg.nd == 0;
  const int first = scientific ? 1 : dg.point;  // index of the first fraction digit
  if (trim)
    while (frac > 0 && dg.at(first + frac - 1) == 0) --frac;
  char chunk[32];
  int used = 0;
  auto digit = [&](int v) {
    chunk[used++] = static_cast<char>('0' + v);
    if (used == static_cast<int>(sizeof chunk)) {
      out.put(chunk, used);
      used = 0;
    }
  };
  if (scientific) {
    digit(dg.at(0));
  } else if (dg.point <= 0) {
    digit(0);
  } else {
    for (int i = 0; i < dg.point; ++i) digit(dg.at(i));
  }
  out.put(chunk, used);
  used = 0;
  if (frac > 0 || point) out.put('.');
  for (int i = 0; i < frac; ++i) digit(dg.at(first + i));
  out.put(chunk, used);
  if (scientific) {
    int exp = zero ? 0 : dg.point - 1;
    char text[6];
    int k = 0;
    text[k++] = upper ? 'E' : 'e';
    text[k++] = exp < 0 ? '-' : '+';
    unsigned mag = static_cast<unsigned>(exp < 0 ? -exp : exp);
    if (mag >= 100) text[k++] = static_cast<char>('0' + mag / 100);
    text[k++] = static_cast<char>('0' + mag / 10 % 10);
    text[k++] = static_cast<char>('0' + mag % 10);
    out.put(text, static_cast<std::size_t>(k));
  }
}

struct Body {
  Digits dg;
  bool scientific;
  int frac;
  bool trim;
  bool point;
  bool upper;
};

}  // namespace

void format_float(Sink& sink, const Spec& spec, double value) noexcept {
  const auto bits = std::bit_cast<std::uint64_t>(value);
  const bool negative = (bits >> 63) != 0;
  char sign = negative ? '-' : spec.sign;
  const char t = spec.type;
  const bool upper = t == 'E' || t == 'F' || t == 'G';

  const bool finite = ((bits >> 52) & 0x7ff) != 0x7ff;
  if (!finite) {
    const bool nan = (bits & ((std::uint64_t{1} << 52) - 1)) != 0;
    const char* text = nan ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
    Spec plain = spec;
    plain.zero = false;
    put_padded(sink, plain, &sign, sign != 0 ? 1 : 0, text, 3, '>', false);
    return;
  }

  Parts parts = split(value);
  Decimal exact;
  exact.set(parts.m, parts.e);
  Body body{};
  body.upper = upper;
  body.point = spec.alt;
  if (t == 'f' || t == 'F') {
    int prec = spec.precision < 0 ? 6 : spec.precision;
    body.dg = round_at(exact, exact.point + prec, Round::nearest);
    body.frac = prec;
  } else if (t == 'e' || t == 'E') {
    int prec = spec.precision < 0 ? 6 : spec.precision;
    body.dg = round_at(exact, prec + 1, Round::nearest);
    body.scientific = true;
    body.frac = prec;
  } else if (t == 'g' || t == 'G' || spec.precision >= 0) {
    int p = spec.precision < 0 ? 6 : spec.precision == 0 ? 1 : spec.precision;
    body.dg = round_at(exact, p, Round::nearest);
    int x = body.dg.nd == 0 ? 0 : body.dg.point - 1;
    body.trim = !spec.alt;
    if (p > x && x >= -4) {
      body.frac = p - 1 - x;
    } else {
      body.scientific = true;
      body.frac = p - 1;
    }
  } else {
    // std::to_chars's shortest form: fixed or scientific, whichever is
    // shorter, fixed on a tie.
    Digits dg = exact.ndigits == 0 ? round_at(exact, 1, Round::nearest) : shortest(exact, parts);
    body.dg = dg;
    int nd = dg.nd;
    int exp = nd == 0 ? 0 : dg.point - 1;
    int sci_len = nd + (nd > 1 ? 1 : 0) + (exp >= 100 || exp <= -100 ? 5 : 4);
    int fixed_len = nd == 0          ? 1
                    : dg.point <= 0  ? 2 - dg.point + nd
                    : dg.point >= nd ? dg.point
                                     : nd + 1;
    if (fixed_len <= sci_len) {
      body.frac = nd > dg.point ? nd - dg.point : 0;
      // No fraction: the value is an integer (a double whose shortest
      // digits end before the point has no fraction bits), and its exact
      // digits are as many characters and nearer (std::to_chars:
      // 2^60 is "1152921504606846976", not "...847000").
      if (body.frac == 0 && nd > 0) body.dg = round_at(exact, exact.ndigits, Round::nearest);
    } else {
      body.scientific = true;
      body.frac = nd > 1 ? nd - 1 : 0;
    }
  }

  Sink counter;
  put_body(counter, body.dg, body.scientific, body.frac, body.trim, body.point, body.upper);
  const std::size_t length = (sign != 0 ? 1 : 0) + counter.total;
  std::size_t pad = static_cast<std::size_t>(spec.width) > length ? spec.width - length : 0;
  const bool zero_pad = spec.zero && (spec.printf ? spec.align != '<' : spec.align == 0);
  std::size_t before = 0;
  std::size_t zeros = 0;
  if (zero_pad) {
    zeros = pad;
    pad = 0;
  } else {
    char align = spec.align != 0 ? spec.align : '>';
    before = align == '<' ? 0 : align == '^' ? pad / 2 : pad;
  }
  sink.repeat(spec.fill, before);
  if (sign != 0) sink.put(sign);
  sink.repeat('0', zeros);
  put_body(sink, body.dg, body.scientific, body.frac, body.trim, body.point, body.upper);
  sink.repeat(spec.fill, pad - before);
}

}  // namespace rawthread::detail::inline RAWTHREAD_ABI_NAMESPACE::fmt
