/* SPDX-License-Identifier: GPL-2.0-or-later */
/* discofile.h - the discovery table kept across restarts: written to
 * <state_dir>/DISCOFILE on stop, read (then removed) on start, so that a
 * restart does not forget which servers are legacy.
 *
 * Network byte order, fixed records, a CRC-32 (as state.h) over all but
 * the CRC field:
 *   header, 32 bytes: magic "TSNATDDS" (8), version (2), record size (2),
 *     records (4), saved at, wall clock seconds (8), reserved 0 (4), CRC (4)
 *   records, 88 bytes: family of the server 4/6 (1), family of the
 *     translated source 0/4/6 (1; 0: the shared domain), has a record 0/1
 *     (1), reserved 0 (1), the record's TSval (4), its age in seconds (4),
 *     server (16), translated source (16), syns, predicted drops 3.10,
 *     predicted drops 4.x, confirmed drops, contrary evidence (5 x 8)
 * The verdict is recomputed from the counts. A file that does not fit in
 * any way is ignored with one warning. */
#ifndef TSNATD_DISCOFILE_H
#define TSNATD_DISCOFILE_H

#include <stdint.h>

#include "discovery.h"
#include "domain.h"

#define DISCOFILE "discovery"
#define DISCOFILE_VERSION 1

/* Main thread, workers stopped. The number of entries saved, or -1. */
long discofile_save(const char *dir, struct discovery *t, const struct domains *d,
		    uint32_t now);

/* Main thread, before the workers start: entries restored (records aged
 * by the time the daemon was down), 0 when there is no file. */
long discofile_restore(const char *dir, struct discovery *t, struct domains *d,
		       uint32_t now);

#endif
