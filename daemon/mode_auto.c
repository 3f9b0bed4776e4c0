/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode_auto.c - observe every destination of the policy, and give the
 * servers classified legacy the policy's action (strip or rewrite), from
 * the moment they are classified. The first drops are what proves a server
 * legacy; in front of a 4.x server a switch to strip has a transition of up
 * to 60 s (it still holds what it recorded, and drops SYNs without
 * timestamp next to it). */
#include <arpa/inet.h>

#include "discovery.h"
#include "mode.h"

/* HA pairs: a stripped connection's entry says that auto acted on it, so
 * that the other gateway, after a takeover, knows its server is legacy
 * (takeover.c) without paying its first drops again. */
static __attribute__((noinline, cold)) void
auto_label(const struct mode_ctx *x)
{
	const struct pkt *p = x->p;
	struct ctlabel l = { .flags = CTLABEL_AUTO };
	struct ct_tuple t;

	ha_tuple(&t, p->family, p->saddr, p->daddr, htons(pkt_sport(p)), htons(pkt_dport(p)));
	if (!ha_label(x->ps->ha, x->in->has_ct, &t, &l))
		x->s->label_errors++;
}

struct action
auto_client_syn(const struct policy *pol, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;

	if (x->ps->discovery &&
	    discovery_verdict(x->ps->discovery, mode_domain(pol, x), p->family,
			      p->daddr) == DISCOVERY_LEGACY) {
		if (pol->action == MODE_REWRITE)
			return rewrite_client_syn(pol, x);	/* its record says auto */
		if (x->ps->ha)
			auto_label(x);
		return strip_client_syn(pol, x);
	}
	return observe_client_syn(pol, x);
}

/* Rules: what observing needs, plus every packet when the action is
 * rewrite (any server may turn out legacy). */
static enum queue_sel
auto_queue_for(const struct policy *pol, bool inbound)
{
	(void)inbound;
	return pol->action == MODE_REWRITE ? QUEUE_ALL : QUEUE_CTL;
}

const struct mode_ops mode_auto = {
	.name = "auto",
	.queue_out = QUEUE_CTL,
	.queue_in = QUEUE_CTL,
	.needs_flows = true,
	.queue_for = auto_queue_for,
	.client_syn = auto_client_syn,
	.segment = observe_segment,
};
