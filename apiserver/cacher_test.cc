#include "apiserver/cacher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "storage/sqlite.h"

namespace kubes::apiserver {
namespace {

class CacherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubes-cacher-XXXXXX";
    dir_ = mkdtemp(tmpl);
    store_ = std::move(storage::SqliteStorage::Open(dir_ + "/db").value());
    cacher_ = std::make_unique<Cacher>(store_.get(), 100);
    ASSERT_TRUE(cacher_->Init().ok());
  }
  void TearDown() override {
    cacher_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  Json Obj(const std::string& name, int v) { return {{"metadata", {{"name", name}}}, {"v", v}}; }
  std::string dir_;
  std::unique_ptr<storage::SqliteStorage> store_;
  std::unique_ptr<Cacher> cacher_;
};

TEST_F(CacherTest, WritesAreReadableAtOnceWithTheirRevision) {
  auto created = cacher_->Create("/r/a", Obj("a", 1));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)->object["metadata"]["resourceVersion"], "1");
  auto got = cacher_->Get("/r/a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->json, (*created)->json);
  EXPECT_EQ(cacher_->Update("/r/a", Obj("a", 2), 99).status().code(), Code::kConflict);
  ASSERT_TRUE(cacher_->Update("/r/a", Obj("a", 2), 1).ok());
  int64_t rev;
  auto list = cacher_->List("/r/", &rev);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]->object["v"], 2);
  EXPECT_EQ(rev, 2);
}

TEST_F(CacherTest, WatchFromZeroStartsWithCurrentStateThenFollows) {
  ASSERT_TRUE(cacher_->Create("/r/a", Obj("a", 1)).ok());
  ASSERT_TRUE(cacher_->Create("/other/x", Obj("x", 1)).ok());
  auto w = cacher_->Watch("/r/", 0);
  ASSERT_TRUE(w.ok());
  auto first = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].type, WatchEvent::Type::kAdded);
  std::thread writer([&] {
    ASSERT_TRUE(cacher_->Update("/r/a", Obj("a", 2), 0).ok());
    ASSERT_TRUE(cacher_->Delete("/r/a", 0).ok());
  });
  std::vector<WatchEvent> seen;
  while (seen.size() < 2) {
    auto ev = (*w)->Next(std::chrono::seconds(5));
    ASSERT_TRUE(ev.ok());
    ASSERT_FALSE(ev->empty()) << "no event within 5s";
    seen.insert(seen.end(), ev->begin(), ev->end());
  }
  writer.join();
  EXPECT_EQ(seen[0].type, WatchEvent::Type::kModified);
  EXPECT_EQ(seen[0].prev->object["v"], 1);
  EXPECT_EQ(seen[1].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(seen[1].object->object["metadata"]["resourceVersion"], "4");
}

TEST_F(CacherTest, ResumeFromRevisionAndExpiry) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(cacher_->Create("/r/" + std::to_string(i), Obj("x", i)).ok());
  auto w = cacher_->Watch("/r/", 3);
  ASSERT_TRUE(w.ok());
  auto ev = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 2u);  // revisions 4 and 5
  ASSERT_TRUE(cacher_->Compact(4).ok());
  EXPECT_EQ(cacher_->Watch("/r/", 2).status().code(), Code::kExpired);
  EXPECT_TRUE(cacher_->Watch("/r/", 4).ok());
}

TEST_F(CacherTest, RestartServesSameObjectsAndRevisions) {
  ASSERT_TRUE(cacher_->Create("/r/a", Obj("a", 1)).ok());
  ASSERT_TRUE(cacher_->Update("/r/a", Obj("a", 2), 0).ok());
  cacher_.reset();
  store_.reset();
  store_ = std::move(storage::SqliteStorage::Open(dir_ + "/db").value());
  cacher_ = std::make_unique<Cacher>(store_.get(), 100);
  ASSERT_TRUE(cacher_->Init().ok());
  auto got = cacher_->Get("/r/a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->object["metadata"]["resourceVersion"], "2");
  EXPECT_EQ(cacher_->Revision(), 2);
  auto w = cacher_->Watch("/r/", 1);  // history survives a restart
  ASSERT_TRUE(w.ok());
  auto ev = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->size(), 1u);
}

}  // namespace
}  // namespace kubes::apiserver
