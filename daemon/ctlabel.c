/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctlabel.c - a rewritten flow's state in conntrack labels. */
#include <string.h>

#include "ctlabel.h"

#define F_MAGIC 0
#define F_FLAGS 4
#define F_OFFSET 8
#define F_SYN_VAL 40
#define F_SYN_WALL 72

static void
put(uint64_t *w, unsigned bit, unsigned width, uint32_t v)
{
	for (unsigned i = 0; i < width; i++, bit++) {
		uint64_t b = 1ull << (bit % 64);

		if ((v >> i) & 1)
			w[bit / 64] |= b;
		else
			w[bit / 64] &= ~b;
	}
}

static uint32_t
get(const uint64_t *w, unsigned bit, unsigned width)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < width; i++, bit++)
		v |= (uint32_t)((w[bit / 64] >> (bit % 64)) & 1) << i;
	return v;
}

void
ctlabel_encode(const struct ctlabel *l, unsigned first, uint8_t labels[CTLABEL_SIZE],
	       uint8_t mask[CTLABEL_SIZE])
{
	uint64_t w[2] = { 0, 0 }, m[2] = { 0, 0 };

	put(w, first + F_MAGIC, 4, CTLABEL_MAGIC);
	put(w, first + F_FLAGS, 4, l->flags & CTLABEL_FLAGS);
	put(w, first + F_OFFSET, 32, l->offset);
	put(w, first + F_SYN_VAL, 32, l->syn_val);
	put(w, first + F_SYN_WALL, 32, l->syn_wall);
	for (unsigned i = 0; i < CTLABEL_BITS; i += 8)
		put(m, first + i, 8, 0xff);
	memcpy(labels, w, CTLABEL_SIZE);
	memcpy(mask, m, CTLABEL_SIZE);
}

bool
ctlabel_decode(const uint8_t labels[CTLABEL_SIZE], unsigned first, struct ctlabel *l)
{
	uint64_t w[2];
	uint32_t flags;

	if (first > CTLABEL_FIRST_MAX)
		return false;
	memcpy(w, labels, CTLABEL_SIZE);
	flags = get(w, first + F_FLAGS, 4);
	if (get(w, first + F_MAGIC, 4) != CTLABEL_MAGIC || !flags || (flags & ~CTLABEL_FLAGS))
		return false;
	l->flags = (uint8_t)flags;
	l->offset = get(w, first + F_OFFSET, 32);
	l->syn_val = get(w, first + F_SYN_VAL, 32);
	l->syn_wall = get(w, first + F_SYN_WALL, 32);
	return true;
}

uint32_t
ctlabel_age(const struct ctlabel *l, uint32_t now_wall, uint32_t skew)
{
	int32_t since = (int32_t)(now_wall - l->syn_wall);

	return since > 0 ? (uint32_t)since + skew : skew;
}

uint32_t
ctlabel_bound(const struct ctlabel *l, uint32_t age)
{
	return l->syn_val + age + (age >> 10);
}
