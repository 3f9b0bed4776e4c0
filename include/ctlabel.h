/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlabel.h - what a rewritten flow needs, in its conntrack entry's labels
 * (connlabels: 128 bits per entry), so that conntrackd carries it to the
 * other gateway of an HA pair and whichever daemon meets the flow later
 * can adopt it. Pure.
 *
 * tsnatd uses CTLABEL_BITS consecutive label bits from ha_label_first
 * (0..CTLABEL_FIRST_MAX), bit i of the record at label bit first + i:
 *
 *     0   4  CTLABEL_MAGIC: the bits are tsnatd's (a record with other
 *            bits here, or none, is not adopted)
 *     4   4  flags: CTLABEL_SHIFT, CTLABEL_AUTO
 *     8  32  offset (TSval' - TSval, client -> server)
 *    40  32  the SYN's TSval' (the flow's real-time bound starts there)
 *    72  32  when the SYN was decided, wall clock ms mod 2^32
 *
 * Label bit n is bit n % 64 of the n / 64-th 64-bit word, in host order,
 * as the kernel keeps them (an array of unsigned long) and as
 * CTA_LABELS carries them: both gateways of a pair must share the byte
 * order, as conntrackd's sync of labels already requires. */
#ifndef TSNATD_CTLABEL_H
#define TSNATD_CTLABEL_H

#include <stdbool.h>
#include <stdint.h>

#define CTLABEL_SIZE 16			/* bytes of labels in an entry */
#define CTLABEL_BITS 104
#define CTLABEL_FIRST_MAX (128 - CTLABEL_BITS)
#define CTLABEL_FIRST_DEFAULT 24	/* bits 0..23 left to the operator */
#define CTLABEL_MAGIC 0xb

#define CTLABEL_SHIFT 0x1	/* a rewritten flow: offset, syn_val, syn_wall hold */
#define CTLABEL_AUTO 0x2	/* auto mode acted on it: its server is legacy */
#define CTLABEL_FLAGS 0x3

struct ctlabel {
	uint8_t flags;		/* CTLABEL_* */
	uint32_t offset;	/* TSval' - TSval */
	uint32_t syn_val;	/* the SYN's TSval' */
	uint32_t syn_wall;	/* wall clock ms mod 2^32 of the SYN */
};

/* The record l at bits first.. of labels, and in mask the bits it covers
 * (the ones a write must change, and no other). first <= CTLABEL_FIRST_MAX. */
void ctlabel_encode(const struct ctlabel *l, unsigned first, uint8_t labels[CTLABEL_SIZE],
		    uint8_t mask[CTLABEL_SIZE]);

/* The record at bits first.. of labels: false when they do not hold one
 * of tsnatd's (magic, unknown flags, or no flag at all). */
bool ctlabel_decode(const uint8_t labels[CTLABEL_SIZE], unsigned first, struct ctlabel *l);

/* How long ago the SYN of l was decided, seen from a gateway whose wall
 * clock reads now_wall and may be up to skew ms behind the one that wrote
 * l: (now_wall - syn_wall) + skew, and at least skew (a clock that reads
 * the SYN in the future is behind). */
uint32_t ctlabel_age(const struct ctlabel *l, uint32_t now_wall, uint32_t skew);

/* The highest TSval' the flow of l may have sent, age ms after its SYN:
 * its bound (syn_val + age + age / 1024, as rewrite's), which is also
 * where an adopted flow's bound stands. */
uint32_t ctlabel_bound(const struct ctlabel *l, uint32_t age);

#endif
