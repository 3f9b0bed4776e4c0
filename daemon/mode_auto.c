/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode_auto.c - observe every destination of the policy, and give the
 * servers classified legacy the policy's action (strip or rewrite), from
 * the moment they are classified. The first drops are what proves a server
 * legacy; in front of a 4.x server a switch to strip has a transition of up
 * to 60 s (it still holds what it recorded, and drops SYNs without
 * timestamp next to it). */
#include "discovery.h"
#include "mode.h"

struct action
auto_client_syn(const struct policy *pol, const struct mode_ctx *x)
{
	const struct pkt *p = x->p;

	if (x->ps->discovery &&
	    discovery_verdict(x->ps->discovery, mode_domain(pol, x), p->family,
			      p->daddr) == DISCOVERY_LEGACY)
		return pol->action == MODE_REWRITE ? rewrite_client_syn(pol, x) :
		       strip_client_syn(pol, x);
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
