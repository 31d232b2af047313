#include "storage/sqlite.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace kubes::storage {
namespace {

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubes-storage-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/state.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<SqliteStorage> Open() {
    auto s = SqliteStorage::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
  std::string dir_, path_;
};

TEST_F(SqliteTest, CreateGetUpdateDelete) {
  auto s = Open();
  auto r1 = s->Create("/a/1", "one");
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(*r1, 1);
  EXPECT_EQ(s->Create("/a/1", "again").status().code(), Code::kAlreadyExists);
  auto got = s->Get("/a/1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->value, "one");
  EXPECT_EQ(got->mod_revision, 1);

  EXPECT_EQ(s->Update("/a/1", "two", 7).status().code(), Code::kConflict);
  auto r2 = s->Update("/a/1", "two", 1);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(*r2, 2);
  EXPECT_EQ(s->Get("/a/1")->create_revision, 1);
  EXPECT_EQ(s->Update("/missing", "x", 0).status().code(), Code::kNotFound);

  EXPECT_EQ(s->Delete("/a/1", 1).status().code(), Code::kConflict);
  ASSERT_TRUE(s->Delete("/a/1", 2).ok());
  EXPECT_EQ(s->Get("/a/1").status().code(), Code::kNotFound);
  EXPECT_EQ(s->CurrentRevision(), 3);
}

TEST_F(SqliteTest, ListByPrefixIsSortedAndExcludesOthers) {
  auto s = Open();
  ASSERT_TRUE(s->Create("/pods/b", "b").ok());
  ASSERT_TRUE(s->Create("/pods/a", "a").ok());
  ASSERT_TRUE(s->Create("/podsx/c", "c").ok());
  ASSERT_TRUE(s->Create("/pod", "d").ok());
  auto l = s->List("/pods/");
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->items.size(), 2u);
  EXPECT_EQ(l->items[0].key, "/pods/a");
  EXPECT_EQ(l->items[1].key, "/pods/b");
  EXPECT_EQ(l->revision, 4);
}

TEST_F(SqliteTest, ObserverSeesEveryWriteInOrder) {
  auto s = Open();
  std::vector<std::string> seen;
  s->SetObserver([&](const Event& e) {
    seen.push_back(std::string(e.type == Event::Type::kDelete ? "D" : e.created ? "C" : "U") + ":" + e.kv.key + "@" +
                   std::to_string(e.kv.mod_revision) + "=" + e.kv.value);
  });
  ASSERT_TRUE(s->Create("/k", "v1").ok());
  ASSERT_TRUE(s->Update("/k", "v2", 0).ok());
  ASSERT_TRUE(s->Delete("/k", 0).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"C:/k@1=v1", "U:/k@2=v2", "D:/k@3=v2"}));
}

TEST_F(SqliteTest, EventsSinceAndCompaction) {
  auto s = Open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(s->Create("/k/" + std::to_string(i), "v").ok());
  ASSERT_TRUE(s->Delete("/k/0", 0).ok());  // rev 6
  auto ev = s->EventsSince(3);
  ASSERT_TRUE(ev.ok());
  ASSERT_EQ(ev->size(), 3u);
  EXPECT_EQ((*ev)[0].kv.mod_revision, 4);
  EXPECT_EQ((*ev)[2].type, Event::Type::kDelete);

  ASSERT_TRUE(s->Compact(4).ok());
  EXPECT_EQ(s->EventsSince(2).status().code(), Code::kExpired);
  auto after = s->EventsSince(4);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), 2u);
  // Live keys keep their values after compaction.
  EXPECT_EQ(s->Get("/k/1")->value, "v");
  EXPECT_EQ(s->List("/k/")->items.size(), 4u);
}

TEST_F(SqliteTest, RevisionSurvivesReopenEvenWhenNewestRowWasCompacted) {
  {
    auto s = Open();
    ASSERT_TRUE(s->Create("/k", "v").ok());
    ASSERT_TRUE(s->Delete("/k", 0).ok());
    ASSERT_TRUE(s->Compact(2).ok());
  }
  auto s = Open();
  EXPECT_EQ(s->CurrentRevision(), 2);
  EXPECT_EQ(*s->Create("/k", "again"), 3);
}

TEST_F(SqliteTest, CompactionKeepsDiskBounded) {
  auto s = Open();
  std::string value(4096, 'x');
  ASSERT_TRUE(s->Create("/big", value).ok());
  for (int i = 0; i < 2000; ++i) ASSERT_TRUE(s->Update("/big", value, 0).ok());
  int64_t before = s->DiskSize();
  ASSERT_TRUE(s->Compact(s->CurrentRevision()).ok());
  int64_t after = s->DiskSize();
  EXPECT_LT(after, before / 4) << "before " << before << " after " << after;
  EXPECT_LT(after, 1 << 20);
}

// Every write acknowledged before kill -9 is there after reopening.
TEST_F(SqliteTest, AcknowledgedWritesSurviveKill9) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    auto s = SqliteStorage::Open(path_);
    if (!s.ok()) _exit(1);
    for (int i = 0;; ++i) {
      if (!(*s)->Create("/k/" + std::to_string(i), "v").ok()) _exit(2);
      if (write(fds[1], &i, sizeof i) != sizeof i) _exit(3);  // acknowledge
    }
  }
  close(fds[1]);
  int last = -1, v;
  while (last < 300 && read(fds[0], &v, sizeof v) == sizeof v) last = v;
  kill(pid, SIGKILL);
  while (read(fds[0], &v, sizeof v) == sizeof v) last = v;  // acks written before the kill
  close(fds[0]);
  int status;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  auto s = Open();
  for (int i = 0; i <= last; ++i) ASSERT_TRUE(s->Get("/k/" + std::to_string(i)).ok()) << i;
  EXPECT_GE(s->CurrentRevision(), last + 1);
}

}  // namespace
}  // namespace kubes::storage
