#include <catch2/catch.hpp>

#include "segmentation_store.h"
#include "refused_field.h"

namespace {

using namespace tel::analytics;


v1::CategoryRule rule() {
  v1::CategoryRule out;
  out.set_category_id("0b6c3f0e-3f5b-4c1e-9a55-3c1f1d3e2a10");
  return out;
}

}  // namespace

TEST_CASE("categories: a printable name and a value that is not negative") {
  v1::CreateCategoryRequest category;
  category.set_name("coat sold");
  category.set_value(250.5);
  CHECK(checkCategory(category).ok());
  category.set_value(-1);
  CHECK(refusedField(checkCategory(category)) == "value");
  category.set_value(std::numeric_limits<double>::quiet_NaN());
  CHECK(refusedField(checkCategory(category)) == "value");
  category.set_value(0);
  category.set_name("");
  CHECK(refusedField(checkCategory(category)) == "name");
  category.set_name("spam\n");
  CHECK(refusedField(checkCategory(category)) == "name");
}

TEST_CASE("rules: each condition is checked") {
  CHECK(checkRule(rule()).ok());
  auto bad_direction = rule();
  bad_direction.set_direction("sideways");
  CHECK(refusedField(checkRule(bad_direction)) == "direction");
  auto bad_number = rule();
  bad_number.set_number("0441234567");
  CHECK(refusedField(checkRule(bad_number)) == "number");
  auto crossed = rule();
  crossed.set_min_talk_seconds(60);
  crossed.set_max_talk_seconds(30);
  CHECK(refusedField(checkRule(crossed)) == "max_talk_seconds");
  auto no_category = rule();
  no_category.set_category_id("spam");
  CHECK(refusedField(checkRule(no_category)) == "category_id");
  auto position = rule();
  position.set_position(-1);
  CHECK(refusedField(checkRule(position)) == "position");
  auto menu_choice = rule();
  menu_choice.set_menu("main-menu_2");
  menu_choice.set_menu_key("*1#");
  CHECK(checkRule(menu_choice).ok());
  auto menu_alone = menu_choice;
  menu_alone.clear_menu_key();
  CHECK(refusedField(checkRule(menu_alone)) == "menu_key");
  auto key_alone = menu_choice;
  key_alone.clear_menu();
  CHECK(refusedField(checkRule(key_alone)) == "menu");
  auto bad_key = menu_choice;
  bad_key.set_menu_key("123456789");
  CHECK(refusedField(checkRule(bad_key)) == "menu_key");
  auto bad_node = menu_choice;
  bad_node.set_menu("main'--");
  CHECK(refusedField(checkRule(bad_node)) == "menu");
}
