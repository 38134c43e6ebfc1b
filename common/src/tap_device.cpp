#include "segbridge/tap_device.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace segbridge {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& name) {
  throw std::system_error(errno, std::generic_category(), what + " for tap '" + name + "'");
}

}  // namespace

bool valid_interface_name(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\0') return false;
  }
  return true;
}

TapDevice TapDevice::open(const TapOptions& options) {
  if (!valid_interface_name(options.name)) {
    errno = EINVAL;
    fail("invalid interface name", options.name);
  }
  if (options.queues == 0) {
    errno = EINVAL;
    fail("queue count 0", options.name);
  }
  TapDevice tap;
  tap.name_ = options.name;
  for (unsigned q = 0; q < options.queues; ++q) {
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
    if (!fd) fail("open /dev/net/tun", options.name);
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (options.queues > 1) ifr.ifr_flags |= IFF_MULTI_QUEUE;
    if (options.vnet_header) ifr.ifr_flags |= IFF_VNET_HDR;
    std::strncpy(ifr.ifr_name, options.name.c_str(), IFNAMSIZ - 1);
    if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) fail("TUNSETIFF", options.name);
    if (q == 0 && options.persistent && ::ioctl(fd.get(), TUNSETPERSIST, 1) < 0) fail("TUNSETPERSIST", options.name);
    tap.fds_.push_back(std::move(fd));
  }
  return tap;
}

void TapDevice::make_transient() {
  if (!fds_.empty() && ::ioctl(fds_.front().get(), TUNSETPERSIST, 0) < 0) fail("TUNSETPERSIST 0", name_);
}

}  // namespace segbridge
