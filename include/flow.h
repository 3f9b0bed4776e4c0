/* SPDX-License-Identifier: GPL-2.0-or-later */
/* flow.h - the per-worker flow table of rewrite mode. Pure: no syscalls, no
 * locks (one table per worker thread), no allocation after flow_table_new().
 *
 * Flows are keyed by the TCP 4-tuple as seen in FORWARD (both directions
 * carry the client's own address), stored in canonical order so that either
 * direction finds them. Entries live in a fixed arena; an open-addressed
 * index maps the key hash to them; three LRU lists (half-open: the server
 * has not answered yet; open; closing: both FINs seen) give O(1) expiry
 * and eviction, half-open flows first. A small count-min sketch counts the
 * flows of each client address, for per-client quotas. */
#ifndef TSNATD_FLOW_H
#define TSNATD_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "packet.h"

#define FLOW_CLIENT_IS_A 0x01	/* the SYN came from side a */
#define FLOW_FIN_CLIENT 0x02
#define FLOW_FIN_SERVER 0x04
#define FLOW_REBASE 0x08	/* SYN had TSval 0: offset holds its TSval' */
#define FLOW_ANSWERED 0x10	/* the server answered: no longer half-open */
#define FLOW_V6 0x20		/* IPv6 addresses */
#define FLOW_OBSERVE 0x40	/* an observed flow (mode observe or auto), not
				 * a rewritten one: offset holds OBSERVE_* bits */
#define FLOW_FLAGS 0x7f		/* every flag (flags has 7 bits) */

#define FLOW_TIMEOUT_MAX 43200	/* seconds; "last" is 16 bits */
#define FLOW_CLOSING_TIMEOUT 30	/* seconds a flow lives after both FINs:
				 * the last ACKs still need their TSecr */

/* 64 bytes, one cache line: a lookup touches one line of the arena. */
struct flow {
	uint8_t a[16], b[16];	/* canonical order: (a,pa) < (b,pb) */
	uint16_t pa, pb;
	uint32_t offset;	/* TSval' - TSval (client -> server) */
	uint32_t last_raw;	/* the client's latest TSval before rewrite */
	uint32_t syn_val;	/* the SYN's TSval' (the flow's bound starts here) */
	uint32_t syn_ms;	/* when the SYN was seen, monotonic ms mod 2^32 */
	uint32_t prev, next;	/* LRU list links (arena index + 1, 0 = none) */
	uint16_t last;		/* last packet, monotonic seconds mod 2^16 */
	uint16_t domain : 9;	/* clock domain of the translated source */
	uint16_t flags : 7;	/* FLOW_* */
};

/* Both FINs seen: the flow only waits for its last ACKs. */
bool flow_closing(const struct flow *f);

/* How long flows of each list live without a packet, in seconds. */
struct flow_timeouts {
	uint32_t idle;		/* open flows */
	uint32_t closing;	/* both FINs seen */
	uint32_t half_open;	/* the server has not answered */
};

/* 4 or 6. */
int flow_family(const struct flow *f);

struct flow_table;

/* A table for at most max flows; seed keys the hash. NULL if out of memory. */
struct flow_table *flow_table_new(uint32_t max, uint32_t seed);
void flow_table_free(struct flow_table *t);

/* The flow of p in either direction, or NULL; *from_client says whether p
 * travels client -> server. */
struct flow *flow_lookup(struct flow_table *t, const struct pkt *p, bool *from_client);

/* A new flow whose client is p's source. NULL when the table is full. */
struct flow *flow_insert(struct flow_table *t, const struct pkt *p, uint32_t now);

/* Drop a flow to make room: the longest-waiting half-open one, else the
 * longest-idle closing one, else the longest-idle open one. False if the
 * table is empty. */
bool flow_evict_idle(struct flow_table *t);

/* The server answered f (its first packet): f is no longer half-open. */
void flow_answered(struct flow_table *t, struct flow *f);

/* Half-open and open flows whose client is addr (family 4 or 6): never
 * fewer than there are, rarely more (a count-min sketch keyed by the
 * table's seed). Closing flows do not count. */
uint32_t flow_client_count(const struct flow_table *t, int family, const uint8_t *addr);

/* A packet of f was seen at now: it becomes the most recently used. The
 * lists stay ordered by "last": a flow already touched this second sits
 * among the others of this second, at the tail end, and stays. */
void flow_touch(struct flow_table *t, struct flow *f, uint32_t now);

/* Record a FIN; after both, the flow moves to the closing list. */
void flow_fin(struct flow_table *t, struct flow *f, bool from_client, uint32_t now);

void flow_remove(struct flow_table *t, struct flow *f);

/* Remove the flows idle longer than their list's timeout, at most limit
 * of them. Returns how many. */
uint32_t flow_expire(struct flow_table *t, uint32_t now, const struct flow_timeouts *to,
		     uint32_t limit);

/* Flows in the table. */
uint32_t flow_count(const struct flow_table *t);

/* Bytes the table occupies (arena + index), for the memory figures. */
size_t flow_table_bytes(const struct flow_table *t);

/* Call fn for every flow (for saving state). */
void flow_foreach(const struct flow_table *t,
		  void (*fn)(const struct flow *f, void *arg), void *arg);

/* Insert a flow as saved (restoring state); false when full or present. */
bool flow_restore(struct flow_table *t, const struct flow *f, uint32_t now);

#endif
