#pragma once
// Least privilege for segbridged: once its taps and sockets exist, the daemon
// switches to an unprivileged user and keeps only the capabilities it still
// needs (possibly none), using libcap-ng. The bounding set is cleared and
// no_new_privs set, so nothing exec'ed later can regain privileges.
#include <stdexcept>
#include <string>
#include <vector>

namespace segbridge::os {

class PrivilegeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PrivilegeDrop {
  std::string user;   // account to become (e.g. "segbridge" or "nobody")
  std::string group;  // empty: the user's primary group
  // Capability names as in capabilities(7) ("CAP_NET_ADMIN" or "net_admin").
  std::vector<std::string> keep_capabilities;
};

// Throws PrivilegeError (with the reason) if the user or a capability name is
// unknown or the switch fails; the process must then exit, not carry on as root.
void drop_privileges(const PrivilegeDrop& drop);

// Capability number for a name, or -1.
int capability_from_name(const std::string& name);

}  // namespace segbridge::os
