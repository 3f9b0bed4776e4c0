/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process.c - one packet: parse -> decide -> apply.
 *
 * decide() is the only place where a packet's fate is chosen: a packet of
 * a known flow goes to the mode that made the flow, a client SYN to the
 * mode of the first matching policy, anything else passes. apply() is the
 * only place that edits bytes. Fail-open throughout: whatever cannot be
 * parsed or edited passes untouched and is counted. */
#include "mode.h"
#include "offload.h"
#include "packet_int.h"
#include "policy.h"
#include "process.h"
#include "tsopt.h"

static const struct action pass = { .kind = ACT_PASS };

static const struct policy *
match(const struct conf *c, const struct pkt *p)
{
	if (p->family == 4)
		return policy_match4(c->dst4, c->ndst4, p->saddr, p->daddr);
	return policy_match(c->pol, c->npol, p->family, p->saddr, p->daddr);
}

/* The mode's operation for a client SYN, called by name through a switch
 * over the mode list rather than through the table's pointer: with
 * link-time optimisation the compiler then inlines it (flatten, below). */
static struct action
mode_client_syn(enum policy_mode mode, const struct policy *pol, const struct mode_ctx *x)
{
	switch (mode) {
#define MODE_CALL(id, name)						\
	case id:							\
		if (mode_##name.needs_flows && !x->ps->flows)		\
			return pass;					\
		return name##_client_syn(pol, x);
	MODE_LIST(MODE_CALL)
#undef MODE_CALL
	default:
		return pass;
	}
}

static struct action
decide(const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	struct proc_state *ps = x->ps;
	bool client_syn = pkt_is_client_syn(p), from_client;
	const struct policy *pol;
	struct flow *f;

	/* Flows keep their treatment until they end, whatever the
	 * configuration says now: turning tsnatd off breaks nothing. A new
	 * SYN on the tuple of a closing flow starts a new connection. */
	if (ps->flows && (f = flow_lookup(ps->flows, p, &from_client))) {
		if (!(client_syn && from_client && (f->flags & (FLOW_FIN_CLIENT | FLOW_FIN_SERVER))))
			return (f->flags & FLOW_OBSERVE) ? observe_segment(f, from_client, x) :
			       rewrite_segment(f, from_client, x);
		flow_remove(ps->flows, f);
	}
	/* A client packet of an offloaded flow the programs did not shift
	 * gets its shift from the map; a packet of a connection without
	 * state here is adopted from its conntrack labels (HA pairs). */
	if (!client_syn) {
		struct action a = pass;

		if (ps->offload)
			a = rewrite_escaped(x->conf, ps, x->s, x->in->mark, p->family, p->saddr,
					    p->daddr, p->tcp, p->tsval, p->ts_count);
		if (a.kind == ACT_PASS && ps->ha)
			a = rewrite_adopt(x);
		return a;
	}
	if (!x->conf->enabled)
		return pass;
	pol = match(x->conf, p);
	if (!pol) {
		x->s->unmatched++;
		return pass;
	}
	return mode_client_syn(pol->mode, pol, x);
}

/* Never mangle what we did not receive whole: a verdict payload shorter
 * than the packet would cut it. A SYN we cannot strip passes; a flow's
 * packet we cannot shift is dropped, since passing it unshifted would let
 * the server's PAWS drop the rest of the flow, and a drop is retransmitted. */
static enum proc_result
apply(const struct action *a, const struct pkt *p, struct proc_pkt *in, struct stats *s)
{
	int n;

	if (a->kind == ACT_PASS || p->ts_count == 0)
		return PROC_PASS;
	if (a->kind == ACT_DROP || !p->complete || in->truncated) {
		s->truncated += a->kind != ACT_DROP;
		if (a->kind == ACT_STRIP)
			return PROC_PASS;
		s->dropped++;
		return PROC_DROP;
	}
	if (a->kind == ACT_STRIP) {
		if ((n = tsopt_strip(in->buf, p, in->csum)) <= 0)
			return PROC_PASS;
		s->stripped++;
	} else {
		if ((n = tsopt_shift(in->buf, p, a->add, a->sub, in->csum)) <= 0)
			return PROC_PASS;
		s->rewritten++;
	}
	return PROC_MODIFIED;
}

static enum proc_result
unparsed(enum pkt_status st, struct stats *s)
{
	switch (st) {
	case PKT_OK:
		break;
	case PKT_NOT_OURS:
		s->not_tcp++;
		break;
	case PKT_TRUNCATED:
		s->truncated++;
		break;
	case PKT_MALFORMED:
		s->malformed++;
		break;
	}
	return PROC_PASS;
}

/* The decision and its application for a parsed packet: written once,
 * instantiated twice by the compiler (below). */
static inline __attribute__((always_inline)) enum proc_result
process_parsed(const struct conf *c, struct proc_state *ps, struct proc_pkt *in,
	       struct stats *s, const struct pkt *p)
{
	struct action a = decide(&(struct mode_ctx){ .conf = c, .ps = ps, .p = p,
						     .in = in, .s = s });

	return apply(&a, p, in, s);
}

/* Packets the fast parser declines: their own copy of the path, so that
 * the common packet's parsed fields never have to be merged with these
 * and stay in registers. */
static __attribute__((noinline)) enum proc_result
process_general(const struct conf *c, struct proc_state *ps, struct proc_pkt *in,
		struct stats *s)
{
	struct pkt p;
	enum pkt_status st = pkt_parse_general(in->buf, in->len, &p);

	if (st != PKT_OK)
		return unparsed(st, s);
	return process_parsed(c, ps, in, s, &p);
}

/* Everything it calls is inlined into it (flatten): with link-time
 * optimisation the whole path for the common packet (IPv4 in a layout
 * Linux sends) is one function whose parsed fields stay in registers. It
 * is not itself inlined into the engine's loop: one call per packet, the
 * unit the benchmark measures (callgrind --toggle-collect). */
__attribute__((noinline, flatten)) enum proc_result
process_packet(const struct conf *c, struct proc_state *ps, struct proc_pkt *in,
	       struct stats *s)
{
	struct pkt p;

	if (!pkt_parse_fast4(in->buf, in->len, &p))
		return process_general(c, ps, in, s);
	return process_parsed(c, ps, in, s, &p);
}
