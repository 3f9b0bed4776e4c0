/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode_pass.c - leave matching traffic alone (an exception before a
 * broader policy). Nothing is queued for it. */
#include "mode.h"

struct action
pass_client_syn(const struct policy *pol, const struct mode_ctx *x)
{
	(void)pol;
	(void)x;
	return (struct action){ .kind = ACT_PASS };
}

const struct mode_ops mode_pass = {
	.name = "pass",
	.queue_out = QUEUE_NONE,
	.queue_in = QUEUE_NONE,
	.client_syn = pass_client_syn,
};
