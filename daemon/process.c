/* process.c - one packet: parse -> policy -> strip/rewrite -> result. */
#include "packet.h"
#include "policy.h"
#include "process.h"
#include "tsopt.h"

static enum proc_result
process_strip(const struct pkt *p, struct proc_pkt *in, struct stats *s)
{
	if (p->ts_count == 0)
		return PROC_PASS;
	/* A verdict payload shorter than the packet would cut it: never
	 * mangle what we did not receive whole. */
	if (in->truncated || !p->complete) {
		s->truncated++;
		return PROC_PASS;
	}
	if (tsopt_strip(in->buf, p, tsopt_csum_mode(in->skb_info)) <= 0)
		return PROC_PASS;
	s->stripped++;
	return PROC_MODIFIED;
}

enum proc_result
process_packet(const struct conf *c, struct proc_pkt *in, struct stats *s)
{
	const struct policy *pol;
	struct pkt p;

	switch (pkt_parse(in->buf, in->len, &p)) {
	case PKT_OK:
		break;
	case PKT_NOT_OURS:
		s->not_tcp++;
		return PROC_PASS;
	case PKT_TRUNCATED:
		s->truncated++;
		return PROC_PASS;
	case PKT_MALFORMED:
		s->malformed++;
		return PROC_PASS;
	}

	/* Strip acts on the client's SYN only; a SYN-ACK or any later
	 * segment of such a flow has nothing to strip. */
	if (!c->enabled || (p.tcp_flags & (TCPF_SYN | TCPF_ACK)) != TCPF_SYN)
		return PROC_PASS;
	pol = policy_match(c->pol, c->npol, p.family, p.saddr, p.daddr);
	if (!pol) {
		s->unmatched++;
		return PROC_PASS;
	}
	switch (pol->mode) {
	case MODE_STRIP:
		return process_strip(&p, in, s);
	case MODE_PASS:
	case MODE_REWRITE:
	case MODE_OBSERVE:
		break;
	}
	return PROC_PASS;
}
