#include "feeders.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "segbridge/unique_fd.hpp"

extern char** environ;

namespace segbridge::shim {
namespace {

constexpr int kFacilityDaemon = 3;
constexpr int kSeverityInfo = 6;

// "Nov 24 18:00:00" with the day space-padded, as RFC 3164 and syslogd do.
std::string rfc3164_time(std::time_t when) {
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  localtime_r(&when, &tm);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s %2d %02d:%02d:%02d", months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

std::string errno_text(int e) {
  return std::error_code(e, std::generic_category()).message();
}

}  // namespace

std::string discover_message(const MacAddress& mac, const std::string& private_interface) {
  return "DHCPDISCOVER from " + mac.to_string() + " via " + private_interface;
}

std::string syslog_datagram(const std::string& message, std::time_t when) {
  return "<" + std::to_string(kFacilityDaemon * 8 + kSeverityInfo) + ">" + rfc3164_time(when) + " dhcpd: " + message;
}

std::string traditional_log_line(const std::string& message, std::time_t when, const std::string& host) {
  return rfc3164_time(when) + " " + host + " dhcpd: " + message + "\n";
}

SyslogFeeder::SyslogFeeder(std::string socket_path, std::string private_interface)
    : socket_path_(std::move(socket_path)), private_interface_(std::move(private_interface)) {}

SyslogFeeder::~SyslogFeeder() {
  if (fd_ >= 0) ::close(fd_);
}

FeedResult SyslogFeeder::announce(const LedgerEntry& entry, std::string& error) {
  if (fd_ < 0) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      error = "socket(AF_UNIX): " + errno_text(errno);
      return FeedResult::failed;
    }
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) {
    error = "syslog socket path too long: " + socket_path_;
    return FeedResult::failed;
  }
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  const std::string dgram = syslog_datagram(discover_message(entry.mac, private_interface_), std::time(nullptr));
  // sendto with the address every time: syslogd may have re-created the socket.
  ssize_t n = ::sendto(fd_, dgram.data(), dgram.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (n >= 0) return FeedResult::done;
  if (errno != EPROTOTYPE) {
    error = "send to syslog socket " + socket_path_ + ": " + errno_text(errno);
    return FeedResult::failed;
  }
  // A stream socket (some syslog-ng setups): like glibc's syslog(3), one
  // connection per message, terminated by NUL.
  UniqueFd stream(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!stream || ::connect(stream.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    error = "connect to syslog stream socket " + socket_path_ + ": " + errno_text(errno);
    return FeedResult::failed;
  }
  const std::string framed = dgram + '\0';
  std::size_t off = 0;
  while (off < framed.size()) {
    n = ::send(stream.get(), framed.data() + off, framed.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = "send to syslog stream socket " + socket_path_ + ": " + errno_text(errno);
      return FeedResult::failed;
    }
    off += static_cast<std::size_t>(n);
  }
  return FeedResult::done;
}

FileFeeder::FileFeeder(std::string path, std::string private_interface)
    : path_(std::move(path)), private_interface_(std::move(private_interface)) {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::strcpy(host, "localhost");
  host_ = host;
  if (auto dot = host_.find('.'); dot != std::string::npos) host_.resize(dot);
}

FeedResult FileFeeder::announce(const LedgerEntry& entry, std::string& error) {
  UniqueFd fd(::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) {
    error = "open " + path_ + ": " + errno_text(errno);
    return FeedResult::failed;
  }
  const std::string line =
      traditional_log_line(discover_message(entry.mac, private_interface_), std::time(nullptr), host_);
  // O_APPEND + one write: the line lands whole even with other writers.
  ssize_t n = ::write(fd.get(), line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) {
    error = "write " + path_ + ": " + (n < 0 ? errno_text(errno) : std::string("short write"));
    return FeedResult::failed;
  }
  return FeedResult::done;
}

ChildProcess spawn_child(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                         bool capture_stdout, std::int64_t deadline_ms) {
  if (argv.empty()) throw std::system_error(EINVAL, std::generic_category(), "spawn: empty command");
  int pipefd[2] = {-1, -1};
  if (capture_stdout && ::pipe2(pipefd, O_CLOEXEC) != 0) {
    throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  // Build everything before fork: only async-signal-safe calls in the child.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) env_store.emplace_back(*e);
  for (const auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    if (capture_stdout) {
      ::close(pipefd[0]);
      ::close(pipefd[1]);
    }
    throw std::system_error(e, std::generic_category(), "fork");
  }
  if (pid == 0) {
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (capture_stdout) {
      ::dup2(pipefd[1], 1);
    } else if (devnull >= 0) {
      ::dup2(devnull, 1);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the daemon blocks signals for signalfd
    ::execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  ChildProcess child;
  child.pid = pid;
  child.deadline_ms = deadline_ms;
  if (capture_stdout) {
    ::close(pipefd[1]);
    child.stdout_fd = pipefd[0];
    ::fcntl(child.stdout_fd, F_SETFL, ::fcntl(child.stdout_fd, F_GETFL) | O_NONBLOCK);
  }
  return child;
}

ExecFeeder::ExecFeeder(std::vector<std::string> argv, std::string private_interface, std::int64_t timeout_s,
                       std::function<void(const MacAddress&, ChildProcess)> on_spawn,
                       std::function<std::int64_t()> now_ms)
    : argv_(std::move(argv)),
      private_interface_(std::move(private_interface)),
      timeout_s_(timeout_s),
      on_spawn_(std::move(on_spawn)),
      now_ms_(std::move(now_ms)) {}

FeedResult ExecFeeder::announce(const LedgerEntry& entry, std::string& error) {
  std::vector<std::string> argv = argv_;
  const std::string mac = entry.mac.to_string();
  argv.push_back(mac);
  argv.push_back(entry.site);
  argv.push_back(entry.arch);
  argv.push_back(entry.uuid);
  std::vector<std::string> env = {
      "SHIM_MAC=" + mac,
      "SHIM_SITE=" + entry.site,
      "SHIM_PORT=" + entry.port,
      "SHIM_ARCH=" + entry.arch,
      "SHIM_UUID=" + entry.uuid,
      "SHIM_HOSTNAME=" + entry.hostname,
      "SHIM_VENDOR_CLASS=" + entry.vendor_class,
      "SHIM_PRIVATE_INTERFACE=" + private_interface_,
      "SHIM_ANNOUNCE_COUNT=" + std::to_string(entry.announce_count + 1),
  };
  try {
    on_spawn_(entry.mac, spawn_child(argv, env, false, now_ms_() + timeout_s_ * 1000));
  } catch (const std::system_error& e) {
    error = std::string("exec ") + argv_[0] + ": " + e.what();
    return FeedResult::failed;
  }
  return FeedResult::started;
}

}  // namespace segbridge::shim
