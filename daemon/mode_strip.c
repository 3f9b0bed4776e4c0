/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode_strip.c - remove the timestamp option from client SYNs, so that the
 * connection negotiates none and a legacy server records nothing for its
 * source. Stateless: only client SYNs are queued. */
#include "mode.h"

struct action
strip_client_syn(const struct policy *pol, const struct mode_ctx *x)
{
	(void)pol;
	(void)x;
	return (struct action){ .kind = ACT_STRIP };
}

const struct mode_ops mode_strip = {
	.name = "strip",
	.queue_out = QUEUE_SYN,
	.queue_in = QUEUE_NONE,
	.client_syn = strip_client_syn,
};
