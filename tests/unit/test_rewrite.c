/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_rewrite.c - rewrite mode through process_packet(). */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "confutil.h"
#include "engine.h"
#include "nfq.h"
#include "offload.h"
#include "packet.h"
#include "pktbuild.h"
#include "process.h"

#define NOW_MS 1000000u
#define CLIENT "192.0.2.5"
#define SERVER "198.51.100.10"

static struct conf *conf;
static struct domains *doms;
static struct proc_notes notes;
static struct proc_state ps;
static struct stats st;
static uint8_t buf[PB_MAX], orig[PB_MAX];
static size_t len;
static uint16_t dom_explicit, dom_if5;

static int
setup_q(uint32_t max, const char *on_full, unsigned per_client)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "flows = { max = 1024; per_client = %u; on_full = \"%s\"; };\n"
		 "policies = (\n"
		 " { name = \"legacy\"; mode = \"rewrite\"; destinations = \"198.51.100.0/24\";"
		 "   translated_source = \"198.51.100.1\"; },\n"
		 " { name = \"auto\"; mode = \"rewrite\"; destinations = [ \"203.0.113.0/24\", \"2001:db8:1::/64\" ]; } );\n",
		 per_client, on_full);
	conf = conf_from_text(text, NULL);
	doms = domains_new(1);
	if (!conf || !doms)
		return -1;
	dom_explicit = domains_intern(doms, 4, conf->pol[0].tsrc[0].addr);
	conf->pol[0].domain = dom_explicit;
	dom_if5 = domains_intern(doms, 4, (const uint8_t[]){ 203, 0, 113, 1 });
	domains_set_ifindex(doms, 4, 5, dom_if5);
	memset(&notes, 0, sizeof(notes));
	memset(&st, 0, sizeof(st));
	ps = (struct proc_state){ .flows = flow_table_new(max, 42), .domains = doms,
		.notes = &notes, .now = 100, .now_ms = NOW_MS };
	return ps.flows ? 0 : -1;
}

static int setup_n(uint32_t max, const char *on_full) { return setup_q(max, on_full, 1024); }
static int setup(void **state) { (void)state; return setup_n(1024, "strip"); }
static int setup_quota(void **state) { (void)state; return setup_q(1024, "evict-idle", 3); }
static int setup_small_strip(void **state) { (void)state; return setup_n(2, "strip"); }
static int setup_small_pass(void **state) { (void)state; return setup_n(2, "pass"); }
static int setup_small_evict(void **state) { (void)state; return setup_n(2, "evict-idle"); }

static int
teardown(void **state)
{
	(void)state;
	flow_table_free(ps.flows);
	domains_free(doms);
	conf_free(conf);
	return 0;
}

struct seg {
	bool reply;			/* server -> client */
	uint8_t flags;
	uint16_t cport;
	uint32_t tsval, tsecr;
	bool no_ts;
	const char *client, *server;
	int family;
	uint32_t outdev, skb_info;
	bool truncated;
	uint32_t wait_ms;		/* the kernel held it that long */
	const uint8_t *ct_labels;	/* NFQA_CT with these labels (the glue) */
	bool ct_without_labels;		/* NFQA_CT without CTA_LABELS */
};

static enum proc_result
send_seg(const struct seg *g)
{
	struct pb_opts o = {0};
	const char *c = g->client ? g->client : CLIENT, *s = g->server ? g->server : SERVER;
	struct proc_pkt in;

	if (!g->no_ts) {
		pb_nop(&o);
		pb_nop(&o);
		pb_ts(&o, g->tsval, g->tsecr);
	}
	len = pb_build(buf, &(struct pb_spec){ .family = g->family, .opts = &o,
		.flags = g->flags ? g->flags : TCPF_ACK,
		.saddr = g->reply ? s : c, .daddr = g->reply ? c : s,
		.sport = g->reply ? 80 : (g->cport ? g->cport : 40000),
		.dport = g->reply ? (g->cport ? g->cport : 40000) : 80,
		.payload = g->flags == TCPF_SYN ? 0 : 20 });
	if (g->skb_info & NFQA_SKB_CSUMNOTREADY)
		pb_make_partial(buf, len);
	memcpy(orig, buf, len);
	in = (struct proc_pkt){ .buf = buf, .len = len, .outdev = g->outdev,
		.csum = nfqmsg_csum_mode(g->skb_info), .truncated = g->truncated,
		.wait_ms = g->wait_ms, .has_ct = g->ct_labels || g->ct_without_labels,
		.has_ct_labels = g->ct_labels != NULL };
	if (g->ct_labels)
		memcpy(in.ct_labels, g->ct_labels, sizeof(in.ct_labels));
	return process_packet(conf, &ps, &in, &st);
}

static struct pkt
now_pkt(void)
{
	struct pkt p;

	assert_int_equal(pkt_parse(buf, len, &p), PKT_OK);
	return p;
}

static uint32_t
syn(uint16_t cport, uint32_t tsval)
{
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .cport = cport, .tsval = tsval }), PROC_MODIFIED);
	assert_true(pb_tcp_csum_ok(buf, len));
	return now_pkt().tsval;
}

/* Time passes: the wall clock and the monotonic clock move together. */
static void
tick(uint32_t ms)
{
	ps.now_ms += ms;
	ps.mono_ms += ms;
	ps.now = ps.mono_ms / 1000 + 100;
}

static void
first_syn_takes_the_wall_clock(void **state)
{
	(void)state;
	assert_int_equal(syn(40000, 5), NOW_MS);
	assert_int_equal(st.flows_created, 1);
	assert_int_equal(st.rewritten, 1);
}

