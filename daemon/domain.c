/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domain.c - clock domains and their high-water marks. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"

struct domain_key {
	uint8_t family;
	uint8_t addr[16];
};

struct domains {
	unsigned nworkers;
	_Atomic uint16_t count;			/* published after the key */
	struct domain_key keys[DOMAIN_MAX];
	_Atomic uint16_t ifmap[2][DOMAIN_IFINDEX_MAX];
	/* marks[w * DOMAIN_MAX + dom]: 0 = unset, else (1 << 32) | tsval;
	 * w = nworkers is the main thread's (domains_raise) */
	_Atomic uint64_t *marks;
	_Atomic uint64_t floor;			/* the same encoding */
};

struct domains *
domains_new(unsigned nworkers)
{
	struct domains *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->nworkers = nworkers ? nworkers : 1;
	d->marks = calloc((size_t)(d->nworkers + 1) * DOMAIN_MAX, sizeof(*d->marks));
	if (!d->marks) {
		free(d);
		return NULL;
	}
	atomic_store(&d->count, 1);		/* DOMAIN_SHARED */
	return d;
}

void
domains_free(struct domains *d)
{
	if (d)
		free(d->marks);
	free(d);
}

uint16_t
domains_intern(struct domains *d, int family, const uint8_t *addr)
{
	uint16_t n = atomic_load(&d->count);
	size_t len = family == 4 ? 4 : 16;

	for (uint16_t i = 1; i < n; i++)
		if (d->keys[i].family == family && !memcmp(d->keys[i].addr, addr, len))
			return i;
	if (n == DOMAIN_MAX)
		return DOMAIN_SHARED;
	d->keys[n].family = (uint8_t)family;
	memset(d->keys[n].addr, 0, 16);
	memcpy(d->keys[n].addr, addr, len);
	atomic_store_explicit(&d->count, n + 1, memory_order_release);
	return n;
}

void
domains_set_ifindex(struct domains *d, int family, uint32_t ifindex, uint16_t dom)
{
	if (ifindex < DOMAIN_IFINDEX_MAX)
		atomic_store_explicit(&d->ifmap[family == 6][ifindex], dom,
				      memory_order_release);
}

uint16_t
domains_for_ifindex(const struct domains *d, int family, uint32_t ifindex)
{
	if (ifindex >= DOMAIN_IFINDEX_MAX)
		return DOMAIN_SHARED;
	return atomic_load_explicit(&d->ifmap[family == 6][ifindex], memory_order_acquire);
}

bool
domains_hwm(const struct domains *d, uint16_t dom, uint32_t *hwm)
{
	bool any = false;
	uint32_t best = 0;

	for (unsigned w = 0; w <= d->nworkers; w++) {
		uint64_t m = atomic_load_explicit(&d->marks[(size_t)w * DOMAIN_MAX + dom],
						  memory_order_relaxed);

		if (!m)
			continue;
		if (!any || (int32_t)((uint32_t)m - best) > 0)
			best = (uint32_t)m;
		any = true;
	}
	*hwm = best;
	return any;
}

/* once per connection: out of the per-packet path */
__attribute__((noinline, cold)) uint32_t
domains_next_tsval(const struct domains *d, uint16_t dom, uint32_t now_ms)
{
	uint32_t hwm, floor, v = now_ms;

	if (domains_hwm(d, dom, &hwm) && (int32_t)(v - hwm) < 0)
		v = hwm;
	if (domains_floor(d, &floor) && (int32_t)(v - floor) < 0)
		v = floor;
	return v ? v : 1;
}

void
domains_set_floor(struct domains *d, uint32_t floor)
{
	atomic_store_explicit(&d->floor, (1ull << 32) | floor, memory_order_release);
}

bool
domains_floor(const struct domains *d, uint32_t *floor)
{
	uint64_t f = atomic_load_explicit(&d->floor, memory_order_acquire);

	*floor = (uint32_t)f;
	return f != 0;
}

void
domains_note(struct domains *d, unsigned w, uint16_t dom, uint32_t tsval)
{
	_Atomic uint64_t *m = &d->marks[(size_t)w * DOMAIN_MAX + dom];
	uint64_t cur = atomic_load_explicit(m, memory_order_relaxed);

	/* Only worker w writes this slot: a plain store publishes it. */
	if (!cur || (int32_t)(tsval - (uint32_t)cur) > 0)
		atomic_store_explicit(m, (1ull << 32) | tsval, memory_order_relaxed);
}

bool
domains_get(const struct domains *d, uint16_t dom, int *family, uint8_t *addr)
{
	if (dom >= atomic_load(&d->count))
		return false;
	*family = d->keys[dom].family;
	memcpy(addr, d->keys[dom].addr, 16);
	return true;
}

uint16_t
domains_count(const struct domains *d)
{
	return atomic_load(&d->count);
}

void
domains_raise(struct domains *d, uint16_t dom, uint32_t tsval)
{
	domains_note(d, d->nworkers, dom, tsval);
}
