#include "segbridge/netlink.hpp"

#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cstring>
#include <memory>

namespace segbridge::netlink {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p) Free(p);
  }
};
void free_link(rtnl_link* l) {
  rtnl_link_put(l);
}
void free_cache(nl_cache* c) {
  nl_cache_free(c);
}
void free_msg(nl_msg* m) {
  nlmsg_free(m);
}
using LinkPtr = std::unique_ptr<rtnl_link, Deleter<rtnl_link, free_link>>;
using CachePtr = std::unique_ptr<nl_cache, Deleter<nl_cache, free_cache>>;
using MsgPtr = std::unique_ptr<nl_msg, Deleter<nl_msg, free_msg>>;

void check(int rc, const std::string& what) {
  if (rc < 0) throw NetlinkError(what, rc);
}

LinkInfo to_info(rtnl_link* link) {
  LinkInfo info;
  info.ifindex = rtnl_link_get_ifindex(link);
  if (const char* n = rtnl_link_get_name(link)) info.name = n;
  info.master_ifindex = rtnl_link_get_master(link);
  info.flags = rtnl_link_get_flags(link);
  info.mtu = rtnl_link_get_mtu(link);
  if (nl_addr* a = rtnl_link_get_addr(link); a && nl_addr_get_len(a) == 6) {
    info.mac = MacAddress::from_bytes(static_cast<const std::uint8_t*>(nl_addr_get_binary_addr(a)));
  }
  if (const char* k = rtnl_link_get_type(link)) info.kind = k;
  return info;
}

// Parser state for raw RTM_GETLINK replies (bridge options libnl 3.7 does not expose).
struct BridgeStateParse {
  BridgeState state;
  bool found = false;
};

int parse_bridge_state(nl_msg* msg, void* arg) {
  auto* out = static_cast<BridgeStateParse*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWLINK) return NL_SKIP;
  nlattr* tb[IFLA_MAX + 1];
  if (nlmsg_parse(hdr, sizeof(ifinfomsg), tb, IFLA_MAX, nullptr) < 0 || !tb[IFLA_LINKINFO]) return NL_SKIP;
  nlattr* li[IFLA_INFO_MAX + 1];
  if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], nullptr) < 0 || !li[IFLA_INFO_DATA]) return NL_SKIP;
  if (!li[IFLA_INFO_KIND] || std::strcmp(nla_get_string(li[IFLA_INFO_KIND]), "bridge") != 0) return NL_SKIP;
  nlattr* br[IFLA_BR_MAX + 1];
  if (nla_parse_nested(br, IFLA_BR_MAX, li[IFLA_INFO_DATA], nullptr) < 0) return NL_SKIP;
  if (br[IFLA_BR_STP_STATE]) out->state.stp = nla_get_u32(br[IFLA_BR_STP_STATE]) != 0;
  if (br[IFLA_BR_FORWARD_DELAY]) out->state.forward_delay_centisecs = nla_get_u32(br[IFLA_BR_FORWARD_DELAY]);
  if (br[IFLA_BR_MCAST_SNOOPING]) out->state.multicast_snooping = nla_get_u8(br[IFLA_BR_MCAST_SNOOPING]) != 0;
  out->found = true;
  return NL_OK;
}

struct FdbParse {
  int bridge_ifindex = 0;
  std::vector<FdbEntry> entries;
};