static void
next_syn_in_the_same_millisecond_repeats_the_mark(void **state)
{
	(void)state;
	/* a legacy server drops only when recorded - TSval > 1: equal passes,
	 * and SYNs never push the domain's clock ahead of the wall clock */
	assert_int_equal(syn(40000, 5), NOW_MS);
	assert_int_equal(syn(40001, 3000000000u), NOW_MS);
	assert_int_equal(syn(40002, 1), NOW_MS);
}

static void
later_client_packets_keep_the_offset(void **state)
{
	(void)state;
	syn(40000, 5);
	tick(5000);	/* the clock must not matter now, only the offset */
	assert_int_equal(send_seg(&(struct seg){ .tsval = 105, .tsecr = 777 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, NOW_MS + 100);
	assert_int_equal(now_pkt().tsecr, 777);		/* the server's clock: untouched */
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
server_tsecr_maps_back_to_the_clients_clock(void **state)
{
	(void)state;
	syn(40000, 5);
	assert_int_equal(send_seg(&(struct seg){ .reply = true, .flags = TCPF_SYN | TCPF_ACK,
		.tsval = 4242, .tsecr = NOW_MS }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsecr, 5);
	assert_int_equal(now_pkt().tsval, 4242);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
server_tsecr_zero_stays_zero(void **state)
{
	(void)state;
	syn(40000, 5);
	assert_int_equal(send_seg(&(struct seg){ .reply = true, .tsval = 1, .tsecr = 0 }), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

static void
retransmitted_syn_keeps_the_offset(void **state)
{
	uint32_t first;
	(void)state;

	first = syn(40000, 5);
	tick(1000);
	assert_int_equal(syn(40000, 1005), first + 1000);
	assert_int_equal(st.flows_created, 1);
}

static void
syn_with_tsval_zero_is_rebased_on_the_first_nonzero(void **state)
{
	uint32_t v;
	(void)state;

	v = syn(40000, 0);
	assert_int_equal(v, NOW_MS);
	/* SYN-ACK echoes TSval' of the SYN: it maps back to 0 */
	send_seg(&(struct seg){ .reply = true, .flags = TCPF_SYN | TCPF_ACK, .tsval = 9, .tsecr = v });
	assert_int_equal(now_pkt().tsecr, 0);
	send_seg(&(struct seg){ .tsval = 777, .tsecr = 9 });
	assert_int_equal(now_pkt().tsval, v);
	tick(10);
	send_seg(&(struct seg){ .tsval = 787, .tsecr = 9 });
	assert_int_equal(now_pkt().tsval, v + 10);
	send_seg(&(struct seg){ .reply = true, .tsval = 10, .tsecr = v + 10 });
	assert_int_equal(now_pkt().tsecr, 787);
}

static void
offsets_wrap_around_two_to_the_32(void **state)
{
	(void)state;
	assert_int_equal(syn(40000, 0xfffffff0u), NOW_MS);
	tick(0x20);
	send_seg(&(struct seg){ .tsval = 0x10, .tsecr = 1 });
	assert_int_equal(now_pkt().tsval, NOW_MS + 0x20);
	send_seg(&(struct seg){ .reply = true, .tsval = 2, .tsecr = NOW_MS + 0x20 });
	assert_int_equal(now_pkt().tsecr, 0x10);
}

static void
offsets_across_two_to_the_31(void **state)
{
	(void)state;
	ps.now_ms = 0x80000005u;
	assert_int_equal(syn(40000, 0x7ffffff0u), 0x80000005u);
	tick(0x10);
	send_seg(&(struct seg){ .tsval = 0x80000000u, .tsecr = 1 });
	assert_int_equal(now_pkt().tsval, 0x80000015u);
}

static void
flow_whose_syn_was_not_seen_passes_untouched(void **state)
{
	(void)state;
	assert_int_equal(send_seg(&(struct seg){ .tsval = 100, .tsecr = 5 }), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(send_seg(&(struct seg){ .reply = true, .tsval = 100, .tsecr = 5 }), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

static void
syn_without_timestamp_passes_and_is_noted(void **state)
{
	(void)state;
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .no_ts = true }), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.syn_without_ts, 1);
	assert_int_equal(atomic_load(&notes.head), 1);
	assert_int_equal(notes.ring[0].domain, dom_explicit);
	assert_string_equal(notes.ring[0].policy, "legacy");
	/* the same server and domain again: counted, not noted twice */
	send_seg(&(struct seg){ .flags = TCPF_SYN, .no_ts = true, .cport = 2 });
	assert_int_equal(st.syn_without_ts, 2);
	assert_int_equal(atomic_load(&notes.head), 1);
}

static void
turning_off_keeps_existing_flows_rewritten(void **state)
{
	(void)state;
	syn(40000, 5);
	conf->enabled = false;
	tick(1);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 6, .tsecr = 1 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, NOW_MS + 1);
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .cport = 41000, .tsval = 5 }), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

static void
full_table_falls_back_to_strip(void **state)
{
	(void)state;
	syn(1, 5);
	syn(2, 5);
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .cport = 3, .tsval = 5 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().ts_count, 0);
	assert_true(pb_tcp_csum_ok(buf, len));
	assert_int_equal(st.flows_full, 1);
	assert_int_equal(st.stripped, 1);
}

static void
full_table_falls_back_to_pass(void **state)
{
	(void)state;
	syn(1, 5);
	syn(2, 5);
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .cport = 3, .tsval = 5 }), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.flows_full, 1);
}

static void
full_table_evicts_the_idle_flow(void **state)
{
	(void)state;
	syn(1, 5);
	ps.now = 200;
	syn(2, 5);
	ps.now = 300;
	assert_int_equal(syn(3, 5), NOW_MS);
	assert_int_equal(st.flows_evicted, 1);
	/* flow 1 is gone: its packets pass untouched now */
	assert_int_equal(send_seg(&(struct seg){ .cport = 1, .tsval = 6 }), PROC_PASS);
	assert_int_equal(send_seg(&(struct seg){ .cport = 2, .tsval = 6 }), PROC_MODIFIED);
}

static void
rst_ends_the_flow(void **state)
{
	(void)state;
	syn(40000, 5);
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_RST | TCPF_ACK, .tsval = 6 }), PROC_MODIFIED);
	assert_int_equal(flow_count(ps.flows), 0);
}

