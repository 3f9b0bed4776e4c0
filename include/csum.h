/* csum.h - Internet checksum helpers (RFC 1071, RFC 1624). Pure functions. */
#ifndef TSNATD_CSUM_H
#define TSNATD_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add the bytes [p, p+len) to a running one's complement sum as big-endian
 * 16-bit words; a trailing odd byte is padded with zero. The result is not
 * folded: pass it back in or give it to csum_fold(). */
uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len);

/* Fold a running sum to 16 bits (one's complement addition, no complement).
 * Inline with csum_replace(): they are the whole per-packet checksum cost. */
static inline uint16_t
csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* RFC 1624 eqn. 3: the checksum field at check (big-endian, 2 bytes) covered a
 * region whose words summed to old_sum; they now sum to new_sum. */
static inline void
csum_replace(uint8_t *check, uint16_t old_sum, uint16_t new_sum)
{
	uint32_t hc = (uint16_t)~(((unsigned)check[0] << 8) | check[1]);
	uint16_t res;

	hc += (uint16_t)~old_sum;
	hc += new_sum;
	res = (uint16_t)~csum_fold(hc);
	check[0] = (uint8_t)(res >> 8);
	check[1] = (uint8_t)res;
}

/* Full TCP checksum (the value to store) of the segment tcp[0..tcp_len) with the
 * checksum field taken as zero, over the IPv4 (addr_len 4) or IPv6 (16)
 * pseudo-header. */
uint16_t csum_tcp(const uint8_t *saddr, const uint8_t *daddr, size_t addr_len,
		  const uint8_t *tcp, size_t tcp_len);

#endif
