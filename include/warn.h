/* SPDX-License-Identifier: GPL-2.0-or-later */
/* warn.h - live warnings from the counters: the moment a counter that
 * means trouble moves (a full flow table, failed sends, a client clamped or
 * over its quota...), one line says by how much and what it means for the
 * operator; at most one line per counter per WARN_INTERVAL seconds, the
 * increases in between summed into the next line ("went up by N more
 * since its last warning S s ago").
 * Which counters warn, and their lines, are one table in warn.c.
 *
 * Pure: the caller sums the published counters, reads the clock and logs
 * the lines (the main thread, at least once a second). */
#ifndef TSNATD_WARN_H
#define TSNATD_WARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

#define WARN_INTERVAL 10	/* seconds between two lines of one counter */
#define WARN_SLOTS 16		/* room for the table's counters */

/* What has been said of one counter. All zero: nothing, the counter at 0. */
struct warn_slot {
	uint64_t last;		/* the total at the last check */
	uint64_t held;		/* increase not said yet */
	uint64_t said_at;	/* time of the last line */
	bool said;		/* a line was ever said */
};

/* What has been said. All zero is the state before the first check, with
 * every counter at 0 (as the workers start). */
struct warn_state {
	struct warn_slot c[WARN_SLOTS];
};

/* Compare totals (summed over the workers) with the last ones seen, at
 * now (monotonic seconds, never going back). For each counter of the
 * table that moved: if its last line is WARN_INTERVAL seconds old or more
 * (or there was none), one line goes to say(ctx, line), naming the
 * counter, the increase (with what was held back since its last line) and
 * its meaning; else the increase is held for a later check. A total lower
 * than the last one is a new baseline, not an increase. Returns the number
 * of lines said. */
unsigned warn_check(struct warn_state *w, const struct stats *totals, uint64_t now,
		    void (*say)(void *ctx, const char *line), void *ctx);

/* The same rule for one counter kept outside the stats (the rules
 * watcher's drifting checks): total against w, a line naming name and
 * meaning to say(ctx, line) if due. True if a line was said. */
bool warn_counter(struct warn_slot *w, uint64_t total, uint64_t now, const char *name,
		  const char *meaning, void (*say)(void *ctx, const char *line), void *ctx);

/* The counters that warn: their number, and the name of counter i (for
 * tests and documentation). */
size_t warn_count(void);
const char *warn_name(size_t i);

#endif