static void
new_syn_after_both_fins_starts_a_new_flow(void **state)
{
	(void)state;
	syn(40000, 5);
	send_seg(&(struct seg){ .reply = true, .flags = TCPF_FIN | TCPF_ACK, .tsval = 9, .tsecr = NOW_MS });
	send_seg(&(struct seg){ .flags = TCPF_FIN | TCPF_ACK, .tsval = 6, .tsecr = 9 });
	assert_int_equal(flow_count(ps.flows), 1);
	ps.now_ms += 10;
	assert_int_equal(syn(40000, 50000), NOW_MS + 10);
	assert_int_equal(st.flows_created, 2);
}

static void
auto_source_uses_the_outbound_interface_domain(void **state)
{
	uint32_t hwm;
	(void)state;

	send_seg(&(struct seg){ .flags = TCPF_SYN, .server = "203.0.113.7", .outdev = 5, .tsval = 1 });
	assert_true(domains_hwm(doms, dom_if5, &hwm));
	assert_int_equal(hwm, NOW_MS);
	assert_false(domains_hwm(doms, DOMAIN_SHARED, &hwm));
	assert_false(domains_hwm(doms, dom_explicit, &hwm));
}

static void
auto_source_on_unknown_interface_uses_the_shared_domain(void **state)
{
	uint32_t hwm;
	(void)state;

	send_seg(&(struct seg){ .flags = TCPF_SYN, .server = "203.0.113.7", .outdev = 9, .tsval = 1 });
	assert_true(domains_hwm(doms, DOMAIN_SHARED, &hwm));
	assert_false(domains_hwm(doms, dom_if5, &hwm));
}

static void
domains_are_independent(void **state)
{
	(void)state;
	ps.now_ms = 10;
	domains_note(doms, 0, dom_if5, 999999);
	assert_int_equal(syn(40000, 5), 10);	/* explicit domain: the clock */
}

/* Many flows with random client clock offsets, interleaved data whose
 * client clocks advance faster than real time, a slow gateway clock:
 * every SYN's TSval' is at least every TSval' the domain has sent (the
 * invariant: a legacy server drops only below it). */
static void
syns_stay_above_everything_sent_across_many_flows(void **state)
{
	static uint32_t raw[500];
	uint32_t x = 99, highest = 0;
	bool any = false;
	(void)state;

	for (unsigned i = 0; i < 3000; i++) {
		unsigned k;
		uint32_t v;
		struct pkt p;

		x = x * 1664525u + 1013904223u;
		k = (x >> 8) % 500;
		if (i % 3 == 2)
			tick(x % 3);
		if (raw[k] && i % 2) {
			raw[k] += 1 + (x >> 20) % 50;	/* this client's clock */
			send_seg(&(struct seg){ .cport = (uint16_t)(1000 + k), .tsval = raw[k] });
			p = now_pkt();
			if (!any || (int32_t)(p.tsval - highest) > 0)
				highest = p.tsval, any = true;
			continue;
		}
		if (raw[k]) {	/* the old connection ends: RST at its clock */
			send_seg(&(struct seg){ .flags = TCPF_RST, .cport = (uint16_t)(1000 + k),
				.tsval = raw[k] + 1 });
			p = now_pkt();
			if ((int32_t)(p.tsval - highest) > 0)
				highest = p.tsval;
		}
		raw[k] = x | 1;		/* a new connection: a random clock offset */
		v = syn((uint16_t)(1000 + k), raw[k]);
		if (any)
			assert_true((int32_t)(v - highest) >= 0);
		highest = v;
		any = true;
	}
}

static void
server_echoing_raw_values_switches_the_flow_to_raw(void **state)
{
	uint32_t raw = NOW_MS + 5000000;	/* client clock ahead: negative offset */
	(void)state;

	syn(40000, raw);
	tick(100);
	send_seg(&(struct seg){ .tsval = raw + 100, .tsecr = 1 });
	/* a packet passed unrewritten (tsnatd restarting) and the server now
	 * echoes the client's own clock */
	assert_int_equal(send_seg(&(struct seg){ .reply = true, .tsval = 2, .tsecr = raw + 90 }), PROC_PASS);
	assert_int_equal(now_pkt().tsecr, raw + 90);
	assert_int_equal(st.flows_resynced, 1);
	assert_int_equal(send_seg(&(struct seg){ .tsval = raw + 200, .tsecr = 2 }), PROC_PASS);
	assert_int_equal(now_pkt().tsval, raw + 200);
}

