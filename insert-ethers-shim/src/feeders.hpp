#pragma once
// Feeders hand a discovered MAC to the provisioning system.
//
// insert-ethers only reads /var/log/messages and registers a node for a line
// whose whitespace tokens are [4] "dhcpd:", [5] DHCPDISCOVER, [7] the MAC and
// [9] the private interface (ROCKS.md §1.1). The syslog feeder therefore sends
// an RFC 3164 datagram with tag "dhcpd:" (no PID: "dhcpd[123]:" would not
// match), facility daemon, to the local syslog socket; syslogd adds the host
// name when it writes the traditional file format.
#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ledger.hpp"
#include "shim_config.hpp"

namespace segbridge::shim {

// "DHCPDISCOVER from 52:54:00:12:34:56 via eth0"
std::string discover_message(const MacAddress& mac, const std::string& private_interface);
// "<30>Nov 24 18:00:00 dhcpd: DHCPDISCOVER from ... via eth0" (RFC 3164, local time)
std::string syslog_datagram(const std::string& message, std::time_t when);
// "Nov 24 18:00:00 host dhcpd: DHCPDISCOVER from ... via eth0\n" (traditional file format)
std::string traditional_log_line(const std::string& message, std::time_t when, const std::string& host);

enum class FeedResult { done, started, failed };

class Feeder {
 public:
  virtual ~Feeder() = default;
  // done: delivered now. started: an asynchronous delivery (exec) was started;
  // its outcome arrives through the completion callback. failed: retry later.
  virtual FeedResult announce(const LedgerEntry& entry, std::string& error) = 0;
  virtual const char* name() const = 0;
};

class SyslogFeeder : public Feeder {
 public:
  SyslogFeeder(std::string socket_path, std::string private_interface);
  ~SyslogFeeder() override;
  FeedResult announce(const LedgerEntry& entry, std::string& error) override;
  const char* name() const override { return "syslog"; }

 private:
  std::string socket_path_;
  std::string private_interface_;
  int fd_ = -1;
};

class FileFeeder : public Feeder {
 public:
  FileFeeder(std::string path, std::string private_interface);
  FeedResult announce(const LedgerEntry& entry, std::string& error) override;
  const char* name() const override { return "file"; }

 private:
  std::string path_;
  std::string private_interface_;
  std::string host_;
};

// Children started by the shim (exec feeder, registered check): spawned with
// stdout captured through a pipe, reaped without blocking.
struct ChildProcess {
  pid_t pid = -1;
  int stdout_fd = -1;  // -1 when output is not captured
  std::string output;
  std::int64_t deadline_ms = 0;
};

// fork+exec argv with extra environment; stdin /dev/null; stderr inherited.
// Throws std::system_error if the child cannot be started.
ChildProcess spawn_child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                         bool capture_stdout, std::int64_t deadline_ms);

class ExecFeeder : public Feeder {
 public:
  // `on_spawn` hands the child to the event loop, which reports the exit.
  ExecFeeder(std::vector<std::string> argv, std::string private_interface, std::int64_t timeout_s,
             std::function<void(const MacAddress&, ChildProcess)> on_spawn, std::function<std::int64_t()> now_ms);
  FeedResult announce(const LedgerEntry& entry, std::string& error) override;
  const char* name() const override { return "exec"; }

 private:
  std::vector<std::string> argv_;
  std::string private_interface_;
  std::int64_t timeout_s_;
  std::function<void(const MacAddress&, ChildProcess)> on_spawn_;
  std::function<std::int64_t()> now_ms_;
};

}  // namespace segbridge::shim
