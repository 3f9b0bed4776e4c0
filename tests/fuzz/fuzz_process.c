/* fuzz_process.c - libFuzzer: arbitrary packet sequences through
 * process_packet() (with its IPv4 fast path) and process_packet_general()
 * in two identical worlds (policies, flow table, clock domains, counters).
 * Any difference in verdict, bytes, counters or flow count aborts, as does
 * any sanitizer report.
 *
 * Input: records of [ctl][len_hi][len_lo][len bytes of IP packet].
 * ctl bits 0-1: NFQA_SKB_INFO (0 final, 1 CSUMNOTREADY, 2 GSO); bit 2: the
 * copy is short (truncated); bits 3-5: seconds that pass before it. */
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "domain.h"
#include "flow.h"
#include "policy.h"
#include "process.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct world {
	struct conf conf;
	struct policy pol[4];
	struct cidr cidrs[8];
	struct domains *doms;
	struct proc_notes notes;
	struct proc_state ps;
	struct stats st;
};

static void
cidr(struct cidr *c, const char *s)
{
	char err[128];

	if (cidr_parse(s, c, err, sizeof(err)) < 0)
		abort();
}

/* Built in code: the fuzzer links no libconfig. The same policies as
 * tests/unit/test_fastpath.c. */
static void
world_init(struct world *w)
{
	long n;

	memset(w, 0, sizeof(*w));
	cidr(&w->cidrs[0], "198.51.100.99");
	cidr(&w->cidrs[1], "198.51.100.0/25");
	cidr(&w->cidrs[2], "198.51.100.1");
	cidr(&w->cidrs[3], "198.51.100.128/25");
	cidr(&w->cidrs[4], "2001:db8:1::/64");
	cidr(&w->cidrs[5], "192.0.2.0/26");
	cidr(&w->cidrs[6], "203.0.113.0/25");
	cidr(&w->cidrs[7], "2001:db8:2::/64");
	w->pol[0] = (struct policy){ .name = "keep", .mode = MODE_PASS,
		.dst = &w->cidrs[0], .ndst = 1 };
	w->pol[1] = (struct policy){ .name = "old", .mode = MODE_REWRITE,
		.dst = &w->cidrs[1], .ndst = 1, .tsrc = &w->cidrs[2], .ntsrc = 1 };
	w->pol[2] = (struct policy){ .name = "web", .mode = MODE_STRIP,
		.dst = &w->cidrs[3], .ndst = 2, .src = &w->cidrs[5], .nsrc = 1 };
	w->pol[3] = (struct policy){ .name = "any", .mode = MODE_REWRITE,
		.dst = &w->cidrs[6], .ndst = 2, .ts_auto = true };
	w->conf = (struct conf){ .enabled = true, .flows_on_full = ON_FULL_EVICT_IDLE,
		.pol = w->pol, .npol = 4 };
	n = policy_dst4_build(w->pol, 4, &w->conf.dst4);
	if (n < 0)
		abort();
	w->conf.ndst4 = (size_t)n;
	w->doms = domains_new(1);
	if (!w->doms)
		abort();
	w->pol[1].domain = domains_intern(w->doms, 4, w->cidrs[2].addr);
	w->ps = (struct proc_state){ .flows = flow_table_new(8, 7), .domains = w->doms,
		.notes = &w->notes, .now = 1000, .now_ms = 5000000 };
	if (!w->ps.flows)
		abort();
}

static void
world_free(struct world *w)
{
	flow_table_free(w->ps.flows);
	domains_free(w->doms);
	free(w->conf.dst4);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum csum_mode csum[4] = { CSUM_INCREMENTAL, CSUM_FULL, CSUM_NONE, CSUM_INCREMENTAL };
	static struct world a, b;
	size_t off = 0;

	world_init(&a);
	world_init(&b);
	while (size - off >= 3) {
		uint8_t ctl = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		struct proc_pkt ia, ib;
		uint8_t *pa, *pb;

		off += 3;
		if (len > size - off)
			len = size - off;
		/* exact-size copies: ASan sees any read past the packet */
		pa = malloc(len ? len : 1);
		pb = malloc(len ? len : 1);
		if (!pa || !pb)
			abort();
		memcpy(pa, data + off, len);
		memcpy(pb, data + off, len);
		off += len;
		a.ps.now = b.ps.now += (ctl >> 3) & 7;
		a.ps.now_ms = b.ps.now_ms += 17;
		ia = (struct proc_pkt){ .buf = pa, .len = len, .csum = csum[ctl & 3],
			.outdev = 2, .truncated = (ctl & 4) != 0 };
		ib = ia;
		ib.buf = pb;
		if (process_packet(&a.conf, &a.ps, &ia, &a.st) !=
		    process_packet_general(&b.conf, &b.ps, &ib, &b.st) ||
		    memcmp(pa, pb, len) != 0 || memcmp(&a.st, &b.st, sizeof(a.st)) != 0 ||
		    flow_count(a.ps.flows) != flow_count(b.ps.flows))
			abort();
		free(pa);
		free(pb);
	}
	world_free(&a);
	world_free(&b);
	return 0;
}
