#include "ledger.hpp"

#include <sqlite3.h>

#include <array>
#include <filesystem>
#include <system_error>

namespace segbridge::shim {
namespace {

// Schema history. Entry i upgrades user_version i to i+1. Never edit a
// shipped entry: databases in the field were created by it.
const std::array<const char*, Ledger::kSchemaVersion> kMigrations = {
    // v1: the first release.
    "CREATE TABLE macs ("
    "  mac TEXT PRIMARY KEY NOT NULL,"
    "  first_seen INTEGER NOT NULL,"
    "  last_seen INTEGER NOT NULL,"
    "  seen_count INTEGER NOT NULL DEFAULT 1,"
    "  port TEXT NOT NULL DEFAULT '',"
    "  site TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL DEFAULT 'discovered');",
    // v2: PXE facts, announcement tracking, persisted counters.
    "ALTER TABLE macs ADD COLUMN vendor_class TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE macs ADD COLUMN arch TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE macs ADD COLUMN uuid TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE macs ADD COLUMN hostname TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE macs ADD COLUMN ignore_reason TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE macs ADD COLUMN announce_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE macs ADD COLUMN last_announce INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE macs ADD COLUMN registered_at INTEGER NOT NULL DEFAULT 0;"
    // v1 announced without counting: record that it happened at least once.
    "UPDATE macs SET announce_count = 1 WHERE state IN ('announced', 'registered');"
    "CREATE INDEX macs_state ON macs(state);"
    "CREATE TABLE counters ("
    "  name TEXT PRIMARY KEY NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  updated INTEGER NOT NULL);",
    // v3: the Rocks host name a MAC was registered as (rocks-plugin tells us).
    "ALTER TABLE macs ADD COLUMN registered_host TEXT NOT NULL DEFAULT '';",
};

const char* kColumns =
    "mac, first_seen, last_seen, seen_count, port, site, vendor_class, arch, uuid, hostname, state, "
    "ignore_reason, announce_count, last_announce, registered_at, registered_host";

bool is_corruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

}  // namespace

const char* mac_state_name(MacState s) {
  switch (s) {
    case MacState::discovered:
      return "discovered";
    case MacState::announced:
      return "announced";
    case MacState::registered:
      return "registered";
    case MacState::ignored:
      return "ignored";
  }
  return "?";
}

std::optional<MacState> parse_mac_state(const std::string& s) {
  if (s == "discovered") return MacState::discovered;
  if (s == "announced") return MacState::announced;
  if (s == "registered") return MacState::registered;
  if (s == "ignored") return MacState::ignored;
  return std::nullopt;
}

Statement::Statement(sqlite3* db, const char* sql) : db_(db) {
  int rc = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = sqlite3_errmsg(db);
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    throw LedgerError(std::string(is_corruption(rc) ? "database is corrupt: " : "SQL error: ") + msg);
  }
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}

Statement& Statement::bind(int index, const std::string& v) {
  sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string msg = sqlite3_errmsg(db_);
  sqlite3_reset(stmt_);
  throw LedgerError(std::string(is_corruption(rc) ? "database is corrupt: " : "") + msg);
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::int64_t Statement::column_int(int index) {
  return sqlite3_column_int64(stmt_, index);
}

std::string Statement::column_text(int index) {
  const unsigned char* t = sqlite3_column_text(stmt_, index);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)))
           : std::string();
}

Ledger::Ledger(const std::string& path, Mode mode) : path_(path) {
  if (mode == Mode::create) {
    // /var/lib/insert-ethers-shim on first start; never world-readable.
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
      std::filesystem::create_directories(parent, ec);
      if (ec) throw LedgerError("cannot create directory '" + parent.string() + "' for the ledger: " + ec.message());
      std::filesystem::permissions(
          parent,
          std::filesystem::perms::owner_all | std::filesystem::perms::group_read | std::filesystem::perms::group_exec,
          ec);
    }
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
  if (mode == Mode::create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    if (mode == Mode::existing && (rc & 0xff) == SQLITE_CANTOPEN) {
      throw LedgerError("ledger '" + path + "' cannot be opened (" + msg +
                        "); it is created when the daemon first runs with this config");
    }
    throw LedgerError("cannot open ledger '" + path + "': " + msg);
  }
  try {
    configure();
    check_integrity();
    migrate();
  } catch (const LedgerError& e) {
    sqlite3_close(db_);
    db_ = nullptr;
    std::string msg = e.what();
    if (msg.find("corrupt") != std::string::npos && msg.find("move it aside") == std::string::npos) {
      msg +=
          ". The shim does not modify a damaged ledger: move it aside (a new one is created) or recover it "
          "with `sqlite3 FILE .recover`";
    }
    throw LedgerError("ledger '" + path + "': " + msg);
  }
}

