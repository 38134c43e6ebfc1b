#pragma once
// The unix control socket (mode 0600): one request line per connection
// ("status" or "status json"), one response, then close. Runs on the
// control thread's io_context; the handler runs there too.
#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <string>

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

 private:
  void accept();

  std::string path_;
  Handler handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
};

}  // namespace segbridge::daemon
