/* tsopt.c - strip and rewrite the TCP timestamp option in place. */
#include <linux/netfilter/nfnetlink_queue.h>

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

static void
ts_strip_one(uint8_t *tcp, size_t off, void *arg)
{
	const struct ts_edit *e = arg;
	uint16_t old = 0;

	if (e->mode == CSUM_INCREMENTAL)
		old = csum_span(tcp, off, TCPOLEN_TIMESTAMP);
	for (size_t i = 0; i < TCPOLEN_TIMESTAMP; i++)
		tcp[off + i] = TCPOPT_NOP;
	if (e->mode == CSUM_INCREMENTAL)
		csum_replace(tcp + TCP_CHECK_OFF, old,
			     csum_span(tcp, off, TCPOLEN_TIMESTAMP));
}

static void
ts_shift_one(uint8_t *tcp, size_t off, void *arg)
{
	const struct ts_edit *e = arg;
	uint8_t *val = tcp + off + 2, *ecr = tcp + off + 6;
	uint32_t tsecr = pkt_get32(ecr);
	uint16_t old = 0;

	if (e->mode == CSUM_INCREMENTAL)
		old = csum_span(tcp, off + 2, 8);
	pkt_put32(val, pkt_get32(val) + e->val_add);
	if (tsecr != 0)		/* 0 means "no echo": it must stay 0 */
		pkt_put32(ecr, tsecr - e->ecr_sub);
	if (e->mode == CSUM_INCREMENTAL)
		csum_replace(tcp + TCP_CHECK_OFF, old, csum_span(tcp, off + 2, 8));
}

static int
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
	n = pkt_foreach_ts(tcp, p->tcp_hlen, fn, e);
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
