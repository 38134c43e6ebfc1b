#pragma once
// The durable record of every PXE client the shim has seen, in SQLite.
//
// Why SQLite: a discovery must survive kill -9 and power loss between being
// seen and being registered by insert-ethers, and the CLI must read it while
// the daemon writes. WAL mode gives both (readers never block the writer);
// synchronous=FULL makes each commit durable before the shim announces it.
// All SQL is valid on SQLite 3.7.17 (EL7): no UPSERT, RETURNING or window
// functions. The schema is versioned with PRAGMA user_version and migrated
// forward in one transaction; a newer or corrupt database is refused with a
// clear error, never rewritten.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "segbridge/mac_address.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace segbridge::shim {

class LedgerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class MacState { discovered, announced, registered, ignored };
const char* mac_state_name(MacState s);
std::optional<MacState> parse_mac_state(const std::string& s);

struct LedgerEntry {
  MacAddress mac;
  std::int64_t first_seen_ms = 0;  // Unix time, milliseconds
  std::int64_t last_seen_ms = 0;
  std::int64_t seen_count = 0;
  std::string port;  // bridge port the MAC was behind ("" unknown)
  std::string site;  // segbridged peer name, or "local"
  std::string vendor_class;
  std::string arch;
  std::string uuid;
  std::string hostname;
  MacState state = MacState::discovered;
  std::string ignore_reason;  // why state == ignored
  std::int64_t announce_count = 0;
  std::int64_t last_announce_ms = 0;  // 0: never
  std::int64_t registered_ms = 0;     // 0: not (yet) registered
  std::string registered_host;        // Rocks host name, when told (CLI `registered --host`)

  bool pending() const { return state == MacState::discovered || state == MacState::announced; }
};

// A small prepared-statement holder; finalizes on destruction.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement& bind(int index, std::int64_t v);
  Statement& bind(int index, const std::string& v);
  bool step();  // true: a row is available; false: done. Throws on error.
  void reset();
  std::int64_t column_int(int index);
  std::string column_text(int index);

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Ledger {
 public:
  static constexpr int kSchemaVersion = 3;

  enum class Mode { create, existing };
  // Opens (and in Mode::create, creates and migrates) the ledger at `path`.
  // Throws LedgerError with a message naming the file and what to do.
  explicit Ledger(const std::string& path, Mode mode = Mode::create);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  const std::string& path() const { return path_; }
  int schema_version();

  // Groups writes into one durable commit. Nested use is not supported.
  void begin();
  void commit();
  void rollback();

  std::optional<LedgerEntry> find(const MacAddress& mac);
  std::vector<LedgerEntry> all();
  std::vector<LedgerEntry> pending();
  std::int64_t pending_count();

  void insert(const LedgerEntry& entry);  // a MAC not yet in the ledger
  // Another sighting of a known MAC: count+1, last_seen, and the latest
  // port/site/option values (a node may move or boot another ROM).
  void record_sighting(const LedgerEntry& latest, std::int64_t sightings = 1);
  void set_state(const MacAddress& mac, MacState state, const std::string& ignore_reason = "");
  void mark_announced(const MacAddress& mac, std::int64_t now_ms);
  void mark_registered(const MacAddress& mac, std::int64_t now_ms, const std::string& host = "");
  // Re-queues a MAC for announcement (CLI `announce`): state discovered.
  void requeue(const MacAddress& mac);
  bool forget(const MacAddress& mac);

  // Counters the daemon persists so `insert-ethers-shim stats` can show them.
  void save_counters(const std::map<std::string, std::uint64_t>& counters, std::int64_t now_ms);
  std::map<std::string, std::uint64_t> counters();

 private:
  void exec(const char* sql);
  void configure();
  void check_integrity();
  void migrate();
  LedgerEntry read_row(Statement& st);

  std::string path_;
  sqlite3* db_ = nullptr;
  bool in_transaction_ = false;
};

}  // namespace segbridge::shim
