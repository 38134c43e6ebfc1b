// The SQLite ledger: state transitions, migrations from the v1 schema,
// refusal of corrupt/newer databases, and durability under SIGKILL.
#include "ledger.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <string>
#include <thread>

using namespace segbridge;
using namespace segbridge::shim;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/shim-ledger-XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

MacAddress mac(int i) {
  return MacAddress(MacAddress::Bytes{0x52, 0x54, 0x00, static_cast<std::uint8_t>(i >> 16),
                                      static_cast<std::uint8_t>(i >> 8), static_cast<std::uint8_t>(i)});
}

LedgerEntry entry(int i, std::int64_t t = 1000) {
  LedgerEntry e;
  e.mac = mac(i);
  e.first_seen_ms = e.last_seen_ms = t;
  e.seen_count = 1;
  e.port = "sb-siteA";
  e.site = "siteA";
  e.vendor_class = "PXEClient:Arch:00007";
  e.arch = "x64-efi";
  return e;
}

void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::string integrity(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  std::string out;
  while (sqlite3_step(st) == SQLITE_ROW) out += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST(Ledger, CreatesCurrentSchemaInWalMode) {
  TempDir d;
  Ledger l(d.file("l.db"));
  EXPECT_EQ(l.schema_version(), Ledger::kSchemaVersion);
  EXPECT_TRUE(fs::exists(d.file("l.db-wal")));
}

TEST(Ledger, CreatesItsDirectory) {
  TempDir d;
  Ledger l(d.file("var/lib/shim/l.db"));
  EXPECT_TRUE(fs::exists(d.file("var/lib/shim/l.db")));
}

TEST(Ledger, LifecycleDiscoveredAnnouncedRegistered) {
  TempDir d;
  Ledger l(d.file("l.db"));
  l.begin();
  l.insert(entry(1));
  l.commit();
  auto e = l.find(mac(1));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, MacState::discovered);
  EXPECT_EQ(e->site, "siteA");
  EXPECT_EQ(l.pending_count(), 1);

  LedgerEntry again = entry(1, 5000);
  again.vendor_class = "";  // a REQUEST without option 60 keeps the old value
  again.hostname = "node1";
  l.record_sighting(again);
  e = l.find(mac(1));
  EXPECT_EQ(e->seen_count, 2);
  EXPECT_EQ(e->last_seen_ms, 5000);
  EXPECT_EQ(e->first_seen_ms, 1000);
  EXPECT_EQ(e->vendor_class, "PXEClient:Arch:00007");
  EXPECT_EQ(e->hostname, "node1");

  l.mark_announced(mac(1), 6000);
  l.mark_announced(mac(1), 7000);
  e = l.find(mac(1));
  EXPECT_EQ(e->state, MacState::announced);
  EXPECT_EQ(e->announce_count, 2);
  EXPECT_EQ(e->last_announce_ms, 7000);
  EXPECT_TRUE(e->pending());

  l.mark_registered(mac(1), 8000, "compute-0-0");
  e = l.find(mac(1));
  EXPECT_EQ(e->state, MacState::registered);
  EXPECT_EQ(e->registered_ms, 8000);
  EXPECT_EQ(e->registered_host, "compute-0-0");
  l.mark_registered(mac(1), 8500);  // the registered check does not know the host: keep it
  EXPECT_EQ(l.find(mac(1))->registered_host, "compute-0-0");
  EXPECT_EQ(l.pending_count(), 0);
  // A late announcement does not drag a registered MAC back.
  l.mark_announced(mac(1), 9000);
  EXPECT_EQ(l.find(mac(1))->state, MacState::registered);

  l.requeue(mac(1));
  EXPECT_EQ(l.find(mac(1))->state, MacState::discovered);
  EXPECT_TRUE(l.forget(mac(1)));
  EXPECT_FALSE(l.forget(mac(1)));
  EXPECT_FALSE(l.find(mac(1)));
}

TEST(Ledger, IgnoredWithReason) {
  TempDir d;
  Ledger l(d.file("l.db"));
  LedgerEntry e = entry(2);
  e.state = MacState::ignored;
  e.ignore_reason = "local";
  l.insert(e);
  EXPECT_EQ(l.pending_count(), 0);
  EXPECT_EQ(l.find(mac(2))->ignore_reason, "local");
  l.set_state(mac(2), MacState::discovered);
  EXPECT_EQ(l.pending().size(), 1u);
  EXPECT_EQ(l.find(mac(2))->ignore_reason, "");
}

