/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_model.c - libFuzzer: arbitrary packet sequences through
 * process_packet() and the reference model (tests/model/refmodel.c), which
 * must agree on every packet: verdict, bytes, checksum by its mode's rule,
 * every counter, every mark and the flow tables (see refcheck.h). Any
 * difference aborts, as does any sanitizer report.
 *
 * Input: two bytes choosing the world, then records
 * [ctl][hi][lo][IP packet of ((hi & 15) << 8 | lo) bytes].
 * World byte 0: bits 0-1 flows.on_full (strip, pass, evict-idle,
 * evict-idle); bits 2-4 the flow table (8, 1, 2, 3, 4, 16, 64 flows, or
 * none; flows.max the same); bit 5 the configuration starts disabled; bits
 * 6-7 flows.per_client (0, i.e. 16 for these tables; 1; 2; 4).
 * World byte 1: bit 0 a floor 3 s ahead of the wall clock
 * (domains_set_floor); bit 1 the monotonic clock starts 2 s before it
 * wraps; the other bits are ignored.
 * ctl: bits 0-1 the checksum mode (incremental, full (CSUMNOTREADY), none
 * (GSO), incremental); bit 2 the copy is short (truncated); bits 3-5
 * seconds that pass before it; bit 6 flows expire first (half-open 3 s,
 * closing 2 s, idle 5 s, at most 4); bit 7 the configuration is turned
 * off or on.
 * hi: bits 4-5 the outgoing interface (2, 3, 0, 9); bits 6-7 a clock
 * event before it: none; the wall clock steps back 1000 s; the wall clock
 * jumps by 2^31 ms; 2^31 ms of real time pass (every clock; the flows'
 * bounds read the time since their SYN as negative). Both clocks move 17
 * ms per record, and 1000 ms per second that passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "domain.h"
#include "flow.h"
#include "policy.h"
#include "process.h"
#include "refcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct world {
	struct conf conf;
	struct policy pol[5];
	struct cidr cidrs[12];
	struct domains *doms;
	struct proc_notes notes;
	struct proc_state ps;
	struct stats st;
	struct ref_model m;
	struct ref_pair pair;
};

static struct cidr *
cidr(struct world *w, unsigned i, const char *s)
{
	char err[128];

	if (cidr_parse(s, &w->cidrs[i], err, sizeof(err)) < 0)
		abort();
	return &w->cidrs[i];
}

/* Built in code: the fuzzer links no libconfig. The policies of
 * tests/unit/test_model.c: a pass exception, rewrite with an explicit
 * translated source (IPv4, IPv6), strip for some sources, rewrite "auto". */
static void
policies_init(struct world *w)
{
	cidr(w, 0, "198.51.100.99");
	cidr(w, 1, "2001:db8:3::99");
	cidr(w, 2, "198.51.100.0/25");
	cidr(w, 3, "198.51.100.1");
	cidr(w, 4, "2001:db8:3::/64");
	cidr(w, 5, "2001:db8:ff::1");
	cidr(w, 6, "198.51.100.128/25");
	cidr(w, 7, "2001:db8:1::/64");
	cidr(w, 8, "192.0.2.0/26");
	cidr(w, 9, "2001:db8::/64");
	cidr(w, 10, "203.0.113.0/25");
	cidr(w, 11, "2001:db8:2::/64");
	w->pol[0] = (struct policy){ .name = "keep", .mode = MODE_PASS,
		.dst = &w->cidrs[0], .ndst = 2, .ts_auto = true };
	w->pol[1] = (struct policy){ .name = "old", .mode = MODE_REWRITE,
		.dst = &w->cidrs[2], .ndst = 1, .tsrc = &w->cidrs[3], .ntsrc = 1 };
	w->pol[2] = (struct policy){ .name = "old6", .mode = MODE_REWRITE,
		.dst = &w->cidrs[4], .ndst = 1, .tsrc = &w->cidrs[5], .ntsrc = 1 };
	w->pol[3] = (struct policy){ .name = "web", .mode = MODE_STRIP,
		.dst = &w->cidrs[6], .ndst = 2, .src = &w->cidrs[8], .nsrc = 2,
		.ts_auto = true };
	w->pol[4] = (struct policy){ .name = "any", .mode = MODE_REWRITE,
		.dst = &w->cidrs[10], .ndst = 2, .ts_auto = true };
	w->pol[1].domain = domains_intern(w->doms, 4, w->cidrs[3].addr);
	w->pol[2].domain = domains_intern(w->doms, 6, w->cidrs[5].addr);
}

