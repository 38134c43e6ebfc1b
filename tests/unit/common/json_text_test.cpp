#include "segbridge/json_text.hpp"

#include <gtest/gtest.h>

TEST(JsonText, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(segbridge::json_escape("plain sb-site1 52:54:00:ab:cd:ef"), "plain sb-site1 52:54:00:ab:cd:ef");
  EXPECT_EQ(segbridge::json_escape("a\"b\\c\n\t\r\x01\x1f"), "a\\\"b\\\\c\\n\\t\\r\\u0001\\u001f");
  EXPECT_EQ(segbridge::json_quote("x\"y"), "\"x\\\"y\"");
  EXPECT_EQ(segbridge::json_quote(""), "\"\"");
  // Bytes >= 0x80 pass through (UTF-8 stays UTF-8).
  EXPECT_EQ(segbridge::json_escape("caf\xc3\xa9"), "caf\xc3\xa9");
}
