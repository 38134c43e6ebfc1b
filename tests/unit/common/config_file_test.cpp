#include "segbridge/config_file.hpp"

#include <gtest/gtest.h>

using segbridge::config::Errors;
using segbridge::config::Section;

namespace {

struct Parsed {
  Errors errors;
  std::optional<toml::table> table;
};

void parse(Parsed& p, const std::string& text) {
  p.table = segbridge::config::parse_string(text, "test.conf", p.errors);
}

}  // namespace

TEST(ConfigFile, ReadsTypedValuesWithDefaults) {
  Parsed p;
  parse(p, "name = \"hub\"\nport = 51820\nverbose = true\nlist = [\"a\", \"b\"]\n");
  ASSERT_TRUE(p.table);
  Section s(*p.table, "", "test.conf", p.errors);
  EXPECT_EQ(s.get_string("name", "x"), "hub");
  EXPECT_EQ(s.get_int("port", 1, 1, 65535), 51820);
  EXPECT_TRUE(s.get_bool("verbose", false));
  EXPECT_EQ(s.get_string_array("list"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.get_int("missing", 7, 0, 10), 7);
  s.finish();
  EXPECT_TRUE(p.errors.empty()) << p.errors.joined();
}

TEST(ConfigFile, ReportsEveryErrorWithFileAndLine) {
  Parsed p;
  parse(p, "name = 5\nport = 70000\ntypo_key = 1\n[peer]\nmode = \"sideways\"\n");
  ASSERT_TRUE(p.table);
  Section s(*p.table, "", "test.conf", p.errors);
  s.get_string("name", "x");
  s.get_int("port", 1, 1, 65535);
  auto peer = s.get_table("peer");
  ASSERT_TRUE(peer);
  peer->get_choice("mode", "hub", {"hub", "spoke"});
  peer->finish();
  s.require_string("secret");
  s.finish();
  const auto& m = p.errors.messages();
  ASSERT_EQ(m.size(), 5u) << p.errors.joined();
  EXPECT_EQ(m[0].rfind("test.conf:1:", 0), 0u) << m[0];
  EXPECT_NE(m[0].find("'name' must be a string"), std::string::npos) << m[0];
  EXPECT_EQ(m[1].rfind("test.conf:2:", 0), 0u) << m[1];
  EXPECT_NE(m[1].find("out of range"), std::string::npos);
  EXPECT_EQ(m[2].rfind("test.conf:5:", 0), 0u) << m[2];
  EXPECT_NE(m[2].find("'peer.mode'"), std::string::npos);
  EXPECT_NE(m[3].find("missing required key 'secret'"), std::string::npos);
  EXPECT_EQ(m[4].rfind("test.conf:3:", 0), 0u) << m[4];
  EXPECT_NE(m[4].find("unknown key 'typo_key'"), std::string::npos);
}

TEST(ConfigFile, SyntaxErrorCarriesPosition) {
  Parsed p;
  parse(p, "a = 1\nb = = 2\n");
  EXPECT_FALSE(p.table);
  ASSERT_EQ(p.errors.messages().size(), 1u);
  EXPECT_EQ(p.errors.messages()[0].rfind("test.conf:2:", 0), 0u) << p.errors.messages()[0];
}
