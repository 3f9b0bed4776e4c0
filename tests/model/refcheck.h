/* SPDX-License-Identifier: GPL-2.0-or-later */
/* refcheck.h - hold process_packet() to the reference model: one packet
 * through both, then everything observable compared (verdict, bytes,
 * checksum, counters, every domain's mark, and the flow tables: count,
 * every flow's state, the packet's flow and direction). Shared by
 * tests/unit/test_model.c and tests/fuzz/fuzz_model.c. */
#ifndef TSNATD_REFCHECK_H
#define TSNATD_REFCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process.h"
#include "refmodel.h"

/* The daemon's worker and the model of it, fed the same packets. */
struct ref_pair {
	const struct conf *conf;
	struct proc_state *ps;		/* flows NULL: no table (model too) */
	struct stats *st;
	struct ref_model *m;
};

/* Run pkt[0..len) through process_packet() and ref_process(), each on an
 * exact-size copy (a sanitizer sees any read past the packet), the model
 * at the daemon's clocks (ps->now, ps->now_ms, ps->mono_ms). Returns true when they
 * agree; else false with the first difference described in why[0..n).
 * *verdict and out[0..len) (each may be NULL) receive process_packet()'s
 * verdict and packet.
 *
 * The checksum field is compared by the mode's rule, not byte for byte:
 * CSUM_NONE leaves it as received, CSUM_FULL stores the full checksum,
 * CSUM_INCREMENTAL keeps a correct checksum correct. A packet passed or
 * dropped is left untouched entirely. */
bool ref_pair_step(struct ref_pair *w, const uint8_t *pkt, size_t len,
		   const struct ref_in *in, enum proc_result *verdict, uint8_t *out,
		   char *why, size_t n);

/* flow_expire() and ref_expire() with the same timeouts and limit at the
 * daemon's clock: true when both expire as many and keep the same flows. */
bool ref_pair_expire(struct ref_pair *w, const struct flow_timeouts *to, unsigned limit,
		     char *why, size_t n);

#endif
