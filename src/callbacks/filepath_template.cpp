// Python's str.format for checkpoint file names: "{name}" and "{name:spec}" fields, "{{" and
// "}}" for braces. spec is [[fill]align][sign][0][width][.precision][type] with align one of
// < > ^ =, sign + - or space, type d (integers), f F e E g G % or none, as Python reads them.
#include "callbacks/filepath_template.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <optional>

#include "callbacks/print.hpp"
#include "kiln/error.hpp"

namespace kiln::detail {

namespace {

struct Spec {
  char fill = ' ';
  bool fill_set = false;
  char align = 0;  // 0: the default (right for numbers)
  char sign = '-';
  bool zero = false;
  int width = 0;
  int precision = -1;
  char type = 0;
};

struct Field {
  std::string name, spec;
};

// The template as literal text and fields, in order.
struct Piece {
  std::string text;
  std::optional<Field> field;
};

[[noreturn]] void bad(const std::string& owner, const std::string& pattern,
                      const std::string& what) {
  throw ValueError(owner + ": cannot use the filepath template \"" + pattern + "\": " + what);
}

std::vector<Piece> parse(const std::string& pattern, const std::string& owner) {
  std::vector<Piece> pieces(1);
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '}') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '}') {
        pieces.back().text += '}';
        ++i;
        continue;
      }
      bad(owner, pattern,
          "a single '}' at position " + std::to_string(i) + " (write '}}' for a brace)");
    }
    if (c != '{') {
      pieces.back().text += c;
      continue;
    }
    if (i + 1 < pattern.size() && pattern[i + 1] == '{') {
      pieces.back().text += '{';
      ++i;
      continue;
    }
    const size_t close = pattern.find('}', i);
    if (close == std::string::npos)
      bad(owner, pattern,
          "the '{' at position " + std::to_string(i) + " is never closed (write '{{' for a brace)");
    const std::string inside = pattern.substr(i + 1, close - i - 1);
    if (inside.find('{') != std::string::npos)
      bad(owner, pattern, "nested fields such as {" + inside + "} are not supported");
    const size_t colon = inside.find(':');
    Field field{inside.substr(0, colon),
                colon == std::string::npos ? "" : inside.substr(colon + 1)};
    if (field.name.empty())
      bad(owner, pattern,
          "a field without a name ({" + inside + "}); name a value: {epoch}, {val_loss:.2f}");
    if (field.name.find_first_of("!.[") != std::string::npos)
      bad(owner, pattern,
          "the field {" + inside +
              "} uses a conversion, attribute or index, which is not supported");
    pieces.back().field = field;
    pieces.emplace_back();
    i = close;
  }
  return pieces;
}

Spec parse_spec(const std::string& s, const std::string& where) {
  Spec spec;
  size_t i = 0;
  auto is_align = [](char c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  if (s.size() >= 2 && is_align(s[1])) {
    spec.fill = s[0];
    spec.fill_set = true;
    spec.align = s[1];
    i = 2;
  } else if (!s.empty() && is_align(s[0])) {
    spec.align = s[0];
    i = 1;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) spec.sign = s[i++];
  if (i < s.size() && s[i] == '0') {
    spec.zero = true;
    ++i;
  }
  auto digits = [&](int& out) {
    size_t start = i;
    out = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i - start < 6)
      out = out * 10 + (s[i++] - '0');
    return i > start;
  };
  digits(spec.width);
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits(spec.precision))
      throw ValueError(where + ": a '.' must be followed by a precision");
  }
  if (i < s.size() && std::string("dfFeEgG%").find(s[i]) != std::string::npos) spec.type = s[i++];
  if (i != s.size())
    throw ValueError(where + ": unsupported format spec '" + s +
                     "' (supported: [[fill]align][sign][0][width][.precision][type], type one of d "
                     "f F e E g G %)");
  if (spec.type == 'd' && spec.precision >= 0)
    throw ValueError(where + ": precision is not allowed with the integer type 'd' (spec '" + s +
                     "')");
  return spec;
}

std::string printf_double(const char* fmt, int precision, double v) {
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, precision, v);
  return buf;
}

