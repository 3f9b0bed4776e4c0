/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tsopt.c - strip and rewrite the TCP timestamp option in place.
 *
 * The usual packet (one option) is edited with the values the parser
 * already read: no walk, no reload, and no call when the checksum is final.
 * Headers with several timestamp options are walked option by option. */
#include <stdbool.h>
#include <string.h>

#include "bytes.h"
#include "csum.h"
#include "packet_int.h"
#include "tsopt.h"

/* kind+len, TSval, TSecr summed as 16-bit words, and the 5 x NOP NOP that
 * replace them */
#define TS_HEAD_WORD (TCPOPT_TIMESTAMP << 8 | TCPOLEN_TIMESTAMP)
#define NOP_WORDS (5 * (TCPOPT_NOP << 8 | TCPOPT_NOP))

static void
csum_store_full(uint8_t *tcp, const struct pkt *p)
{
	uint16_t sum = csum_tcp(p->saddr, p->daddr, p->addr_len, tcp, p->tcp_len);

	tcp[TCP_CHECK_OFF] = (uint8_t)(sum >> 8);
	tcp[TCP_CHECK_OFF + 1] = (uint8_t)sum;
}

struct ts_edit {
	enum csum_mode mode;
	bool strip;
	uint32_t val_add, ecr_sub;
};

/* One option at tcp + off, as read from the buffer. */
static void
ts_edit_one(uint8_t *tcp, size_t off, void *arg)
{
	const struct ts_edit *e = arg;
	uint8_t *vals = tcp + off + 2;
	uint32_t tsval = pkt_get32(vals), tsecr = pkt_get32(vals + 4);
	uint32_t nval = tsval + e->val_add;
	uint32_t necr = tsecr ? tsecr - e->ecr_sub : 0;

	if (e->strip) {
		if (e->mode == CSUM_INCREMENTAL)
			csum_update(tcp + TCP_CHECK_OFF, off, TS_HEAD_WORD +
				    csum_words32(tsval) + csum_words32(tsecr), NOP_WORDS);
		memset(tcp + off, TCPOPT_NOP, TCPOLEN_TIMESTAMP);
		return;
	}
	if (e->mode == CSUM_INCREMENTAL)
		csum_update(tcp + TCP_CHECK_OFF, off + 2,
			    csum_words32(tsval) + csum_words32(tsecr),
			    csum_words32(nval) + csum_words32(necr));
	pkt_put32(vals, nval);
	pkt_put32(vals + 4, necr);
}

/* Several options (rare): each found by the walk and edited in turn; the
 * caller completes a CSUM_FULL checksum. Given the header rather than the
 * packet, so that the caller's parsed packet stays in registers. */
static __attribute__((noinline, cold)) int
ts_edit_all(uint8_t *tcp, size_t hlen, const struct ts_edit *e)
{
	return (int)pkt_foreach_ts(tcp, hlen, ts_edit_one, (void *)e);
}

int
tsopt_strip(uint8_t *buf, const struct pkt *p, enum csum_mode mode)
{
	uint8_t *tcp = buf + p->l4_off;
	int n = 1;

	if (p->ts_count == 0)
		return 0;
	if (mode == CSUM_FULL && !p->complete)
		return -1;
	if (p->ts_count != 1) {
		n = ts_edit_all(tcp, p->tcp_hlen, &(struct ts_edit){ .mode = mode, .strip = true });
	} else {
		if (mode == CSUM_INCREMENTAL)
			csum_update(tcp + TCP_CHECK_OFF, p->ts_off, TS_HEAD_WORD +
				    csum_words32(p->tsval) + csum_words32(p->tsecr), NOP_WORDS);
		memset(tcp + p->ts_off, TCPOPT_NOP, TCPOLEN_TIMESTAMP);
	}
	if (mode == CSUM_FULL)
		csum_store_full(tcp, p);
	return n;
}

/* One 32-bit field of the single option changed (value_off: 2 for TSval,
 * 6 for TSecr): only its words enter the checksum update. */
static void
set_field(uint8_t *tcp, const struct pkt *p, unsigned value_off, uint32_t old,
	  uint32_t new, enum csum_mode mode)
{
	if (mode == CSUM_INCREMENTAL)
		csum_update(tcp + TCP_CHECK_OFF, p->ts_off + value_off,
			    csum_words32(old), csum_words32(new));
	pkt_put32(tcp + p->ts_off + value_off, new);
}

int
tsopt_shift(uint8_t *buf, const struct pkt *p, uint32_t val_add, uint32_t ecr_sub,
	    enum csum_mode mode)
{
	uint8_t *tcp = buf + p->l4_off;
	int n = 1;

	if (p->ts_count == 0)
		return 0;
	if (mode == CSUM_FULL && !p->complete)
		return -1;
	if (p->ts_count != 1) {
		n = ts_edit_all(tcp, p->tcp_hlen, &(struct ts_edit){ .mode = mode,
				.val_add = val_add, .ecr_sub = ecr_sub });
	} else {
		/* Each direction changes one field: the client's TSval, the
		 * server's TSecr (0, "no echo", stays 0). */
		if (val_add)
			set_field(tcp, p, 2, p->tsval, p->tsval + val_add, mode);
		if (ecr_sub && p->tsecr)
			set_field(tcp, p, 6, p->tsecr, p->tsecr - ecr_sub, mode);
	}
	if (mode == CSUM_FULL)
		csum_store_full(tcp, p);
	return n;
}