int parse_fdb(nl_msg* msg, void* arg) {
  auto* out = static_cast<FdbParse*>(arg);
  nlmsghdr* hdr = nlmsg_hdr(msg);
  if (hdr->nlmsg_type != RTM_NEWNEIGH) return NL_SKIP;
  auto* nd = static_cast<ndmsg*>(nlmsg_data(hdr));
  if (nd->ndm_family != AF_BRIDGE) return NL_SKIP;
  nlattr* tb[NDA_MAX + 1];
  if (nlmsg_parse(hdr, sizeof(ndmsg), tb, NDA_MAX, nullptr) < 0) return NL_SKIP;
  if (!tb[NDA_LLADDR] || nla_len(tb[NDA_LLADDR]) != 6) return NL_SKIP;
  // Entries the bridge itself holds carry NDA_MASTER = bridge; NTF_SELF
  // entries (a port's own hardware table) are not the bridge's view.
  if (!tb[NDA_MASTER] || static_cast<int>(nla_get_u32(tb[NDA_MASTER])) != out->bridge_ifindex) return NL_SKIP;
  FdbEntry e;
  e.mac = MacAddress::from_bytes(static_cast<const std::uint8_t*>(nla_data(tb[NDA_LLADDR])));
  e.port_ifindex = nd->ndm_ifindex;
  if (tb[NDA_VLAN]) e.vlan = nla_get_u16(tb[NDA_VLAN]);
  e.permanent = (nd->ndm_state & NUD_PERMANENT) != 0;
  out->entries.push_back(e);
  return NL_OK;
}

}  // namespace

NetlinkError::NetlinkError(const std::string& what, int nl_error)
    : std::runtime_error(what + ": " + nl_geterror(nl_error)), nl_error_(nl_error) {}

bool LinkInfo::is_up() const {
  return (flags & IFF_UP) != 0;
}
bool LinkInfo::is_promiscuous() const {
  return (flags & IFF_PROMISC) != 0;
}

Netlink::Netlink() {
  sock_ = nl_socket_alloc();
  if (!sock_) throw NetlinkError("nl_socket_alloc", -NLE_NOMEM);
  int rc = nl_connect(sock_, NETLINK_ROUTE);
  if (rc < 0) {
    nl_socket_free(sock_);
    sock_ = nullptr;
    throw NetlinkError("connect NETLINK_ROUTE", rc);
  }
}

Netlink::~Netlink() {
  if (sock_) nl_socket_free(sock_);
}

std::optional<LinkInfo> Netlink::link(const std::string& name) {
  rtnl_link* raw = nullptr;
  int rc = rtnl_link_get_kernel(sock_, 0, name.c_str(), &raw);
  if (rc == -NLE_NODEV || rc == -NLE_OBJ_NOTFOUND) return std::nullopt;
  check(rc, "get link '" + name + "'");
  LinkPtr l(raw);
  return to_info(l.get());
}

std::optional<LinkInfo> Netlink::link(int ifindex) {
  rtnl_link* raw = nullptr;
  int rc = rtnl_link_get_kernel(sock_, ifindex, nullptr, &raw);
  if (rc == -NLE_NODEV || rc == -NLE_OBJ_NOTFOUND) return std::nullopt;
  check(rc, "get link #" + std::to_string(ifindex));
  LinkPtr l(raw);
  return to_info(l.get());
}

std::vector<LinkInfo> Netlink::links() {
  nl_cache* raw = nullptr;
  check(rtnl_link_alloc_cache(sock_, AF_UNSPEC, &raw), "dump links");
  CachePtr cache(raw);
  std::vector<LinkInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    out.push_back(to_info(reinterpret_cast<rtnl_link*>(o)));
  }
  return out;
}

std::vector<LinkInfo> Netlink::bridge_ports(const std::string& bridge) {
  LinkInfo br = require_link(bridge);
  std::vector<LinkInfo> out;
  for (auto& l : links()) {
    if (l.master_ifindex == br.ifindex) out.push_back(std::move(l));
  }
  return out;
}

LinkInfo Netlink::require_link(const std::string& name) {
  auto l = link(name);
  if (!l) throw NetlinkError("no such interface '" + name + "'", -NLE_NODEV);
  return *l;
}

