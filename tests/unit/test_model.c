/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_model.c - process_packet() decides like the reference model
 * (tests/model/refmodel.c) on random traffic: the same packets through the
 * daemon's worker and the model, compared packet by packet (verdict, bytes,
 * checksum, every counter, every mark, the flow tables). Every run also
 * asserts that its traffic reached the paths it compares. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "confutil.h"
#include "nfq.h"
#include "packet.h"
#include "pktbuild.h"
#include "refcheck.h"
#include "reload.h"
#include "testrand.h"

#define TUPLES_MAX 48

static uint64_t rng = 0x6a09e667f3bcc909ull;

static uint32_t
rnd(void)
{
	return test_rand(&rng);
}

static bool
one_in(uint32_t n)
{
	return rnd() % n == 0;
}

/* The policies: a pass exception, rewrite with an explicit translated
 * source (IPv4, IPv6), strip limited to some sources, rewrite "auto". */
static const char *policies =
	"policies = (\n"
	" { name = \"keep\"; mode = \"pass\"; destinations = [ \"198.51.100.99\", \"2001:db8:3::99\" ]; },\n"
	" { name = \"old\"; mode = \"rewrite\"; destinations = \"198.51.100.0/25\";"
	"   translated_source = \"198.51.100.1\"; },\n"
	" { name = \"old6\"; mode = \"rewrite\"; destinations = \"2001:db8:3::/64\";"
	"   translated_source = \"2001:db8:ff::1\"; },\n"
	" { name = \"web\"; mode = \"strip\"; destinations = [ \"198.51.100.128/25\", \"2001:db8:1::/64\" ];"
	"   sources = [ \"192.0.2.0/26\", \"2001:db8::/64\" ]; },\n"
	" { name = \"any\"; mode = \"rewrite\"; destinations = [ \"203.0.113.0/25\", \"2001:db8:2::/64\" ]; } );\n";

/* The daemon's worker and its model, side by side. */
struct world {
	struct conf *conf;
	struct domains *doms;
	struct proc_notes notes;
	struct proc_state ps;
	struct stats st;
	struct ref_model m;
	struct ref_pair pair;
};

/* "auto" domains: outgoing interface 2 (IPv4), 3 (IPv4 and IPv6). */
static void
bind_interfaces(struct world *w)
{
	static const uint8_t a4[4] = { 203, 0, 113, 1 }, b4[4] = { 203, 0, 113, 2 };
	static const uint8_t b6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x02, [15] = 1 };
	uint16_t d;

	d = domains_intern(w->doms, 4, a4);
	domains_set_ifindex(w->doms, 4, 2, d);
	ref_set_ifindex(&w->m, 4, 2, d);
	d = domains_intern(w->doms, 4, b4);
	domains_set_ifindex(w->doms, 4, 3, d);
	ref_set_ifindex(&w->m, 4, 3, d);
	d = domains_intern(w->doms, 6, b6);
	domains_set_ifindex(w->doms, 6, 3, d);
	ref_set_ifindex(&w->m, 6, 3, d);
}

/* A world of on_full (a config name), a table of max flows (0: none) and
 * flows.per_client (0: auto, far above what the tests make); with floor,
 * the domains' floor is 30 s ahead of the wall clock, as after a crash.
 * The monotonic clock wraps after 1000 s of the traffic's time. */
static struct world *
world_new(const char *on_full, unsigned max, unsigned per_client, bool floor)
{
	struct world *w = calloc(1, sizeof(*w));
	char text[2048];

	assert_non_null(w);
	snprintf(text, sizeof(text), "flows = { on_full = \"%s\"; per_client = %u; };\n%s",
		 on_full, per_client, policies);
	w->conf = conf_from_text(text, NULL);
	w->doms = domains_new(1);
	assert_non_null(w->conf);
	assert_non_null(w->doms);
	reload_bind_domains(w->conf, w->doms);
	w->ps = (struct proc_state){ .domains = w->doms, .notes = &w->notes,
		.now = 1000, .now_ms = 5000000, .mono_ms = 0xfff0bdc0u };
	if (max) {
		w->ps.flows = flow_table_new(max, 7);
		assert_non_null(w->ps.flows);
	}
	ref_init(&w->m, w->conf, max != 0, max);
	if (floor) {
		domains_set_floor(w->doms, w->ps.now_ms + 30000);
		ref_set_floor(&w->m, w->ps.now_ms + 30000);
	}
	bind_interfaces(w);
	w->pair = (struct ref_pair){ .conf = w->conf, .ps = &w->ps, .st = &w->st, .m = &w->m };
	return w;
}

static void
world_free(struct world *w)
{
	flow_table_free(w->ps.flows);
	domains_free(w->doms);
	conf_free(w->conf);
	free(w);
}

