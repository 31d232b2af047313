#include "apiserver/crd/pattern.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace kubes::crd {
namespace {

constexpr size_t kMaxRepeat = 1000;         // Go's regexp/syntax limit for {n,m}
constexpr double kMaxAutomatonSize = 2000;  // estimated states: matching costs this much per character
constexpr size_t kMaxNesting = 200;
constexpr size_t kCacheSize = 512;

// Estimates the size of the automaton std::regex builds: alternatives add up, a
// counted repeat multiplies the atom before it. Returns "" or why the pattern is refused.
std::string CheckComplexity(const std::string& p) {
  struct Frame {
    double total = 0, last = 0;
  };
  std::vector<Frame> stack(1);
  auto atom = [&](double size) {
    stack.back().total += stack.back().last;
    stack.back().last = size;
  };
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      ++i;
      atom(1);
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < p.size() && p[j] == '^') ++j;
      if (j < p.size() && p[j] == ']') ++j;
      while (j < p.size() && p[j] != ']') j += p[j] == '\\' ? 2 : 1;
      i = j;
      atom(1);
    } else if (c == '(') {
      if (stack.size() > kMaxNesting) return "expression nests too deeply";
      stack.emplace_back();
    } else if (c == ')') {
      if (stack.size() == 1) return "";  // unbalanced: std::regex reports it
      const Frame f = stack.back();
      stack.pop_back();
      atom(f.total + f.last + 1);
    } else if (c == '|') {
      stack.back().total += stack.back().last + 1;
      stack.back().last = 0;
    } else if (c == '{') {
      size_t j = i + 1, n = 0, m = 0;
      bool digits = false, comma = false;
      for (; j < p.size() && (std::isdigit(static_cast<unsigned char>(p[j])) || p[j] == ','); ++j) {
        if (p[j] == ',') {
          comma = true;
          continue;
        }
        digits = true;
        size_t& v = comma ? m : n;
        v = std::min<size_t>(v * 10 + (p[j] - '0'), 100000);
      }
      if (!digits || j >= p.size() || p[j] != '}') {
        atom(1);
        continue;
      }
      if (n > kMaxRepeat || m > kMaxRepeat) return "invalid repeat count";
      stack.back().last *= static_cast<double>(std::max<size_t>({n, m, 1}));
      i = j;
    } else if (c != '*' && c != '+' && c != '?') {
      atom(1);
    }
    for (const Frame& f : stack) {
      if (f.total + f.last > kMaxAutomatonSize) return "expression too large";
    }
  }
  return "";
}

// Go spellings std::regex does not know: \A and \z anchors.
std::string TranslateAnchors(const std::string& p) {
  std::string out;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      if (p[i + 1] == 'A' || p[i + 1] == 'z') {
        out += p[i + 1] == 'A' ? '^' : '$';
      } else {
        out += p.substr(i, 2);
      }
      ++i;
    } else {
      out += p[i];
    }
  }
  return out;
}

struct Entry {
  std::shared_ptr<const std::regex> re;
  std::string error;
};

Entry Compile(const std::string& pattern) {
  std::string p = pattern;
  auto flags = std::regex::ECMAScript;
  if (p.rfind("(?i)", 0) == 0) {
    p = p.substr(4);
    flags |= std::regex::icase;
  }
  if (std::string why = CheckComplexity(p); !why.empty()) return {nullptr, why};
#if defined(__GLIBCXX__)
  flags |= std::regex_constants::__polynomial;
#endif
  try {
    // Validate the pattern on its own first so errors are about what the user wrote.
    std::regex alone(TranslateAnchors(p), flags);
    (void)alone;
    return {std::make_shared<const std::regex>("[\\s\\S]*(?:" + TranslateAnchors(p) + ")[\\s\\S]*", flags), ""};
  } catch (const std::regex_error& e) {
    return {nullptr, e.what()};
  } catch (const std::exception& e) {
    return {nullptr, e.what()};
  }
}

}  // namespace

std::shared_ptr<const std::regex> CompilePattern(const std::string& pattern, std::string* error) {
  static std::mutex mu;
  static std::unordered_map<std::string, Entry> cache;
  {
    std::lock_guard<std::mutex> l(mu);
    if (auto it = cache.find(pattern); it != cache.end()) {
      if (error) *error = it->second.error;
      return it->second.re;
    }
  }
  Entry e = Compile(pattern);
  if (error) *error = e.error;
  std::lock_guard<std::mutex> l(mu);
  if (cache.size() >= kCacheSize) cache.clear();
  cache.emplace(pattern, e);
  return e.re;
}

bool PatternMatches(const std::regex& re, const std::string& s) {
  try {
    return std::regex_match(s, re);
  } catch (const std::exception&) {
    return false;  // resource limits inside the executor: treat as no match
  }
}

}  // namespace kubes::crd
