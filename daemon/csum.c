/* SPDX-License-Identifier: GPL-2.0-or-later */
/* csum.c - the Internet checksum over a buffer and the TCP pseudo-header
 * (RFC 1071), and its incremental update (RFC 1624). */
#include "bytes.h"
#include "csum.h"

uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	/* 32-bit big-endian chunks into a 64-bit accumulator: the carries are
	 * folded once at the end, which is the same one's complement sum. */
	while (len >= 4) {
		sum += pkt_get32(p);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += pkt_get16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

uint16_t
csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

uint16_t
csum_tcp(const uint8_t *saddr, const uint8_t *daddr, size_t addr_len,
	 const uint8_t *tcp, size_t tcp_len)
{
	uint64_t sum = 0;

	sum = csum_add(sum, saddr, addr_len);
	sum = csum_add(sum, daddr, addr_len);
	sum += 6;			/* IPPROTO_TCP, zero-padded */
	sum += (uint32_t)tcp_len;	/* IPv4: 16-bit length; IPv6: 32-bit */
	sum = csum_add(sum, tcp, 16);	/* header up to the checksum field */
	if (tcp_len > 18)
		sum = csum_add(sum, tcp + 18, tcp_len - 18);
	return (uint16_t)~csum_fold(sum);
}

uint32_t
csum_words32(uint32_t v)
{
	return (v >> 16) + (v & 0xffff);
}

/* ~m + m' is taken as 8 * 0xffff - old_sum + new_sum, the same value modulo
 * 0xffff, and all is folded once. A field at an odd offset sums in swapped
 * byte lanes (RFC 1071 2.(B)): a shift by 8 is that swap modulo 0xffff. The
 * sum is never zero, so the result is the one a full recomputation gives
 * (never 0xffff for a valid segment). */
void
csum_update(uint8_t *check, size_t off, uint32_t old_sum, uint32_t new_sum)
{
	uint32_t x = 8 * 0xffffu - old_sum + new_sum;

	x <<= (off & 1) * 8;
	x += (uint16_t)~pkt_get16(check);
	x = (x & 0xffff) + (x >> 16);
	x = (x & 0xffff) + (x >> 16);
	x = ~x;
	check[0] = (uint8_t)(x >> 8);
	check[1] = (uint8_t)x;
}
