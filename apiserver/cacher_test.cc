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
  EXPECT_EQ(Parsed(seen[0].prev)->object["v"], 1);
  EXPECT_EQ(seen[1].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(Parsed(seen[1].object)->object["metadata"]["resourceVersion"], "4");
}

// Only current objects stay parsed; the history keeps superseded and deleted versions
// as text, which Parsed() turns back into the same objects.
TEST_F(CacherTest, SupersededVersionsAreKeptAsTextOnly) {
  ASSERT_TRUE(cacher_->Create("/r/a", Obj("a", 1)).ok());
  auto updated = cacher_->Update("/r/a", Obj("a", 2), 0);
  ASSERT_TRUE(updated.ok());
  EXPECT_TRUE((*updated)->parsed());
  auto deleted = cacher_->Delete("/r/a", 0);
  ASSERT_TRUE(deleted.ok());
  ASSERT_TRUE((*deleted)->parsed()) << "writes hand back parsed objects";
  EXPECT_EQ((*deleted)->object["v"], 2);
  EXPECT_EQ((*deleted)->object["metadata"]["resourceVersion"], "3");
  ASSERT_TRUE(cacher_->Create("/r/b", Obj("b", 1)).ok());

  auto w = cacher_->Watch("/r/", 1);  // everything after the first create
  ASSERT_TRUE(w.ok());
  auto events = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  struct Want {
    WatchEvent::Type type;
    bool parsed;  // the version is still current
    int v;
    std::string rv;
    bool has_prev;
  };
  const Want want[] = {
      {WatchEvent::Type::kModified, false, 2, "2", true},  // superseded by the deletion
      {WatchEvent::Type::kDeleted, false, 2, "3", true},
      {WatchEvent::Type::kAdded, true, 1, "4", false},
  };
  for (size_t i = 0; i < 3; ++i) {
    const WatchEvent& ev = (*events)[i];
    SCOPED_TRACE(i);
    EXPECT_EQ(ev.type, want[i].type);
    EXPECT_EQ(ev.object->parsed(), want[i].parsed);
    ObjectPtr full = Parsed(ev.object);
    ASSERT_TRUE(full->parsed());
    EXPECT_EQ(full->object["v"], want[i].v);
    EXPECT_EQ(full->object["metadata"]["resourceVersion"], want[i].rv);
    EXPECT_EQ(full->json, ev.object->json);
    EXPECT_EQ(full->metadata_json, full->object["metadata"].dump());
    ASSERT_EQ(ev.prev != nullptr, want[i].has_prev);
    if (ev.prev) {
      EXPECT_FALSE(ev.prev->parsed());
    }
  }
  EXPECT_EQ(Parsed((*events)[0].prev)->object["v"], 1);
  EXPECT_EQ(Parsed((*events)[1].prev)->object["metadata"]["resourceVersion"], "2");
  // Reads never see text-only objects.
  auto got = cacher_->Get("/r/b");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE((*got)->parsed());
  EXPECT_EQ(Parsed(nullptr), nullptr);
}

// Kinds kept as text: reads still hand out parsed objects, parsed when read; the cache
// itself (seen through a watch's synthetic ADDED events) holds only their text.
TEST_F(CacherTest, TextOnlyPrefixesAreParsedWhenRead) {
  cacher_.reset();
  cacher_ = std::make_unique<Cacher>(store_.get(), 100, std::vector<std::string>{"/ev/"});
  ASSERT_TRUE(cacher_->Init().ok());
  auto created = cacher_->Create("/ev/a", Obj("a", 1));
  ASSERT_TRUE(created.ok());
  EXPECT_TRUE((*created)->parsed());
  ASSERT_TRUE(cacher_->Create("/r/b", Obj("b", 1)).ok());
  auto updated = cacher_->Update("/ev/a", Obj("a", 2), 0);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)->object["v"], 2);

  auto got = cacher_->Get("/ev/a");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE((*got)->parsed());
  EXPECT_EQ((*got)->object["metadata"]["resourceVersion"], "3");
  EXPECT_EQ((*got)->metadata_json, (*got)->object["metadata"].dump());
  int64_t rev = 0;
  for (const ObjectPtr& o : cacher_->List("/", &rev)) EXPECT_TRUE(o->parsed()) << o->key;
  EXPECT_EQ(rev, 3);

  auto w = cacher_->Watch("/", 0);
  ASSERT_TRUE(w.ok());
  auto initial = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(initial.ok());
  ASSERT_EQ(initial->size(), 2u);
  EXPECT_FALSE((*initial)[0].object->parsed()) << "/ev/a is kept as text";
  EXPECT_TRUE((*initial)[1].object->parsed()) << "/r/b is kept parsed";
  EXPECT_EQ(Parsed((*initial)[0].object)->object["v"], 2);

  auto deleted = cacher_->Delete("/ev/a", 0);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ((*deleted)->object["v"], 2);
  EXPECT_EQ((*deleted)->object["metadata"]["resourceVersion"], "4");
  auto events = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, WatchEvent::Type::kDeleted);
  EXPECT_EQ(Parsed((*events)[0].prev)->object["metadata"]["resourceVersion"], "3");

  // After a restart the same holds for what is loaded from the store.
  ASSERT_TRUE(cacher_->Create("/ev/c", Obj("c", 1)).ok());
  w->reset();  // a watcher must not outlive its cacher
  cacher_.reset();
  cacher_ = std::make_unique<Cacher>(store_.get(), 100, std::vector<std::string>{"/ev/"});
  ASSERT_TRUE(cacher_->Init().ok());
  auto c = cacher_->Get("/ev/c");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE((*c)->parsed());
  EXPECT_EQ((*c)->object["v"], 1);
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