Ledger::~Ledger() {
  if (db_) sqlite3_close(db_);
}

void Ledger::exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw LedgerError(std::string(is_corruption(rc) ? "database is corrupt: " : "") + msg);
  }
}

void Ledger::configure() {
  sqlite3_busy_timeout(db_, 5000);  // the CLI and the daemon share the file
  // Reading the header first turns "file is not a database" into a clear error.
  Statement mode(db_, "PRAGMA journal_mode=WAL");
  if (!mode.step() || mode.column_text(0) != "wal") {
    throw LedgerError("cannot switch to WAL journaling (is the file on a filesystem without shared memory?)");
  }
  // FULL: each commit is on disk (not only in the OS cache) before we announce.
  exec("PRAGMA synchronous=FULL");
  exec("PRAGMA foreign_keys=ON");
}

void Ledger::check_integrity() {
  Statement st(db_, "PRAGMA quick_check");
  std::string problems;
  while (st.step()) {
    std::string line = st.column_text(0);
    if (line == "ok") continue;
    if (!problems.empty()) problems += "; ";
    problems += line;
  }
  if (!problems.empty()) {
    throw LedgerError("database is corrupt (" + problems +
                      "). The shim does not modify a damaged ledger: move it aside (a new one is created) "
                      "or recover it with `sqlite3 FILE .recover`");
  }
}

int Ledger::schema_version() {
  Statement st(db_, "PRAGMA user_version");
  st.step();
  return static_cast<int>(st.column_int(0));
}