/* A connection the traffic is drawn from. */
struct tuple {
	int family;
	const char *client, *server;
	uint16_t cport;
	uint32_t tsval;		/* the client's clock */
	uint32_t seen;		/* the last TSval the server received */
	bool fast;		/* its clock runs ahead of real time */
};

static const char *clients4[] = { "192.0.2.5", "192.0.2.70", "192.0.2.6", "192.0.2.7",
				  "192.0.2.71" };
static const char *clients6[] = { "2001:db8::5", "2001:db8:9::7" };
/* rewrite, strip (for some sources), pass, rewrite auto, unmatched */
static const char *servers4[] = { "198.51.100.10", "198.51.100.200", "198.51.100.99",
				  "203.0.113.10", "203.0.113.200" };
static const char *servers6[] = { "2001:db8:3::10", "2001:db8:1::10", "2001:db8:3::99",
				  "2001:db8:2::10", "2001:db8:4::10" };

/* n tuples, one in four IPv6, one in eight with a fast clock; servers
 * from the first nservers of each list. */
static void
tuples_init(struct tuple *t, unsigned n, unsigned nservers)
{
	for (unsigned i = 0; i < n; i++) {
		bool v6 = i % 4 == 3;

		t[i] = (struct tuple){ .family = v6 ? 6 : 4,
			.client = v6 ? clients6[i / 4 % 2] : clients4[i % 5],
			.server = v6 ? servers6[i % nservers] : servers4[i % nservers],
			.cport = (uint16_t)(40000 + i), .tsval = rnd(), .fast = i % 8 == 5 };
	}
}

