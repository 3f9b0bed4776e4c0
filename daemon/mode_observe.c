/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode_observe.c - change nothing; learn which servers drop SYNs because
 * of timestamps. Each client SYN is judged against what a legacy server
 * would have recorded for its translated source (discovery.c); the flow
 * then shows whether the server answered a SYN predicted to be dropped
 * (contrary evidence) or the client had to retransmit it (a confirmed
 * drop), and, when the server closes first, what it records. Only SYNs,
 * FINs and RSTs are queued, both ways.
 *
 * An observed flow carries FLOW_OBSERVE; its offset holds the
 * DISCOVERY_DROP_* bits of its latest SYN, last_raw the client's latest
 * TSval, syn_val the sequence number just past the client's FIN.
 *
 * Who closed first is the server's view, not the gateway's: FINs that
 * cross pass the gateway in either order, and a server whose FIN does not
 * acknowledge the client's sent it first and enters TIME-WAIT, where a
 * legacy server records the peer. */
#include "bytes.h"
#include "discovery.h"
#include "mode.h"

static const struct action pass = { .kind = ACT_PASS };

/* Evidence about the flow's latest SYN (predicted dropped); a changed
 * verdict is noted for the log. Given fields, not the context: the
 * caller's packet stays in registers. */
static __attribute__((noinline, cold)) void
evidence(struct proc_state *ps, uint16_t dom, bool confirmed, int family,
	 const uint8_t *client, const uint8_t *server)
{
	bool changed = false;
	enum discovery_verdict v = discovery_evidence(ps->discovery, dom, family, server,
						      confirmed, ps->now, &changed);

	if (changed)
		mode_note(ps->notes, ps->now, NOTE_VERDICT, NULL, dom, v, 0, family, client,
			  server);
}

struct action
observe_client_syn(const struct policy *pol, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	uint16_t dom = mode_domain(pol, x);
	unsigned drop;
	struct flow *f;

	if (!x->ps->discovery)
		return pass;
	drop = discovery_syn(x->ps->discovery, dom, p->family, p->daddr, p->ts_count > 0,
			     p->tsval, x->ps->now);
	/* Followed only while there is room: observing never evicts. */
	if (!(f = flow_insert(x->ps->flows, p, x->ps->now)))
		return pass;
	f->flags |= FLOW_OBSERVE;
	f->domain = dom;
	f->offset = drop;
	f->last_raw = p->tsval;
	return (struct action){ .kind = ACT_PASS, .flow = FLOW_CREATED };
}

static void
client_packet(struct flow *f, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;

	if (pkt_is_client_syn(p) && !(f->flags & FLOW_ANSWERED)) {
		/* a retransmitted SYN: the one before went unanswered */
		if (f->offset)
			evidence(x->ps, f->domain, true, p->family, p->saddr, p->daddr);
		f->offset = discovery_syn(x->ps->discovery, f->domain, p->family, p->daddr,
					  p->ts_count > 0, p->tsval, x->ps->now);
	}
	if (p->ts_count)
		f->last_raw = p->tsval;
	if ((p->tcp_flags & TCPF_FIN) && !(f->flags & FLOW_FIN_CLIENT)) {
		/* the server closed first: it enters TIME-WAIT as this, its
		 * first answer to the server's FIN, reaches it (the ACK is
		 * delayed and rides on it), and records its TSval */
		if ((f->flags & FLOW_FIN_SERVER) && p->ts_count)
			discovery_record(x->ps->discovery, f->domain, p->family, p->daddr,
					 p->tsval, x->ps->now);
		f->syn_val = pkt_get32(p->tcp + 4) + (uint32_t)(p->tcp_len - p->tcp_hlen) + 1;
		flow_fin(x->ps->flows, f, true, x->ps->now);
	}
}

/* The server's FIN p acknowledges the client's FIN (seen: the flow has
 * FLOW_FIN_CLIENT): it closes passively. */
static bool
acks_client_fin(const struct flow *f, const struct pkt *p)
{
	return (p->tcp_flags & TCPF_ACK) && (int32_t)(pkt_get32(p->tcp + 8) - f->syn_val) >= 0;
}

/* FINs that crossed: the server accepts the client's in FIN-WAIT and
 * records the higher of its TSval (last) and what the server's FIN
 * echoes. Closing first alone, it records at the client's FIN
 * (client_packet). Given fields: rare, out of the packet's registers. */
static __attribute__((noinline, cold)) void
crossed(struct proc_state *ps, uint16_t dom, int family, const uint8_t *server,
	uint32_t tsecr, uint32_t last)
{
	uint32_t ts = tsecr && (int32_t)(tsecr - last) > 0 ? tsecr : last;

	discovery_record(ps->discovery, dom, family, server, ts, ps->now);
}

static void
server_packet(struct flow *f, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;

	if ((p->tcp_flags & TCPF_SYN) && !(f->flags & FLOW_ANSWERED)) {
		if (f->offset)
			evidence(x->ps, f->domain, false, p->family, p->daddr, p->saddr);
		flow_answered(x->ps->flows, f);
	}
	if ((p->tcp_flags & TCPF_FIN) && !(f->flags & FLOW_FIN_SERVER) &&
	    (f->flags & FLOW_FIN_CLIENT) && !acks_client_fin(f, p) && p->ts_count)
		crossed(x->ps, f->domain, p->family, p->saddr, p->tsecr, f->last_raw);
	if (p->tcp_flags & TCPF_FIN)
		flow_fin(x->ps->flows, f, false, x->ps->now);
}

struct action
observe_segment(struct flow *f, bool from_client, const struct mode_ctx *x)
{
	flow_touch(x->ps->flows, f, x->ps->now);
	if (x->p->tcp_flags & TCPF_RST) {
		flow_remove(x->ps->flows, f);
		return (struct action){ .kind = ACT_PASS, .flow = FLOW_REMOVED };
	}
	if (!x->ps->discovery)
		return pass;
	if (from_client)
		client_packet(f, x);
	else
		server_packet(f, x);
	return (struct action){ .kind = ACT_PASS, .flow = FLOW_TOUCHED };
}

const struct mode_ops mode_observe = {
	.name = "observe",
	.queue_out = QUEUE_CTL,
	.queue_in = QUEUE_CTL,
	.needs_flows = true,
	.client_syn = observe_client_syn,
	.segment = observe_segment,
};
