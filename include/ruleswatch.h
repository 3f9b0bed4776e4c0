/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ruleswatch.h - the running daemon looks at the firewall rules that feed
 * its queues, every RULESWATCH_INTERVAL_S seconds and after each reload:
 * which tool holds them, whether they are there, and whether the queues
 * they name are the ones it listens on (rulescheck.h judges). A thread of
 * its own runs the tools (iptables -t mangle -S, nft list table inet
 * tsnatd), so that a slow or hanging tool never holds up the main loop.
 * The main thread logs each change of state and, while the rules and the
 * queues disagree, warns again at most once per WARN_INTERVAL (warn.h). */
#ifndef TSNATD_RULESWATCH_H
#define TSNATD_RULESWATCH_H

#include <stdint.h>

#include "conf.h"
#include "rulescheck.h"

#define RULESWATCH_INTERVAL_S 5

struct ruleswatch;

/* Start watching for c (its rules key, the families its policies need,
 * its queues). NULL (warned) if the thread cannot start: the daemon runs
 * on, status then says the rules are not checked. */
struct ruleswatch *ruleswatch_start(const struct conf *c);

/* c replaces the configuration watched for (a reload): checked again at
 * once. */
void ruleswatch_conf(struct ruleswatch *w, const struct conf *c);

/* The last verdict (UNCHECKED before the first; w NULL: UNCHECKED). */
void ruleswatch_get(struct ruleswatch *w, struct rulescheck *out);

/* Main loop, every round: log a changed verdict (a warning when it
 * drifts, info when it is back in step) and, while it drifts, warn again
 * (rate-limited). mono_s: monotonic seconds. */
void ruleswatch_tick(struct ruleswatch *w, uint64_t mono_s);

/* Stop the thread (waiting for a tool it runs) and free. */
void ruleswatch_stop(struct ruleswatch *w);

#endif
