#pragma once
// The unix control socket (mode 0600): one request line per connection
// ("status" or "status json"), one response, then close. Runs on the
// control thread's io_context; the handler runs there too.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>

#include <string>
#include "segbridge/unique_fd.hpp"

namespace segbridge::daemon {

class ControlServer {
 public:
  // Returns the response text for one request line (without the newline).
  using Handler = std::function<std::string(const std::string& request)>;

  // Binds `path` (creating its directory, replacing a stale socket; refuses
  // if another daemon answers on it). Throws std::system_error.
  ControlServer(boost::asio::io_context& io, std::string path, Handler handler);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::string& path() const { return path_; }
  // Gives the socket (and the directory, if this server created it) to `uid`,
  // for a daemon about to drop root: it can then still unlink it at exit.
  void hand_over(uid_t uid);

 private:
  void accept();

  std::string path_;
  std::string created_dir_;
  // The socket's directory, opened at start: removing the socket at exit with
  // unlinkat() needs no search permission on the path above it (the daemon
  // may no longer be root by then).
  UniqueFd dir_fd_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
};

}  // namespace segbridge::daemon
