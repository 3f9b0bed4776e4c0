/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bytes.h - big-endian fields at any alignment (private to daemon/, its
 * white-box tests and the legacy emulator): one load or store and a byte
 * swap each. The packet path and the state files (network byte order)
 * both use them. */
#ifndef TSNATD_BYTES_H
#define TSNATD_BYTES_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint32_t
pkt_get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline void
pkt_put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint16_t
pkt_get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline void
pkt_put16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint64_t
pkt_get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

static inline void
pkt_put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, sizeof(v));
}

/* True when p[0..n) holds only zero bytes (reserved fields, padding). */
static inline bool
bytes_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* A 32-bit word as it lies in memory (network order), for compares
 * against constants converted at compile time. */
static inline uint32_t
pkt_raw32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

#endif
