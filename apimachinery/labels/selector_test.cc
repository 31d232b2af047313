#include "apimachinery/labels/selector.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace kubes::labels {
namespace {

// Upstream's texts for an invalid label value and an invalid key name.
const std::string kBadValue =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
    "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const std::string kBadName =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

Selector MustParse(std::string_view text) {
  Result<Selector> s = Parse(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : Selector::Nothing();
}

TEST(ParseTest, ValidSelectorsPrintCanonically) {
  struct Case {
    std::string in, out;
  };
  const Case cases[] = {
      {"", ""},
      {"x=a,y=b,z=c", "x=a,y=b,z=c"},
      {"x!=a,y=b", "x!=a,y=b"},
      {"x=", "x="},
      {"x= ", "x="},
      {"x=,z= ", "x=,z="},
      {"x= ,z= ", "x=,z="},
      {"!x", "!x"},
      {"x>1", "x>1"},
      {"x>1,z<5", "x>1,z<5"},
      {"x==a", "x==a"},
      {"\rx", "x"},
      {"a ", "a"},
      {"this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"},
      {"0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)", "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"},
      {"foo  in\t (abc)", "foo in (abc)"},
      {"x notin\n (abc)", "x notin (abc)"},
      {"x in (def,abc)", "x in (abc,def)"},
      {"x in (abc,)", "x in (,abc)"},
      {"x in ()", "x in ()"},
      {"x notin ( )", "x notin ()"},
      {"x notin (, a)", "x notin (,a)"},
      {"x in (a,,,b)", "x in (,a,b)"},
      {"x in (b,a,b)", "x in (a,b)"},
      {"x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"},
      {"a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"},
      {"in in (in)", "in in (in)"},
      {"notin=in", "notin=in"},
      {"x=a,a=x", "a=x,x=a"},
      {"y,x!=a,x", "x!=a,x,y"},  // same key: input order kept
      // Like upstream, a NUL byte reads as the end of input: between tokens it ends the
      // scan, right after an operator or identifier only that token.
      {std::string("x= \0b", 5), "x="},
      {std::string("x=\0b", 4), "x=b"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MustParse(c.in).String(), c.out) << c.in;
  }
}

TEST(ParseTest, ErrorsReadLikeUpstream) {
  struct Case {
    std::string in, message;
  };
  const Case cases[] = {
      {"x=a||y=b", "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": " + kBadValue},
      {"x==a==b", "found '==', expected: ',' or 'end of string'"},
      {"!x=a", "found '=', expected: ',' or 'end of string'"},
      {"x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value "
              "must be an integer"},
      {"x>-1", "unable to parse requirement: values[0][x]: Invalid value: \"-1\": " + kBadValue},
      {"x>a-", "unable to parse requirement: [values[0]: Invalid value: \"a-\": for 'Gt', 'Lt' operators, the value "
               "must be an integer, values[0][x]: Invalid value: \"a-\": " + kBadValue + "]"},
      {"x,,y", "found ',', expected: identifier after ','"},
      {",x,y", "found ',', expected: !, identifier, or 'end of string'"},
      {"x nott in (y)", "unable to parse requirement: found 'nott', expected: in, notin, =, ==, !=, gt, lt"},
      {"a in (xyz),", "found '', expected: identifier after ','"},
      {"a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'"},
      {"a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"},
      {"a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"},
      {"a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"},
      {"a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"},
      {"a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"},
      {"(", "found '(', expected: !, identifier, or 'end of string'"},
      {"x in", "unable to parse requirement: found '' expected: '('"},
      {"x!", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"},
      {"x=(", "unable to parse requirement: found '(', expected: identifier"},
      {"!", "unable to parse requirement: found '', expected: identifier"},
      {"!x in (a)", "found 'in', expected: ',' or 'end of string'"},
      {"Foo_=bar", "unable to parse requirement: <nil>: Invalid value: \"Foo_\": " + kBadName},
      {std::string("a\x01"), "unable to parse requirement: <nil>: Invalid value: \"a\\x01\": " + kBadName},
      {"/a", "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty"},
      {"a/", "unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be non-empty; " + kBadName},
      {"Example.com/a",
       "unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a lowercase RFC 1123 "
       "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
       "alphanumeric character (e.g. 'example.com', regex used for validation is "
       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
      {"a/b/c",
       "unable to parse requirement: <nil>: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric "
       "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
       "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with "
       "an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"},
      {std::string(64, 'a'), "unable to parse requirement: <nil>: Invalid value: \"" + std::string(64, 'a') +
                                 "\": name part must be no more than 63 characters"},
      {"x=" + std::string(64, 'a'), "unable to parse requirement: values[0][x]: Invalid value: \"" +
                                        std::string(64, 'a') + "\": must be no more than 63 characters"},
  };
  for (const Case& c : cases) {
    Result<Selector> s = Parse(c.in);
    ASSERT_FALSE(s.ok()) << c.in << " parsed as " << s->String();
    EXPECT_EQ(s.status().code(), Code::kBadRequest) << c.in;
    EXPECT_EQ(s.status().message(), c.message) << c.in;
  }
}

TEST(SelectorTest, Matches) {
  struct Case {
    std::string selector;
    Labels labels;
    bool match;
  };
  const Case cases[] = {
      {"", {{"x", "y"}}, true},
      {"x=y", {{"x", "y"}}, true},
      {"x==y", {{"x", "y"}}, true},
      {"x=y,z=w", {{"x", "y"}, {"z", "w"}}, true},
      {"x!=y,z!=w", {{"x", "z"}, {"z", "a"}}, true},
      {"notin=in", {{"notin", "in"}}, true},
      {"x", {{"x", "z"}}, true},
      {"!x", {{"y", "z"}}, true},
      {"x>1", {{"x", "2"}}, true},
      {"x<1", {{"x", "0"}}, true},
      {"x<1", {{"x", "-5"}}, true},
      {"x>1", {{"x", "+2"}}, true},
      {"x=z", {}, false},
      {"x=", {}, false},
      {"x=", {{"x", ""}}, true},
      {"x=y", {{"x", "z"}}, false},
      {"x=y,z=w", {{"x", "w"}, {"z", "w"}}, false},
      {"x!=y,z!=w", {{"x", "z"}, {"z", "w"}}, false},
      {"x!=y", {}, true},
      {"x", {{"y", "z"}}, false},
      {"!x", {{"x", "z"}}, false},
      {"x>1", {{"x", "0"}}, false},
      {"x>1", {{"x", "1"}}, false},
      {"x<1", {{"x", "2"}}, false},
      {"x>1", {}, false},
      {"x>1", {{"x", "v2"}}, false},
      {"x>1", {{"x", "99999999999999999999"}}, false},  // overflows int64: not a number
      {"x<1", {{"x", "-9223372036854775808"}}, true},
      {"x in (foo),y notin (alpha)", {{"x", "foo"}, {"y", "baz"}}, true},
      {"x in (foo),y in (alpha)", {{"x", "foo"}, {"y", "baz"}}, false},
      {"x notin (),y", {{"y", ""}}, true},
      {"!x,y", {{"y", ""}}, true},
      {"x notin (),!y", {{"y", ""}}, false},
      {"x in ()", {{"y", "baz"}}, false},
      {"x in ()", {{"x", ""}}, true},
      {"x notin (a,b)", {{"x", "c"}}, true},
      {"x notin (a,b)", {{"x", "b"}}, false},
      {"foo=bar,foobar=bar,baz=blah", {{"foo", "bar"}, {"baz", "blah"}}, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MustParse(c.selector).Matches(c.labels), c.match) << c.selector;
  }
}

TEST(SelectorTest, EverythingAndNothing) {
  EXPECT_TRUE(Selector::Everything().Empty());
  EXPECT_TRUE(Selector::Everything().Matches({{"x", "y"}}));
  EXPECT_TRUE(MustParse("").Empty());
  EXPECT_FALSE(MustParse("x").Empty());

  const Selector nothing = Selector::Nothing();
  EXPECT_FALSE(nothing.Empty());
  EXPECT_TRUE(nothing.MatchesNothing());
  EXPECT_FALSE(nothing.Matches({}));
  EXPECT_EQ(nothing.String(), "");
  EXPECT_TRUE(nothing.Add(MustParse("x").requirements()).MatchesNothing());
}

TEST(SelectorTest, RequiresExactMatch) {
  struct Case {
    std::string selector, label;
    std::optional<std::string> value;
  };
  const Case cases[] = {
      {"app=web", "app", "web"},     {"app==web", "app", "web"},      {"app in (web)", "app", "web"},
      {"app in (a,b)", "app", {}},   {"app!=web", "app", {}},         {"app", "app", {}},
      {"tier=fe", "app", {}},        {"app,app=web", "app", {}},  // the first requirement on the key decides
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MustParse(c.selector).RequiresExactMatch(c.label), c.value) << c.selector;
  }
}

TEST(SelectorTest, FromSetRequiresEveryLabel) {
  const Selector s = SelectorFromSet({{"foo", "bar"}, {"baz", "blah"}});
  EXPECT_EQ(s.String(), "baz=blah,foo=bar");
  EXPECT_TRUE(s.Matches({{"foo", "bar"}, {"baz", "blah"}, {"extra", "x"}}));
  EXPECT_FALSE(s.Matches({{"foo", "bar"}}));
  EXPECT_TRUE(SelectorFromSet({}).Empty());
}

TEST(RequirementTest, NewValidates) {
  const std::string kLong(254, 'a');
  struct Case {
    std::string key;
    Operator op;
    std::vector<std::string> values;
    std::string error;  // "" when valid
  };
  const Case cases[] = {
      {"x1", Operator::kIn, {},
       "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"},
      {"x2", Operator::kNotIn, {},
       "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"},
      {"x3", Operator::kIn, {"foo"}, ""},
      {"x5", Operator::kEquals, {"foo", "bar"},
       "values: Invalid value: []string{\"foo\", \"bar\"}: exact-match compatibility requires one single value"},
      {"x6", Operator::kExists, {}, ""},
      {"x8", Operator::kExists, {"foo"},
       "values: Invalid value: []string{\"foo\"}: values set must be empty for exists and does not exist"},
      {"x11", Operator::kGreaterThan, {"1"}, ""},
      {"x13", Operator::kGreaterThan, {},
       "values: Invalid value: []string(nil): for 'Gt', 'Lt' operators, exactly one value is required"},
      {"x14", Operator::kLessThan, {"bar"},
       "values[0]: Invalid value: \"bar\": for 'Gt', 'Lt' operators, the value must be an integer"},
      {kLong, Operator::kExists, {},
       "key: Invalid value: \"" + kLong + "\": name part must be no more than 63 characters"},
      {"x16", Operator::kEquals, {kLong},
       "values[0][x16]: Invalid value: \"" + kLong + "\": must be no more than 63 characters"},
      {"x17", Operator::kEquals, {"a b"}, "values[0][x17]: Invalid value: \"a b\": " + kBadValue},
      {"bad_", Operator::kIn, {"ok", "-no"},
       "[key: Invalid value: \"bad_\": " + kBadName + ", values[1][bad_]: Invalid value: \"-no\": " + kBadValue + "]"},
  };
  for (const Case& c : cases) {
    Result<Requirement> r = Requirement::New(c.key, c.op, c.values);
    if (c.error.empty()) {
      EXPECT_TRUE(r.ok()) << c.key << ": " << r.status().ToString();
    } else {
      ASSERT_FALSE(r.ok()) << c.key;
      EXPECT_EQ(r.status().code(), Code::kBadRequest);
      EXPECT_EQ(r.status().message(), c.error) << c.key;
    }
  }
}

TEST(RequirementTest, StringSortsValues) {
  struct Case {
    std::string key;
    Operator op;
    std::vector<std::string> values;
    std::string out;
  };
  const Case cases[] = {
      {"x", Operator::kIn, {"def", "abc"}, "x in (abc,def)"},
      {"x", Operator::kNotIn, {"a", "a"}, "x notin (a,a)"},
      {"y", Operator::kNotEquals, {"jkl"}, "y!=jkl"},
      {"z", Operator::kDoesNotExist, {}, "!z"},
      {"z", Operator::kExists, {}, "z"},
      {"x", Operator::kGreaterThan, {"2"}, "x>2"},
      {"y", Operator::kLessThan, {"8"}, "y<8"},
  };
  for (const Case& c : cases) {
    Result<Requirement> r = Requirement::New(c.key, c.op, c.values);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->String(), c.out);
    EXPECT_EQ(r->values(), c.values);  // printing does not reorder the stored values
  }
}

TEST(LabelSelectorTest, ConvertsMetaV1LabelSelector) {
  struct Case {
    std::string json;
    std::string out;    // String() of the result
    bool everything;    // Empty()
    bool nothing;       // MatchesNothing()
  };
  const Case cases[] = {
      {"null", "", false, true},
      {"{}", "", true, false},
      {R"({"matchLabels": null, "matchExpressions": null})", "", true, false},
      {R"({"matchLabels": {}, "matchExpressions": []})", "", true, false},
      {R"({"matchLabels": {"b": "2", "a": "1"}})", "a=1,b=2", false, false},
      {R"({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]},
                                {"key": "env", "operator": "NotIn", "values": ["prod"]},
                                {"key": "canary", "operator": "DoesNotExist"},
                                {"key": "app", "operator": "Exists", "values": null}]})",
       "app,!canary,env notin (prod),tier in (be,fe)", false, false},
      {R"({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]})",
       "app=web,app in (web)", false, false},
  };
  for (const Case& c : cases) {
    Result<Selector> s = SelectorFromLabelSelector(Json::parse(c.json));
    ASSERT_TRUE(s.ok()) << c.json << ": " << s.status().ToString();
    EXPECT_EQ(s->String(), c.out) << c.json;
    EXPECT_EQ(s->Empty(), c.everything) << c.json;
    EXPECT_EQ(s->MatchesNothing(), c.nothing) << c.json;
  }
}

