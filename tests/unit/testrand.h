/* SPDX-License-Identifier: GPL-2.0-or-later */
/* testrand.h - reproducible random numbers for the property and
 * differential tests (xorshift64*), independent of libc. */
#ifndef TSNATD_TESTRAND_H
#define TSNATD_TESTRAND_H

#include <stdint.h>

/* The next 32 random bits of the generator whose state is *s (non-zero). */
static inline uint32_t
test_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (uint32_t)((*s * 0x2545f4914f6cdd1dull) >> 32);
}

#endif
