#include "apimachinery/fields/selector.h"

#include <gtest/gtest.h>

namespace kubes::fields {

// Readable test failures.
void PrintTo(const Requirement& r, std::ostream* os) { *os << r.field << OperatorName(r.op) << r.value; }

namespace {

Selector MustParse(std::string_view text) {
  Result<Selector> s = ParseSelector(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return s.ok() ? *s : Selector::Nothing();
}

TEST(ParseSelectorTest, ValidSelectors) {
  struct Case {
    std::string in;
    std::vector<Requirement> requirements;
    std::string out;  // String()
  };
  const Case cases[] = {
      {"", {}, ""},
      {",,", {}, ""},
      {"=", {}, ""},
      {"x=a,y=b,z=c",
       {{"x", Operator::kEquals, "a"}, {"y", Operator::kEquals, "b"}, {"z", Operator::kEquals, "c"}},
       "x=a,y=b,z=c"},
      {"x!=a,y=b", {{"x", Operator::kNotEquals, "a"}, {"y", Operator::kEquals, "b"}}, "x!=a,y=b"},
      {"x==a", {{"x", Operator::kEquals, "a"}}, "x=a"},
      {"x=", {{"x", Operator::kEquals, ""}}, "x="},
      {"=v", {{"", Operator::kEquals, "v"}}, "=v"},
      {"x=a||y\\=b", {{"x", Operator::kEquals, "a||y=b"}}, "x=a||y\\=b"},
      {"x=a\\=\\=b", {{"x", Operator::kEquals, "a==b"}}, "x=a\\=\\=b"},
      // Terms sort by their raw text: "k2=..." before "k=..." ('2' < '=').
      {"k=\\,,k2=v2", {{"k2", Operator::kEquals, "v2"}, {"k", Operator::kEquals, ","}}, "k2=v2,k=\\,"},
      {"k=\\\\,k2=v2", {{"k2", Operator::kEquals, "v2"}, {"k", Operator::kEquals, "\\"}}, "k2=v2,k=\\\\"},
      {"a=x,x=a,", {{"a", Operator::kEquals, "x"}, {"x", Operator::kEquals, "a"}}, "a=x,x=a"},
      {"x=a,a=x", {{"a", Operator::kEquals, "x"}, {"x", Operator::kEquals, "a"}}, "a=x,x=a"},  // sorted
      {"a b!=c d", {{"a b", Operator::kNotEquals, "c d"}}, "a b!=c d"},  // no trimming
      {"함=수,목=록", {{"목", Operator::kEquals, "록"}, {"함", Operator::kEquals, "수"}}, "목=록,함=수"},
      {"spec.nodeName=node-1", {{"spec.nodeName", Operator::kEquals, "node-1"}}, "spec.nodeName=node-1"},
  };
  for (const Case& c : cases) {
    const Selector s = MustParse(c.in);
    EXPECT_EQ(s.requirements(), c.requirements) << c.in;
    EXPECT_EQ(s.String(), c.out) << c.in;
  }
}

TEST(ParseSelectorTest, ErrorsReadLikeUpstream) {
  struct Case {
    std::string in, message;
  };
  const Case cases[] = {
      {"x", "invalid selector: 'x'; can't understand 'x'"},
      {"x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"},
      {"x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"},
      {"x in (a,b,c)", "invalid selector: 'x in (a,b,c)'; can't understand 'b'"},  // parts are sorted first
      {"x=a||y=b", "invalid field selector: unescaped character in value: 61"},
      {"x==a==b", "invalid field selector: unescaped character in value: 61"},
      {"x=\\", "invalid field selector: invalid escape sequence: \\"},
      {"x=\\\\\\", "invalid field selector: invalid escape sequence: \\"},
      {"x=\\a", "invalid field selector: invalid escape sequence: \\a"},
      {"x=\\\xff", "invalid field selector: invalid escape sequence: \\\xef\xbf\xbd"},  // U+FFFD, as Go
  };
  for (const Case& c : cases) {
    Result<Selector> s = ParseSelector(c.in);
    ASSERT_FALSE(s.ok()) << c.in;
    EXPECT_EQ(s.status().code(), Code::kBadRequest) << c.in;
    EXPECT_EQ(s.status().message(), c.message) << c.in;
  }
}

TEST(SelectorTest, Matches) {
  const Fields kFields = {{"foo", "bar"}, {"baz", "blah"}, {"complex", "=value\\,\\"}};
  struct Case {
    std::string selector;
    Fields fields;
    bool match;
  };
  const Case cases[] = {
      {"", {{"x", "y"}}, true},
      {"x=y", {{"x", "y"}}, true},
      {"x=y,z=w", {{"x", "y"}, {"z", "w"}}, true},
      {"x!=y,z!=w", {{"x", "z"}, {"z", "a"}}, true},
      {"notin=in", {{"notin", "in"}}, true},
      {"x=y", {{"x", "z"}}, false},
      {"x=y,z=w", {{"x", "w"}, {"z", "w"}}, false},
      {"x!=y,z!=w", {{"x", "z"}, {"z", "w"}}, false},
      {"x!=y", {}, true},   // a missing field reads as ""
      {"x=", {}, true},
      {"x=y", {}, false},
      {"foo=bar", kFields, true},
      {"foo=bar,baz=blah", kFields, true},
      {"foo=bar,baz=blah,complex=\\=value\\\\\\,\\\\", kFields, true},
      {"foo=blah", kFields, false},
      {"foo=bar,foobar=bar,baz=blah", kFields, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(MustParse(c.selector).Matches(c.fields), c.match) << c.selector;
  }
}

TEST(SelectorTest, EverythingNothingAndSets) {
  EXPECT_TRUE(Selector::Everything().Empty());
  EXPECT_TRUE(Selector::Everything().Matches({{"x", "y"}}));
  EXPECT_FALSE(Selector::Nothing().Empty());
  EXPECT_FALSE(Selector::Nothing().Matches({}));
  EXPECT_TRUE(Selector::Nothing().MatchesNothing());

  const Selector s = SelectorFromSet({{"foo", "bar"}, {"baz", "blah"}});
  EXPECT_EQ(s.String(), "baz=blah,foo=bar");
  EXPECT_TRUE(s.Matches({{"foo", "bar"}, {"baz", "blah"}, {"other", "x"}}));
  EXPECT_FALSE(s.Matches({{"foo", "bar"}}));
  EXPECT_TRUE(SelectorFromSet({}).Empty());
}

TEST(SelectorTest, RequiresExactMatch) {
  const Selector s = MustParse("metadata.name!=a,metadata.name=b,spec.nodeName=n1");
  EXPECT_EQ(s.RequiresExactMatch("metadata.name"), "b");
  EXPECT_EQ(s.RequiresExactMatch("spec.nodeName"), "n1");
  EXPECT_EQ(s.RequiresExactMatch("status.phase"), std::nullopt);
  EXPECT_EQ(MustParse("x!=y").RequiresExactMatch("x"), std::nullopt);
}

TEST(EscapeTest, RoundTrips) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""}, {"a", "a"}, {"=", "\\="}, {",", "\\,"}, {"\\", "\\\\"}, {"\\=\\,\\", "\\\\\\=\\\\\\,\\\\"},
  };
  for (const auto& [plain, escaped] : cases) {
    EXPECT_EQ(EscapeValue(plain), escaped);
    Result<std::string> back = UnescapeValue(escaped);
    ASSERT_TRUE(back.ok()) << escaped;
    EXPECT_EQ(*back, plain);
  }
  // Invalid UTF-8 passes through untouched unless the value needs unescaping, where
  // (as upstream) each bad byte becomes U+FFFD.
  EXPECT_EQ(*UnescapeValue("a\xff"), "a\xff");
  EXPECT_EQ(*UnescapeValue("a\xff\\="), "a\xef\xbf\xbd=");
}

TEST(TransformTest, MapsAndDrops) {
  const Selector s = MustParse("spec.host=n1,metadata.name!=x,drop=me");
  Result<Selector> t = s.Transform([](const std::string& field, const std::string& value)
                                       -> Result<std::pair<std::string, std::string>> {
    if (field == "spec.host") return std::pair<std::string, std::string>{"spec.nodeName", value};
    if (field == "drop") return std::pair<std::string, std::string>{"", ""};
    return std::pair{field, value};
  });
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->String(), "metadata.name!=x,spec.nodeName=n1");