static void
normal_echo_does_not_resync(void **state)
{
	uint32_t raw = NOW_MS + 5000000;
	(void)state;

	syn(40000, raw);
	tick(100);
	send_seg(&(struct seg){ .tsval = raw + 100, .tsecr = 1 });
	send_seg(&(struct seg){ .reply = true, .tsval = 2, .tsecr = NOW_MS + 100 });
	assert_int_equal(now_pkt().tsecr, raw + 100);
	assert_int_equal(st.flows_resynced, 0);
}

static void
truncated_rewrite_packet_is_dropped_not_passed(void **state)
{
	(void)state;
	syn(40000, 5);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 6, .truncated = true }), PROC_DROP);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.dropped, 1);
}

static void
ipv6_flow_is_rewritten(void **state)
{
	(void)state;
	assert_int_equal(send_seg(&(struct seg){ .family = 6, .flags = TCPF_SYN, .client = "2001:db8::5",
		.server = "2001:db8:1::10", .tsval = 5 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, NOW_MS);
	assert_true(pb_tcp_csum_ok(buf, len));
	send_seg(&(struct seg){ .family = 6, .reply = true, .client = "2001:db8::5",
		.server = "2001:db8:1::10", .tsval = 1, .tsecr = NOW_MS });
	assert_int_equal(now_pkt().tsecr, 5);
	assert_true(pb_tcp_csum_ok(buf, len));
}

static void
partial_checksum_is_completed_on_rewrite(void **state)
{
	(void)state;
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .tsval = 5,
		.skb_info = NFQA_SKB_CSUMNOTREADY }), PROC_MODIFIED);
	assert_true(pb_tcp_csum_ok(buf, len));
}

/* The attack: one packet whose TSval is its SYN's + 2^31 - 1. Clamped to
 * the flow's real-time bound, counted, and noted with the client's
 * address (more than jitter explains). */
static void
hostile_jump_is_clamped_to_the_flows_real_time_bound(void **state)
{
	uint32_t v;
	(void)state;

	v = syn(40000, 5000);
	tick(2000);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 5000 + 0x7fffffffu, .tsecr = 1 }),
			 PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, v + 2000 + 2000 / 1024);
	assert_true(pb_tcp_csum_ok(buf, len));
	assert_int_equal(st.ts_clamped, 1);
	assert_int_equal(atomic_load(&notes.head), 1);
	assert_int_equal(notes.ring[0].kind, NOTE_CLAMP);
	static const uint8_t client[4] = { 192, 0, 2, 5 };

	assert_memory_equal(notes.ring[0].client, client, 4);
	assert_true(notes.ring[0].value > 0x7fff0000u);
}

/* After the jump, the next SYN of any client behind the same translated
 * source still gets the clock, not the jump. */
static void
next_syn_after_a_hostile_jump_stays_at_the_clock(void **state)
{
	(void)state;
	syn(40000, 5000);
	tick(10);
	send_seg(&(struct seg){ .tsval = 5000 + 0x7fffffffu, .tsecr = 1 });
	tick(10);
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .client = "192.0.2.6",
		.cport = 50000, .tsval = 77 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, NOW_MS + 20);
}

/* A client whose clock runs at one tick per ms is never clamped. */
static void
honest_client_is_never_clamped(void **state)
{
	uint32_t v;
	(void)state;

	v = syn(40000, 100);
	for (uint32_t ms = 1; ms <= 5000; ms++) {
		tick(1);
		send_seg(&(struct seg){ .tsval = 100 + ms, .tsecr = 1 });
		assert_int_equal(now_pkt().tsval, v + ms);
	}
	assert_int_equal(st.ts_clamped, 0);
}

/* An honest client whose SYN waited 40 ms at the gateway and whose data
 * did not: 40 ms ahead of its bound, clamped (the bound is sent) but not
 * counted: the gateway's wait, not the client's clock. */
static void
clamp_within_the_syn_wait_is_not_counted(void **state)
{
	uint32_t v;
	(void)state;

	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .tsval = 100, .wait_ms = 40 }),
			 PROC_MODIFIED);
	v = now_pkt().tsval;
	tick(10);
	send_seg(&(struct seg){ .tsval = 100 + 10 + 40, .tsecr = 1 });
	assert_int_equal(now_pkt().tsval, v + 10);	/* clamped all the same */
	assert_int_equal(st.ts_clamped, 0);
	send_seg(&(struct seg){ .tsval = 100 + 10 + 40 + SHIFT_CLAMP_GRACE + 1, .tsecr = 1 });
	assert_int_equal(st.ts_clamped, 1);		/* beyond it: the client's */
	assert_int_equal(atomic_load(&notes.head), 0);	/* and no note for 43 ms */
}

/* Without a measured wait (no NFQA_TIMESTAMP) every clamp counts. */
static void
clamp_without_a_measured_wait_is_counted(void **state)
{
	(void)state;
	syn(40000, 100);
	tick(10);
	send_seg(&(struct seg){ .tsval = 100 + 10 + SHIFT_CLAMP_GRACE + 1, .tsecr = 1 });
	assert_int_equal(st.ts_clamped, 1);
}

/* The clamped value still maps back: the server echoes what it got, the
 * client sees an (older) value of its own clock. */
static void
echo_of_a_clamped_value_maps_back_below_the_clients_clock(void **state)
{
	uint32_t v, sent;
	(void)state;

	v = syn(40000, 5000);
	tick(100);
	send_seg(&(struct seg){ .tsval = 9000, .tsecr = 1 });
	sent = now_pkt().tsval;
	assert_int_equal(sent, v + 100);
	send_seg(&(struct seg){ .reply = true, .tsval = 3, .tsecr = sent });
	assert_int_equal(now_pkt().tsecr, 5100);
	assert_int_equal(st.flows_resynced, 0);
}

