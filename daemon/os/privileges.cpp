#include "os/privileges.hpp"

#include <cap-ng.h>
#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace segbridge::os {

int capability_from_name(const std::string& name) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (n.rfind("cap_", 0) == 0) n.erase(0, 4);
  if (n.empty()) return -1;
  return capng_name_to_capability(n.c_str());
}

void drop_privileges(const PrivilegeDrop& drop) {
  // getpwnam/getgrnam are not thread-safe, but this runs during start-up,
  // before any worker thread exists.
  errno = 0;
  const passwd* pw = ::getpwnam(drop.user.c_str());
  if (pw == nullptr) throw PrivilegeError("user '" + drop.user + "' does not exist");
  const uid_t uid = pw->pw_uid;
  gid_t gid = pw->pw_gid;
  if (!drop.group.empty()) {
    const group* gr = ::getgrnam(drop.group.c_str());
    if (gr == nullptr) throw PrivilegeError("group '" + drop.group + "' does not exist");
    gid = gr->gr_gid;
  }
  if (uid == 0) throw PrivilegeError("user '" + drop.user + "' is root; choose an unprivileged account");

  capng_clear(CAPNG_SELECT_BOTH);
  for (const auto& name : drop.keep_capabilities) {
    const int cap = capability_from_name(name);
    if (cap < 0) throw PrivilegeError("unknown capability '" + name + "'");
    if (capng_update(CAPNG_ADD, static_cast<capng_type_t>(CAPNG_EFFECTIVE | CAPNG_PERMITTED),
                     static_cast<unsigned>(cap)) != 0) {
      throw PrivilegeError("cannot keep capability '" + name + "'");
    }
  }
  // capng_change_id keeps the selected capabilities across the uid change,
  // drops supplementary groups and empties the bounding set (kept
  // capabilities stay usable; nothing exec'ed can gain any).
  const int rc = capng_change_id(static_cast<int>(uid), static_cast<int>(gid),
                                 static_cast<capng_flags_t>(CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING));
  if (rc != 0) {
    throw PrivilegeError("switching to user '" + drop.user + "' failed (capng_change_id returned " +
                         std::to_string(rc) + "; is the daemon running as root?)");
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    throw PrivilegeError(std::string("prctl(PR_SET_NO_NEW_PRIVS): ") + std::strerror(errno));
  }
  // Verify rather than trust: root must be unreachable from here on.
  uid_t r, e, s;
  if (::getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid) {
    throw PrivilegeError("user id did not change to " + std::to_string(uid));
  }
  if (::setuid(0) == 0) throw PrivilegeError("could regain root after dropping privileges");
}

}  // namespace segbridge::os