  Result<Selector> failed = s.Transform([](const std::string& field, const std::string&)
                                            -> Result<std::pair<std::string, std::string>> {
    return BadRequest("no " + field);
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "no drop");  // the first requirement in order
}

TEST(CheckFieldLabelsTest, RejectsUnsupportedFields) {
  const std::set<std::string> kPodFields = {"metadata.name", "metadata.namespace", "spec.nodeName", "status.phase"};
  struct Case {
    std::string selector, error;  // "" when accepted
  };
  const Case cases[] = {
      {"", ""},
      {"spec.nodeName=n1,status.phase!=Failed", ""},
      {"spec.nodeName=n1,spec.bogus=x", "field label not supported: spec.bogus"},
      {"z=1,a=2", "field label not supported: a"},  // sorted: a comes first
  };
  for (const Case& c : cases) {
    const Status st = CheckFieldLabels(MustParse(c.selector), kPodFields);
    if (c.error.empty()) {
      EXPECT_TRUE(st.ok()) << c.selector << ": " << st.ToString();
    } else {
      EXPECT_EQ(st.code(), Code::kBadRequest) << c.selector;
      EXPECT_EQ(st.message(), c.error) << c.selector;
    }
  }
}

TEST(CheckFieldLabelsTest, DefaultMetadataFields) {
  EXPECT_TRUE(CheckDefaultFieldLabels(MustParse("metadata.name=a,metadata.namespace!=b")).ok());
  const Status st = CheckDefaultFieldLabels(MustParse("metadata.name=a,spec.x=b"));
  EXPECT_EQ(st.code(), Code::kBadRequest);
  EXPECT_EQ(st.message(), "\"spec.x\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"");
}

}  // namespace
}  // namespace kubes::fields