/* The ratchet a fixed allowance per flow would allow: 10,000 connections
 * a second for 2 s, each sending at once a TSval far ahead. The domain's
 * clock may run ahead of the wall clock by the rate margin only (0.1% of
 * 2 s): with a fixed allowance of even 1 ms per flow it would run 9 ms
 * ahead per ms, 18 s in the 2 s. */
static void
many_connections_cannot_ratchet_the_domain_clock(void **state)
{
	uint32_t hwm = 0;
	(void)state;

	for (unsigned i = 0; i < 20000; i++) {
		uint16_t port = (uint16_t)(1024 + i);

		send_seg(&(struct seg){ .flags = TCPF_SYN, .cport = port, .tsval = 1000 });
		send_seg(&(struct seg){ .cport = port, .tsval = 1000 + 100000000u, .tsecr = 1 });
		send_seg(&(struct seg){ .flags = TCPF_RST, .cport = port, .tsval = 1000 + 100000000u });
		if (i % 10 == 9)
			tick(1);
	}
	assert_true(domains_hwm(doms, dom_explicit, &hwm));
	assert_true((int32_t)(hwm - ps.now_ms) <= 2000 / 1024 + 1);
	assert_int_equal(st.ts_clamped, 40000);
}

/* A connection kept alive for 25 days (a packet every 500 s, an honest
 * clock) stays bound: a jump of 2^30 afterwards is clamped, and the
 * domain's mark stays at the clock (its age would read as negative past
 * 2^31 ms without the bound's restart at 2^30). */
static void
month_old_flow_is_still_bound(void **state)
{
	uint32_t hwm = 0, raw = 100;
	(void)state;

	syn(40000, raw);
	for (unsigned i = 0; i < 25 * 24 * 3600 / 500; i++) {
		tick(500 * 1000);
		raw += 500 * 1000;
		send_seg(&(struct seg){ .tsval = raw, .tsecr = 1 });
	}
	assert_int_equal(st.ts_clamped, 0);
	send_seg(&(struct seg){ .tsval = raw + (1u << 30), .tsecr = 1 });
	assert_int_equal(st.ts_clamped, 1);
	assert_true(domains_hwm(doms, dom_explicit, &hwm));
	assert_true((int32_t)(hwm - ps.now_ms) <= (int32_t)(25u * 24 * 3600 * 1000 / 1024 + 1));
}

