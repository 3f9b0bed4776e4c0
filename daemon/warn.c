/* SPDX-License-Identifier: GPL-2.0-or-later */
/* warn.c - live warnings from the counters (see warn.h). */
#include <stdio.h>

#include "warn.h"

/* Counter -> what its increase means for the operator and what to do. */
static const struct warn_counter {
	const char *name;
	size_t off;
	const char *meaning;
} warn_table[] = {
#define W(name, meaning) { #name, offsetof(struct stats, name), meaning }
	W(flows_full, "new connections found the rewrite flow table full and got the "
		      "flows.on_full fallback instead of a rewrite; raise flows.max"),
	W(flows_evicted, "idle rewrite flows were evicted to make room; a connection "
			 "still open loses its rewrite and may stall; raise flows.max"),
	W(flows_over_quota, "new connections of a client over its flow quota got strip "
			    "instead of rewrite (one client opens very many; see "
			    "flows.per_client)"),
	W(ts_clamped, "client timestamps ran ahead of real time and were clamped to "
		      "their flow's bound (a client with a broken or hostile clock)"),
	W(flows_unadopted, "packets of rewrite connections passed with the client's own "
			   "timestamps: tsnatd had no state for them and their conntrack "
			   "entries no label to adopt (a failover without ha_labels on both "
			   "gateways, or conntrackd not syncing; a restart without state)"),
	W(label_errors, "conntrack label writes or lookups failed (ha_labels): those "
			"flows would not survive a failover; is tsnatd's label rule "
			"loaded (tsnatctl status: rules), and are conntrack labels "
			"available (CONFIG_NF_CONNTRACK_LABELS)?"),
	W(send_errors, "verdict sends failed; their modified packets were dropped (TCP "
		       "resends them), the rest accepted unmodified; memory is short or "
		       "the queue socket fails"),
	W(verdict_errors, "the kernel refused verdicts for unknown packet ids (another "
			  "program on the queue, or a bug)"),
	W(enobufs, "the queue's receive buffer overran: packets passed unmodified "
		   "without the daemon seeing them; the workers do not keep up (add "
		   "queues: queue.count)"),
#undef W
};
#define WARN_N (sizeof(warn_table) / sizeof(warn_table[0]))
_Static_assert(WARN_N <= WARN_SLOTS, "struct warn_state holds every counter");

size_t
warn_count(void)
{
	return WARN_N;
}

const char *
warn_name(size_t i)
{
	return i < WARN_N ? warn_table[i].name : NULL;
}

static uint64_t
counter(const struct stats *s, size_t off)
{
	return *(const uint64_t *)(const void *)((const char *)s + off);
}

/* The line for counter name, up by n; again: since its line ago seconds
 * back. */
static void
warn_say(const char *name, const char *meaning, uint64_t n, bool again, uint64_t ago,
	 void (*say)(void *ctx, const char *line), void *ctx)
{
	char line[512];

	if (again)
		snprintf(line, sizeof(line), "%s went up by %llu more since its last warning "
			 "%llu s ago: %s", name, (unsigned long long)n,
			 (unsigned long long)ago, meaning);
	else
		snprintf(line, sizeof(line), "%s went up by %llu: %s", name,
			 (unsigned long long)n, meaning);
	say(ctx, line);
}

bool
warn_counter(struct warn_slot *w, uint64_t v, uint64_t now, const char *name,
	     const char *meaning, void (*say)(void *ctx, const char *line), void *ctx)
{
	if (v < w->last) {		/* a new baseline */
		w->last = v;
		return false;
	}
	w->held += v - w->last;
	w->last = v;
	if (!w->held)
		return false;
	if (w->said && now - w->said_at < WARN_INTERVAL)
		return false;		/* held for a later line */
	warn_say(name, meaning, w->held, w->said, now - w->said_at, say, ctx);
	w->held = 0;
	w->said = true;
	w->said_at = now;
	return true;
}

unsigned
warn_check(struct warn_state *w, const struct stats *totals, uint64_t now,
	   void (*say)(void *ctx, const char *line), void *ctx)
{
	unsigned lines = 0;

	for (size_t i = 0; i < WARN_N; i++)
		lines += warn_counter(&w->c[i], counter(totals, warn_table[i].off), now,
				      warn_table[i].name, warn_table[i].meaning, say, ctx);
	return lines;
}