void Netlink::send_bridge_newlink(const std::string& name, const BridgeSettings& settings, bool create) {
  // libnl 3.2.28–3.7 has no setters for STP/forward delay: build RTM_NEWLINK.
  int nl_flags = NLM_F_REQUEST | NLM_F_ACK | (create ? (NLM_F_CREATE | NLM_F_EXCL) : 0);
  MsgPtr msg(nlmsg_alloc_simple(RTM_NEWLINK, nl_flags));
  if (!msg) throw NetlinkError("nlmsg_alloc", -NLE_NOMEM);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  check(nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO), "build RTM_NEWLINK");
  check(nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()), "build RTM_NEWLINK");
  nlattr* linkinfo = nla_nest_start(msg.get(), IFLA_LINKINFO);
  if (!linkinfo) throw NetlinkError("build RTM_NEWLINK", -NLE_NOMEM);
  check(nla_put_string(msg.get(), IFLA_INFO_KIND, "bridge"), "build RTM_NEWLINK");
  nlattr* data = nla_nest_start(msg.get(), IFLA_INFO_DATA);
  if (!data) throw NetlinkError("build RTM_NEWLINK", -NLE_NOMEM);
  check(nla_put_u32(msg.get(), IFLA_BR_STP_STATE, settings.stp ? 1 : 0), "build RTM_NEWLINK");
  check(nla_put_u32(msg.get(), IFLA_BR_FORWARD_DELAY, settings.forward_delay_centisecs), "build RTM_NEWLINK");
  if (settings.multicast_snooping) {
    check(nla_put_u8(msg.get(), IFLA_BR_MCAST_SNOOPING, *settings.multicast_snooping ? 1 : 0), "build RTM_NEWLINK");
  }
  nla_nest_end(msg.get(), data);
  nla_nest_end(msg.get(), linkinfo);
  check(nl_send_auto(sock_, msg.get()), "send RTM_NEWLINK for bridge '" + name + "'");
  check(nl_wait_for_ack(sock_), std::string(create ? "create" : "configure") + " bridge '" + name + "'");
}

void Netlink::create_bridge(const std::string& name, const BridgeSettings& settings) {
  send_bridge_newlink(name, settings, true);
}

void Netlink::set_bridge_settings(const std::string& name, const BridgeSettings& settings) {
  send_bridge_newlink(name, settings, false);
}

BridgeState Netlink::bridge_state(const std::string& name) {
  MsgPtr msg(nlmsg_alloc_simple(RTM_GETLINK, NLM_F_REQUEST));
  if (!msg) throw NetlinkError("nlmsg_alloc", -NLE_NOMEM);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  check(nlmsg_append(msg.get(), &ifi, sizeof ifi, NLMSG_ALIGNTO), "build RTM_GETLINK");
  check(nla_put_string(msg.get(), IFLA_IFNAME, name.c_str()), "build RTM_GETLINK");
  check(nl_send_auto(sock_, msg.get()), "send RTM_GETLINK");
  BridgeStateParse parse;
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_alloc(NL_CB_DEFAULT), nl_cb_put);
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, parse_bridge_state, &parse);
  check(nl_recvmsgs(sock_, cb.get()), "read bridge '" + name + "'");
  check(nl_wait_for_ack(sock_), "read bridge '" + name + "'");  // nl_send_auto asked for an ACK
  if (!parse.found) throw NetlinkError("'" + name + "' is not a bridge", -NLE_INVAL);
  return parse.state;
}

void Netlink::enslave(const std::string& bridge, const std::string& port) {
  LinkInfo br = require_link(bridge);
  LinkInfo p = require_link(port);
  check(rtnl_link_enslave_ifindex(sock_, br.ifindex, p.ifindex), "add '" + port + "' to bridge '" + bridge + "'");
}

void Netlink::release(const std::string& port) {
  LinkInfo p = require_link(port);
  check(rtnl_link_release_ifindex(sock_, p.ifindex), "release '" + port + "' from its bridge");
}

void Netlink::change_link(const std::string& name, const std::optional<unsigned>& set_flags,
                          const std::optional<unsigned>& clear_flags, const std::optional<unsigned>& mtu) {
  rtnl_link* raw = nullptr;
  check(rtnl_link_get_kernel(sock_, 0, name.c_str(), &raw), "get link '" + name + "'");
  LinkPtr old(raw);
  LinkPtr change(rtnl_link_alloc());
  if (!change) throw NetlinkError("rtnl_link_alloc", -NLE_NOMEM);
  if (set_flags) rtnl_link_set_flags(change.get(), *set_flags);
  if (clear_flags) rtnl_link_unset_flags(change.get(), *clear_flags);
  if (mtu) rtnl_link_set_mtu(change.get(), *mtu);
  check(rtnl_link_change(sock_, old.get(), change.get(), 0), "change link '" + name + "'");
}

