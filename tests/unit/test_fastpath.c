/* test_fastpath.c - process_packet() with its IPv4 fast path makes exactly
 * the decisions of process_packet_general(): two identical worlds (config,
 * flow table, clock domains, counters) receive the same random traffic,
 * one through each, and must stay identical packet by packet. Also the
 * flattened IPv4 policy table against policy_match(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "confutil.h"
#include "engine.h"
#include "nfq.h"
#include "packet.h"
#include "pktbuild.h"
#include "testrand.h"
#include "policy.h"
#include "process.h"

#define EVENTS 60000
#define TUPLES 24

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint32_t
rnd(void)
{
	return test_rand(&rng);
}

struct world {
	struct conf *conf;
	struct domains *doms;
	struct proc_notes notes;
	struct proc_state ps;
	struct stats st;
};

static const char *conf_text =
	"flows = { max = 1024; on_full = \"evict-idle\"; };\n"
	"policies = (\n"
	" { name = \"keep\"; mode = \"pass\"; destinations = \"198.51.100.99\"; },\n"
	" { name = \"old\"; mode = \"rewrite\"; destinations = \"198.51.100.0/25\";"
	"   translated_source = \"198.51.100.1\"; },\n"
	" { name = \"web\"; mode = \"strip\"; destinations = [ \"198.51.100.128/25\", \"2001:db8:1::/64\" ];"
	"   sources = [ \"192.0.2.0/26\", \"2001:db8::/64\" ]; },\n"
	" { name = \"any\"; mode = \"rewrite\"; destinations = \"203.0.113.0/25\"; } );\n";

static void
world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->conf = conf_from_text(conf_text, NULL);
	w->doms = domains_new(1);
	assert_non_null(w->conf);
	assert_non_null(w->doms);
	w->conf->pol[1].domain = domains_intern(w->doms, 4, w->conf->pol[1].tsrc[0].addr);
	w->ps = (struct proc_state){ .flows = flow_table_new(16, 7), .domains = w->doms,
		.notes = &w->notes, .now = 1000, .now_ms = 5000000 };
	assert_non_null(w->ps.flows);
}

static void
world_free(struct world *w)
{
	flow_table_free(w->ps.flows);
	domains_free(w->doms);
	conf_free(w->conf);
}

/* A connection the traffic is drawn from. */
struct tuple {
	const char *client, *server;
	uint16_t cport;
	uint32_t tsval;		/* the client's clock */
	uint32_t seen;		/* the last TSval the server received */
};

static const char *clients[] = { "192.0.2.5", "192.0.2.70", "192.0.2.6" };
static const char *servers[] = { "198.51.100.10", "198.51.100.200", "198.51.100.99",
				 "203.0.113.10", "203.0.113.200" };

static void
random_opts(struct pb_opts *o, bool syn, uint32_t tsval, uint32_t tsecr)
{
	memset(o, 0, sizeof(*o));
	switch (rnd() % 8) {
	case 0:			/* none */
		break;
	case 1:			/* two timestamps */
		pb_nop(o);
		pb_nop(o);
		pb_ts(o, tsval - 5, tsecr);
		pb_nop(o);
		pb_nop(o);
		pb_ts(o, tsval, tsecr);
		break;
	case 2:			/* an unusual order */
		pb_ts(o, tsval, tsecr);
		pb_mss(o, 1400);
		break;
	default:		/* what Linux sends */
		if (syn) {
			pb_mss(o, 1460);
			pb_sackok(o);
			pb_ts(o, tsval, tsecr);
			pb_nop(o);
			pb_ws(o, 7);
		} else {
			pb_nop(o);
			pb_nop(o);
			pb_ts(o, tsval, tsecr);
		}
	}
}

static const uint8_t flag_choices[] = {
	TCPF_SYN, TCPF_SYN | TCPF_ACK, TCPF_ACK, TCPF_ACK | TCPF_PSH, TCPF_ACK,
	TCPF_ACK | TCPF_PSH, TCPF_FIN | TCPF_ACK, TCPF_RST, TCPF_RST | TCPF_ACK, TCPF_ACK,
};

static void
expect_same_flow(struct world *a, struct world *b, const uint8_t *pkt, size_t n)
{
	struct pkt p;
	struct flow *fa, *fb;
	bool ca = false, cb = false;

	assert_int_equal(flow_count(a->ps.flows), flow_count(b->ps.flows));
	if (pkt_parse_general(pkt, n, &p) != PKT_OK)
		return;
	fa = flow_lookup(a->ps.flows, &p, &ca);
	fb = flow_lookup(b->ps.flows, &p, &cb);
	assert_int_equal(fa == NULL, fb == NULL);
	if (!fa)
		return;
	assert_int_equal(ca, cb);
	assert_int_equal(fa->offset, fb->offset);
	assert_int_equal(fa->last_raw, fb->last_raw);
	assert_int_equal(fa->flags, fb->flags);
	assert_int_equal(fa->domain, fb->domain);
	assert_int_equal(fa->last, fb->last);
}