// Current objects are parsed without managedFields; their text, Get (what writes
// read) and a deletion's last state keep them.
TEST_F(CacherTest, ParsedCurrentObjectsAreLeanGetIsWhole) {
  Json obj = Obj("a", 1);
  obj["metadata"]["managedFields"] = Json::array({{{"manager", "kubectl"}, {"operation", "Update"}}});
  ASSERT_TRUE(cacher_->Create("/r/a", obj).ok());
  std::vector<ObjectPtr> listed = cacher_->List("/r/", nullptr);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_TRUE(listed[0]->lean);
  EXPECT_FALSE(listed[0]->object["metadata"].contains("managedFields"));
  EXPECT_EQ(Json::parse(listed[0]->json)["metadata"]["managedFields"][0]["manager"], "kubectl");
  EXPECT_EQ(Json::parse(listed[0]->metadata_json)["managedFields"][0]["manager"], "kubectl");
  auto got = cacher_->Get("/r/a");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->object["metadata"]["managedFields"][0]["manager"], "kubectl");
  EXPECT_EQ((*got)->object["v"], 1);
  auto w = cacher_->Watch("/r/", 1);
  ASSERT_TRUE(w.ok());
  auto gone = cacher_->Delete("/r/a", 0);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ((*gone)->object["metadata"]["managedFields"][0]["manager"], "kubectl");
  auto ev = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  EXPECT_EQ(Json::parse((*ev)[0].object->json)["metadata"]["managedFields"][0]["manager"], "kubectl");
}

// Beyond the minimum number of entries, history older than the fresh window goes as
// the next write comes in; a watch from before it must list again.
TEST_F(CacherTest, FreshWindowDropsOldHistoryBeyondTheMinimum) {
  cacher_ = std::make_unique<Cacher>(store_.get(), 100);
  cacher_->SetFreshWindow(2, std::chrono::milliseconds(50));
  ASSERT_TRUE(cacher_->Init().ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(cacher_->Create("/r/" + std::to_string(i), Obj("x", i)).ok());
  EXPECT_TRUE(cacher_->Watch("/r/", 1).ok()) << "young enough: all of it is kept";
  std::this_thread::sleep_for(std::chrono::milliseconds(60));  // the window is what is tested
  ASSERT_TRUE(cacher_->Create("/r/4", Obj("x", 4)).ok());       // revision 5: trims what is stale
  EXPECT_EQ(cacher_->Watch("/r/", 1).status().code(), Code::kExpired);
  EXPECT_EQ(cacher_->Watch("/r/", 2).status().code(), Code::kExpired);
  auto w = cacher_->Watch("/r/", 3);  // the two newest entries (4 and 5) stay
  ASSERT_TRUE(w.ok());
  auto ev = (*w)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->size(), 2u);
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
  auto from_one = cacher_->Watch("/r/", 1);  // history survives a restart
  ASSERT_TRUE(from_one.ok());
  auto ev = (*from_one)->Next(std::chrono::milliseconds(10));
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 1u);
  // The history's current version is the very object reads return.
  EXPECT_EQ((*ev)[0].object, *got);
}

}  // namespace
}  // namespace kubes::apiserver