void Netlink::set_up(const std::string& name, bool up) {
  if (up) {
    change_link(name, IFF_UP, std::nullopt, std::nullopt);
  } else {
    change_link(name, std::nullopt, IFF_UP, std::nullopt);
  }
}

void Netlink::set_promiscuous(const std::string& name, bool on) {
  if (on) {
    change_link(name, IFF_PROMISC, std::nullopt, std::nullopt);
  } else {
    change_link(name, std::nullopt, IFF_PROMISC, std::nullopt);
  }
}

void Netlink::set_mtu(const std::string& name, unsigned mtu) {
  change_link(name, std::nullopt, std::nullopt, mtu);
}

void Netlink::delete_link(const std::string& name) {
  LinkPtr l(rtnl_link_alloc());
  if (!l) throw NetlinkError("rtnl_link_alloc", -NLE_NOMEM);
  rtnl_link_set_name(l.get(), name.c_str());
  check(rtnl_link_delete(sock_, l.get()), "delete link '" + name + "'");
}

std::vector<FdbEntry> Netlink::bridge_fdb(const std::string& bridge) {
  LinkInfo br = require_link(bridge);
  // AF_BRIDGE neighbour dump = the FDB of every bridge; filter by master.
  ndmsg nd{};
  nd.ndm_family = AF_BRIDGE;
  check(nl_send_simple(sock_, RTM_GETNEIGH, NLM_F_DUMP, &nd, sizeof nd), "dump bridge FDB");
  FdbParse parse;
  parse.bridge_ifindex = br.ifindex;
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_alloc(NL_CB_DEFAULT), nl_cb_put);
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, parse_fdb, &parse);
  check(nl_recvmsgs(sock_, cb.get()), "read bridge FDB of '" + bridge + "'");
  if (!parse.entries.empty()) {
    auto all = links();
    for (auto& e : parse.entries) {
      for (const auto& l : all) {
        if (l.ifindex == e.port_ifindex) e.port_name = l.name;
      }
    }
  }
  return parse.entries;
}

std::optional<FdbEntry> Netlink::bridge_fdb_get(int bridge_ifindex, const MacAddress& mac, std::uint16_t vlan) {
  MsgPtr msg(nlmsg_alloc_simple(RTM_GETNEIGH, NLM_F_REQUEST));
  if (!msg) throw NetlinkError("nlmsg_alloc", -NLE_NOMEM);
  // The kernel validates this request strictly: only NDA_MASTER, NDA_LLADDR,
  // NDA_VLAN, and zero state/type/flags.
  ndmsg nd{};
  nd.ndm_family = AF_BRIDGE;
  check(nlmsg_append(msg.get(), &nd, sizeof nd, NLMSG_ALIGNTO), "build RTM_GETNEIGH");
  check(nla_put_u32(msg.get(), NDA_MASTER, static_cast<std::uint32_t>(bridge_ifindex)), "build RTM_GETNEIGH");
  check(nla_put(msg.get(), NDA_LLADDR, 6, mac.bytes().data()), "build RTM_GETNEIGH");
  if (vlan != 0) check(nla_put_u16(msg.get(), NDA_VLAN, vlan), "build RTM_GETNEIGH");
  check(nl_send_auto(sock_, msg.get()), "send RTM_GETNEIGH (fdb get)");
  FdbParse parse;
  parse.bridge_ifindex = bridge_ifindex;
  std::unique_ptr<nl_cb, void (*)(nl_cb*)> cb(nl_cb_alloc(NL_CB_DEFAULT), nl_cb_put);
  nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, parse_fdb, &parse);
  int rc = nl_recvmsgs(sock_, cb.get());
  if (rc == -NLE_OBJ_NOTFOUND) return std::nullopt;  // ENOENT: no such entry
  check(rc, "fdb get");
  // The reply is not multipart: the ACK libnl asked for follows it.
  check(nl_wait_for_ack(sock_), "fdb get (ack)");
  if (parse.entries.empty()) return std::nullopt;
  return parse.entries.front();
}

}  // namespace segbridge::netlink