static void
fast_path_decides_like_the_general_path(void **state)
{
	static uint8_t pkt[PB_MAX], ba[PB_MAX], bb[PB_MAX];
	struct world a, b;
	struct tuple t[TUPLES];
	unsigned fast_modified = 0;
	(void)state;

	world_init(&a);
	world_init(&b);
	for (unsigned i = 0; i < TUPLES; i++)
		t[i] = (struct tuple){ .client = clients[i % 3], .server = servers[i % 5],
			.cport = (uint16_t)(40000 + i), .tsval = rnd() };
	for (unsigned e = 0; e < EVENTS; e++) {
		struct tuple *u = &t[rnd() % TUPLES];
		bool reply = rnd() % 3 == 0;
		uint8_t flags = flag_choices[rnd() % sizeof(flag_choices)];
		uint32_t tsval, tsecr, r = rnd() % 10;
		struct pb_opts o;
		struct proc_pkt ia, ib;
		enum proc_result ra, rb;
		size_t n, len;
		uint32_t skb_info = 0;

		if (reply) {		/* the server's clock and an echo */
			tsval = rnd();
			tsecr = r < 2 ? 0 : r < 4 ? u->tsval : r < 5 ? rnd() : u->seen;
			if (flags == TCPF_SYN)
				flags = TCPF_SYN | TCPF_ACK;
		} else {
			u->tsval += rnd() % 3 ? rnd() % 1000 : 0;
			tsval = rnd() % 50 ? u->tsval : 0;
			tsecr = flags == TCPF_SYN ? 0 : rnd();
		}
		random_opts(&o, flags & TCPF_SYN, tsval, tsecr);
		n = pb_build(pkt, &(struct pb_spec){ .opts = &o, .flags = flags,
			.saddr = reply ? u->server : u->client,
			.daddr = reply ? u->client : u->server,
			.sport = reply ? 80 : u->cport, .dport = reply ? u->cport : 80,
			.payload = (flags & TCPF_SYN) ? 0 : rnd() % 1200,
			.ip_opts = rnd() % 20 ? 0 : 4 });
		switch (rnd() % 12) {
		case 0:
			skb_info = NFQA_SKB_CSUMNOTREADY;
			pb_make_partial(pkt, n);
			break;
		case 1:
			skb_info = NFQA_SKB_GSO;
			break;
		}
		len = rnd() % 25 ? n : rnd() % (n + 1);	/* a short copy */
		memcpy(ba, pkt, n);
		memcpy(bb, pkt, n);
		ia = (struct proc_pkt){ .buf = ba, .len = len, .csum = nfqmsg_csum_mode(skb_info),
			.outdev = 2, .truncated = len < n || rnd() % 30 == 0 };
		ib = ia;
		ib.buf = bb;
		ra = process_packet(a.conf, &a.ps, &ia, &a.st);
		rb = process_packet_general(b.conf, &b.ps, &ib, &b.st);
		assert_int_equal(ra, rb);
		assert_memory_equal(ba, bb, n);
		assert_memory_equal(&a.st, &b.st, sizeof(a.st));
		expect_same_flow(&a, &b, pkt, n);
		if (ra == PROC_MODIFIED && !reply) {
			struct pkt p;

			if (pkt_parse(ba, n, &p) == PKT_OK && p.ts_count)
				u->seen = p.tsval;
		}
		fast_modified += ra == PROC_MODIFIED;
		if (rnd() % 200 == 0) {	/* time passes */
			a.ps.now = b.ps.now += 1 + rnd() % 3;
			if (rnd() % 4 == 0)
				assert_int_equal(flow_expire(a.ps.flows, a.ps.now, 5, 2, 8),
						 flow_expire(b.ps.flows, b.ps.now, 5, 2, 8));
		}
		a.ps.now_ms = b.ps.now_ms += rnd() % 50;
	}
	/* The run must have exercised the paths it compares. */
	assert_true(a.st.stripped > 100);
	assert_true(a.st.rewritten > 1000);
	assert_true(a.st.flows_resynced > 0);
	assert_true(a.st.flows_created > 100);
	assert_true(fast_modified > 1000);
	world_free(&a);
	world_free(&b);
}

static void
flattened_ipv4_policies_match_like_policy_match(void **state)
{
	struct conf *c = conf_from_text(
		"policies = (\n"
		" { name = \"a\"; mode = \"pass\"; destinations = [ \"198.51.100.8/29\", \"2001:db8::/32\" ]; },\n"
		" { name = \"b\"; mode = \"strip\"; destinations = [ \"198.51.100.0/24\", \"203.0.113.0/24\" ];"
		"   sources = [ \"192.0.2.0/25\", \"192.0.2.200\" ]; },\n"
		" { name = \"c\"; mode = \"rewrite\"; destinations = \"198.51.100.0/23\";"
		"   sources = \"192.0.2.128/25\"; },\n"
		" { name = \"d\"; mode = \"strip\"; destinations = \"0.0.0.0/0\"; sources = \"192.0.2.7\"; } );\n",
		NULL);
	(void)state;

	assert_non_null(c);
	assert_int_equal(c->ndst4, 5);
	for (int i = 0; i < 200000; i++) {
		uint8_t s[4] = { 192, 0, 2, (uint8_t)rnd() };
		uint8_t d[4] = { rnd() % 2 ? 198 : 203, rnd() % 2 ? 51 : 0,
				 (uint8_t)(100 + rnd() % 3), (uint8_t)rnd() };

		if (rnd() % 4 == 0)
			d[2] = 113;
		assert_ptr_equal(policy_match4(c->dst4, c->ndst4, pkt_get32(s), pkt_get32(d)),
				 policy_match(c->pol, c->npol, 4, s, d));
	}
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fast_path_decides_like_the_general_path),
		cmocka_unit_test(flattened_ipv4_policies_match_like_policy_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
