/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ha.c - label writes and lookups of a worker (HA pairs). */
#include <string.h>

#include "ha.h"

void
ha_tuple(struct ct_tuple *t, int family, const uint8_t *client, const uint8_t *server,
	 uint16_t cport, uint16_t sport)
{
	size_t alen = family == 4 ? 4 : 16;

	memset(t, 0, sizeof(*t));
	t->family = (uint8_t)family;
	memcpy(t->src, client, alen);
	memcpy(t->dst, server, alen);
	t->sport = cport;
	t->dport = sport;
}

bool
ha_write_label(struct proc_ha *ha, const struct ct_tuple *t, const struct ctlabel *l)
{
	struct ha_write *w;

	if (ha->nwrites >= HA_WRITES)
		return false;
	w = &ha->w[ha->nwrites++];
	w->t = *t;
	ctlabel_encode(l, ha->first, w->labels, w->mask);
	return true;
}

bool
ha_label(struct proc_ha *ha, bool glue, const struct ct_tuple *t, const struct ctlabel *l)
{
	if (!glue)
		return ha_write_label(ha, t, l);
	ctlabel_encode(l, ha->first, ha->v_labels, ha->v_mask);
	ha->verdict_labels = true;
	return true;
}

static uint32_t
tuple_hash(const struct ct_tuple *t)
{
	uint32_t h = 2166136261u;
	const uint8_t *b = (const uint8_t *)t;

	for (size_t i = 0; i < sizeof(*t); i++)
		h = (h ^ b[i]) * 16777619u;
	return h | 1;			/* 0: an empty slot */
}

enum ha_found
ha_from_labels(const struct proc_ha *ha, bool has_labels, const uint8_t labels[CTLABEL_SIZE],
	       struct ctlabel *l)
{
	return has_labels && ctlabel_decode(labels, ha->first, l) ? HA_LABEL : HA_NONE;
}

enum ha_found
ha_lookup(struct proc_ha *ha, const struct ct_tuple *t, uint32_t now, struct ctlabel *l)
{
	uint32_t h = tuple_hash(t);
	unsigned slot = h % HA_MISS_SLOTS;
	struct ct_entry e;
	enum ha_found r;
	int got;

	if (ha->miss[slot].hash == h && (int32_t)(ha->miss[slot].until - now) > 0)
		return HA_SKIPPED;
	if (ha->lookup_sec != now) {
		ha->lookup_sec = now;
		ha->lookups = 0;
	}
	if (ha->lookups >= HA_LOOKUPS_PER_S || !ha->ops || !ha->ops->get)
		return HA_SKIPPED;
	ha->lookups++;
	if ((got = ha->ops->get(ha->ctx, t, &e)) < 0)
		return HA_ERROR;
	r = got ? ha_from_labels(ha, e.has_labels, e.labels, l) : HA_NONE;
	if (r == HA_NONE) {
		ha->miss[slot].hash = h;
		ha->miss[slot].until = now + HA_MISS_S;
	}
	return r;
}