TEST(LabelSelectorTest, MatchesLikeTheTextForm) {
  Result<Selector> s = SelectorFromLabelSelector(Json::parse(R"({
      "matchLabels": {"app": "web"},
      "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]})"));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Matches({{"app", "web"}}));
  EXPECT_TRUE(s->Matches({{"app", "web"}, {"tier", "fe"}}));
  EXPECT_FALSE(s->Matches({{"app", "web"}, {"tier", "db"}}));
  EXPECT_FALSE(s->Matches({{"app", "api"}}));
}

TEST(LabelSelectorTest, Errors) {
  struct Case {
    std::string json, message;
  };
  const Case cases[] = {
      {R"({"matchExpressions": [{"key": "a", "operator": "Foo"}]})",
       "\"Foo\" is not a valid label selector operator"},
      {R"({"matchExpressions": [{"key": "a"}]})", "\"\" is not a valid label selector operator"},
      {R"({"matchExpressions": [{"key": "a", "operator": "in", "values": ["x"]}]})",
       "\"in\" is not a valid label selector operator"},
      {R"({"matchExpressions": [{"key": "a", "operator": "In"}]})",
       "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"},
      {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})",
       "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"},
      {R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})",
       "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"},
      {R"({"matchLabels": {"app": "-web"}})", "values[0][app]: Invalid value: \"-web\": " + kBadValue},
      {R"({"matchExpressions": [{"operator": "Exists"}]})",
       "key: Invalid value: \"\": name part must be non-empty; " + kBadName},
      {R"([])", "invalid label selector: must be an object"},
      {R"({"matchLabels": []})", "invalid label selector: matchLabels must be an object"},
      {R"({"matchLabels": {"a": 1}})", "invalid label selector: matchLabels[a] must be a string"},
      {R"({"matchExpressions": {}})", "invalid label selector: matchExpressions must be an array"},
      {R"({"matchExpressions": [1]})", "invalid label selector: matchExpressions[0] must be an object"},
      {R"({"matchExpressions": [{"key": 1}]})", "invalid label selector: matchExpressions[0].key must be a string"},
      {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]})",
       "invalid label selector: matchExpressions[0].values must be an array of strings"},
  };
  for (const Case& c : cases) {
    Result<Selector> s = SelectorFromLabelSelector(Json::parse(c.json));
    ASSERT_FALSE(s.ok()) << c.json;
    EXPECT_EQ(s.status().code(), Code::kBadRequest) << c.json;
    EXPECT_EQ(s.status().message(), c.message) << c.json;
  }
}

}  // namespace
}  // namespace kubes::labels
