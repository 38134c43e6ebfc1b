#include "rocks_private_interface.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <sstream>
#include <system_error>
#include <vector>

#include "feeders.hpp"

namespace segbridge::shim {
namespace {

std::vector<std::string> split(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> t;
  std::string w;
  while (in >> w) t.push_back(w);
  return t;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

PrivateInterfaceLookup parse_rocks_private_interface(const std::string& output) {
  PrivateInterfaceLookup r;
  std::istringstream in(output);
  std::string line;
  int subnet_col = -1, iface_col = -1;
  int matches = 0;
  while (std::getline(in, line)) {
    auto t = split(line);
    if (t.empty()) continue;
    if (subnet_col < 0) {
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == "SUBNET") subnet_col = static_cast<int>(i);
        if (t[i] == "IFACE") iface_col = static_cast<int>(i);
      }
      if (subnet_col < 0 || iface_col < 0) {
        subnet_col = iface_col = -1;  // not the header yet (banner, warnings)
      }
      continue;
    }
    const auto need = static_cast<std::size_t>(std::max(subnet_col, iface_col));
    if (t.size() <= need || t[static_cast<std::size_t>(subnet_col)] != "private") continue;
    if (++matches == 1) r.device = t[static_cast<std::size_t>(iface_col)];
  }
  if (subnet_col < 0) {
    r.problem = "no SUBNET/IFACE header in the output";
  } else if (!r.device) {
    r.problem = "no interface on subnet 'private'";
  } else if (matches > 1) {
    r.problem = std::to_string(matches) +
                " interfaces on subnet 'private'; using the first, as insert-ethers does (Rocks expects exactly one)";
  }
  return r;
}

PrivateInterfaceLookup query_rocks_private_interface(const std::string& command, int timeout_s) {
  PrivateInterfaceLookup r;
  ChildProcess child;
  try {
    child = spawn_child({"/bin/sh", "-c", command}, {}, true, 0);
  } catch (const std::system_error& e) {
    r.problem = std::string("cannot run `") + command + "`: " + e.what();
    return r;
  }
  std::string out;
  const std::int64_t deadline = now_ms() + std::int64_t{timeout_s} * 1000;
  bool timed_out = false;
  for (;;) {
    const std::int64_t left = deadline - now_ms();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{child.stdout_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(child.stdout_fd, buf, sizeof buf);
    if (n > 0) {
      if (out.size() < (1u << 20)) out.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EAGAIN) continue;
    break;
  }
  ::close(child.stdout_fd);
  if (timed_out) ::kill(child.pid, SIGKILL);
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  if (timed_out) {
    r.problem = "`" + command + "` did not finish within " + std::to_string(timeout_s) + " s";
    return r;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    r.problem = "`" + command + "` failed (status " + std::to_string(status) + ")";
    return r;
  }
  r = parse_rocks_private_interface(out);
  if (!r.device) r.problem = "`" + command + "`: " + r.problem;
  return r;
}

}  // namespace segbridge::shim