/* A client over its quota gets strip; other clients keep rewrite. */
static void
client_over_its_quota_gets_strip_and_others_rewrite(void **state)
{
	(void)state;
	for (uint16_t port = 1; port <= 3; port++)
		syn(port, 5);
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .cport = 4, .tsval = 5 }),
			 PROC_MODIFIED);
	assert_int_equal(now_pkt().ts_count, 0);
	assert_true(pb_tcp_csum_ok(buf, len));
	assert_int_equal(st.flows_over_quota, 1);
	assert_int_equal(notes.ring[0].kind, NOTE_QUOTA);
	assert_int_equal(notes.ring[0].value, 3);
	assert_int_equal(send_seg(&(struct seg){ .flags = TCPF_SYN, .client = "192.0.2.6",
		.cport = 4, .tsval = 5 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, NOW_MS);
	/* a flow ends: room again */
	send_seg(&(struct seg){ .flags = TCPF_RST, .cport = 1, .tsval = 6 });
	assert_int_equal(syn(5, 5), NOW_MS);
}

/* A note outlives the configuration it came from (a reload frees it). */
static void
note_keeps_its_policy_name_after_a_reload(void **state)
{
	(void)state;
	send_seg(&(struct seg){ .flags = TCPF_SYN, .no_ts = true });
	conf_free(conf);
	conf = conf_from_text("policies = ( { name = \"other\"; mode = \"pass\";"
			      " destinations = \"203.0.113.0/24\"; } );\n", NULL);
	assert_non_null(conf);
	assert_string_equal(notes.ring[0].policy, "legacy");
}

/* The server's first answer ends the half-open state. */
static void
server_answer_makes_the_flow_established(void **state)
{
	struct pkt p;
	struct flow *f;
	bool fc;
	(void)state;

	syn(40000, 5);
	p = now_pkt();
	f = flow_lookup(ps.flows, &p, &fc);
	assert_non_null(f);
	assert_false(f->flags & FLOW_ANSWERED);
	send_seg(&(struct seg){ .reply = true, .flags = TCPF_SYN | TCPF_ACK, .tsval = 1,
		.tsecr = NOW_MS });
	assert_true(f->flags & FLOW_ANSWERED);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* HA pairs: the records in conntrack labels. A fake conntrack table: the
 * entries the tests put, and the lookups made. */
static struct proc_ha ha;
static struct { struct ct_tuple t; uint8_t labels[CTLABEL_SIZE]; } ct_table[4];
static unsigned ct_n, ct_gets;

static bool ct_no_entry;	/* a tuple not in ct_table has no entry at all */

static int
fake_ct_get(void *ctx, const struct ct_tuple *t, struct ct_entry *e)
{
	(void)ctx;
	ct_gets++;
	memset(e, 0, sizeof(*e));
	e->orig = *t;
	for (unsigned i = 0; i < ct_n; i++) {
		if (memcmp(&ct_table[i].t, t, sizeof(*t)))
			continue;
		e->has_labels = true;
		memcpy(e->labels, ct_table[i].labels, CTLABEL_SIZE);
		return 1;
	}
	return ct_no_entry ? 0 : 1;	/* else an entry without labels */
}

static const struct ha_ops fake_ct_ops = { .get = fake_ct_get };

static int
setup_ha_q(unsigned per_client)
{
	if (setup_q(1024, "strip", per_client) < 0)
		return -1;
	memset(&ha, 0, sizeof(ha));
	ha = (struct proc_ha){ .ops = &fake_ct_ops, .first = CTLABEL_FIRST_DEFAULT, .skew = 100 };
	ps.ha = &ha;
	ct_n = ct_gets = 0;
	ct_no_entry = false;
	return 0;
}

static int setup_ha(void **state) { (void)state; return setup_ha_q(1024); }
static int setup_ha_quota(void **state) { (void)state; return setup_ha_q(1); }

static void
count_flow(const struct flow *f, void *arg)
{
	(void)f;
	(*(unsigned *)arg)++;
}

static struct ct_tuple
tuple_of(const char *client, uint16_t cport)
{
	struct ct_tuple t;
	uint8_t c[4], sv[4];

	inet_pton(AF_INET, client, c);
	inet_pton(AF_INET, SERVER, sv);
	ha_tuple(&t, 4, c, sv, htons(cport), htons(80));
	return t;
}

/* A flow the other gateway rewrote: its record in the fake table. */
static void
other_gateway_flow(const char *client, uint16_t cport, uint32_t offset, uint32_t syn_val,
		   uint32_t syn_age_ms, uint8_t flags, unsigned first)
{
	struct ctlabel l = { .flags = flags, .offset = offset, .syn_val = syn_val,
			     .syn_wall = ps.now_ms - syn_age_ms };
	uint8_t mask[CTLABEL_SIZE];

	ct_table[ct_n].t = tuple_of(client, cport);
	ctlabel_encode(&l, first, ct_table[ct_n].labels, mask);
	ct_n++;
}

static void
server_answer_asks_for_the_flows_record_in_the_labels(void **state)
{
	struct ctlabel l;
	struct ct_tuple t = tuple_of(CLIENT, 40000);
	uint32_t v;

	(void)state;
	v = syn(40000, 5);
	assert_int_equal(ha.nwrites, 0);	/* not for a SYN nobody answered */
	send_seg(&(struct seg){ .reply = true, .flags = TCPF_SYN | TCPF_ACK, .tsval = 77,
				.tsecr = v });
	assert_int_equal(ha.nwrites, 1);
	assert_memory_equal(&ha.w[0].t, &t, sizeof(t));
	assert_true(ctlabel_decode(ha.w[0].labels, CTLABEL_FIRST_DEFAULT, &l));
	assert_int_equal(l.flags, CTLABEL_SHIFT);
	assert_int_equal(l.offset, v - 5);
	assert_int_equal(l.syn_val, v);
	assert_int_equal(l.syn_wall, NOW_MS);
	/* once per flow */
	send_seg(&(struct seg){ .reply = true, .tsval = 78, .tsecr = v });
	assert_int_equal(ha.nwrites, 1);
}

static void
unanswered_syns_write_no_record(void **state)
{
	(void)state;
	for (uint16_t i = 0; i < 10; i++)
		syn((uint16_t)(40000 + i), 5);
	assert_int_equal(ha.nwrites, 0);
}

static void
syn_with_the_conntrack_glue_sets_its_record_with_its_verdict(void **state)
{
	struct ctlabel l;
	uint32_t v;

	(void)state;
	v = syn(40000, 5);
	assert_int_equal(send_seg(&(struct seg){ .reply = true, .flags = TCPF_SYN | TCPF_ACK,
						 .tsval = 77, .tsecr = v,
						 .ct_without_labels = true }), PROC_MODIFIED);
	assert_int_equal(ha.nwrites, 0);
	assert_true(ha.verdict_labels);
	assert_true(ctlabel_decode(ha.v_labels, CTLABEL_FIRST_DEFAULT, &l));
	assert_int_equal(l.offset, v - 5);
}

static void
tsval_zero_syn_writes_no_record(void **state)
{
	(void)state;
	syn(40000, 0);
	send_seg(&(struct seg){ .reply = true, .flags = TCPF_SYN | TCPF_ACK, .tsval = 77,
				.tsecr = 1 });
	assert_int_equal(ha.nwrites, 0);
}

static void
client_packet_without_state_is_adopted_with_its_offset(void **state)
{
	(void)state;
	other_gateway_flow(CLIENT, 40000, 1000000, 1000500, 2000, CTLABEL_SHIFT,
			   CTLABEL_FIRST_DEFAULT);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, 1001700);
	assert_true(pb_tcp_csum_ok(buf, len));
	assert_int_equal(st.flows_adopted, 1);
	assert_int_equal(flow_count(ps.flows), 1);
	/* the flow is the table's now: no second lookup */
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1710, .tsecr = 9 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, 1001710);
	assert_int_equal(ct_gets, 1);
}

static void
server_packet_without_state_is_adopted_and_its_tsecr_shifted_back(void **state)
{
	(void)state;
	other_gateway_flow(CLIENT, 40000, 1000000, 1000500, 2000, CTLABEL_SHIFT,
			   CTLABEL_FIRST_DEFAULT);
	assert_int_equal(send_seg(&(struct seg){ .reply = true, .tsval = 77, .tsecr = 1001700 }),
			 PROC_MODIFIED);
	assert_int_equal(now_pkt().tsecr, 1700);
	assert_int_equal(now_pkt().tsval, 77);
	assert_int_equal(st.flows_adopted, 1);
	/* its client's next packet finds the flow */
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1720, .tsecr = 77 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, 1001720);
	assert_int_equal(ct_gets, 1);
}

