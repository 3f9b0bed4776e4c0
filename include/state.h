/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.h - what rewritten flows depend on, kept across a restart: the
 * flow tables of every queue and the clock domains with their high-water
 * marks, written to <state_dir>/tsnatd.state on shutdown and read (then
 * removed) on start.
 *
 * The file is a designed format, not a memory dump: every integer in
 * network byte order, fixed-size records, a CRC-32 (IEEE 802.3, as zlib's
 * crc32) over everything but the CRC field itself.
 *
 *   header, 40 bytes
 *     0  8  magic "TSNATDST"
 *     8  2  format version (STATE_VERSION)
 *    10  2  header size (40)
 *    12  2  domain record size (24)
 *    14  2  flow record size (60)
 *    16  4  number of domain records (1..DOMAIN_MAX)
 *    20  4  number of flow records
 *    24  8  saved at, wall clock seconds since the epoch
 *    32  4  reserved, 0
 *    36  4  CRC-32 of bytes 0..35 and of the whole body
 *   domain records, 24 bytes each, record i describes domain i
 *     0  2  id (= i; 0 is DOMAIN_SHARED)
 *     2  1  family: 4 or 6 (0 for DOMAIN_SHARED)
 *     3  1  has a mark: 0 or 1
 *     4  4  the mark (highest TSval sent), 0 without one
 *     8 16  address (IPv4: 4 bytes, then zeros; DOMAIN_SHARED: zeros)
 *   flow records, 60 bytes each
 *     0  2  NFQUEUE number of the worker that owned the flow
 *     2  1  family: 4 or 6
 *     3  1  flags: FLOW_* bits (FLOW_V6 set exactly for family 6)
 *     4 16  address a (canonical order: (a, pa) < (b, pb))
 *    20 16  address b
 *    36  2  port pa
 *    38  2  port pb
 *    40  4  offset (TSval' - TSval)
 *    44  4  last_raw (the client's latest TSval)
 *    48  2  domain id (< the number of domain records)
 *    50  2  reserved, 0
 *    52  4  the SYN's TSval' (where the flow's real-time bound starts)
 *    56  4  the flow's age when saved, ms (monotonic time means nothing
 *           across a reboot; on restore the time since saving is added)
 *
 * The loader checks all of it before it restores anything; a file that
 * does not fit in any way is ignored with one warning. */
#ifndef TSNATD_STATE_H
#define TSNATD_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "flow.h"

#define STATE_FILE "tsnatd.state"
#define STATE_VERSION 3		/* 1: raw struct dump; 2: no SYN bound */
#define STATE_HDR_SIZE 40
#define STATE_HDR_CRC_OFF 36
#define STATE_DOMAIN_SIZE 24
#define STATE_FLOW_SIZE 60

/* A worker's flow table and the queue it serves. */
struct state_queue {
	unsigned queue;
	struct flow_table *flows;
};

/* Main thread, workers stopped: write the flows of q[0..nq) and the
 * domains d to dir/STATE_FILE (dir created 0700 if missing) through a
 * temporary file, fsync and rename; mode 0600. Returns the number of flows
 * saved, or -1 (with a warning; no partial file is left). */
long state_save(const char *dir, const struct state_queue *q, unsigned nq,
		const struct domains *d);

/* Main thread, workers not started: read dir/STATE_FILE, saved at most
 * max_age_s seconds ago, and remove it. Domains are interned into d (ids
 * may change; flows follow), marks restored as worker 0's; each flow goes
 * to the table of its queue. Returns the number of flows restored; 0 when
 * there is no file or it is ignored (one warning says why). */
long state_restore(const char *dir, const struct state_queue *q, unsigned nq,
		   struct domains *d, uint32_t max_age_s);

/* CRC-32 (IEEE) of buf, continuing crc (start with 0). */
uint32_t state_crc32(uint32_t crc, const void *buf, size_t len);

/* Replace dir/name with buf[0..len) atomically: a temporary file (0600,
 * never through a symbolic link), fsync, rename, fsync of dir (created 0700
 * if missing). 0, or -1 with errno (the old file, if any, is kept). */
int state_file_replace(const char *dir, const char *name, const void *buf, size_t len);

#endif
