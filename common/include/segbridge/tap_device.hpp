#pragma once
// A Linux tap device opened through /dev/net/tun. segbridged owns one per
// peer; the kernel bridge does the switching between taps and the LAN NIC.
#include <string>
#include <vector>

#include "segbridge/unique_fd.hpp"

namespace segbridge {

struct TapOptions {
  std::string name;          // e.g. "sb-siteA"; at most IFNAMSIZ-1 characters
  bool persistent = false;   // TUNSETPERSIST: survive the fd (and a daemon restart)
  unsigned queues = 1;       // > 1 → IFF_MULTI_QUEUE, one fd per queue
  bool vnet_header = false;  // IFF_VNET_HDR: frames carry a virtio_net_hdr
};

class TapDevice {
 public:
  // Creates (or attaches to) the tap. Throws std::system_error with a message
  // naming the device and the failing call.
  static TapDevice open(const TapOptions& options);

  const std::string& name() const { return name_; }
  int fd(unsigned queue = 0) const { return fds_.at(queue).get(); }
  unsigned queue_count() const { return static_cast<unsigned>(fds_.size()); }
  // Clears TUNSETPERSIST so the kernel removes the device when the fds close.
  void make_transient();

 private:
  std::string name_;
  std::vector<UniqueFd> fds_;
};

bool valid_interface_name(const std::string& name);

}  // namespace segbridge
