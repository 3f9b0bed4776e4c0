/* SPDX-License-Identifier: GPL-2.0-or-later */
/* flowsnap.h - a copy of a worker's rewrite flows for the control socket,
 * taken by the worker itself between two batches.
 *
 * The flow tables belong to the workers: the main thread never reads one
 * while they run. It posts a request instead; the worker, between batches
 * (at least every 250 ms), copies up to FLOWSNAP_MAX flows into the
 * mailbox's buffer and publishes them. Why this is race-free:
 *
 *  - One writer per field. The main thread writes buf (allocation) and
 *    req; the worker writes the copies, n, total, now and done.
 *  - req is stored with release after the main thread's writes, and the
 *    worker loads it with acquire before touching buf: the worker sees the
 *    buffer the main thread allocated.
 *  - done is stored with release after the worker's copies, and the main
 *    thread loads it with acquire before reading them: it sees every copy.
 *  - The main thread posts only when done == req (no copy under way) and
 *    reads only when done == req again; in between it touches nothing, and
 *    the worker touches buf only between its acquire of req and its
 *    release of done. Their accesses to buf never overlap.
 *  - A request the main thread stops waiting for (its client left) stays
 *    posted: the worker finishes it, and the next request waits for that.
 *
 * tests/unit/test_flowsnap.c runs a worker thread against the main thread
 * (make tsan checks the ordering). */
#ifndef TSNATD_FLOWSNAP_H
#define TSNATD_FLOWSNAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow.h"

#define FLOWSNAP_MAX 4096	/* flows one worker copies at most (256 KiB) */

struct flowsnap {
	_Atomic uint32_t req, done;	/* request sequence: posted, served */
	struct flow *buf;		/* FLOWSNAP_MAX, allocated on first post */
	uint32_t n;			/* flows copied */
	uint32_t total;			/* flows in the table then */
	uint32_t now;			/* the worker's clock then: seconds */
	uint32_t mono_ms;		/*   and milliseconds, monotonic */
};

/* Main thread: ask for a copy. False if the previous one is not served
 * yet (try again later). */
bool flowsnap_post(struct flowsnap *s);

/* Main thread: has the request posted last been served? */
bool flowsnap_ready(const struct flowsnap *s);

/* Worker, between batches: serve a posted request from t (now, mono_ms:
 * the worker's clock). Cheap when nothing is posted: one atomic load. */
void flowsnap_serve(struct flowsnap *s, const struct flow_table *t, uint32_t now,
		    uint32_t mono_ms);

/* Free the buffer; the worker must have stopped. */
void flowsnap_free(struct flowsnap *s);

#endif
