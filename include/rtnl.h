/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rtnl.h - the primary address of every interface, learned and kept current
 * through rtnetlink (libmnl), published as clock domains: what MASQUERADE
 * picks as the translated source of packets leaving that interface. */
#ifndef TSNATD_RTNL_H
#define TSNATD_RTNL_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain.h"

struct rtnl;

/* Subscribe to address changes and learn the current addresses. NULL (with
 * a warning) if rtnetlink is unavailable: every "auto" domain is shared. */
struct rtnl *rtnl_open(struct domains *d);

/* The descriptor to poll; call rtnl_event() when it is readable. */
int rtnl_fd(const struct rtnl *r);
void rtnl_event(struct rtnl *r);
void rtnl_close(struct rtnl *r);

/* Call fn for every address announced as new (RTM_NEWADDR, secondary ones
 * included), after the domains learned it. */
void rtnl_on_new_address(struct rtnl *r, void (*fn)(void *arg, int family, const uint8_t *addr),
			 void *arg);

/* The pure part, driven by rtnl_open/rtnl_event and by the tests. */

/* The address chosen for each interface and family in one dump. */
struct rtnl_scan;
struct rtnl_scan *rtnl_scan_new(void);	/* NULL if out of memory */
void rtnl_scan_free(struct rtnl_scan *sc);

/* Note one message of an address dump. Taken (true) only for an
 * RTM_NEWADDR of family AF_INET/AF_INET6, ifindex < DOMAIN_IFINDEX_MAX,
 * scope universe, none of IFA_F_SECONDARY/TENTATIVE/DEPRECATED/DADFAILED
 * (in ifa_flags, or in IFA_FLAGS when present), whose IFA_LOCAL (else
 * IFA_ADDRESS) has the family's length, on an interface without an
 * address yet: the first primary address is what MASQUERADE uses. */
bool rtnl_scan_addr(struct rtnl_scan *sc, const struct nlmsghdr *nlh);

/* The address noted for (family 4|6, ifindex) into addr; false if none. */
bool rtnl_scan_get(const struct rtnl_scan *sc, int family, uint32_t ifindex,
		   uint8_t *addr);

/* The domain published for each (family, ifindex). */
struct rtnl_map {
	uint16_t dom[2][DOMAIN_IFINDEX_MAX];	/* [family == 6][ifindex] */
};

/* Publish sc: every interface with an address gets that address's domain
 * (interned in d), every other one DOMAIN_SHARED, through
 * domains_set_ifindex() where it differs from map (which is updated); each
 * change is logged. Returns the number of changes. */
unsigned rtnl_publish(struct rtnl_map *map, struct domains *d,
		      const struct rtnl_scan *sc);

#endif
