#include "control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <memory>
#include <system_error>

#include "segbridge/log.hpp"
#include "segbridge/unique_fd.hpp"

namespace segbridge::daemon {
namespace {

using boost::asio::local::stream_protocol;

constexpr std::size_t kMaxRequest = 256;

// Is a daemon answering on `path`? (connect() succeeds only if someone listens.)
bool someone_listening(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

void prepare_path(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      throw std::system_error(errno, std::generic_category(), "create control socket directory " + dir);
    }
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      throw std::system_error(EEXIST, std::generic_category(),
                              "control socket path " + path + " exists and is not a socket");
    }
    if (someone_listening(path)) {
      throw std::system_error(EADDRINUSE, std::generic_category(), "another segbridged is answering on " + path);
    }
    ::unlink(path.c_str());
  }
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(stream_protocol::socket socket, ControlServer::Handler handler)
      : socket_(std::move(socket)), handler_(std::move(handler)), buffer_(kMaxRequest) {}

  void start() {
    auto self = shared_from_this();
    boost::asio::async_read_until(socket_, buffer_, '\n', [self](const boost::system::error_code& ec, std::size_t n) {
      if (ec && ec != boost::asio::error::eof) return;  // too long or peer gone: just close
      std::string line;
      if (n > 0) {
        line.assign(boost::asio::buffers_begin(self->buffer_.data()),
                    boost::asio::buffers_begin(self->buffer_.data()) + n);
      } else {
        line.assign(boost::asio::buffers_begin(self->buffer_.data()), boost::asio::buffers_end(self->buffer_.data()));
      }
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      try {
        self->response_ = self->handler_(line);
      } catch (const std::exception& e) {
        self->response_ = "error: " + std::string(e.what()) + "\n";
      }
      boost::asio::async_write(self->socket_, boost::asio::buffer(self->response_),
                               [self](const boost::system::error_code&, std::size_t) {
                                 boost::system::error_code ignored;
                                 self->socket_.shutdown(stream_protocol::socket::shutdown_both, ignored);
                               });
    });
  }

 private:
  stream_protocol::socket socket_;
  ControlServer::Handler handler_;
  boost::asio::streambuf buffer_;
  std::string response_;
};

}  // namespace

ControlServer::ControlServer(boost::asio::io_context& io, std::string path, Handler handler)
    : path_(std::move(path)), handler_(std::move(handler)), acceptor_(io) {
  prepare_path(path_);
  stream_protocol::endpoint ep(path_);
  acceptor_.open(ep.protocol());
  // Created 0600 from the start: no window in which others could connect.
  mode_t old = ::umask(0177);
  boost::system::error_code ec;
  acceptor_.bind(ep, ec);
  ::umask(old);
  if (ec) throw std::system_error(ec.value(), std::generic_category(), "bind control socket " + path_);
  acceptor_.listen(16);
  accept();
}

ControlServer::~ControlServer() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  ::unlink(path_.c_str());
}

void ControlServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, stream_protocol::socket socket) {
    if (ec == boost::asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), handler_)->start();
    accept();
  });
}

}  // namespace segbridge::daemon
