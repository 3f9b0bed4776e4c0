/* SPDX-License-Identifier: GPL-2.0-or-later */
/* mode.c - the table of modes: the one place that maps a mode to its
 * operations and its name. */
#include <stdio.h>
#include <string.h>

#include "domain.h"
#include "mode.h"

#define MODE_ROW(id, name) [id] = &mode_##name,
static const struct mode_ops *const mode_table[] = {
	MODE_LIST(MODE_ROW)
};
#undef MODE_ROW

#define NMODES (sizeof(mode_table) / sizeof(mode_table[0]))

const struct mode_ops *
mode_get(enum policy_mode m)
{
	return (unsigned)m < NMODES ? mode_table[m] : NULL;
}

uint16_t
mode_domain(const struct policy *pol, const struct mode_ctx *x)
{
	if (!pol->ts_auto)
		return pol->domain;
	return domains_for_ifindex(x->ps->domains, x->p->family, x->in->outdev);
}

const char *
policy_mode_name(enum policy_mode m)
{
	return mode_get(m) ? mode_get(m)->name : "?";
}

int
policy_mode_parse(const char *s, enum policy_mode *m)
{
	for (unsigned i = 0; i < NMODES; i++) {
		if (strcmp(s, policy_mode_name((enum policy_mode)i)) == 0) {
			*m = (enum policy_mode)i;
			return 0;
		}
	}
	return -1;
}

/* A note for the main thread to log (workers never log). Kept quiet here:
 * a SYN without timestamp once per (domain, server) hash, the others at
 * most once a second per kind; the main thread rate-limits again. */
static __attribute__((noinline, cold)) void
note(struct proc_notes *n, const struct proc_note *what, uint32_t now)
{
	uint32_t head, h = what->domain * 31u + what->server[15] * 7u + what->server[3] +
			   what->server[0];
	struct proc_note *slot;

	if (!n)
		return;
	if (what->kind == NOTE_SYN_WITHOUT_TS) {
		if (n->seen[h & 255])
			return;
		n->seen[h & 255] = 1;
	} else if (what->kind != NOTE_VERDICT) {
		if (n->last[what->kind] == now + 1)
			return;
		n->last[what->kind] = now + 1;	/* +1: 0 means never */
	}
	head = atomic_load_explicit(&n->head, memory_order_relaxed);
	if (head - atomic_load_explicit(&n->tail, memory_order_acquire) >= PROC_NOTES)
		return;
	slot = &n->ring[head % PROC_NOTES];
	*slot = *what;
	atomic_store_explicit(&n->head, head + 1, memory_order_release);
}

__attribute__((noinline, cold)) void
mode_note(struct proc_notes *notes, uint32_t now, enum proc_note_kind kind,
	  const char *policy, uint16_t dom, uint32_t value, uint32_t value2, int family,
	  const uint8_t *client, const uint8_t *server)
{
	struct proc_note n = { .kind = (uint8_t)kind, .family = (uint8_t)family,
			       .domain = dom, .value = value, .value2 = value2 };
	size_t alen = family == 4 ? 4 : 16;

	memcpy(n.client, client, alen);
	memcpy(n.server, server, alen);
	if (policy)
		snprintf(n.policy, sizeof(n.policy), "%s", policy);
	note(notes, &n, now);
}