void Ledger::migrate() {
  int version = schema_version();
  if (version > kSchemaVersion) {
    throw LedgerError("schema version " + std::to_string(version) + " is newer than this shim understands (" +
                      std::to_string(kSchemaVersion) + "); upgrade insert-ethers-shim");
  }
  if (version < 0) throw LedgerError("invalid schema version " + std::to_string(version));
  if (version == kSchemaVersion) return;
  // All steps in one transaction: a crash mid-migration leaves the old version.
  exec("BEGIN IMMEDIATE");
  try {
    for (int v = version; v < kSchemaVersion; ++v) {
      exec(kMigrations[static_cast<std::size_t>(v)]);
    }
    exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Ledger::begin() {
  exec("BEGIN IMMEDIATE");
  in_transaction_ = true;
}

void Ledger::commit() {
  exec("COMMIT");
  in_transaction_ = false;
}

void Ledger::rollback() {
  if (!in_transaction_) return;
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  in_transaction_ = false;
}

LedgerEntry Ledger::read_row(Statement& st) {
  LedgerEntry e;
  e.mac = MacAddress::parse(st.column_text(0)).value_or(MacAddress());
  e.first_seen_ms = st.column_int(1);
  e.last_seen_ms = st.column_int(2);
  e.seen_count = st.column_int(3);
  e.port = st.column_text(4);
  e.site = st.column_text(5);
  e.vendor_class = st.column_text(6);
  e.arch = st.column_text(7);
  e.uuid = st.column_text(8);
  e.hostname = st.column_text(9);
  e.state = parse_mac_state(st.column_text(10)).value_or(MacState::ignored);
  e.ignore_reason = st.column_text(11);
  e.announce_count = st.column_int(12);
  e.last_announce_ms = st.column_int(13);
  e.registered_ms = st.column_int(14);
  e.registered_host = st.column_text(15);
  return e;
}

std::optional<LedgerEntry> Ledger::find(const MacAddress& mac) {
  Statement st(db_, (std::string("SELECT ") + kColumns + " FROM macs WHERE mac = ?").c_str());
  st.bind(1, mac.to_string());
  if (!st.step()) return std::nullopt;
  return read_row(st);
}

std::vector<LedgerEntry> Ledger::all() {
  Statement st(db_, (std::string("SELECT ") + kColumns + " FROM macs ORDER BY first_seen, mac").c_str());
  std::vector<LedgerEntry> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

std::vector<LedgerEntry> Ledger::pending() {
  Statement st(db_, (std::string("SELECT ") + kColumns +
                     " FROM macs WHERE state IN ('discovered', 'announced') ORDER BY first_seen, mac")
                        .c_str());
  std::vector<LedgerEntry> out;
  while (st.step()) out.push_back(read_row(st));
  return out;
}

std::int64_t Ledger::pending_count() {
  Statement st(db_, "SELECT COUNT(*) FROM macs WHERE state IN ('discovered', 'announced')");
  st.step();
  return st.column_int(0);
}

void Ledger::insert(const LedgerEntry& e) {
  Statement st(db_,
               "INSERT INTO macs (mac, first_seen, last_seen, seen_count, port, site, vendor_class, arch, uuid, "
               "hostname, state, ignore_reason, announce_count, last_announce, registered_at, registered_host) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, e.mac.to_string())
      .bind(2, e.first_seen_ms)
      .bind(3, e.last_seen_ms)
      .bind(4, e.seen_count)
      .bind(5, e.port)
      .bind(6, e.site)
      .bind(7, e.vendor_class)
      .bind(8, e.arch)
      .bind(9, e.uuid)
      .bind(10, e.hostname)
      .bind(11, std::string(mac_state_name(e.state)))
      .bind(12, e.ignore_reason)
      .bind(13, e.announce_count)
      .bind(14, e.last_announce_ms)
      .bind(15, e.registered_ms)
      .bind(16, e.registered_host);
  st.step();
}

void Ledger::record_sighting(const LedgerEntry& e, std::int64_t sightings) {
  // Keep earlier option values when this packet lacks them (REQUESTs often do).
  Statement st(db_,
               "UPDATE macs SET last_seen = MAX(last_seen, ?), seen_count = seen_count + ?, "
               "port = CASE WHEN ? = '' THEN port ELSE ? END, "
               "site = CASE WHEN ? = '' THEN site ELSE ? END, "
               "vendor_class = CASE WHEN ? = '' THEN vendor_class ELSE ? END, "
               "arch = CASE WHEN ? = '' THEN arch ELSE ? END, "
               "uuid = CASE WHEN ? = '' THEN uuid ELSE ? END, "
               "hostname = CASE WHEN ? = '' THEN hostname ELSE ? END "
               "WHERE mac = ?");
  st.bind(1, e.last_seen_ms);
  st.bind(2, sightings);
  int i = 3;
  for (const std::string* v : {&e.port, &e.site, &e.vendor_class, &e.arch, &e.uuid, &e.hostname}) {
    st.bind(i++, *v);
    st.bind(i++, *v);
  }
  st.bind(i, e.mac.to_string());
  st.step();
}

void Ledger::set_state(const MacAddress& mac, MacState state, const std::string& ignore_reason) {
  Statement st(db_, "UPDATE macs SET state = ?, ignore_reason = ? WHERE mac = ?");
  st.bind(1, std::string(mac_state_name(state))).bind(2, ignore_reason).bind(3, mac.to_string());
  st.step();
}

void Ledger::mark_announced(const MacAddress& mac, std::int64_t now_ms) {
  // A concurrent `registered`/`forget` wins: only pending rows move.
  Statement st(db_,
               "UPDATE macs SET state = 'announced', announce_count = announce_count + 1, last_announce = ? "
               "WHERE mac = ? AND state IN ('discovered', 'announced')");
  st.bind(1, now_ms).bind(2, mac.to_string());
  st.step();
}

void Ledger::mark_registered(const MacAddress& mac, std::int64_t now_ms, const std::string& host) {
  Statement st(db_,
               "UPDATE macs SET state = 'registered', registered_at = ?, ignore_reason = '', "
               "registered_host = CASE WHEN ? = '' THEN registered_host ELSE ? END WHERE mac = ?");
  st.bind(1, now_ms).bind(2, host).bind(3, host).bind(4, mac.to_string());
  st.step();
}

void Ledger::requeue(const MacAddress& mac) {
  Statement st(db_, "UPDATE macs SET state = 'discovered', ignore_reason = '' WHERE mac = ?");
  st.bind(1, mac.to_string());
  st.step();
}

bool Ledger::forget(const MacAddress& mac) {
  Statement st(db_, "DELETE FROM macs WHERE mac = ?");
  st.bind(1, mac.to_string());
  st.step();
  return sqlite3_changes(db_) > 0;
}

void Ledger::save_counters(const std::map<std::string, std::uint64_t>& counters, std::int64_t now_ms) {
  Statement ins(db_, "INSERT OR REPLACE INTO counters (name, value, updated) VALUES (?, ?, ?)");
  for (const auto& [name, value] : counters) {
    ins.reset();
    ins.bind(1, name).bind(2, static_cast<std::int64_t>(value)).bind(3, now_ms);
    ins.step();
  }
}

std::map<std::string, std::uint64_t> Ledger::counters() {
  Statement st(db_, "SELECT name, value FROM counters ORDER BY name");
  std::map<std::string, std::uint64_t> out;
  while (st.step()) out[st.column_text(0)] = static_cast<std::uint64_t>(st.column_int(1));
  return out;
}

}  // namespace segbridge::shim