// Python's format(float, '.Np') with no type: 'g' whose fixed notation keeps a digit after the
// point, and which switches to exponents from 10^(p-1).
std::string general_keep_point(double v, int p) {
  if (p == 0) p = 1;
  if (!std::isfinite(v)) return python_float(v);
  std::string e = printf_double("%.*e", p - 1, v);
  const int exp = std::stoi(e.substr(e.find('e') + 1));
  std::string out;
  if (exp >= -4 && exp < p - 1) {
    out = printf_double("%.*f", p - 1 - exp, v);
    if (out.find('.') != std::string::npos) {
      while (out.back() == '0') out.pop_back();
      if (out.back() == '.') out += '0';
    }
  } else {
    std::string mant = e.substr(0, e.find('e'));
    if (mant.find('.') != std::string::npos) {
      while (mant.back() == '0') mant.pop_back();
      if (mant.back() == '.') mant.pop_back();
    }
    out = mant + e.substr(e.find('e'));
  }
  return out;
}

// The digits of |v| (no sign) as Python formats them for `spec`.
std::string body(double v, bool integral, int64_t i, const Spec& spec) {
  if (integral && (spec.type == 0 || spec.type == 'd')) {
    uint64_t mag = i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
    return std::to_string(mag);
  }
  const double a = std::fabs(v);
  if (std::isnan(a))
    return std::string(std::isupper(spec.type) ? "NAN" : "nan") + (spec.type == '%' ? "%" : "");
  const int p = spec.precision;
  switch (spec.type) {
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      const char fmt[] = {'%', '.', '*', spec.type, 0};
      return printf_double(fmt, p < 0 ? 6 : p, a);
    }
    case '%':
      return printf_double("%.*f", p < 0 ? 6 : p, a * 100) + "%";
    default:
      return p < 0 ? python_float(a) : general_keep_point(a, p);
  }
}

std::string apply(double v, bool integral, int64_t i, const Spec& spec) {
  const bool negative =
      integral && (spec.type == 0 || spec.type == 'd') ? i < 0 : std::signbit(v) && !std::isnan(v);
  std::string sign = negative ? "-" : spec.sign == '+' ? "+" : spec.sign == ' ' ? " " : "";
  std::string digits = body(v, integral, i, spec);
  const size_t len = sign.size() + digits.size();
  if (static_cast<size_t>(spec.width) <= len) return sign + digits;
  const size_t pad = spec.width - len;
  // A '0' before the width pads with zeros after the sign, unless a fill or alignment says
  // otherwise.
  char align = spec.align ? spec.align : spec.zero ? '=' : '>';
  char fill = spec.zero && !spec.fill_set ? '0' : spec.fill;
  switch (align) {
    case '<':
      return sign + digits + std::string(pad, fill);
    case '^':
      return std::string(pad / 2, fill) + sign + digits + std::string(pad - pad / 2, fill);
    case '=':
      return sign + std::string(pad, fill) + digits;
    default:
      return std::string(pad, fill) + sign + digits;
  }
}

}  // namespace

void check_filepath_template(const std::string& pattern, const std::string& owner) {
  for (const auto& piece : parse(pattern, owner))
    if (piece.field)
      parse_spec(piece.field->spec, owner + ": filepath field {" + piece.field->name + "}");
}

std::string format_filepath(const std::string& pattern, const NamedIntegers& integers,
                            const Logs& logs, const std::string& owner) {
  std::string out;
  for (const auto& piece : parse(pattern, owner)) {
    out += piece.text;
    if (!piece.field) continue;
    const Field& f = *piece.field;
    const std::string where =
        owner + ": filepath field {" + f.name + (f.spec.empty() ? "" : ":" + f.spec) + "}";
    const Spec spec = parse_spec(f.spec, where);
    std::optional<int64_t> integer;
    for (const auto& [name, value] : integers)
      if (name == f.name) integer = value;
    if (integer) {
      if (spec.type == 0 && spec.precision >= 0)
        throw ValueError(where + ": '" + f.name +
                         "' is an integer, which takes no precision without a type such as f");
      out += apply(static_cast<double>(*integer), true, *integer, spec);
    } else if (logs.contains(f.name)) {
      if (spec.type == 'd')
        throw ValueError(where + ": '" + f.name +
                         "' is a float, which the integer type 'd' cannot format; use .Nf or .Ne");
      out += apply(logs.at(f.name), false, 0, spec);
    } else {
      std::string names;
      for (const auto& [name, value] : integers) names += (names.empty() ? "" : ", ") + name;
      for (const auto& [name, value] : logs.items()) names += (names.empty() ? "" : ", ") + name;
      throw ValueError(owner + ": the filepath template \"" + pattern + "\" names '" + f.name +
                       "', which is not available; available: " + names);
    }
  }
  return out;
}

}  // namespace kiln::detail
