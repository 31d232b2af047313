// Shared by the printer tests: a fixed clock and a way to print one object.
#pragma once

#include <gtest/gtest.h>

#include "apiserver/printers/printers.h"

namespace kubes::apiserver::testing {

// Every test object's timestamps are written relative to this instant.
inline TimePoint Now() { return *ParseRFC3339("2024-06-01T12:00:00Z"); }

// The cells of obj as the printer for group/kind prints them at Now().
inline Json Row(const std::string& group, const std::string& kind, const Json& obj) {
  const TablePrinter* p = FindPrinter(group, kind);
  if (p == nullptr) {
    ADD_FAILURE() << "no printer for " << group << "/" << kind;
    return Json::array();
  }
  Json row = p->row(obj, Now());
  EXPECT_EQ(row.size(), p->columns.size()) << group << "/" << kind << ": one cell per column";
  return row;
}

}  // namespace kubes::apiserver::testing
