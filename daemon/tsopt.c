/* tsopt.c - strip and rewrite the TCP timestamp option in place: headers
 * with several timestamp options, which the inline functions of tsopt.h
 * hand over. */
#include <stdbool.h>
#include <string.h>

#include "csum.h"
#include "tsopt.h"

struct ts_edit {
	enum csum_mode mode;
	uint32_t val_add, ecr_sub;
};

static void
ts_strip_one(uint8_t *tcp, size_t off, void *arg)
{
	const struct ts_edit *e = arg;

	if (e->mode == CSUM_INCREMENTAL)	/* kind+len, TSval, TSecr -> 5 x NOP NOP */
		tsopt_csum_fix(tcp, off,
			       (TCPOPT_TIMESTAMP << 8 | TCPOLEN_TIMESTAMP) +
			       tsopt_words(pkt_get32(tcp + off + 2)) +
			       tsopt_words(pkt_get32(tcp + off + 6)),
			       5 * (TCPOPT_NOP << 8 | TCPOPT_NOP));
	memset(tcp + off, TCPOPT_NOP, TCPOLEN_TIMESTAMP);
}

static void
ts_shift_one(uint8_t *tcp, size_t off, void *arg)
{
	const struct ts_edit *e = arg;
	uint8_t *vals = tcp + off + 2;
	uint32_t tsval = pkt_get32(vals), tsecr = pkt_get32(vals + 4);
	uint32_t nval = tsval + e->val_add;
	uint32_t necr = tsecr ? tsecr - e->ecr_sub : 0;	/* 0: "no echo", stays 0 */

	if (e->mode == CSUM_INCREMENTAL)
		tsopt_csum_fix(tcp, off + 2, tsopt_words(tsval) + tsopt_words(tsecr),
			       tsopt_words(nval) + tsopt_words(necr));
	pkt_put32(vals, nval);
	pkt_put32(vals + 4, necr);
}

int
tsopt_edit(uint8_t *buf, const struct pkt *p, enum csum_mode mode, bool strip,
	   uint32_t val_add, uint32_t ecr_sub)
{
	struct ts_edit e = { .mode = mode, .val_add = val_add, .ecr_sub = ecr_sub };
	uint8_t *tcp = buf + p->l4_off;
	unsigned n;
	uint16_t sum;

	if (p->ts_count == 0)
		return 0;
	if (mode == CSUM_FULL && !p->complete)
		return -1;
	n = pkt_foreach_ts(tcp, p->tcp_hlen, strip ? ts_strip_one : ts_shift_one, &e);
	if (mode == CSUM_FULL) {
		sum = csum_tcp(p->saddr, p->daddr, p->addr_len, tcp, p->tcp_len);
		tcp[TSOPT_CHECK_OFF] = (uint8_t)(sum >> 8);
		tcp[TSOPT_CHECK_OFF + 1] = (uint8_t)sum;
	}
	return (int)n;
}