TEST(Ledger, RollbackLosesUncommitted) {
  TempDir d;
  Ledger l(d.file("l.db"));
  l.begin();
  l.insert(entry(3));
  l.rollback();
  EXPECT_FALSE(l.find(mac(3)));
}

TEST(Ledger, Counters) {
  TempDir d;
  Ledger l(d.file("l.db"));
  l.save_counters({{"a", 1}, {"b", 2}}, 1);
  l.save_counters({{"a", 5}}, 2);
  auto c = l.counters();
  EXPECT_EQ(c["a"], 5u);
  EXPECT_EQ(c["b"], 2u);
}

TEST(Ledger, ExistingModeRequiresTheFile) {
  TempDir d;
  try {
    Ledger l(d.file("missing.db"), Ledger::Mode::existing);
    FAIL() << "opened a missing ledger";
  } catch (const LedgerError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.db"), std::string::npos);
  }
  EXPECT_FALSE(fs::exists(d.file("missing.db")));
}

// The v1 schema exactly as the first release created it.
TEST(LedgerMigration, V1DatabaseIsUpgradedKeepingRows) {
  TempDir d;
  const std::string path = d.file("v1.db");
  raw_exec(path,
           "PRAGMA journal_mode=WAL;"
           "CREATE TABLE macs (mac TEXT PRIMARY KEY NOT NULL, first_seen INTEGER NOT NULL, "
           "last_seen INTEGER NOT NULL, seen_count INTEGER NOT NULL DEFAULT 1, port TEXT NOT NULL DEFAULT '', "
           "site TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'discovered');"
           "INSERT INTO macs VALUES ('52:54:00:00:00:01', 10, 20, 3, 'sb-siteA', 'siteA', 'announced');"
           "INSERT INTO macs VALUES ('52:54:00:00:00:02', 11, 21, 1, 'eth1', 'local', 'discovered');"
           "PRAGMA user_version=1;");
  Ledger l(path);
  EXPECT_EQ(l.schema_version(), Ledger::kSchemaVersion);
  auto a = l.find(mac(1));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->state, MacState::announced);
  EXPECT_EQ(a->seen_count, 3);
  EXPECT_EQ(a->site, "siteA");
  EXPECT_EQ(a->announce_count, 1);  // v1 did announce it once
  EXPECT_EQ(a->vendor_class, "");
  auto b = l.find(mac(2));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->announce_count, 0);
  // And the new columns work.
  l.mark_announced(mac(2), 99);
  EXPECT_EQ(l.find(mac(2))->announce_count, 1);
  l.mark_registered(mac(2), 100, "compute-0-1");
  EXPECT_EQ(l.find(mac(2))->registered_host, "compute-0-1");
  l.save_counters({{"x", 1}}, 1);
  EXPECT_EQ(integrity(path), "ok");
}

// A v2 database (the second release) gains registered_host.
TEST(LedgerMigration, V2DatabaseIsUpgraded) {
  TempDir d;
  const std::string path = d.file("v2.db");
  raw_exec(path,
           "CREATE TABLE macs (mac TEXT PRIMARY KEY NOT NULL, first_seen INTEGER NOT NULL, "
           "last_seen INTEGER NOT NULL, seen_count INTEGER NOT NULL DEFAULT 1, port TEXT NOT NULL DEFAULT '', "
           "site TEXT NOT NULL DEFAULT '', state TEXT NOT NULL DEFAULT 'discovered', "
           "vendor_class TEXT NOT NULL DEFAULT '', arch TEXT NOT NULL DEFAULT '', uuid TEXT NOT NULL DEFAULT '', "
           "hostname TEXT NOT NULL DEFAULT '', ignore_reason TEXT NOT NULL DEFAULT '', "
           "announce_count INTEGER NOT NULL DEFAULT 0, last_announce INTEGER NOT NULL DEFAULT 0, "
           "registered_at INTEGER NOT NULL DEFAULT 0);"
           "CREATE INDEX macs_state ON macs(state);"
           "CREATE TABLE counters (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL, updated INTEGER NOT NULL);"
           "INSERT INTO macs (mac, first_seen, last_seen, state, site, announce_count, registered_at) "
           "VALUES ('52:54:00:00:00:03', 1, 2, 'registered', 'siteB', 4, 3);"
           "INSERT INTO counters VALUES ('frames_accepted', 7, 1);"
           "PRAGMA user_version=2;");
  Ledger l(path);
  EXPECT_EQ(l.schema_version(), 3);
  auto e = l.find(mac(3));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->state, MacState::registered);
  EXPECT_EQ(e->announce_count, 4);
  EXPECT_EQ(e->registered_host, "");
  EXPECT_EQ(l.counters()["frames_accepted"], 7u);
  EXPECT_EQ(integrity(path), "ok");
}