static void
adopted_flow_is_bounded_from_its_syn_plus_the_skew(void **state)
{
	(void)state;
	/* SYN 2 s ago at TSval' 1000500: with 100 ms of skew the flow may
	 * have sent up to 1000500 + 2100 + 2 */
	other_gateway_flow(CLIENT, 40000, 1000000, 1000500, 2000, CTLABEL_SHIFT,
			   CTLABEL_FIRST_DEFAULT);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 900000, .tsecr = 9 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, 1000500 + 2100 + 2);
}

static void
adoption_raises_the_domain_mark_to_the_flows_bound(void **state)
{
	(void)state;
	other_gateway_flow(CLIENT, 40000, 1000000, NOW_MS + 5000, 2000, CTLABEL_SHIFT,
			   CTLABEL_FIRST_DEFAULT);
	send_seg(&(struct seg){ .tsval = 1, .tsecr = 9 });
	assert_int_equal(st.flows_adopted, 1);
	/* a new SYN from the same translated source starts at that bound */
	assert_int_equal(syn(40001, 5), NOW_MS + 5000 + 2100 + 2);
}

static void
packet_without_record_passes_untouched_and_is_counted(void **state)
{
	(void)state;
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9 }), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.flows_unadopted, 1);
	assert_int_equal(st.flows_adopted, 0);
	assert_int_equal(flow_count(ps.flows), 0);
}

static void
tuple_without_record_is_not_looked_up_again_for_a_while(void **state)
{
	(void)state;
	send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9 });
	send_seg(&(struct seg){ .tsval = 1710, .tsecr = 9 });
	assert_int_equal(ct_gets, 1);
	assert_int_equal(st.flows_unadopted, 2);
	tick(HA_MISS_S * 1000);
	send_seg(&(struct seg){ .tsval = 1720, .tsecr = 9 });
	assert_int_equal(ct_gets, 2);
}

static void
lookups_are_limited_per_second(void **state)
{
	(void)state;
	for (unsigned i = 0; i < HA_LOOKUPS_PER_S + 50; i++)
		send_seg(&(struct seg){ .cport = (uint16_t)(10000 + i), .tsval = 1700, .tsecr = 9 });
	assert_int_equal(ct_gets, HA_LOOKUPS_PER_S);
	assert_int_equal(st.flows_unadopted, HA_LOOKUPS_PER_S + 50);
	tick(1000);
	send_seg(&(struct seg){ .cport = 9999, .tsval = 1700, .tsecr = 9 });
	assert_int_equal(ct_gets, HA_LOOKUPS_PER_S + 1);
}

static void
packet_without_conntrack_entry_is_not_counted_and_looked_up_again(void **state)
{
	(void)state;
	/* a takeover: the packet came before conntrackd committed its entry
	 * (the firewall drops it as INVALID) */
	ct_no_entry = true;
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9 }), PROC_PASS);
	assert_int_equal(st.flows_unadopted, 0);
	other_gateway_flow(CLIENT, 40000, 1000000, 1000500, 2000, CTLABEL_SHIFT,
			   CTLABEL_FIRST_DEFAULT);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1710, .tsecr = 9 }), PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, 1001710);
	assert_int_equal(ct_gets, 2);
	assert_int_equal(st.flows_adopted, 1);
}

static void
packet_without_state_is_counted_without_ha_labels_too(void **state)
{
	(void)state;
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9 }), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.flows_unadopted, 1);
}

static void
adopted_flow_is_answered_and_saved_with_the_others(void **state)
{
	unsigned n = 0;

	(void)state;
	other_gateway_flow(CLIENT, 40000, 1000000, 1000500, 2000, CTLABEL_SHIFT,
			   CTLABEL_FIRST_DEFAULT);
	send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9 });
	syn(40001, 5);
	/* every flow the count has is on a list (what state_save walks) */
	flow_foreach(ps.flows, count_flow, &n);
	assert_int_equal(n, flow_count(ps.flows));
	assert_int_equal(n, 2);
	/* and the adopted one is not half-open: it survives the half-open
	 * expiry */
	tick(6000);
	flow_expire(ps.flows, ps.now, &(struct flow_timeouts){ .idle = 600, .closing = 30,
							       .half_open = 5 }, 10);
	assert_int_equal(flow_count(ps.flows), 1);
}

static void
record_at_other_label_bits_is_not_adopted(void **state)
{
	(void)state;
	other_gateway_flow(CLIENT, 40000, 1000000, 1000500, 2000, CTLABEL_SHIFT, 0);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9 }), PROC_PASS);
	assert_int_equal(st.flows_adopted, 0);
	assert_int_equal(st.flows_unadopted, 1);
}

static void
record_of_a_stripped_flow_is_not_adopted(void **state)
{
	(void)state;
	other_gateway_flow(CLIENT, 40000, 0, 0, 2000, CTLABEL_AUTO, CTLABEL_FIRST_DEFAULT);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9 }), PROC_PASS);
	assert_int_equal(st.flows_adopted, 0);
}

static void
packet_of_no_rewrite_policy_is_not_looked_up(void **state)
{
	(void)state;
	assert_int_equal(send_seg(&(struct seg){ .server = "192.0.2.200", .tsval = 1, .tsecr = 9 }),
			 PROC_PASS);
	assert_int_equal(ct_gets, 0);
	assert_int_equal(st.flows_unadopted, 0);
}

