/* SPDX-License-Identifier: GPL-2.0-or-later */
/* marks.h - the clock domains' high-water marks, checkpointed every few
 * seconds, so that a daemon killed without saving its state (kill -9, the
 * OOM killer, the watchdog) restarts above every TSval' it stamped.
 *
 * Why the restart value covers everything stamped before the crash: a
 * SYN gets max(wall clock, mark); every later TSval' of a flow is bounded
 * by its SYN's TSval' plus the time since, times (1 + 1/1024)
 * (mode_rewrite.c). So from a checkpoint at wall time w0 with mark m0, the
 * marks grow no faster than (1 + 1/1024) x real time, and any TSval'
 * stamped within an interval D after it is at most max(m0, w0) + D x (1 +
 * 1/1024) (the wall clock, running forward at real time, gives the same
 * bound for SYNs taken from it). A crash comes at most one checkpoint
 * interval (plus the main loop's tick) after the last checkpoint, and a
 * checkpoint is written at once on start: starting each domain at
 * max(wall clock now, max(m0, w0) + MARKS_COVER_MS) covers it, however long
 * the daemon was down; w0 + MARKS_COVER_MS is also the floor of every
 * domain, even one created after the checkpoint, and a daemon started
 * with a floor writes it as w0 of its own checkpoints. (A wall clock stepped backwards by more than that
 * is not covered: the marks of a clean stop are, in the state file.)
 *
 * File dir/MARKS_FILE, network byte order:
 *   header, 32 bytes: magic "TSNATDMK" (8), version (2), record size (2),
 *     records (4), wall clock ms at the checkpoint, or the domains' floor
 *     if that is later (8), reserved 0 (4),
 *     CRC-32 of bytes 0..27 and the records (4)
 *   records, 24 bytes: family 0/4/6 (1), has a mark 0/1 (1), reserved 0
 *     (2), the mark (4), address (16; IPv4: 4 bytes then zeros; the shared
 *     domain: family 0, zeros) */
#ifndef TSNATD_MARKS_H
#define TSNATD_MARKS_H

#include <stddef.h>
#include <stdint.h>

#include "domain.h"

#define MARKS_FILE "marks"
#define MARKS_VERSION 1
#define MARKS_INTERVAL_S 5	/* how often the main loop checkpoints */
/* what a restart adds: two intervals of the loop, at the rate margin */
#define MARKS_COVER_MS (2u * MARKS_INTERVAL_S * 1000u + 2u * MARKS_INTERVAL_S * 1000u / 1024u + 1u)

/* Encode every domain's mark at wall clock now_ms into buf (room for
 * marks_size()); returns the length. */
size_t marks_size(void);
size_t marks_encode(const struct domains *d, uint64_t now_ms, uint8_t *buf);

/* Raise each domain of the checkpoint buf[0..len) to its restart value
 * at wall clock now_ms (see above), creating domains as needed, and set
 * the floor of every domain to the checkpoint's time plus the cover.
 * Returns the number of marks raised (the floor counts as one), or -1
 * (nothing changed) if buf is not a valid checkpoint. */
long marks_apply(struct domains *d, const uint8_t *buf, size_t len, uint64_t now_ms);

/* Main thread: write the checkpoint to dir atomically. 0 or -1 (errno). */
int marks_save(const char *dir, const struct domains *d, uint64_t now_ms);

/* Main thread, before the workers start: read dir's checkpoint, if any,
 * and apply it. The number of domains raised; -1 if the file exists but
 * is not valid (warned). */
long marks_restore(const char *dir, struct domains *d, uint64_t now_ms);

#endif
