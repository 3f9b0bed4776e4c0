/* tsopt.h - the TCP timestamp option: strip and rewrite in place, with the
 * checksum left final. Pure functions over a buffer accepted by pkt_parse().
 *
 * The usual packet (one option) is edited by the inline functions below,
 * with the values the parser already read: no walk, no reload, and no call
 * when the checksum is final. Several options go through tsopt_edit(). */
#ifndef TSNATD_TSOPT_H
#define TSNATD_TSOPT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "csum.h"
#include "packet.h"

#define TSOPT_CHECK_OFF 16	/* the checksum field in the TCP header */

/* Both edits for a header with several timestamp options (each is found
 * and edited in turn). strip true: tsopt_strip(), else tsopt_shift().
 * Same returns. */
int tsopt_edit(uint8_t *buf, const struct pkt *p, enum csum_mode mode, bool strip,
	       uint32_t val_add, uint32_t ecr_sub);

/* The 16-bit words of a 32-bit value, summed. */
static inline uint32_t
tsopt_words(uint32_t v)
{
	return (v >> 16) + (v & 0xffff);
}

/* RFC 1624 eqn. 3 update of the TCP checksum for a field whose 16-bit
 * words summed to old_sum (at most 7 words) and now sum to new_sum, both as
 * plain integers: ~m + m' is taken as 8 * 0xffff - old_sum + new_sum, the
 * same value modulo 0xffff, and all is folded once. A field at an odd
 * offset sums in swapped byte lanes (RFC 1071 2.(B)): a shift by 8 is that
 * swap modulo 0xffff. The sum is never zero, so the result is the one a
 * full recomputation gives (never 0xffff for a valid segment). */
static inline void
tsopt_csum_fix(uint8_t *tcp, size_t off, uint32_t old_sum, uint32_t new_sum)
{
	uint8_t *check = tcp + TSOPT_CHECK_OFF;
	uint32_t x = 8 * 0xffffu - old_sum + new_sum;

	x <<= (off & 1) * 8;
	x += (uint16_t)~pkt_get16(check);
	x = (x & 0xffff) + (x >> 16);
	x = (x & 0xffff) + (x >> 16);
	x = ~x;
	check[0] = (uint8_t)(x >> 8);
	check[1] = (uint8_t)x;
}

/* After a single option was edited with mode CSUM_FULL: the checksum
 * computed whole (only the addresses and the segment are needed, so the
 * caller's struct pkt can stay in registers). */
static inline void
tsopt_csum_full(uint8_t *tcp, const struct pkt *p)
{
	uint16_t sum = csum_tcp(p->saddr, p->daddr, p->addr_len, tcp, p->tcp_len);

	tcp[TSOPT_CHECK_OFF] = (uint8_t)(sum >> 8);
	tcp[TSOPT_CHECK_OFF + 1] = (uint8_t)sum;
}

/* tsopt_strip() of a header with exactly one timestamp option
 * (p->ts_count == 1), the usual case: edited with the values the parser
 * read, no walk, and no call when the checksum is final. */
static inline int
tsopt_strip1(uint8_t *buf, const struct pkt *p, enum csum_mode mode)
{
	uint8_t *tcp = buf + p->l4_off;

	if (mode == CSUM_FULL && !p->complete)
		return -1;
	if (mode == CSUM_INCREMENTAL)	/* kind+len, TSval, TSecr -> 5 x NOP NOP */
		tsopt_csum_fix(tcp, p->ts_off,
			       (TCPOPT_TIMESTAMP << 8 | TCPOLEN_TIMESTAMP) +
			       tsopt_words(p->tsval) + tsopt_words(p->tsecr),
			       5 * (TCPOPT_NOP << 8 | TCPOPT_NOP));
	memset(tcp + p->ts_off, TCPOPT_NOP, TCPOLEN_TIMESTAMP);
	if (mode == CSUM_FULL)
		tsopt_csum_full(tcp, p);
	return 1;
}

/* Overwrite every timestamp option of length 10 with NOPs (kind 1), keeping
 * the header length, and fix the checksum. Returns the number of options
 * stripped, or -1 without touching anything when mode is CSUM_FULL and the
 * segment is not complete in the buffer. */
static inline int
tsopt_strip(uint8_t *buf, const struct pkt *p, enum csum_mode mode)
{
	if (p->ts_count != 1)
		return tsopt_edit(buf, p, mode, true, 0, 0);
	return tsopt_strip1(buf, p, mode);
}

/* tsopt_shift() of a header with exactly one timestamp option, as
 * tsopt_strip1(). */
static inline int
tsopt_shift1(uint8_t *buf, const struct pkt *p, uint32_t val_add,
	     uint32_t ecr_sub, enum csum_mode mode)
{
	uint8_t *tcp = buf + p->l4_off;
	uint32_t nval = p->tsval + val_add;
	uint32_t necr = p->tsecr ? p->tsecr - ecr_sub : 0;	/* 0: "no echo", stays 0 */

	if (mode == CSUM_FULL && !p->complete)
		return -1;
	if (mode == CSUM_INCREMENTAL)
		tsopt_csum_fix(tcp, p->ts_off + 2u,
			       tsopt_words(p->tsval) + tsopt_words(p->tsecr),
			       tsopt_words(nval) + tsopt_words(necr));
	pkt_put32(tcp + p->ts_off + 2, nval);
	pkt_put32(tcp + p->ts_off + 6, necr);
	if (mode == CSUM_FULL)
		tsopt_csum_full(tcp, p);
	return 1;
}

/* One 32-bit field of the single timestamp option changed from old to new
 * (value_off: 2 for TSval, 6 for TSecr), checksum final. The fast path's
 * rewrite: each direction changes one field only. */
static inline void
tsopt_set1(uint8_t *buf, const struct pkt *p, unsigned value_off, uint32_t old,
	   uint32_t new)
{
	uint8_t *tcp = buf + p->l4_off;

	tsopt_csum_fix(tcp, p->ts_off + value_off, tsopt_words(old), tsopt_words(new));
	pkt_put32(tcp + p->ts_off + value_off, new);
}

/* TSval += val_add and, when TSecr != 0, TSecr -= ecr_sub, in every
 * timestamp option of length 10; fix the checksum. Returns the number of
 * options changed, or -1 as tsopt_strip(). */
static inline int
tsopt_shift(uint8_t *buf, const struct pkt *p, uint32_t val_add,
	    uint32_t ecr_sub, enum csum_mode mode)
{
	if (p->ts_count != 1)
		return tsopt_edit(buf, p, mode, false, val_add, ecr_sub);
	return tsopt_shift1(buf, p, val_add, ecr_sub, mode);
}

#endif
