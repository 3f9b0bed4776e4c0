/* SPDX-License-Identifier: GPL-2.0-or-later */
/* csum.h - the Internet checksum (RFC 1071) and its incremental update
 * (RFC 1624). Pure functions. */
#ifndef TSNATD_CSUM_H
#define TSNATD_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* How the TCP checksum of a packet must be brought up to date; the engine
 * derives it from what the kernel says of the packet (NFQA_SKB_INFO). */
enum csum_mode {
	CSUM_INCREMENTAL,	/* field is final: RFC 1624 update */
	CSUM_FULL,		/* field holds only the pseudo-header sum
				 * (checksum offload pending): compute it all */
	CSUM_NONE,		/* GSO super-packet: segmentation rewrites it */
};

/* Add the bytes [p, p+len) to a running one's complement sum as big-endian
 * 16-bit words; a trailing odd byte is padded with zero. The result is not
 * folded: pass it back in or give it to csum_fold(). */
uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len);

/* Fold a running sum to 16 bits (one's complement addition, no complement). */
uint16_t csum_fold(uint64_t sum);

/* Full TCP checksum (the value to store) of the segment tcp[0..tcp_len) with
 * the checksum field taken as zero, over the IPv4 (addr_len 4) or IPv6 (16)
 * pseudo-header. */
uint16_t csum_tcp(const uint8_t *saddr, const uint8_t *daddr, size_t addr_len,
		  const uint8_t *tcp, size_t tcp_len);

/* The 16-bit words of a 32-bit value, summed (not folded). */
uint32_t csum_words32(uint32_t v);

/* RFC 1624 eqn. 3: update the checksum stored at check[0..2) for a field at
 * byte offset off of the summed data (only its parity matters) whose
 * 16-bit words summed to old_sum and now sum to new_sum, both plain sums of
 * at most 7 words. The result equals a full recomputation. */
void csum_update(uint8_t *check, size_t off, uint32_t old_sum, uint32_t new_sum);

#endif
