/* csum.c - the Internet checksum over a buffer and the TCP pseudo-header (RFC 1071). */
#include "csum.h"

uint64_t
csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	/* 32-bit big-endian chunks into a 64-bit accumulator: the carries are
	 * folded once at the end, which is the same one's complement sum. */
	while (len >= 4) {
		sum += ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
		       ((uint32_t)p[2] << 8) | p[3];
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += ((uint32_t)p[0] << 8) | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
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
