/* SPDX-License-Identifier: GPL-2.0-or-later */
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

#define RTNL_NEW_MAX 16		/* new addresses told per event round */

struct rtnl {
	struct mnl_socket *events;
	struct domains *d;
	struct rtnl_map map;
	void (*on_new)(void *arg, int family, const uint8_t *addr);
	void *on_new_arg;
	unsigned nnew;
	struct { int family; uint8_t addr[16]; } new[RTNL_NEW_MAX];
};

struct rtnl_scan {
	bool have[2][DOMAIN_IFINDEX_MAX];
	uint8_t addr[2][DOMAIN_IFINDEX_MAX][16];
};

struct rtnl_scan *
rtnl_scan_new(void)
{
	return calloc(1, sizeof(struct rtnl_scan));
}

void
rtnl_scan_free(struct rtnl_scan *sc)
{
	free(sc);
}

/* An address the kernel would not pick as a source is no domain. */
#define RTNL_UNUSABLE (IFA_F_SECONDARY | IFA_F_TENTATIVE | IFA_F_DEPRECATED | \
		       IFA_F_DADFAILED)

/* The address of an RTM_NEWADDR message whose ifaddrmsg is readable:
 * IFA_LOCAL, else IFA_ADDRESS (IFA_LOCAL is the local address on
 * point-to-point links, where IFA_ADDRESS is the peer's); NULL if none.
 * *flags: IFA_FLAGS' full 32 bits when present, else ifa_flags. */
static const struct nlattr *
addr_attr(const struct nlmsghdr *nlh, uint32_t *flags)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *attr, *local = NULL, *address = NULL;

	*flags = ifa->ifa_flags;
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
				*flags = mnl_attr_get_u32(attr);
			break;
		}
	}
	return local ? local : address;
}

bool
rtnl_scan_addr(struct rtnl_scan *sc, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *local;
	uint32_t flags;
	int fam;

	if (nlh->nlmsg_type != RTM_NEWADDR || mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return false;
	if (ifa->ifa_index >= DOMAIN_IFINDEX_MAX || ifa->ifa_scope != RT_SCOPE_UNIVERSE ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return false;
	local = addr_attr(nlh, &flags);
	if (flags & RTNL_UNUSABLE)
		return false;
	fam = ifa->ifa_family == AF_INET6;
	if (!local || sc->have[fam][ifa->ifa_index] ||
	    mnl_attr_get_payload_len(local) != (fam ? 16u : 4u))
		return false;
	sc->have[fam][ifa->ifa_index] = true;
	memcpy(sc->addr[fam][ifa->ifa_index], mnl_attr_get_payload(local), fam ? 16 : 4);
	return true;
}

bool
rtnl_scan_get(const struct rtnl_scan *sc, int family, uint32_t ifindex, uint8_t *addr)
{
	int fam = family == 6;

	if (ifindex >= DOMAIN_IFINDEX_MAX || !sc->have[fam][ifindex])
		return false;
	memcpy(addr, sc->addr[fam][ifindex], fam ? 16 : 4);
	return true;
}

static int
rtnl_on_addr(const struct nlmsghdr *nlh, void *data)
{
	rtnl_scan_addr(data, nlh);
	return MNL_CB_OK;
}

static void
rtnl_log_change(unsigned fam, uint32_t i, const struct rtnl_scan *sc)
{
	char a[INET6_ADDRSTRLEN];

	if (sc->have[fam][i]) {
		inet_ntop(fam ? AF_INET6 : AF_INET, sc->addr[fam][i], a, sizeof(a));
		log_info("interface %u: translated source for \"auto\" is %s", i, a);
	} else {
		log_info("interface %u: no primary IPv%d address; \"auto\" uses the shared domain",
			 i, fam ? 6 : 4);
	}
}

unsigned
rtnl_publish(struct rtnl_map *map, struct domains *d, const struct rtnl_scan *sc)
{
	unsigned changes = 0;

	for (unsigned fam = 0; fam < 2; fam++) {
		for (uint32_t i = 0; i < DOMAIN_IFINDEX_MAX; i++) {
			uint16_t dom = sc->have[fam][i] ?
				domains_intern(d, fam ? 6 : 4, sc->addr[fam][i]) : DOMAIN_SHARED;

			if (dom == map->dom[fam][i])
				continue;
			map->dom[fam][i] = dom;
			domains_set_ifindex(d, fam ? 6 : 4, i, dom);
			rtnl_log_change(fam, i, sc);
			changes++;
		}
	}
	return changes;
}

/* Dump every address (a fresh socket each time keeps the event socket's
 * stream clean) and publish the first primary one of each interface. */
static void
rtnl_refresh(struct rtnl *r)
{
	static char buf[1 << 16];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct rtnl_scan *sc = rtnl_scan_new();
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
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, rtnl_on_addr, sc);
	/* Only a complete dump (NLMSG_DONE) may take addresses away. */
	if (ret == MNL_CB_STOP)
		rtnl_publish(&r->map, r->d, sc);
	else
		log_warn("rtnetlink address dump incomplete; keeping the known addresses");
out:
	rtnl_scan_free(sc);
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
rtnl_on_new_address(struct rtnl *r, void (*fn)(void *arg, int family, const uint8_t *addr),
		    void *arg)
{
	r->on_new = fn;
	r->on_new_arg = arg;
}

/* Any address an RTM_NEWADDR announces, secondary ones included (a
 * virtual address keepalived adds usually is one). */
static void
announce(struct rtnl *r, const char *buf, size_t len)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int n = (int)len;

	for (; mnl_nlmsg_ok(nlh, n); nlh = mnl_nlmsg_next(nlh, &n)) {
		const struct ifaddrmsg *ifa;
		const struct nlattr *local;
		uint32_t flags;
		int fam;
		size_t alen;

		if (nlh->nlmsg_type != RTM_NEWADDR ||
		    nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*ifa))
			continue;
		ifa = mnl_nlmsg_get_payload(nlh);
		fam = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 6 : 0;
		alen = fam == 4 ? 4 : 16;
		if (!fam)
			continue;
		local = addr_attr(nlh, &flags);
		if (local && mnl_attr_get_payload_len(local) == alen && r->nnew < RTNL_NEW_MAX) {
			r->new[r->nnew].family = fam;
			memcpy(r->new[r->nnew++].addr, mnl_attr_get_payload(local), alen);
		}
	}
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
			if (n > 0 && r->on_new)
				announce(r, buf, (size_t)n);
			continue;
		}
		break;
	}
	if (changed)
		rtnl_refresh(r);
	for (unsigned i = 0; i < r->nnew; i++)
		r->on_new(r->on_new_arg, r->new[i].family, r->new[i].addr);
	r->nnew = 0;
}

void
rtnl_close(struct rtnl *r)
{
	if (!r)
		return;
	mnl_socket_close(r->events);
	free(r);
}
