// The text parser behind labels::Parse: a lexer that cuts the selector into tokens
// and a recursive-descent parser over the token list, shaped like upstream's Lexer and
// Parser in k8s.io/apimachinery/pkg/labels/selector.go so that the same input fails
// at the same token with the same words.
#include <algorithm>
#include <set>

#include "apimachinery/gostrings.h"
#include "apimachinery/labels/selector.h"
#include "apimachinery/labels/validation.h"

namespace kubes::labels {
namespace {

enum class Token {
  kError,
  kEndOfString,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

struct ScannedItem {
  Token token;
  std::string literal;
};

// The token a literal spells, if it is one of the fixed ones.
std::optional<Token> FixedToken(std::string_view s) {
  if (s == ")") return Token::kClosedPar;
  if (s == ",") return Token::kComma;
  if (s == "!") return Token::kDoesNotExist;
  if (s == "==") return Token::kDoubleEquals;
  if (s == "=") return Token::kEquals;
  if (s == ">") return Token::kGreaterThan;
  if (s == "in") return Token::kIn;
  if (s == "<") return Token::kLessThan;
  if (s == "!=") return Token::kNotEquals;
  if (s == "notin") return Token::kNotIn;
  if (s == "(") return Token::kOpenPar;
  return std::nullopt;
}

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsSpecialSymbol(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

// Splits the input into tokens. Like upstream, a NUL byte reads the same as the end of
// input: at the start of a token it ends the scan, inside one it ends that token.
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  ScannedItem Lex() {
    char c = Read();
    while (IsWhitespace(c)) c = Read();
    if (c == 0) return {Token::kEndOfString, ""};
    Unread();
    return IsSpecialSymbol(c) ? ScanSpecialSymbol() : ScanIdentifierOrKeyword();
  }

 private:
  char Read() { return pos_ < s_.size() ? s_[pos_++] : 0; }
  void Unread() { --pos_; }

  // Everything up to a blank or special symbol: an identifier, or "in"/"notin".
  ScannedItem ScanIdentifierOrKeyword() {
    std::string buffer;
    while (true) {
      const char c = Read();
      if (c == 0) break;
      if (IsSpecialSymbol(c) || IsWhitespace(c)) {
        Unread();
        break;
      }
      buffer += c;
    }
    const std::optional<Token> fixed = FixedToken(buffer);
    return {fixed.value_or(Token::kIdentifier), std::move(buffer)};
  }

  // The longest operator made of special symbols: "!=" rather than "!", "==" rather
  // than "=".
  ScannedItem ScanSpecialSymbol() {
    std::string buffer;
    std::optional<ScannedItem> last;
    while (true) {
      const char c = Read();
      if (c == 0) break;
      if (!IsSpecialSymbol(c)) {
        Unread();
        break;
      }
      buffer += c;
      if (const std::optional<Token> fixed = FixedToken(buffer)) {
        last = ScannedItem{*fixed, buffer};
      } else if (last) {
        Unread();
        break;
      }
    }
    if (!last) return {Token::kError, "error expected: keyword found '" + buffer + "'"};
    return *last;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Whether "in"/"notin" are read as operators (after a key) or as plain words (where a
// key or value is expected: "in in (in)" is a valid selector).
enum class Context { kKeyAndOperator, kValues };

Status Error(std::string message) { return BadRequest(std::move(message)); }

class Parser {
 public:
  explicit Parser(std::string_view input) {
    Lexer lexer(input);
    do {
      items_.push_back(lexer.Lex());
    } while (items_.back().token != Token::kEndOfString);
  }

  // selector := requirement ("," requirement)* | ""
  Result<std::vector<Requirement>> ParseSelector() {
    std::vector<Requirement> requirements;
    while (true) {
      const ScannedItem& item = Lookahead(Context::kValues);
      switch (item.token) {
        case Token::kIdentifier:
        case Token::kDoesNotExist: {
          Result<Requirement> r = ParseRequirement();
          if (!r.ok()) return r.status().Wrap("unable to parse requirement");
          requirements.push_back(std::move(r).value());
          const ScannedItem next = Consume(Context::kValues);
          if (next.token == Token::kEndOfString) return requirements;
          if (next.token != Token::kComma) {
            return Error("found '" + next.literal + "', expected: ',' or 'end of string'");
          }
          const ScannedItem& after = Lookahead(Context::kValues);
          if (after.token != Token::kIdentifier && after.token != Token::kDoesNotExist) {
            return Error("found '" + after.literal + "', expected: identifier after ','");
          }
          break;
        }
        case Token::kEndOfString:
          return requirements;
        default:
          return Error("found '" + item.literal + "', expected: !, identifier, or 'end of string'");
      }
    }
  }

 private:
  // The current item, without moving past it. In the values context "in" and "notin"
  // are identifiers.
  ScannedItem Lookahead(Context context) const { return AsIn(items_[Clamped()], context); }

  ScannedItem Consume(Context context) {
    const size_t at = Clamped();
    ++position_;
    return AsIn(items_[at], context);
  }

  // The grammar never reads past the end token; clamping keeps a mistake from reading
  // out of bounds.
  size_t Clamped() const { return std::min(position_, items_.size() - 1); }

  static ScannedItem AsIn(ScannedItem item, Context context) {
    if (context == Context::kValues && (item.token == Token::kIn || item.token == Token::kNotIn)) {
      item.token = Token::kIdentifier;
    }
    return item;
  }

  // requirement := ["!"] KEY [operator values]
  Result<Requirement> ParseRequirement() {
    std::string key;
    std::optional<Operator> op;
    KUBES_RETURN_IF_ERROR(ParseKeyAndInferOperator(key, op));
    if (op == Operator::kExists || op == Operator::kDoesNotExist) return Requirement::New(std::move(key), *op, {});

    Result<Operator> binary = ParseOperator();
    if (!binary.ok()) return binary.status();
    const bool set_based = *binary == Operator::kIn || *binary == Operator::kNotIn;
    Result<std::set<std::string>> values = set_based ? ParseValues() : ParseExactValue();
    if (!values.ok()) return values.status();
    return Requirement::New(std::move(key), *binary, {values->begin(), values->end()});
  }

  // Reads ["!"] KEY. A key followed by "," or the end means "exists"; "!" in front
  // means "does not exist"; otherwise op stays empty and an operator must follow.
  Status ParseKeyAndInferOperator(std::string& key, std::optional<Operator>& op) {
    ScannedItem item = Consume(Context::kValues);
    if (item.token == Token::kDoesNotExist) {
      op = Operator::kDoesNotExist;
      item = Consume(Context::kValues);
    }
    if (item.token != Token::kIdentifier) return Error("found '" + item.literal + "', expected: identifier");
    if (auto problems = IsQualifiedName(item.literal); !problems.empty()) {
      // Upstream validates here with a nil field path, which prints as "<nil>".
      return Error(FieldInvalid("<nil>", gostrings::Quote(item.literal), Join(problems, "; ")));
    }
    const Token next = Lookahead(Context::kValues).token;
    if ((next == Token::kEndOfString || next == Token::kComma) && op != Operator::kDoesNotExist) {
      op = Operator::kExists;
    }
    key = std::move(item.literal);
    return Status::OK();
  }

  Result<Operator> ParseOperator() {
    const ScannedItem item = Consume(Context::kKeyAndOperator);
    switch (item.token) {
      case Token::kIn: return Operator::kIn;
      case Token::kEquals: return Operator::kEquals;
      case Token::kDoubleEquals: return Operator::kDoubleEquals;
      case Token::kGreaterThan: return Operator::kGreaterThan;
      case Token::kLessThan: return Operator::kLessThan;
      case Token::kNotIn: return Operator::kNotIn;
      case Token::kNotEquals: return Operator::kNotEquals;
      default:
        return Error("found '" + item.literal + "', expected: in, notin, =, ==, !=, gt, lt");
    }
  }

  // "(" values ")"; "()" is the set holding the empty string.
  Result<std::set<std::string>> ParseValues() {
    const ScannedItem open = Consume(Context::kValues);
    if (open.token != Token::kOpenPar) return Error("found '" + open.literal + "' expected: '('");
    const ScannedItem first = Lookahead(Context::kValues);
    switch (first.token) {
      case Token::kIdentifier:
      case Token::kComma: {
        Result<std::set<std::string>> values = ParseIdentifiersList();
        if (!values.ok()) return values;
        if (Consume(Context::kValues).token != Token::kClosedPar) {
          return Error("found '" + first.literal + "', expected: ')'");
        }
        return values;
      }
      case Token::kClosedPar:
        Consume(Context::kValues);
        return std::set<std::string>{""};
      default:
        return Error("found '" + first.literal + "', expected: ',', ')' or identifier");
    }
  }

  // A comma-separated list where any entry may be empty ("a,,b", ",a", "a,"). Stops
  // before the closing parenthesis.
  Result<std::set<std::string>> ParseIdentifiersList() {
    std::set<std::string> values;
    while (true) {
      ScannedItem item = Consume(Context::kValues);
      switch (item.token) {
        case Token::kIdentifier: {
          values.insert(std::move(item.literal));
          const ScannedItem next = Lookahead(Context::kValues);
          if (next.token == Token::kComma) continue;
          if (next.token == Token::kClosedPar) return values;
          return Error("found '" + next.literal + "', expected: ',' or ')'");
        }
        case Token::kComma: {
          if (values.empty()) values.insert("");  // "(,"
          const Token next = Lookahead(Context::kValues).token;
          if (next == Token::kClosedPar) {
            values.insert("");  // ",)"
            return values;
          }
          if (next == Token::kComma) {
            Consume(Context::kValues);
            values.insert("");  // ",,"
          }
          break;
        }
        default:
          return Error("found '" + item.literal + "', expected: ',', or identifier");
      }
    }
  }

  // The single value after =, ==, !=, > or <; nothing at all means the empty value.
  Result<std::set<std::string>> ParseExactValue() {
    const Token next = Lookahead(Context::kValues).token;
    if (next == Token::kEndOfString || next == Token::kComma) return std::set<std::string>{""};
    ScannedItem item = Consume(Context::kValues);
    if (item.token == Token::kIdentifier) return std::set<std::string>{std::move(item.literal)};
    return Error("found '" + item.literal + "', expected: identifier");
  }

  std::vector<ScannedItem> items_;  // always ends with kEndOfString
  size_t position_ = 0;
};

}  // namespace

Result<Selector> Parse(std::string_view selector) {
  Parser parser(selector);
  Result<std::vector<Requirement>> requirements = parser.ParseSelector();
  if (!requirements.ok()) return requirements.status();
  return Selector().Add(std::move(requirements).value());
}

}  // namespace kubes::labels
