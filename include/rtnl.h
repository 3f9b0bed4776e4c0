/* rtnl.h - the primary address of every interface, learned and kept current
 * through rtnetlink (libmnl), published as clock domains: what MASQUERADE
 * picks as the translated source of packets leaving that interface. */
#ifndef TSNATD_RTNL_H
#define TSNATD_RTNL_H

#include "domain.h"

struct rtnl;

/* Subscribe to address changes and learn the current addresses. NULL (with
 * a warning) if rtnetlink is unavailable: every "auto" domain is shared. */
struct rtnl *rtnl_open(struct domains *d);

/* The descriptor to poll; call rtnl_event() when it is readable. */
int rtnl_fd(const struct rtnl *r);
void rtnl_event(struct rtnl *r);
void rtnl_close(struct rtnl *r);

#endif