/* What Linux sends: MSS SACK_PERM TS NOP WS on SYNs, NOP NOP TS after. */
static void
linux_opts(struct pb_opts *o, bool syn, uint32_t tsval, uint32_t tsecr)
{
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

/* Mostly what Linux sends; else odd layouts, and rarely a malformed one. */
static void
random_opts(struct pb_opts *o, bool syn, uint32_t tsval, uint32_t tsecr)
{
	memset(o, 0, sizeof(*o));
	switch (rnd() % 14) {
	case 0:			/* none */
		break;
	case 1:
	case 2:			/* two timestamps, the first echoing or not */
		pb_nop(o);
		pb_nop(o);
		pb_ts(o, tsval - 5, rnd() % 2 ? tsecr : 0);
		linux_opts(o, false, tsval, tsecr);
		break;
	case 3:			/* an unusual order */
		pb_ts(o, tsval, tsecr);
		pb_mss(o, 1400);
		break;
	case 4:			/* kind 8 of length 6: not a timestamp */
		pb_raw(o, 8, 6, 4);
		linux_opts(o, false, tsval, tsecr);
		break;
	case 5:			/* a timestamp after EOL: none */
		pb_nop(o);
		pb_eol(o);
		linux_opts(o, false, tsval, tsecr);
		break;
	case 6:			/* an option of length 1: malformed */
		if (one_in(4)) {
			pb_raw(o, 30, 1, 0);
			pb_ts(o, tsval, tsecr);
			break;
		}
		/* fall through */
	default:
		linux_opts(o, syn, tsval, tsecr);
	}
}

static const uint8_t flag_choices[] = {
	TCPF_SYN, TCPF_SYN | TCPF_ACK, TCPF_ACK, TCPF_ACK | TCPF_PSH, TCPF_ACK,
	TCPF_ACK | TCPF_PSH, TCPF_FIN | TCPF_ACK, TCPF_RST, TCPF_RST | TCPF_ACK, TCPF_ACK,
	TCPF_SYN, TCPF_ACK | TCPF_PSH,
};

/* A packet of u, client's or server's, into pkt; its length. */
static size_t
random_packet(uint8_t *pkt, struct tuple *u, bool reply)
{
	uint8_t flags = flag_choices[rnd() % sizeof(flag_choices)], ext[1] = { 0 };
	uint32_t tsval, tsecr, r = rnd() % 20;
	struct pb_opts o;

	if (one_in(100))
		flags |= one_in(2) ? TCPF_SYN | TCPF_FIN : TCPF_SYN | TCPF_RST;
	if (reply) {		/* the server's clock and an echo: none, raw, any */
		tsval = rnd();
		tsecr = r < 4 ? 0 : r < 5 ? u->tsval : r < 7 ? rnd() : u->seen;
		if (flags == TCPF_SYN && !one_in(20))
			flags = TCPF_SYN | TCPF_ACK;
	} else {
		if (u->fast)
			u->tsval += 2000 + rnd() % 3000;
		else
			u->tsval += one_in(300) ? rnd() : rnd() % 3 ? rnd() % 1000 : 0;
		tsval = one_in(50) ? 0 : u->tsval;
		tsecr = flags == TCPF_SYN ? 0 : rnd();
	}
	random_opts(&o, flags & TCPF_SYN, tsval, tsecr);
	return pb_build(pkt, &(struct pb_spec){ .family = u->family, .opts = &o, .flags = flags,
		.saddr = reply ? u->server : u->client, .daddr = reply ? u->client : u->server,
		.sport = reply ? 80 : u->cport, .dport = reply ? u->cport : 80,
		.payload = (flags & TCPF_SYN) ? 0 : rnd() % 1200,
		.ip_opts = u->family == 4 && one_in(15) ? 4 * (1 + rnd() % 2) : 0,
		.v6_ext = ext, .v6_ext_n = u->family == 6 && one_in(15),
		.ipproto = one_in(150) ? 17 : 0,
		.frag = u->family == 4 && one_in(150) ? 0x2000 : 0 });
}

/* A packet of random_packet() carries TCP (pb_l4() finds its header). */
static bool
is_tcp(const uint8_t *pkt)
{
	if (pkt[0] >> 4 == 4)
		return pkt[9] == 6;
	return pkt[6] == 6 || (pkt[6] == 0 && pkt[40] == 6);
}

/* How the packet is queued: checksum state, a short copy, the interface. */
static struct ref_in
random_queueing(uint8_t *pkt, size_t n, size_t *len)
{
	static const uint32_t outdevs[] = { 0, 2, 3, 7 };
	uint32_t skb_info = 0;

	switch (is_tcp(pkt) ? rnd() % 12 : 12) {
	case 0:
		skb_info = NFQA_SKB_CSUMNOTREADY;
		pb_make_partial(pkt, n);
		break;
	case 1:
		skb_info = NFQA_SKB_GSO;
		break;
	case 2:			/* a wrong checksum stays unjudged */
		pkt[pb_l4(pkt) + 17] ^= 0x10;
		break;
	}
	*len = one_in(25) ? rnd() % (n + 1) : one_in(40) ? n + rnd() % 8 : n;
	return (struct ref_in){ .csum = nfqmsg_csum_mode(skb_info),
		.outdev = outdevs[rnd() % 4], .truncated = *len < n || one_in(30) };
}

/* What a run reached, beyond the counters. */
struct tally {
	unsigned modified_v6, modified_full, modified_none;
};

/* Time passes (both clocks), the wall clock steps (the monotonic one
 * does not), flows expire, tsnatd is turned off and on. */
static void
random_time(struct world *w)
{
	static const struct flow_timeouts to = { .idle = 5, .closing = 2, .half_open = 3 };
	uint32_t ms = rnd() % 50;
	char why[256];

	if (one_in(200)) {
		uint32_t s = 1 + rnd() % 3;

		w->ps.now += s;
		ms += s * 1000;
		if (one_in(4) && !ref_pair_expire(&w->pair, &to, 8, why, sizeof(why)))
			fail_msg("expiry: %s", why);
	}
	w->ps.now_ms += ms;
	w->ps.mono_ms += ms;
	if (one_in(3000))
		w->ps.now_ms -= 1000000;	/* the wall clock stepped back */
	if (one_in(8000))
		w->ps.now_ms += 0x80000000u;
	if (w->conf->enabled ? one_in(4000) : one_in(100))
		w->conf->enabled = !w->conf->enabled;
}

/* events random packets over t[0..n) through the world's pair; any
 * difference fails with the event's number. */
static void
run_traffic(struct world *w, struct tuple *t, unsigned n, unsigned events, struct tally *y)
{
	static uint8_t pkt[PB_MAX], out[PB_MAX];
	char why[256];

	for (unsigned e = 0; e < events; e++) {
		struct tuple *u = &t[rnd() % n];
		bool reply = one_in(3);
		size_t len, plen = random_packet(pkt, u, reply);
		struct ref_in in = random_queueing(pkt, plen, &len);
		enum proc_result v;
		struct pkt p;

		if (!ref_pair_step(&w->pair, pkt, len, &in, &v, out, why, sizeof(why)))
			fail_msg("event %u (%s, %s %s): %s", e, u->family == 6 ? "IPv6" : "IPv4",
				 reply ? "server" : "client", u->server, why);
		if (v == PROC_MODIFIED && !reply && pkt_parse(out, len, &p) == PKT_OK &&
		    p.ts_count)
			u->seen = p.tsval;
		if (v == PROC_MODIFIED) {
			y->modified_v6 += u->family == 6;
			y->modified_full += in.csum == CSUM_FULL;
			y->modified_none += in.csum == CSUM_NONE;
		}
		random_time(w);
	}
}

/* Minimums the main run must reach: every path it compares. */
static void
assert_main_paths(const struct world *w, const struct tally *y)
{
	const struct ref_paths *r = &w->m.paths;

	assert_true(w->st.stripped > 100);
	assert_true(w->st.rewritten > 1000);
	assert_true(w->st.flows_resynced > 10);
	assert_true(w->st.flows_created > 100);
	assert_true(w->st.flows_evicted > 10);
	assert_true(w->st.ts_clamped > 100);
	assert_true(w->st.flows_over_quota > 100);
	assert_true(w->st.dropped > 10);
	assert_true(w->st.unmatched > 100);
	assert_true(w->st.syn_without_ts > 10);
	assert_true(w->st.truncated > 100);
	assert_true(w->st.malformed > 10);
	assert_true(w->st.not_tcp > 10);
	assert_true(r->rebased > 10);
	assert_true(r->reopened > 10);
	assert_true(r->answered > 100);
	assert_true(r->fins > 10);
	assert_true(r->resets > 100);
	assert_true(r->two_ts > 100);
	assert_true(r->evicted[REF_HALF_OPEN] > 10);
	assert_true(r->expired > 10);
	assert_true(r->expired_half_open > 10);
	assert_true(r->syn_from_mark > 10);
	assert_true(r->syn_from_floor > 10);
	assert_true(r->quota_spared > 10);
	assert_true(y->modified_v6 > 100);
	assert_true(y->modified_full > 100);
	assert_true(y->modified_none > 100);
}

static void
decisions_match_the_reference_model_on_random_traffic(void **state)
{
	struct world *w = world_new("evict-idle", 6, 2, true);
	struct tuple t[40];
	struct tally y = { 0 };
	(void)state;

	tuples_init(t, 40, 5);
	run_traffic(w, t, 40, 80000, &y);
	assert_main_paths(w, &y);
	world_free(w);
}

/* A table of two flows, no quota in the way, and traffic to rewrite
 * servers only. */
static struct world *
run_full_table(const char *on_full)
{
	struct world *w = world_new(on_full, 2, 0, false);
	struct tuple t[12];
	struct tally y = { 0 };
	tuples_init(t, 12, 1);		/* the explicit rewrite servers */
	for (unsigned i = 0; i < 12; i += 2)	/* and rewrite "auto" */
		t[i].server = t[i].family == 6 ? servers6[3] : servers4[3];
	run_traffic(w, t, 12, 20000, &y);
	assert_true(w->st.flows_full > 100);
	assert_true(w->st.flows_created > 100);
	assert_int_equal(w->st.flows_over_quota, 0);
	return w;
}

static void
full_table_strips_new_flows_like_the_model(void **state)
{
	struct world *w = run_full_table("strip");
	(void)state;

	assert_true(w->st.stripped > 100);
	assert_int_equal(w->st.flows_evicted, 0);
	world_free(w);
}

static void
full_table_passes_new_flows_like_the_model(void **state)
{
	struct world *w = run_full_table("pass");
	(void)state;

	assert_int_equal(w->st.stripped, 0);
	assert_int_equal(w->st.flows_evicted, 0);
	world_free(w);
}

/* Half-open flows go first (also while open ones wait), then closing
 * ones, then open ones. */
static void
full_table_evicts_half_open_then_closing_then_open_like_the_model(void **state)
{
	struct world *w = run_full_table("evict-idle");
	const struct ref_paths *r = &w->m.paths;
	(void)state;

	assert_true(w->st.flows_evicted > 100);
	assert_true(r->evicted[REF_HALF_OPEN] > 10);
	assert_true(r->evicted_before_open > 10);
	assert_true(r->evicted[REF_CLOSING] > 0);
	assert_true(r->evicted[REF_OPEN] > 10);
	assert_int_equal(w->st.stripped, 0);
	world_free(w);
}

/* A worker without a flow table: rewrite policies pass everything. */
static void
without_a_flow_table_rewrite_passes_like_the_model(void **state)
{
	struct world *w = world_new("evict-idle", 0, 0, false);
	struct tuple t[20];
	struct tally y = { 0 };
	(void)state;

	tuples_init(t, 20, 5);
	run_traffic(w, t, 20, 20000, &y);
	assert_true(w->st.stripped > 30);
	assert_int_equal(w->st.rewritten, 0);
	assert_int_equal(w->st.flows_created, 0);
	world_free(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decisions_match_the_reference_model_on_random_traffic),
		cmocka_unit_test(full_table_strips_new_flows_like_the_model),
		cmocka_unit_test(full_table_passes_new_flows_like_the_model),
		cmocka_unit_test(full_table_evicts_half_open_then_closing_then_open_like_the_model),
		cmocka_unit_test(without_a_flow_table_rewrite_passes_like_the_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
