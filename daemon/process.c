/* process.c - one packet: parse -> flow or policy -> strip/rewrite. */
#include <string.h>

#include "packet.h"
#include "policy.h"
#include "process.h"
#include "tsopt.h"

/* Never mangle what we did not receive whole: a verdict payload shorter
 * than the packet would cut it. */
static bool
whole(const struct pkt *p, const struct proc_pkt *in)
{
	return !in->truncated && p->complete;
}

static inline enum proc_result
do_strip(const struct pkt *p, struct proc_pkt *in, struct stats *s)
{
	if (p->ts_count == 0)
		return PROC_PASS;
	if (!whole(p, in)) {
		s->truncated++;
		return PROC_PASS;
	}
	if (tsopt_strip(in->buf, p, in->csum) <= 0)
		return PROC_PASS;
	s->stripped++;
	return PROC_MODIFIED;
}

static void
note_syn_without_ts(struct proc_state *ps, const struct policy *pol,
		    uint16_t dom, const struct pkt *p)
{
	struct proc_notes *n = ps->notes;
	uint32_t head, h = dom * 31u + p->daddr[p->addr_len - 1] * 7u + p->daddr[0];
	struct proc_note *slot;

	if (!n || n->seen[h & 255])
		return;
	n->seen[h & 255] = 1;
	head = atomic_load_explicit(&n->head, memory_order_relaxed);
	if (head - atomic_load_explicit(&n->tail, memory_order_acquire) >= PROC_NOTES)
		return;
	slot = &n->ring[head % PROC_NOTES];
	slot->domain = dom;
	slot->family = p->family;
	memcpy(slot->server, p->daddr, p->addr_len);
	slot->policy = pol->name;
	atomic_store_explicit(&n->head, head + 1, memory_order_release);
}

static uint16_t
domain_of(const struct policy *pol, const struct proc_state *ps,
	  const struct proc_pkt *in, int family)
{
	if (!pol->ts_auto)
		return pol->domain;
	return domains_for_ifindex(ps->domains, family, in->outdev);
}

/* The server echoes a raw value we never sent (packets passed unrewritten,
 * e.g. while tsnatd restarted or the queue failed open): it now holds the
 * client's own clock, so rewriting further would only make its PAWS drop
 * us, and the flow must go raw. For a non-zero TSecr of a flow with an
 * offset. */
static inline bool
echo_is_raw(const struct flow *f, uint32_t tsecr)
{
	return (int32_t)((tsecr - f->offset) - f->last_raw) > 0 &&
	       (int32_t)(tsecr - f->last_raw) <= 0;
}

/* Apply the flow's offset to a packet in either direction. */
static enum proc_result
rewrite_flow(struct proc_state *ps, struct flow *f, bool from_client,
	     const struct pkt *p, struct proc_pkt *in, struct stats *s)
{
	uint32_t add = 0, sub = 0;
	enum proc_result res = PROC_PASS;

	flow_touch(ps->flows, f, ps->now);
	if (p->ts_count && from_client) {
		/* TSval-0 SYN: rebase on the flow's first non-zero TSval so
		 * that it continues from the SYN's TSval' (held in offset). */
		if ((f->flags & FLOW_REBASE) && p->tsval != 0 &&
		    !(p->tcp_flags & TCPF_SYN)) {
			f->offset -= p->tsval;
			f->flags &= (uint8_t)~FLOW_REBASE;
		}
		f->last_raw = p->tsval;
		add = f->offset;
	} else if (p->ts_count && p->tsecr != 0 && f->offset != 0 &&
		   !(f->flags & FLOW_REBASE) && !from_client) {
		if (echo_is_raw(f, p->tsecr)) {
			f->offset = 0;
			s->flows_resynced++;
		}
		sub = f->offset;
	} else if (p->ts_count && p->tsecr != 0) {
		sub = f->offset;
	}

	if (add || sub) {
		if (!whole(p, in)) {
			/* Passing it unshifted would let the server's PAWS drop
			 * the rest of the flow; a drop is retransmitted. */
			s->truncated++;
			s->dropped++;
			return PROC_DROP;
		}
		if (tsopt_shift(in->buf, p, add, sub, in->csum) > 0) {
			s->rewritten++;
			res = PROC_MODIFIED;
		}
	}
	if (from_client && p->ts_count)
		domains_note(ps->domains, ps->worker, f->domain, p->tsval + add);
	if (p->tcp_flags & TCPF_RST)
		flow_remove(ps->flows, f);
	else if (p->tcp_flags & TCPF_FIN)
		flow_fin(ps->flows, f, from_client, ps->now);
	return res;
}

