/* tsopt.c - strip and rewrite the TCP timestamp option in place. */
#include <linux/netfilter/nfnetlink_queue.h>
#include <string.h>

#include "csum.h"
#include "tsopt.h"

#define TCP_CHECK_OFF 16

enum csum_mode
tsopt_csum_mode(uint32_t skb_info)
{
	if (skb_info & NFQA_SKB_GSO)
		return CSUM_NONE;
	if (skb_info & NFQA_SKB_CSUMNOTREADY)
		return CSUM_FULL;
	return CSUM_INCREMENTAL;
}

struct ts_edit {
	enum csum_mode mode;
	uint32_t val_add, ecr_sub;
};

/* The 16-bit words of a 32-bit value, summed. */
static inline uint32_t
words(uint32_t v)
{
	return (v >> 16) + (v & 0xffff);
}

/* RFC 1624 update from sums we already hold as values; a field at an odd
 * offset sums in swapped byte lanes (RFC 1071 2.(B)): swap both sums. */
static inline void
csum_fix(uint8_t *tcp, size_t off, uint32_t old_sum, uint32_t new_sum)
{
	uint16_t o = csum_fold(old_sum), n = csum_fold(new_sum);

	if (off & 1) {
		o = (uint16_t)(o << 8 | o >> 8);
		n = (uint16_t)(n << 8 | n >> 8);
	}
	csum_replace(tcp + TCP_CHECK_OFF, o, n);
}

static inline void
ts_strip_one(uint8_t *tcp, size_t off, void *arg)
{
	const struct ts_edit *e = arg;

	if (e->mode == CSUM_INCREMENTAL)	/* kind+len, TSval, TSecr -> 5 x NOP NOP */
		csum_fix(tcp, off,
			 (TCPOPT_TIMESTAMP << 8 | TCPOLEN_TIMESTAMP) +
			 words(pkt_get32(tcp + off + 2)) + words(pkt_get32(tcp + off + 6)),
			 5 * (TCPOPT_NOP << 8 | TCPOPT_NOP));
	memset(tcp + off, TCPOPT_NOP, TCPOLEN_TIMESTAMP);
}

static inline void
ts_shift_one(uint8_t *tcp, size_t off, void *arg)
{
	const struct ts_edit *e = arg;
	uint8_t *vals = tcp + off + 2;
	uint32_t tsval = pkt_get32(vals), tsecr = pkt_get32(vals + 4);
	uint32_t nval = tsval + e->val_add;
	uint32_t necr = tsecr ? tsecr - e->ecr_sub : 0;	/* 0: "no echo", stays 0 */

	if (e->mode == CSUM_INCREMENTAL)
		csum_fix(tcp, off + 2, words(tsval) + words(tsecr), words(nval) + words(necr));
	pkt_put32(vals, nval);
	pkt_put32(vals + 4, necr);
}

static inline int
ts_apply(uint8_t *buf, const struct pkt *p, struct ts_edit *e,
	 void (*fn)(uint8_t *, size_t, void *))
{
	uint8_t *tcp = buf + p->l4_off;
	unsigned n;
	uint16_t sum;

	if (p->ts_count == 0)
		return 0;
	if (e->mode == CSUM_FULL && !p->complete)
		return -1;
	if (p->ts_count == 1) {		/* the parser already found it */
		fn(tcp, p->ts_off, e);
		n = 1;
	} else {
		n = pkt_foreach_ts(tcp, p->tcp_hlen, fn, e);
	}
	if (e->mode == CSUM_FULL) {
		sum = csum_tcp(p->saddr, p->daddr, p->addr_len, tcp, p->tcp_len);
		tcp[TCP_CHECK_OFF] = (uint8_t)(sum >> 8);
		tcp[TCP_CHECK_OFF + 1] = (uint8_t)sum;
	}
	return (int)n;
}

int
tsopt_strip(uint8_t *buf, const struct pkt *p, enum csum_mode mode)
{
	struct ts_edit e = { .mode = mode };

	return ts_apply(buf, p, &e, ts_strip_one);
}

int
tsopt_shift(uint8_t *buf, const struct pkt *p, uint32_t val_add,
	    uint32_t ecr_sub, enum csum_mode mode)
{
	struct ts_edit e = { .mode = mode, .val_add = val_add, .ecr_sub = ecr_sub };

	return ts_apply(buf, p, &e, ts_shift_one);
}
