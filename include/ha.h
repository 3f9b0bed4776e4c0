/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha.h - a worker's side of HA pairs (ha_labels): the label writes its
 * batch asks for, sent by the engine after the batch's verdicts, and the
 * lookups of flows it meets without state (adoption, mode_rewrite.c).
 * Pure: the lookup goes through ops, which the engine backs with a
 * ctnetlink socket (ctnl.h) and the tests with a fake. */
#ifndef TSNATD_HA_H
#define TSNATD_HA_H

#include <stdbool.h>
#include <stdint.h>

#include "ctlabel.h"
#include "ctnl.h"

#define HA_WRITES 64		/* label writes per batch (NFQMSG_BATCH) */
#define HA_LOOKUPS_PER_S 256	/* conntrack lookups per second per worker */
#define HA_MISS_SLOTS 256	/* tuples recently found without a label */
#define HA_MISS_S 10		/* ... remembered this long */

struct ha_ops {
	/* t's entry: 1 found (e filled), 0 none, -1 error */
	int (*get)(void *ctx, const struct ct_tuple *t, struct ct_entry *e);
};

struct ha_write {
	struct ct_tuple t;
	uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];
};

struct proc_ha {
	const struct ha_ops *ops;
	void *ctx;
	unsigned first;			/* ha_label_first */
	uint32_t skew;			/* ha_clock_skew, ms */
	/* The packet being decided: labels its own verdict sets (the
	 * conntrack glue, NFQA_CT: no extra message), taken by the engine */
	bool verdict_labels;
	uint8_t v_labels[CTLABEL_SIZE], v_mask[CTLABEL_SIZE];
	unsigned nwrites;		/* pending in w[], sent after the batch */
	struct ha_write w[HA_WRITES];
	uint32_t lookup_sec, lookups;	/* this second's lookups */
	struct { uint32_t hash, until; } miss[HA_MISS_SLOTS];
};

/* The tuple of a connection, client -> server, ports in network order. */
void ha_tuple(struct ct_tuple *t, int family, const uint8_t *client, const uint8_t *server,
	      uint16_t cport, uint16_t sport);

/* Ask for l to be written into t's entry after this batch. False when the
 * batch has no room left (counted by the caller). */
bool ha_write_label(struct proc_ha *ha, const struct ct_tuple *t, const struct ctlabel *l);

/* The same for the packet being decided: with the conntrack glue (glue:
 * its NFQA_CT was there) its verdict sets l, else a write after the
 * batch. */
bool ha_label(struct proc_ha *ha, bool glue, const struct ct_tuple *t, const struct ctlabel *l);

enum ha_found {
	HA_LABEL,	/* *l holds the flow's record */
	HA_NONE,	/* no record of tsnatd's (or no entry) */
	HA_SKIPPED,	/* not looked up: over the rate, or missed recently */
	HA_ERROR,	/* the lookup failed */
};

/* t's record, looked up at most HA_LOOKUPS_PER_S times a second (now:
 * monotonic seconds); a tuple found without one is not looked up again
 * for HA_MISS_S s. */
enum ha_found ha_lookup(struct proc_ha *ha, const struct ct_tuple *t, uint32_t now,
			struct ctlabel *l);

/* The same from labels already at hand (NFQA_CT, the conntrack glue):
 * no lookup. */
enum ha_found ha_from_labels(const struct proc_ha *ha, bool has_labels,
			     const uint8_t labels[CTLABEL_SIZE], struct ctlabel *l);

#endif
