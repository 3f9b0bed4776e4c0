/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offload_reload.c - rewrite's kernel data path after a reload (see
 * offload.h, offload_follow), and as tsnatctl status shows it. Before, it
 * was decided at start only: a reload from strip to rewrite left it
 * unloaded and status saying "off: no policy rewrites" of a configuration
 * that rewrites. */
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "control.h"
#include "log.h"
#include "offload.h"
#include "offload_int.h"

/* The data path in use serves no new flow now: its flows keep their
 * shift until they end (the sweep), then offload_tick unloads it. */
static void
follow_drain(struct offload *o, const struct conf *c)
{
	snprintf(offload_last_why, OFFLOAD_WHY, "%s", !conf_rewrites(c) ?
		 "no policy rewrites" : "offload = false in the configuration");
	/* a path of its own: the workers take it whole at their next batch */
	o->drain_path = (struct offload_path){ &offload_drain_ops, o };
	o->drain = true;
	log_warnx("offload: %s since the reload: the kernel data path in %s keeps shifting "
		  "its %u flows until they end, takes no new ones, and is then removed",
		  offload_last_why, o->dir, o->flows);
}

struct offload *
offload_follow(struct offload *o, const struct conf *c, struct offload **retired)
{
	bool want = conf_rewrites(c) && c->offload;
	bool live = o && !o->unloaded;
	struct offload *n;

	*retired = NULL;
	if (live && o->drain == !want)
		return o;		/* as it was: the keys apply when loaded */
	if (live && !o->drain) {
		follow_drain(o, c);
		return o;
	}
	if (!conf_rewrites(c)) {
		/* nothing loaded, or draining: stays so */
		if (!live)
			snprintf(offload_last_why, OFFLOAD_WHY, "no policy rewrites");
		return o;
	}
	if (live && !c->offload)
		return o;		/* draining, and to stay so */
	/* Rewrite, and nothing that serves it: as at start (logged there,
	 * loudly when it does not load); a draining one's pins are adopted. */
	log_info("offload: the configuration rewrites since the reload");
	n = offload_start(c);
	if (o)
		*retired = o;
	return n;
}

void
offload_report(struct offload *o, const struct conf *c, struct control_offload *out)
{
	uint64_t cnt[SHIFT_NCOUNTERS];

	_Static_assert(SHIFT_NCOUNTERS == CONTROL_OFFLOAD_COUNTERS, "offload counters");
	*out = (struct control_offload){ .dir = o ? o->dir : c->offload_dir,
		.reason = offload_why() };
	if (!o) {
		out->state = *offload_why() ? CONTROL_OFFLOAD_OFF : CONTROL_OFFLOAD_UNNEEDED;
		return;
	}
	if (offload_unloaded(o)) {
		out->state = CONTROL_OFFLOAD_OFF;
		return;
	}
	out->state = offload_draining(o) ? CONTROL_OFFLOAD_DRAINING : CONTROL_OFFLOAD_ACTIVE;
	out->adopted = offload_adopted(o);
	out->flows = offload_flows(o);
	out->open = offload_open_flows(o);
	offload_interfaces(o, out->interfaces, sizeof(out->interfaces));
	offload_counters(o, cnt);
	memcpy(out->counters, cnt, sizeof(cnt));
}