/* "auto" domains: interface 2 (IPv4), 3 (IPv4 and IPv6). */
static void
interfaces_init(struct world *w)
{
	static const uint8_t a4[4] = { 203, 0, 113, 1 }, b4[4] = { 203, 0, 113, 2 };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x02, [15] = 1 };
	static const struct { int family; uint32_t ifindex; const uint8_t *addr; } ifs[] = {
		{ 4, 2, a4 }, { 4, 3, b4 }, { 6, 3, b6 },
	};

	for (size_t i = 0; i < sizeof(ifs) / sizeof(ifs[0]); i++) {
		uint16_t d = domains_intern(w->doms, ifs[i].family, ifs[i].addr);

		domains_set_ifindex(w->doms, ifs[i].family, ifs[i].ifindex, d);
		ref_set_ifindex(&w->m, ifs[i].family, ifs[i].ifindex, d);
	}
}

static void
world_init(struct world *w, uint8_t choice, uint8_t clocks)
{
	static const enum flows_on_full on_full[4] = { ON_FULL_STRIP, ON_FULL_PASS,
		ON_FULL_EVICT_IDLE, ON_FULL_EVICT_IDLE };
	static const unsigned table[8] = { 8, 1, 2, 3, 4, 16, 64, 0 };
	static const unsigned per_client[4] = { 0, 1, 2, 4 };
	unsigned max = table[(choice >> 2) & 7];
	long n;

	memset(w, 0, sizeof(*w));
	if (!(w->doms = domains_new(1)))
		abort();
	policies_init(w);
	w->conf = (struct conf){ .enabled = !(choice & 0x20),
		.flows_on_full = on_full[choice & 3], .flows_max = max,
		.flows_per_client = per_client[choice >> 6], .pol = w->pol, .npol = 5 };
	if ((n = policy_dst4_build(w->pol, 5, &w->conf.dst4)) < 0)
		abort();
	w->conf.ndst4 = (size_t)n;
	for (size_t i = 0; i < w->conf.npol; i++)	/* as conf_load sets it */
		w->conf.modes |= 1u << w->pol[i].mode;
	w->ps = (struct proc_state){ .domains = w->doms, .notes = &w->notes,
		.now = 1000, .now_ms = 5000000,
		.mono_ms = (clocks & 2) ? 0xfffff830u : 1000000 };
	if (max && !(w->ps.flows = flow_table_new(max, 7)))
		abort();
	ref_init(&w->m, &w->conf, max != 0, max);
	if (clocks & 1) {
		domains_set_floor(w->doms, w->ps.now_ms + 3000);
		ref_set_floor(&w->m, w->ps.now_ms + 3000);
	}
	interfaces_init(w);
	w->pair = (struct ref_pair){ .conf = &w->conf, .ps = &w->ps, .st = &w->st,
		.m = &w->m };
}

static void
world_free(struct world *w)
{
	flow_table_free(w->ps.flows);
	domains_free(w->doms);
	free(w->conf.dst4);
}

static void
differ(unsigned record, const char *why)
{
	fprintf(stderr, "fuzz_model: record %u: %s\n", record, why);
	abort();
}

/* What a record's ctl and hi bytes say happens before its packet. */
static void
record_events(struct world *w, unsigned record, uint8_t ctl, uint8_t hi)
{
	static const struct flow_timeouts to = { .idle = 5, .closing = 2, .half_open = 3 };
	uint32_t secs = (ctl >> 3) & 7;
	char why[256];

	w->ps.now += secs;
	w->ps.now_ms += 17 + secs * 1000;
	w->ps.mono_ms += 17 + secs * 1000;
	switch (hi >> 6) {
	case 1:
		w->ps.now_ms -= 1000000;
		break;
	case 2:
		w->ps.now_ms += 0x80000000u;
		break;
	case 3:
		w->ps.now += 0x80000000u / 1000;
		w->ps.now_ms += 0x80000000u;
		w->ps.mono_ms += 0x80000000u;
		break;
	}
	if ((ctl & 0x40) && !ref_pair_expire(&w->pair, &to, 4, why, sizeof(why)))
		differ(record, why);
	if (ctl & 0x80)
		w->conf.enabled = !w->conf.enabled;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum csum_mode csum[4] = { CSUM_INCREMENTAL, CSUM_FULL, CSUM_NONE,
						CSUM_INCREMENTAL };
	static const uint32_t outdev[4] = { 2, 3, 0, 9 };
	static struct world w;
	char why[256];
	size_t off = 2;

	if (size < 2)
		return 0;
	world_init(&w, data[0], data[1]);
	for (unsigned record = 0; size - off >= 3; record++) {
		uint8_t ctl = data[off], hi = data[off + 1];
		size_t len = (size_t)(hi & 15) << 8 | data[off + 2];
		struct ref_in in = { .csum = csum[ctl & 3], .outdev = outdev[(hi >> 4) & 3],
				     .truncated = (ctl & 4) != 0 };

		off += 3;
		if (len > size - off)
			len = size - off;
		record_events(&w, record, ctl, hi);
		if (!ref_pair_step(&w.pair, data + off, len, &in, NULL, NULL, why, sizeof(why)))
			differ(record, why);
		off += len;
	}
	world_free(&w);
	return 0;
}
