/* rtnl.c - interface addresses via rtnetlink -> clock domains. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "rtnl.h"

struct rtnl {
	struct mnl_socket *events;
	struct domains *d;
	uint16_t current[2][DOMAIN_IFINDEX_MAX];
};

struct addr_scan {
	bool have[2][DOMAIN_IFINDEX_MAX];
	uint8_t addr[2][DOMAIN_IFINDEX_MAX][16];
};

static int
on_addr(const struct nlmsghdr *nlh, void *data)
{
	struct addr_scan *sc = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;
	uint32_t flags = ifa->ifa_flags;
	int fam;

	if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_index >= DOMAIN_IFINDEX_MAX ||
	    ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	mnl_attr_for_each(attr, nlh, sizeof(*ifa)) {
		switch (mnl_attr_get_type(attr)) {
		case IFA_LOCAL:
			local = attr;
			break;
		case IFA_ADDRESS:
			address = attr;
			break;
		case IFA_FLAGS:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
				flags = mnl_attr_get_u32(attr);
			break;
		}
	}
	if (flags & (IFA_F_SECONDARY | IFA_F_TENTATIVE | IFA_F_DEPRECATED | IFA_F_DADFAILED))
		return MNL_CB_OK;
	fam = ifa->ifa_family == AF_INET6;
	if (!local)
		local = address;
	if (!local || sc->have[fam][ifa->ifa_index] ||
	    mnl_attr_get_payload_len(local) != (fam ? 16u : 4u))
		return MNL_CB_OK;
	sc->have[fam][ifa->ifa_index] = true;
	memcpy(sc->addr[fam][ifa->ifa_index], mnl_attr_get_payload(local), fam ? 16 : 4);
	return MNL_CB_OK;
}

/* Dump every address (a fresh socket each time keeps the event socket's
 * stream clean) and publish the first primary one of each interface. */
static void
rtnl_refresh(struct rtnl *r)
{
	static char buf[1 << 16];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct addr_scan *sc = calloc(1, sizeof(*sc));
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	unsigned seq = (unsigned)time(NULL), portid;
	ssize_t n;
	int ret = MNL_CB_OK;

	if (!nl || !sc || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("rtnetlink address dump");
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		log_warn("rtnetlink address dump");
		goto out;
	}
	while (ret > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0)
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, on_addr, sc);
	for (int fam = 0; fam < 2; fam++) {
		for (uint32_t i = 0; i < DOMAIN_IFINDEX_MAX; i++) {
			uint16_t dom = sc->have[fam][i] ?
				domains_intern(r->d, fam ? 6 : 4, sc->addr[fam][i]) : DOMAIN_SHARED;
			char a[INET6_ADDRSTRLEN];

			if (dom == r->current[fam][i])
				continue;
			r->current[fam][i] = dom;
			domains_set_ifindex(r->d, fam ? 6 : 4, i, dom);
			if (sc->have[fam][i]) {
				inet_ntop(fam ? AF_INET6 : AF_INET, sc->addr[fam][i], a, sizeof(a));
				log_info("interface %u: translated source for \"auto\" is %s", i, a);
			} else {
				log_info("interface %u: no primary IPv%d address; \"auto\" uses the shared domain",
					 i, fam ? 6 : 4);
			}
		}
	}
out:
	free(sc);
	if (nl)
		mnl_socket_close(nl);
}

struct rtnl *
rtnl_open(struct domains *d)
{
	struct rtnl *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->d = d;
	r->events = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!r->events ||
	    mnl_socket_bind(r->events, RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0) {
		log_warn("rtnetlink: address changes will not be followed");
		if (r->events)
			mnl_socket_close(r->events);
		free(r);
		return NULL;
	}
	rtnl_refresh(r);
	return r;
}

int
rtnl_fd(const struct rtnl *r)
{
	return mnl_socket_get_fd(r->events);
}

void
rtnl_event(struct rtnl *r)
{
	static char buf[1 << 16];
	bool changed = false;

	/* Drain the notifications (or an overrun); then one dump tells the
	 * truth, including promoted secondaries. */
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(r->events, buf, sizeof(buf));

		if (n > 0 || (n < 0 && errno == ENOBUFS)) {
			changed = true;
			continue;
		}
		break;
	}
	if (changed)
		rtnl_refresh(r);
}

void
rtnl_close(struct rtnl *r)
{
	if (!r)
		return;
	mnl_socket_close(r->events);
	free(r);
}
