/* SPDX-License-Identifier: GPL-2.0-or-later */
/* takeover.c - start the clocks above what the other gateway sent. */
#include <errno.h>

#include "takeover.h"

void
takeover_entry(struct takeover *t, const struct ct_entry *e)
{
	struct ctlabel l;
	uint32_t floor;
	uint16_t dom;

	t->entries++;
	if (!e->has_labels || !ctlabel_decode(e->labels, t->conf->ha_label_first, &l))
		return;
	t->labelled++;
	dom = domains_intern(t->d, e->orig.family, e->reply_dst);
	if (l.flags & CTLABEL_SHIFT) {
		floor = ctlabel_bound(&l, ctlabel_age(&l, t->now_ms, t->conf->ha_clock_skew));
		domains_raise(t->d, dom, floor);
		if (t->labelled == 1 || (int32_t)(floor - t->highest) > 0)
			t->highest = floor;
	}
	if ((l.flags & CTLABEL_AUTO) && t->disc &&
	    discovery_adopt_legacy(t->disc, dom, e->orig.family, e->orig.dst, t->now_s))
		t->legacy++;
}

void
takeover_clock(struct takeover *t)
{
	uint16_t n = domains_count(t->d);
	uint32_t floor = t->now_ms + t->conf->ha_clock_skew;

	/* The highest record's floor too, for every domain: a policy whose
	 * translated source is "auto" keys its flows by the interface's own
	 * address, not by the virtual one the records name. Ahead costs a
	 * legacy server nothing. */
	if (t->labelled && (int32_t)(t->highest - floor) > 0)
		floor = t->highest;
	for (uint16_t dom = 0; dom < n; dom++)
		domains_raise(t->d, dom, floor);
}

static void
each(const struct ct_entry *e, void *arg)
{
	takeover_entry(arg, e);
}

int
takeover_run(struct takeover *t)
{
	struct ctnl *c = ctnl_open();
	int r = -1, e;

	if (c)
		r = ctnl_dump(c, each, t);
	e = errno;
	ctnl_close(c);
	/* after the entries: the domains they made start there too */
	takeover_clock(t);
	errno = e;
	return r;
}