static enum proc_result
rewrite_syn(const struct conf *c, const struct policy *pol, struct proc_state *ps,
	    const struct pkt *p, struct proc_pkt *in, struct stats *s)
{
	uint16_t dom = domain_of(pol, ps, in, p->family);
	struct flow *f;
	uint32_t v;

	if (p->ts_count == 0) {
		/* Only strip could keep the invariant for such a client. */
		s->syn_without_ts++;
		note_syn_without_ts(ps, pol, dom, p);
		return PROC_PASS;
	}
	if (!whole(p, in)) {
		s->truncated++;
		return PROC_PASS;
	}
	f = flow_insert(ps->flows, p, ps->now);
	if (!f) {
		s->flows_full++;
		switch (c->flows_on_full) {
		case ON_FULL_STRIP:
			return do_strip(p, in, s);
		case ON_FULL_PASS:
			return PROC_PASS;
		case ON_FULL_EVICT_IDLE:
			if (flow_evict_idle(ps->flows))
				s->flows_evicted++;
			f = flow_insert(ps->flows, p, ps->now);
			if (!f)
				return PROC_PASS;
			break;
		}
	}
	s->flows_created++;
	f->domain = dom;
	v = domains_next_tsval(ps->domains, dom, ps->now_ms);
	f->offset = v - p->tsval;
	if (p->tsval == 0)
		f->flags |= FLOW_REBASE;
	return rewrite_flow(ps, f, true, p, in, s);
}

enum proc_result
process_packet_general(const struct conf *c, struct proc_state *ps,
		       struct proc_pkt *in, struct stats *s)
{
	const struct policy *pol;
	bool client_syn, from_client;
	struct flow *f;
	struct pkt p;

