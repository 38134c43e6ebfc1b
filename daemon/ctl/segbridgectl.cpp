// segbridgectl: ask a running segbridged over its control socket.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "segbridge/unique_fd.hpp"
#include "segbridge/version.hpp"

namespace {

constexpr const char* kDefaultSocket = "/run/segbridged/control.sock";

constexpr const char* kUsage = R"(Usage: segbridgectl [-s SOCKET] COMMAND

Query a running segbridged over its unix control socket.

Commands:
  status           one line per peer: state, endpoint, age of the last
                   handshake, bytes and frames each way, drops; then the MAC
                   addresses the bridge has learned behind each peer's tap
  status --json    the same as one JSON object (the stable format scripts
                   read; see docs/segbridged.conf.md, "Control socket")

Options:
  -s, --socket SOCKET  control socket of the daemon
                       (default /run/segbridged/control.sock, the
                       daemon's control_socket setting)
  -h, --help           this text
  -V, --version        print the version

Exit status: 0 success, 1 the daemon could not be reached or answered with
an error, 2 usage error.
)";

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "segbridgectl: %s\nTry 'segbridgectl --help'.\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path = kDefaultSocket;
  std::vector<std::string> words;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (a == "-V" || a == "--version") {
      std::printf("segbridgectl %s\n", segbridge::kVersion);
      return 0;
    }
    if (a == "-s" || a == "--socket") {
      if (i + 1 >= argc) return usage_error(a + " needs a path");
      socket_path = argv[++i];
    } else if (a.rfind("--socket=", 0) == 0) {
      socket_path = a.substr(9);
    } else if (a == "--json" || a == "-j") {
      words.push_back("--json");
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option '" + a + "'");
    } else {
      words.push_back(a);
    }
  }
  if (words.empty()) return usage_error("no command given");
  std::string request;
  if (words[0] == "status" && words.size() == 1) {
    request = "status\n";
  } else if (words[0] == "status" && words.size() == 2 && words[1] == "--json") {
    request = "status json\n";
  } else if (words[0] != "status") {
    return usage_error("unknown command '" + words[0] + "'");
  } else {
    return usage_error("usage: status [--json]");
  }
  if (socket_path.size() >= sizeof(sockaddr_un::sun_path)) return usage_error("socket path too long");

  segbridge::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    std::fprintf(stderr, "segbridgectl: socket: %s\n", std::strerror(errno));
    return 1;
  }
  timeval tv{5, 0};  // a hung daemon must not hang scripts
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  socket_path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::fprintf(stderr, "segbridgectl: cannot connect to %s: %s (is segbridged running?)\n", socket_path.c_str(),
                 std::strerror(errno));
    return 1;
  }
  if (::write(fd.get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    std::fprintf(stderr, "segbridgectl: sending request: %s\n", std::strerror(errno));
    return 1;
  }
  std::string response;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n > 0) {
      response.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "segbridgectl: reading response: %s\n", std::strerror(errno));
      return 1;
    }
    break;
  }
  if (response.rfind("error: ", 0) == 0) {
    std::fprintf(stderr, "segbridgectl: %s", response.c_str() + 7);
    return 1;
  }
  std::fwrite(response.data(), 1, response.size(), stdout);
  return response.empty() ? 1 : 0;
}