TEST(LedgerMigration, NewerSchemaIsRefused) {
  TempDir d;
  const std::string path = d.file("future.db");
  raw_exec(path, "CREATE TABLE macs(mac TEXT); PRAGMA user_version=99;");
  try {
    Ledger l(path);
    FAIL() << "accepted a newer schema";
  } catch (const LedgerError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST(LedgerCorruption, GarbageFileGivesClearErrorAndIsNotTouched) {
  TempDir d;
  const std::string path = d.file("junk.db");
  {
    std::ofstream f(path, std::ios::binary);
    for (int i = 0; i < 8192; ++i) f.put(static_cast<char>(i * 7));
  }
  const auto size = fs::file_size(path);
  try {
    Ledger l(path);
    FAIL() << "opened garbage";
  } catch (const LedgerError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("junk.db"), std::string::npos) << m;
    EXPECT_TRUE(m.find("not a database") != std::string::npos || m.find("corrupt") != std::string::npos) << m;
  }
  EXPECT_EQ(fs::file_size(path), size);
}

TEST(LedgerCorruption, DamagedPagesDetected) {
  TempDir d;
  const std::string path = d.file("dmg.db");
  {
    Ledger l(path);
    l.begin();
    for (int i = 0; i < 400; ++i) l.insert(entry(i));
    l.commit();
  }
  // Fold the WAL into the main file, then smash the table's b-tree pages
  // (page 1, the schema, stays intact so the file still looks like SQLite).
  raw_exec(path, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;");
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4096);
    for (int i = 0; i < 4096 * 5; ++i) f.put(static_cast<char>(0xa5));
  }
  try {
    Ledger l(path);
    FAIL() << "opened a damaged ledger";
  } catch (const LedgerError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
  }
}

// A child writes committed rows and reports each commit through a pipe; the
// parent SIGKILLs it at a random moment, then checks the file: integrity_check
// ok and every acknowledged row present. Repeated at many kill points.
TEST(LedgerCrash, SigkillNeverLosesACommittedRow) {
  TempDir d;
  std::mt19937 rng(12345);
  for (int round = 0; round < 12; ++round) {
    const std::string path = d.file("crash" + std::to_string(round) + ".db");
    { Ledger create(path); }
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      try {
        Ledger l(path);
        for (int i = 0;; ++i) {
          l.begin();
          l.insert(entry(i));
          if (i > 0) l.mark_announced(mac(i - 1), i);
          l.commit();
          std::int32_t n = i;
          if (::write(fds[1], &n, sizeof n) != sizeof n) _exit(3);
        }
      } catch (...) {
        _exit(2);
      }
    }
    ::close(fds[1]);
    // Wait for the first commit (slow under sanitizers), then kill at a
    // random point of the write loop.
    std::int32_t last = -1, n;
    if (::read(fds[0], &n, sizeof n) == sizeof n) last = n;
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 150000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << status;
    while (::read(fds[0], &n, sizeof n) == sizeof n) last = n;
    ::close(fds[0]);
    ASSERT_GE(last, 0) << "child committed nothing before the kill";

    EXPECT_EQ(integrity(path), "ok");
    Ledger l(path);
    for (int i = 0; i <= last; ++i) {
      auto e = l.find(mac(i));
      ASSERT_TRUE(e) << "round " << round << ": committed row " << i << " of " << last << " lost";
      if (i < last) {
        EXPECT_EQ(e->state, MacState::announced);
      }
    }
  }
}
