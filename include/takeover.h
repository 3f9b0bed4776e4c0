/* SPDX-License-Identifier: GPL-2.0-or-later */
/* takeover.h - HA pairs: what a gateway that has just become the active
 * one (keepalived moved the addresses; conntrackd committed the other's
 * conntrack entries, labels included) must know before its first SYN:
 * how far every clock domain must start, so that no SYN goes out below a
 * TSval' the other gateway sent from the same translated source in the
 * last minute, and which servers the other's auto mode had found legacy.
 *
 * Each labelled entry (ctlabel.h) is a flow the other gateway rewrote: it
 * may have sent up to its bound, syn_val + age + age / 1024 with the age
 * counted on this gateway's clock plus ha_clock_skew. Its domain is its
 * translated source (the reply's destination). And since a flow's record
 * only covers flows that still have an entry, every domain also starts at
 * this gateway's clock plus the skew: the other's clock, at most. Nothing
 * here is a protocol of tsnatd's own: conntrackd carried it all. */
#ifndef TSNATD_TAKEOVER_H
#define TSNATD_TAKEOVER_H

#include <stdint.h>

#include "conf.h"
#include "ctnl.h"
#include "discovery.h"
#include "domain.h"

struct takeover {
	const struct conf *conf;
	struct domains *d;
	struct discovery *disc;		/* may be NULL */
	uint32_t now_ms;		/* wall clock ms mod 2^32 */
	uint32_t now_s;			/* monotonic seconds (discovery) */
	/* what it found */
	unsigned long entries, labelled;
	unsigned long legacy;		/* servers newly legacy through auto's flag */
	uint32_t highest;		/* the highest floor raised (labelled only) */
};

/* One entry of the table: its floor into its domain, its auto flag into
 * discovery. Pure, but for the registry (domains_intern). */
void takeover_entry(struct takeover *t, const struct ct_entry *e);

/* Every domain at least at now_ms + skew, and at the highest floor the
 * records gave (a domain keyed by an interface's own address may carry
 * the flows a record names by the virtual one). */
void takeover_clock(struct takeover *t);

/* Both, over the whole conntrack table (one dump on a socket of its own).
 * 0, or -1 (errno) when the table could not be read: the clock floor is
 * raised all the same. */
int takeover_run(struct takeover *t);

#endif