static void
labels_of_the_conntrack_glue_need_no_lookup(void **state)
{
	struct ctlabel l = { .flags = CTLABEL_SHIFT, .offset = 1000000, .syn_val = 1000500,
			     .syn_wall = NOW_MS - 2000 };
	uint8_t labels[CTLABEL_SIZE], mask[CTLABEL_SIZE];

	(void)state;
	ctlabel_encode(&l, CTLABEL_FIRST_DEFAULT, labels, mask);
	assert_int_equal(send_seg(&(struct seg){ .tsval = 1700, .tsecr = 9, .ct_labels = labels }),
			 PROC_MODIFIED);
	assert_int_equal(now_pkt().tsval, 1001700);
	assert_int_equal(ct_gets, 0);
	/* an entry without labels: nothing to adopt, still no lookup */
	assert_int_equal(send_seg(&(struct seg){ .cport = 40001, .tsval = 1700, .tsecr = 9,
					     .ct_without_labels = true }), PROC_PASS);
	assert_int_equal(ct_gets, 0);
	assert_int_equal(st.flows_unadopted, 1);
}

static void
adoption_keeps_the_client_quota(void **state)
{
	(void)state;
	syn(40000, 5);			/* the client's one flow */
	other_gateway_flow(CLIENT, 40001, 1000000, 1000500, 2000, CTLABEL_SHIFT,
			   CTLABEL_FIRST_DEFAULT);
	assert_int_equal(send_seg(&(struct seg){ .cport = 40001, .tsval = 1700, .tsecr = 9 }),
			 PROC_PASS);
	assert_int_equal(st.flows_adopted, 0);
	assert_int_equal(st.flows_over_quota, 1);
	assert_int_equal(st.flows_unadopted, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(first_syn_takes_the_wall_clock),
		T(next_syn_in_the_same_millisecond_repeats_the_mark),
		T(later_client_packets_keep_the_offset),
		T(server_tsecr_maps_back_to_the_clients_clock),
		T(server_tsecr_zero_stays_zero),
		T(retransmitted_syn_keeps_the_offset),
		T(syn_with_tsval_zero_is_rebased_on_the_first_nonzero),
		T(offsets_wrap_around_two_to_the_32),
		T(offsets_across_two_to_the_31),
		T(flow_whose_syn_was_not_seen_passes_untouched),
		T(syn_without_timestamp_passes_and_is_noted),
		T(turning_off_keeps_existing_flows_rewritten),
		cmocka_unit_test_setup_teardown(full_table_falls_back_to_strip, setup_small_strip, teardown),
		cmocka_unit_test_setup_teardown(full_table_falls_back_to_pass, setup_small_pass, teardown),
		cmocka_unit_test_setup_teardown(full_table_evicts_the_idle_flow, setup_small_evict, teardown),
		T(rst_ends_the_flow),
		T(new_syn_after_both_fins_starts_a_new_flow),
		T(auto_source_uses_the_outbound_interface_domain),
		T(auto_source_on_unknown_interface_uses_the_shared_domain),
		T(domains_are_independent),
		T(syns_stay_above_everything_sent_across_many_flows),
		T(server_echoing_raw_values_switches_the_flow_to_raw),
		T(normal_echo_does_not_resync),
		T(truncated_rewrite_packet_is_dropped_not_passed),
		T(ipv6_flow_is_rewritten),
		T(partial_checksum_is_completed_on_rewrite),
		T(hostile_jump_is_clamped_to_the_flows_real_time_bound),
		T(next_syn_after_a_hostile_jump_stays_at_the_clock),
		T(honest_client_is_never_clamped),
		T(clamp_within_the_syn_wait_is_not_counted),
		T(clamp_without_a_measured_wait_is_counted),
		T(echo_of_a_clamped_value_maps_back_below_the_clients_clock),
		T(many_connections_cannot_ratchet_the_domain_clock),
		T(month_old_flow_is_still_bound),
		cmocka_unit_test_setup_teardown(client_over_its_quota_gets_strip_and_others_rewrite,
						setup_quota, teardown),
		cmocka_unit_test_setup_teardown(server_answer_asks_for_the_flows_record_in_the_labels, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(unanswered_syns_write_no_record, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(syn_with_the_conntrack_glue_sets_its_record_with_its_verdict, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(tsval_zero_syn_writes_no_record, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(client_packet_without_state_is_adopted_with_its_offset, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(server_packet_without_state_is_adopted_and_its_tsecr_shifted_back, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(adopted_flow_is_bounded_from_its_syn_plus_the_skew, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(adoption_raises_the_domain_mark_to_the_flows_bound, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(packet_without_record_passes_untouched_and_is_counted, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(tuple_without_record_is_not_looked_up_again_for_a_while, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(lookups_are_limited_per_second, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(packet_without_conntrack_entry_is_not_counted_and_looked_up_again, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(packet_without_state_is_counted_without_ha_labels_too, setup, teardown),
		cmocka_unit_test_setup_teardown(adopted_flow_is_answered_and_saved_with_the_others, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(record_at_other_label_bits_is_not_adopted, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(record_of_a_stripped_flow_is_not_adopted, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(packet_of_no_rewrite_policy_is_not_looked_up, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(labels_of_the_conntrack_glue_need_no_lookup, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(adoption_keeps_the_client_quota, setup_ha_quota, teardown),
		T(note_keeps_its_policy_name_after_a_reload),
		T(server_answer_makes_the_flow_established),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
