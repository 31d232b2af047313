#include "controller/nodeipam/nodeipam_controller.h"

#include <gtest/gtest.h>

namespace kubes::controller {
namespace {

TEST(NodeIPAMTest, BlocksOfTheClusterRange) {
  EXPECT_EQ(NodeIPAMController::Block("10.42.0.0/16", 0), "10.42.0.0/24");
  EXPECT_EQ(NodeIPAMController::Block("10.42.0.0/16", 3), "10.42.3.0/24");
  EXPECT_EQ(NodeIPAMController::Block("10.42.0.0/16", 255), "10.42.255.0/24");
  EXPECT_EQ(NodeIPAMController::Block("10.42.0.0/16", 256), "") << "past the end";
  EXPECT_EQ(NodeIPAMController::Block("10.42.0.0/16", 1, 23), "10.42.2.0/23");
  EXPECT_EQ(NodeIPAMController::Block("10.42.0.0/16", 1, 22), "10.42.4.0/22");
  EXPECT_EQ(NodeIPAMController::Block("10.42.0.0/24", 0, 24), "10.42.0.0/24");
  EXPECT_EQ(NodeIPAMController::Block("10.42.0.0/24", 1, 24), "");
  EXPECT_EQ(NodeIPAMController::Block("fd42::/56", 0), "fd42::/64");
  EXPECT_EQ(NodeIPAMController::Block("fd42::/56", 5), "fd42:0:0:5::/64");
}

}  // namespace
}  // namespace kubes::controller
