/* SPDX-License-Identifier: GPL-2.0-or-later */
/* domain.h - clock domains: one per translated (post-SNAT) source address
 * or SNAT pool, each with a high-water mark hwm = the highest TSval' sent
 * from it. The registry is append-only and written by the main thread only;
 * the marks are per worker (each writes its own, plain relaxed stores) and
 * a SYN takes the maximum over all workers. No lock on the packet path. */
#ifndef TSNATD_DOMAIN_H
#define TSNATD_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#define DOMAIN_MAX 512		/* a flow keeps its domain in 9 bits */
#define DOMAIN_SHARED 0		/* translated source unknown: one shared domain */
#define DOMAIN_IFINDEX_MAX 4096

struct domains;

struct domains *domains_new(unsigned nworkers);
void domains_free(struct domains *d);

/* Main thread: the domain of address addr (family 4 or 6), created on first
 * use. DOMAIN_SHARED when the registry is full. */
uint16_t domains_intern(struct domains *d, int family, const uint8_t *addr);

/* Main thread: packets leaving through ifindex (family) now belong to dom
 * (DOMAIN_SHARED: unknown). Visible to the workers at once. */
void domains_set_ifindex(struct domains *d, int family, uint32_t ifindex, uint16_t dom);

/* Workers: the domain for the outbound interface (DOMAIN_SHARED if unknown). */
uint16_t domains_for_ifindex(const struct domains *d, int family, uint32_t ifindex);

/* Workers: TSval' for a new SYN in dom at clock now_ms:
 * max(now_ms, hwm, floor) in 32-bit serial arithmetic, never 0. No +1: a legacy
 * server drops a SYN only when what it recorded minus its TSval is above
 * 1, so a SYN may repeat the mark, and SYNs alone never move the clock
 * ahead of now_ms however many there are. */
uint32_t domains_next_tsval(const struct domains *d, uint16_t dom, uint32_t now_ms);

/* Main thread, before the workers start: no SYN of any domain, even one
 * created later, gets a TSval' below floor (a restart after a crash). */
void domains_set_floor(struct domains *d, uint32_t floor);

/* The floor; false if none was set. */
bool domains_floor(const struct domains *d, uint32_t *floor);

/* Worker w sent tsval from dom: raise its mark. */
void domains_note(struct domains *d, unsigned w, uint16_t dom, uint32_t tsval);

/* Main thread: raise dom's mark to tsval (a takeover: what the other
 * gateway of an HA pair may have sent), in a slot of its own. */
void domains_raise(struct domains *d, uint16_t dom, uint32_t tsval);

/* The mark of dom over all workers; false if nothing was sent yet. */
bool domains_hwm(const struct domains *d, uint16_t dom, uint32_t *hwm);

/* Registry contents, for saving and logging. Returns false past the end. */
bool domains_get(const struct domains *d, uint16_t dom, int *family, uint8_t *addr);
uint16_t domains_count(const struct domains *d);

#endif