	switch (pkt_parse_general(in->buf, in->len, &p)) {
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
	client_syn = (p.tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN;

	/* Flows already rewritten keep their offset until they end, whatever
	 * the configuration says now (turning tsnatd off breaks nothing). */
	if (ps->flows && flow_count(ps->flows) &&
	    (f = flow_lookup(ps->flows, &p, &from_client))) {
		if (!(client_syn && from_client && (f->flags & (FLOW_FIN_CLIENT | FLOW_FIN_SERVER))))
			return rewrite_flow(ps, f, from_client, &p, in, s);
		flow_remove(ps->flows, f);	/* the tuple is reused by a new SYN */
	}
	if (!c->enabled || !client_syn)
		return PROC_PASS;
	pol = policy_match(c->pol, c->npol, p.family, p.saddr, p.daddr);
	if (!pol) {
		s->unmatched++;
		return PROC_PASS;
	}
	switch (pol->mode) {
	case MODE_STRIP:
		return do_strip(&p, in, s);
	case MODE_REWRITE:
		if (ps->flows)
			return rewrite_syn(c, pol, ps, &p, in, s);
		return PROC_PASS;
	case MODE_PASS:
	case MODE_OBSERVE:
		break;
	}
	return PROC_PASS;
}

/* The fast path. Nearly all of the load is three kinds of packet: client
 * SYNs of strip policies, segments of rewritten flows, and segments of
 * other flows when rewrite queues every packet. For IPv4 packets in a Linux
 * option layout, process_fast4() decides those with the packet's fields in
 * registers (nothing takes the address of its struct pkt), making the same
 * decisions as process_packet_general(): test_fastpath and fuzz_process
 * hold it to that. Anything else it declines before changing anything,
 * returning PROC_DECLINE, and the general path decides. */
#define PROC_DECLINE (-1)

static inline int
fast_rewrite(struct proc_state *ps, struct flow *f, bool from_client,
	     const struct pkt *p, struct proc_pkt *in, struct stats *s)
{
	uint32_t add = 0, sub = 0;

	/* SYN/FIN/RST change the flow, a TSval-0 SYN rebases it, a short
	 * copy drops the packet, a checksum not final (veth, GSO: once per
	 * super-packet) needs more: the general path does those. */
	if ((p->tcp_flags & (TCPF_SYN | TCPF_FIN | TCPF_RST)) ||
	    (f->flags & FLOW_REBASE) || in->truncated ||
	    in->csum != CSUM_INCREMENTAL)
		return PROC_DECLINE;
	if (from_client) {
		add = f->offset;
	} else if (p->tsecr != 0) {
		/* the raw-echo resync of rewrite_flow() */
		if (f->offset != 0 && echo_is_raw(f, p->tsecr))
			return PROC_DECLINE;
		sub = f->offset;
	}
	flow_touch(ps->flows, f, ps->now);
	if (from_client) {
		f->last_raw = p->tsval;
		domains_note(ps->domains, ps->worker, f->domain, p->tsval + add);
	}
	if (!add && !sub)
		return PROC_PASS;
	/* tsopt_shift(add, sub) of one option: a single field changes */
	if (from_client)
		tsopt_set1(in->buf, p, 2, p->tsval, p->tsval + add);
	else
		tsopt_set1(in->buf, p, 6, p->tsecr, p->tsecr - sub);
	s->rewritten++;
	return PROC_MODIFIED;
}

/* A client SYN with no flow: the policy decides. No call on the strip
 * path unless the checksum must be computed whole (veth). */
static inline int
fast_policy(const struct conf *c, struct proc_pkt *in, struct stats *s,
	    const struct pkt *p)
{
	const struct policy *pol;

	if (!c->enabled || (p->tcp_flags & (TCPF_SYN | TCPF_ACK)) != TCPF_SYN)
		return PROC_PASS;
	pol = policy_match4(c->dst4, c->ndst4, pkt_get32(p->saddr), pkt_get32(p->daddr));
	if (!pol) {
		s->unmatched++;
		return PROC_PASS;
	}
	switch (pol->mode) {
	case MODE_STRIP:
		if (in->truncated)
			return PROC_DECLINE;
		tsopt_strip1(in->buf, p, in->csum);
		s->stripped++;
		return PROC_MODIFIED;
	case MODE_REWRITE:
		return PROC_DECLINE;	/* a new flow */
	case MODE_PASS:
	case MODE_OBSERVE:
		break;
	}
	return PROC_PASS;
}

static inline int
process_fast4(const struct conf *c, struct proc_state *ps, struct proc_pkt *in,
	      struct stats *s)
{
	bool from_client;
	struct flow *f;
	struct pkt p;

	if (!pkt_parse_fast4(in->buf, in->len, &p))
		return PROC_DECLINE;
	if (ps->flows && flow_count(ps->flows)) {
		f = flow_lookup4(ps->flows, pkt_raw32(p.saddr), pkt_raw32(p.daddr),
				 p.sport, p.dport, &from_client);
		if (f)
			return fast_rewrite(ps, f, from_client, &p, in, s);
	}
	return fast_policy(c, in, s, &p);
}

enum proc_result
process_packet(const struct conf *c, struct proc_state *ps, struct proc_pkt *in,
	       struct stats *s)
{
	int r = process_fast4(c, ps, in, s);

	if (r != PROC_DECLINE)
		return (enum proc_result)r;
	return process_packet_general(c, ps, in, s);
}
