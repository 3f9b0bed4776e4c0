/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_offload.c - rewrite's client SYNs with the kernel data path, through
 * process_packet(), against a fake of the kernel's flows map (offload.h's
 * operations): what the daemon writes, when it keeps a flow in NFQUEUE
 * instead, and that it never touches a packet the kernel shifts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <linux/netfilter/nf_conntrack_common.h>

#include "confutil.h"
#include "offload.h"
#include "packet.h"
#include "pktbuild.h"
#include "process.h"

#define NOW_MS 1000000u
#define MONO_MS 5000u
#define CLIENT "192.0.2.5"
#define SERVER "198.51.100.10"

/* ---- the fake kernel: one map of a few entries ---- */
#define FAKE_MAX 8
static struct fake {
	struct shift_key k[FAKE_MAX];
	struct shift_flow f[FAKE_MAX];
	int n;
	int gets, puts, dels, attaches;
	uint32_t attached_to;
	bool fail_get, fail_put, fail_attach;
	bool has_mark;
	uint32_t mark;
	uint32_t client_flows;	/* what client_flows says */
	int added;
} fk;

static int
fake_find(const struct shift_key *k)
{
	for (int i = 0; i < fk.n; i++)
		if (memcmp(&fk.k[i], k, sizeof(*k)) == 0)
			return i;
	return -1;
}

static int
fake_get(void *ctx, const struct shift_key *k, struct shift_flow *f)
{
	int i;

	(void)ctx;
	fk.gets++;
	if (fk.fail_get)
		return -1;
	if ((i = fake_find(k)) < 0)
		return 0;
	*f = fk.f[i];
	return 1;
}

static int
fake_put(void *ctx, const struct shift_key *k, const struct shift_flow *f, bool create)
{
	int i;

	(void)ctx;
	fk.puts++;
	if (fk.fail_put)
		return -1;
	if ((i = fake_find(k)) >= 0 && create)
		return -1;		/* BPF_NOEXIST */
	if (i < 0 && !create)
		return -1;		/* BPF_EXIST */
	if (i < 0) {
		assert_true(fk.n < FAKE_MAX);
		i = fk.n++;
	}
	fk.k[i] = *k;
	fk.f[i] = *f;
	return 0;
}

static int
fake_del(void *ctx, const struct shift_key *k)
{
	int i;

	(void)ctx;
	fk.dels++;
	if ((i = fake_find(k)) >= 0) {
		fk.k[i] = fk.k[fk.n - 1];
		fk.f[i] = fk.f[fk.n - 1];
		fk.n--;
	}
	return 0;
}

static bool
fake_mark(void *ctx, unsigned worker, uint32_t mono_ms, uint32_t *mark)
{
	(void)ctx;
	(void)worker;
	(void)mono_ms;
	*mark = fk.mark;
	return fk.has_mark;
}

static int
fake_attach(void *ctx, uint32_t ifindex)
{
	(void)ctx;
	fk.attaches++;
	fk.attached_to = ifindex;
	return fk.fail_attach ? -1 : 0;
}

static uint32_t
fake_client_flows(void *ctx, unsigned worker, const struct shift_key *k, bool add)
{
	(void)ctx;
	(void)worker;
	(void)k;
	if (add) {
		fk.added++;
		fk.client_flows++;
	}
	return fk.client_flows;
}

static const struct offload_ops fake_ops = { .get = fake_get, .put = fake_put,
	.del = fake_del, .mark = fake_mark, .attach = fake_attach,
	.client_flows = fake_client_flows };
static const struct offload_path fake_path = { &fake_ops, NULL };

/* ---- the daemon's side ---- */
static struct conf *conf;
static struct domains *doms;
static struct proc_state ps;
static struct stats st;
static uint8_t buf[PB_MAX], orig[PB_MAX];
static size_t len;
static uint32_t skb_mark;	/* the next packet's NFQA_MARK */
static uint32_t pkt_wait;	/* how long the kernel held the next packet */
static bool pkt_has_ct;		/* the next packet's conntrack entry (NFQA_CT) */
static uint32_t pkt_ct_status;
static const uint8_t *pkt_ct_labels;	/* and its labels, if any */

static int
setup(void **state)
{
	(void)state;
	conf = conf_from_text("flows = { per_client = 16; };\n"
			      "policies = ( { name = \"legacy\"; mode = \"rewrite\"; "
			      "destinations = \"198.51.100.0/24\"; "
			      "translated_source = \"198.51.100.1\"; } );\n", NULL);
	doms = domains_new(1);
	if (!conf || !doms)
		return -1;
	conf->pol[0].domain = domains_intern(doms, 4, conf->pol[0].tsrc[0].addr);
	memset(&fk, 0, sizeof(fk));
	memset(&st, 0, sizeof(st));
	skb_mark = 0;
	pkt_wait = 0;
	pkt_has_ct = false;
	pkt_ct_status = 0;
	pkt_ct_labels = NULL;
	ps = (struct proc_state){ .flows = flow_table_new(1024, 42), .domains = doms,
		.offload = &fake_path, .now = 100, .now_ms = NOW_MS, .mono_ms = MONO_MS };
	return ps.flows ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	flow_table_free(ps.flows);
	domains_free(doms);
	conf_free(conf);
	return 0;
}

/* A segment client -> server (or back), NOP NOP TS unless no_ts. */
static enum proc_result
seg(uint8_t flags, bool reply, uint32_t tsval, uint32_t tsecr, bool no_ts)
{
	struct pb_opts o = {0};
	struct proc_pkt in;

	if (!no_ts) {
		pb_nop(&o);
		pb_nop(&o);
		pb_ts(&o, tsval, tsecr);
	}
	len = pb_build(buf, &(struct pb_spec){ .family = 4, .opts = &o, .flags = flags,
		.saddr = reply ? SERVER : CLIENT, .daddr = reply ? CLIENT : SERVER,
		.sport = reply ? 80 : 40000, .dport = reply ? 40000 : 80,
		.payload = flags & TCPF_SYN ? 0 : 20 });
	memcpy(orig, buf, len);
	in = (struct proc_pkt){ .buf = buf, .len = len, .indev = 3, .outdev = 4,
				.mark = skb_mark, .wait_ms = pkt_wait, .has_ct = pkt_has_ct,
				.ct_status = pkt_ct_status, .has_ct_labels = pkt_ct_labels != NULL };
	if (pkt_ct_labels)
		memcpy(in.ct_labels, pkt_ct_labels, sizeof(in.ct_labels));
	return process_packet(conf, &ps, &in, &st);
}

static uint32_t
sent_tsval(void)
{
	struct pkt p;

	assert_int_equal(pkt_parse(buf, len, &p), PKT_OK);
	return p.tsval;
}

static bool
csum_ok(void)
{
	return pb_tcp_csum_ok(buf, len);
}

static struct shift_key
key(void)
{
	struct shift_key k = { .family = 4, .client_port = htons(40000), .server_port = htons(80) };

	inet_pton(AF_INET, CLIENT, k.client);
	inet_pton(AF_INET, SERVER, k.server);
	return k;
}

static void
first_syn_writes_the_kernel_entry_and_keeps_no_flow(void **state)
{
	struct shift_key k = key();
	int i;

	(void)state;
	assert_int_equal(seg(TCPF_SYN, false, 777, 0, false), PROC_MODIFIED);
	assert_int_equal(fk.n, 1);
	i = fake_find(&k);
	assert_int_equal(i, 0);
	assert_int_equal(fk.f[i].syn_val, sent_tsval());
	assert_int_equal(fk.f[i].offset, sent_tsval() - 777);
	assert_int_equal(fk.f[i].syn_ms, MONO_MS);
	assert_int_equal(fk.f[i].last_raw, 777);
	assert_int_equal(fk.f[i].flags, 0);
	assert_int_equal(flow_count(ps.flows), 0);
	assert_int_equal(st.flows_offloaded, 1);
	assert_int_equal(st.flows_created, 1);
	assert_true(csum_ok());
}

static void
first_syn_starts_at_the_domain_clock(void **state)
{
	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(sent_tsval(), NOW_MS);
}

static void
first_syn_attaches_to_its_input_interface(void **state)
{
	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(fk.attaches, 1);
	assert_int_equal(fk.attached_to, 3);
}

static void
next_syn_starts_above_what_the_kernel_sent(void **state)
{
	(void)state;
	fk.has_mark = true;
	fk.mark = NOW_MS + 5000;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(sent_tsval(), NOW_MS + 5000);
}

static void
a_kernel_mark_behind_the_clock_changes_nothing(void **state)
{
	(void)state;
	fk.has_mark = true;
	fk.mark = NOW_MS - 5000;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(sent_tsval(), NOW_MS);
}

/* The entry carries its SYN's wait at the gateway: the programs count a
 * clamp only beyond it (and so does a missed packet here). */
static void
first_syn_writes_its_wait_into_the_entry(void **state)
{
	uint32_t first;

	(void)state;
	pkt_wait = 40;
	seg(TCPF_SYN, false, 777, 0, false);
	first = sent_tsval();
	assert_int_equal(fk.f[0].syn_wait, 40);
	pkt_wait = 0;
	ps.mono_ms += 10;
	seg(TCPF_ACK, false, 777 + 10 + 40, 9, false);	/* missed, 40 ms ahead */
	assert_int_equal(sent_tsval(), first + 10);
	assert_int_equal(st.ts_clamped, 0);
}

static void
retransmitted_syn_keeps_the_entry_offset(void **state)
{
	uint32_t first;

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	first = sent_tsval();
	ps.now_ms += 3000;	/* the domain clock moved on */
	ps.mono_ms += 1000;
	seg(TCPF_SYN, false, 1777, 0, false);
	assert_int_equal(sent_tsval(), first + 1000);
	assert_int_equal(fk.n, 1);
	assert_int_equal(fk.f[0].offset, first - 777);	/* kept */
	assert_int_equal(fk.f[0].last_raw, 1777);	/* and the entry refreshed */
	assert_int_equal(st.flows_offloaded, 1);
}

static void
retransmitted_syn_stays_within_the_bound(void **state)
{
	uint32_t first;

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	first = sent_tsval();
	ps.mono_ms += 1000;
	seg(TCPF_SYN, false, 777 + 900000, 0, false);	/* 900 s in 1 s */
	assert_int_equal(sent_tsval(), first + 1000);	/* 1000 + 1000 >> 10 */
	assert_int_equal(st.ts_clamped, 1);
}

static void
syn_on_a_closed_entry_is_a_new_connection(void **state)
{
	struct shift_key k = key();

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	fk.f[fake_find(&k)].flags = SHIFT_FIN_CLIENT | SHIFT_FIN_SERVER | SHIFT_ANSWERED;
	ps.now_ms += 3000;
	seg(TCPF_SYN, false, 5, 0, false);
	assert_int_equal(sent_tsval(), NOW_MS + 3000);
	assert_int_equal(fk.f[fake_find(&k)].offset, NOW_MS + 3000 - 5);
	assert_int_equal(fk.f[fake_find(&k)].flags, 0);
	assert_int_equal(st.flows_offloaded, 2);
}

static void
server_packets_pass_untouched_for_the_kernel(void **state)
{
	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(seg(TCPF_SYN | TCPF_ACK, true, 9, NOW_MS, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(seg(TCPF_ACK, true, 10, NOW_MS, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

static void
client_packets_after_the_syn_pass_untouched(void **state)
{
	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	skb_mark = 0x10000000;		/* the programs shifted them */
	assert_int_equal(seg(TCPF_ACK, false, 778, 9, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(seg(TCPF_FIN | TCPF_ACK, false, 779, 9, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
}

/* Refusals: the flow is kept in NFQUEUE, as without offload. */
static void
attach_refused_keeps_the_flow_in_nfqueue(void **state)
{
	(void)state;
	fk.fail_attach = true;
	assert_int_equal(seg(TCPF_SYN, false, 777, 0, false), PROC_MODIFIED);
	assert_int_equal(fk.n, 0);
	assert_int_equal(flow_count(ps.flows), 1);
	assert_int_equal(st.offload_refused, 1);
	assert_int_equal(st.flows_offloaded, 0);
	/* and the daemon shifts its packets itself */
	assert_int_equal(seg(TCPF_SYN | TCPF_ACK, true, 9, NOW_MS, false), PROC_MODIFIED);
}

static void
put_refused_keeps_the_flow_in_nfqueue(void **state)
{
	(void)state;
	fk.fail_put = true;
	assert_int_equal(seg(TCPF_SYN, false, 777, 0, false), PROC_MODIFIED);
	assert_int_equal(flow_count(ps.flows), 1);
	assert_int_equal(st.offload_refused, 1);
}

static void
lookup_error_keeps_the_flow_in_nfqueue(void **state)
{
	(void)state;
	fk.fail_get = true;
	assert_int_equal(seg(TCPF_SYN, false, 777, 0, false), PROC_MODIFIED);
	assert_int_equal(fk.puts, 0);
	assert_int_equal(flow_count(ps.flows), 1);
	assert_int_equal(st.offload_refused, 1);
}

static void
fallback_syn_still_starts_above_the_kernel_mark(void **state)
{
	(void)state;
	fk.has_mark = true;
	fk.mark = NOW_MS + 7000;
	fk.fail_put = true;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(sent_tsval(), NOW_MS + 7000);
}

static void
tsval_zero_syn_goes_to_nfqueue_for_its_rebase(void **state)
{
	(void)state;
	assert_int_equal(seg(TCPF_SYN, false, 0, 0, false), PROC_MODIFIED);
	assert_int_equal(fk.puts, 0);
	assert_int_equal(flow_count(ps.flows), 1);
}

static void
syn_without_timestamp_touches_neither(void **state)
{
	(void)state;
	assert_int_equal(seg(TCPF_SYN, false, 0, 0, true), PROC_PASS);
	assert_int_equal(fk.gets + fk.puts + fk.attaches, 0);
	assert_int_equal(flow_count(ps.flows), 0);
}

static void
nfqueue_flow_from_before_keeps_its_path(void **state)
{
	(void)state;
	ps.offload = NULL;	/* a flow restored from NFQUEUE state */
	seg(TCPF_SYN, false, 777, 0, false);
	ps.offload = &fake_path;
	assert_int_equal(seg(TCPF_ACK, false, 778, 9, false), PROC_MODIFIED);
	assert_int_equal(fk.gets + fk.puts, 0);
}

static void
each_offloaded_flow_counts_for_its_client(void **state)
{
	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(fk.added, 1);
	seg(TCPF_SYN, false, 778, 0, false);	/* a retransmission: no new flow */
	assert_int_equal(fk.added, 1);
}

static void
client_at_its_quota_in_the_map_gets_strip(void **state)
{
	struct pkt p;

	(void)state;
	fk.client_flows = 16;
	assert_int_equal(seg(TCPF_SYN, false, 777, 0, false), PROC_MODIFIED);
	assert_int_equal(pkt_parse(buf, len, &p), PKT_OK);
	assert_int_equal(p.ts_count, 0);		/* stripped */
	assert_int_equal(fk.n, 0);
	assert_int_equal(flow_count(ps.flows), 0);
	assert_int_equal(st.flows_over_quota, 1);
	assert_int_equal(st.stripped, 1);
}

static void
client_below_its_quota_is_offloaded(void **state)
{
	(void)state;
	fk.client_flows = 15;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(fk.n, 1);
	assert_int_equal(st.flows_over_quota, 0);
}

static void
client_packet_the_programs_missed_is_shifted_here(void **state)
{
	uint32_t first;

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	first = sent_tsval();
	ps.mono_ms += 10;
	/* no mark: a fragment the gateway reassembled, say */
	assert_int_equal(seg(TCPF_ACK, false, 787, 9, false), PROC_MODIFIED);
	assert_int_equal(sent_tsval(), first + 10);
	assert_true(csum_ok());
	assert_int_equal(st.offload_escaped, 1);
	assert_int_equal(flow_count(ps.flows), 0);
}

static void
missed_packet_cannot_jump_past_the_bound(void **state)
{
	uint32_t first;

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	first = sent_tsval();
	ps.mono_ms += 10;
	seg(TCPF_ACK, false, 777 + 0x7fffffffu, 9, false);
	assert_int_equal(sent_tsval(), first + 10);
	assert_int_equal(st.ts_clamped, 1);
}

/* A packet the programs missed follows their rule: its value depends on
 * its TSval alone, so a TSval the programs already shifted (compressed by
 * a clamp) gets what they gave it, and a newer one no more than the
 * client's clock gained since. */
static void
missed_packet_gets_what_the_programs_gave_its_tsval(void **state)
{
	uint32_t first;

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	first = sent_tsval();
	/* the programs shifted TSval 787, clamped 5 below its offset */
	fk.f[0].last_raw = 787;
	fk.f[0].last_val = first + 5;
	ps.mono_ms += 20;
	seg(TCPF_ACK, false, 787, 9, false);
	assert_int_equal(sent_tsval(), first + 5);
	seg(TCPF_ACK, false, 788, 9, false);
	assert_int_equal(sent_tsval(), first + 6);
	assert_int_equal(st.ts_clamped, 0);
}

static void
packet_of_no_entry_and_no_flow_passes(void **state)
{
	(void)state;
	assert_int_equal(seg(TCPF_ACK, false, 778, 9, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_int_equal(st.offload_escaped, 0);
}

static void
syn_after_one_fin_replaces_the_entry(void **state)
{
	struct shift_key k = key();

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	fk.f[fake_find(&k)].flags = SHIFT_FIN_CLIENT;
	ps.now_ms += 3000;
	seg(TCPF_SYN, false, 5, 0, false);
	assert_int_equal(sent_tsval(), NOW_MS + 3000);
	assert_int_equal(fk.dels, 1);
	assert_int_equal(fk.f[fake_find(&k)].offset, NOW_MS + 3000 - 5);
}

static void
draining_path_keeps_a_live_entry_offset_for_its_syn(void **state)
{
	static const struct offload_ops drain = { .get = fake_get, .del = fake_del,
						  .mark = fake_mark };
	static const struct offload_path drain_path = { &drain, NULL };
	uint32_t first;

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	first = sent_tsval();
	ps.offload = &drain_path;
	ps.mono_ms += 1000;
	seg(TCPF_SYN, false, 1777, 0, false);
	assert_int_equal(sent_tsval(), first + 1000);
	assert_int_equal(flow_count(ps.flows), 0);
}

static void
draining_path_deletes_an_ended_entry_before_nfqueue_takes_the_tuple(void **state)
{
	static const struct offload_ops drain = { .get = fake_get, .del = fake_del,
						  .mark = fake_mark };
	static const struct offload_path drain_path = { &drain, NULL };
	struct shift_key k = key();

	(void)state;
	seg(TCPF_SYN, false, 777, 0, false);
	fk.f[fake_find(&k)].flags = SHIFT_FIN_CLIENT | SHIFT_FIN_SERVER;
	ps.offload = &drain_path;
	seg(TCPF_SYN, false, 5, 0, false);
	assert_int_equal(fk.n, 0);
	assert_int_equal(flow_count(ps.flows), 1);
}

static void
draining_path_takes_no_flow_but_raises_the_clock(void **state)
{
	static const struct offload_ops drain = { .get = fake_get, .del = fake_del,
						  .mark = fake_mark };
	static const struct offload_path drain_path = { &drain, NULL };

	(void)state;
	ps.offload = &drain_path;
	fk.has_mark = true;
	fk.mark = NOW_MS + 9000;
	assert_int_equal(seg(TCPF_SYN, false, 777, 0, false), PROC_MODIFIED);
	assert_int_equal(sent_tsval(), NOW_MS + 9000);
	assert_int_equal(flow_count(ps.flows), 1);
	assert_int_equal(st.offload_refused, 0);
}

/* ---- destination NAT: the programs would see another tuple ---- */

/* The gateway DNATs the flow: conntrack says so (the glue). */
static void
dnat(void)
{
	pkt_has_ct = true;
	pkt_ct_status = IPS_CONFIRMED | IPS_DST_NAT | IPS_DST_NAT_DONE | IPS_SRC_NAT;
}

static void
syn_with_destination_nat_stays_in_nfqueue(void **state)
{
	(void)state;
	dnat();
	assert_int_equal(seg(TCPF_SYN, false, 777, 0, false), PROC_MODIFIED);
	assert_int_equal(sent_tsval(), NOW_MS);
	assert_int_equal(fk.gets + fk.puts + fk.attaches, 0);	/* the map untouched */
	assert_int_equal(fk.n, 0);
	assert_int_equal(flow_count(ps.flows), 1);
	assert_int_equal(st.offload_dnat, 1);
	assert_int_equal(st.flows_offloaded, 0);
	assert_int_equal(st.offload_refused, 0);
	assert_int_equal(st.flows_created, 1);
	assert_true(csum_ok());
}

/* Every packet of it is shifted here, both ways: none goes out unshifted. */
static void
dnat_flow_is_shifted_by_the_daemon_both_ways(void **state)
{
	uint32_t off;
	struct pkt p;

	(void)state;
	dnat();
	seg(TCPF_SYN, false, 777, 0, false);
	off = sent_tsval() - 777;
	assert_int_equal(seg(TCPF_SYN | TCPF_ACK, true, 9, 777 + off, false), PROC_MODIFIED);
	assert_int_equal(pkt_parse(buf, len, &p), PKT_OK);
	assert_int_equal(p.tsecr, 777);
	assert_true(csum_ok());
	ps.mono_ms += 10;	/* 1 ms of the client's clock in 10: within the bound */
	assert_int_equal(seg(TCPF_ACK, false, 778, 9, false), PROC_MODIFIED);
	assert_int_equal(sent_tsval(), 778 + off);
	assert_int_equal(fk.gets + fk.puts, 0);
}

static void
retransmitted_dnat_syn_is_counted_once(void **state)
{
	(void)state;
	dnat();
	seg(TCPF_SYN, false, 777, 0, false);
	seg(TCPF_SYN, false, 1777, 0, false);
	assert_int_equal(st.offload_dnat, 1);
	assert_int_equal(flow_count(ps.flows), 1);
}

/* Its SYN still starts above what the programs sent for other flows. */
static void
dnat_syn_still_starts_above_the_kernel_mark(void **state)
{
	(void)state;
	dnat();
	fk.has_mark = true;
	fk.mark = NOW_MS + 4000;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(sent_tsval(), NOW_MS + 4000);
}

/* Source NAT happens after the programs' hooks: the tuple is theirs. */
static void
syn_with_only_source_nat_is_offloaded(void **state)
{
	(void)state;
	pkt_has_ct = true;
	pkt_ct_status = IPS_CONFIRMED | IPS_SRC_NAT | IPS_SRC_NAT_DONE;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(fk.n, 1);
	assert_int_equal(st.flows_offloaded, 1);
	assert_int_equal(st.offload_dnat, 0);
}

/* Without the glue nothing is known: offloaded as before (the documented
 * limit), whatever the field holds. */
static void
syn_without_conntrack_is_offloaded_as_before(void **state)
{
	(void)state;
	pkt_has_ct = false;
	pkt_ct_status = IPS_DST_NAT;
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(fk.n, 1);
	assert_int_equal(st.flows_offloaded, 1);
	assert_int_equal(st.offload_dnat, 0);
}

/* A draining path takes no flow anyway: nothing kept from it to count. */
static void
dnat_syn_on_a_draining_path_is_not_counted(void **state)
{
	static const struct offload_ops drain = { .get = fake_get, .del = fake_del,
						  .mark = fake_mark };
	static const struct offload_path drain_path = { &drain, NULL };

	(void)state;
	ps.offload = &drain_path;
	dnat();
	assert_int_equal(seg(TCPF_SYN, false, 777, 0, false), PROC_MODIFIED);
	assert_int_equal(flow_count(ps.flows), 1);
	assert_int_equal(st.offload_dnat, 0);
}

/* No kernel data path: no count either. */
static void
dnat_syn_without_offload_is_not_counted(void **state)
{
	(void)state;
	ps.offload = NULL;
	dnat();
	seg(TCPF_SYN, false, 777, 0, false);
	assert_int_equal(flow_count(ps.flows), 1);
	assert_int_equal(st.offload_dnat, 0);
}

/* HA pairs with the kernel data path: a flow adopted from its record goes
 * into the map. The fake conntrack holds one entry, the test's flow. */
static struct proc_ha ha;
static uint8_t ct_labels[CTLABEL_SIZE];
static bool ct_has;
static unsigned ct_gets;

static int
fake_ct_get(void *ctx, const struct ct_tuple *t, struct ct_entry *e)
{
	(void)ctx;
	ct_gets++;
	if (!ct_has)
		return 0;
	memset(e, 0, sizeof(*e));
	e->orig = *t;
	e->has_labels = true;
	memcpy(e->labels, ct_labels, CTLABEL_SIZE);
	return 1;
}

static const struct ha_ops fake_ct_ops = { .get = fake_ct_get };

static int
setup_ha(void **state)
{
	struct ctlabel l = { .flags = CTLABEL_SHIFT, .offset = 1000000, .syn_val = 1000500,
			     .syn_wall = NOW_MS - 2000 };
	uint8_t mask[CTLABEL_SIZE];

	if (setup(state) < 0)
		return -1;
	ha = (struct proc_ha){ .ops = &fake_ct_ops, .first = CTLABEL_FIRST_DEFAULT, .skew = 100 };
	ps.ha = &ha;
	ctlabel_encode(&l, CTLABEL_FIRST_DEFAULT, ct_labels, mask);
	ct_has = true;
	ct_gets = 0;
	return 0;
}

static void
offloaded_flows_answer_asks_for_its_record(void **state)
{
	struct ctlabel l;
	uint32_t v;

	(void)state;
	assert_int_equal(seg(TCPF_SYN, false, 5, 0, false), PROC_MODIFIED);
	v = sent_tsval();
	assert_int_equal(ha.nwrites, 0);
	/* the SYN-ACK, queued before the connection's mark is set */
	assert_int_equal(seg(TCPF_SYN | TCPF_ACK, true, 77, v, false), PROC_PASS);
	assert_int_equal(ha.nwrites, 1);
	assert_true(ctlabel_decode(ha.w[0].labels, CTLABEL_FIRST_DEFAULT, &l));
	assert_int_equal(l.offset, v - 5);
	assert_int_equal(l.syn_val, v);
	assert_int_equal(l.syn_wall, NOW_MS);
	assert_int_equal(ct_gets, 0);
}

static void
client_packet_without_entry_is_adopted_into_the_map(void **state)
{
	struct shift_key k = key();
	int i;

	(void)state;
	assert_int_equal(seg(TCPF_ACK, false, 1700, 9, false), PROC_MODIFIED);
	assert_int_equal(sent_tsval(), 1001700);
	assert_true(csum_ok());
	assert_true((i = fake_find(&k)) >= 0);
	assert_int_equal(fk.f[i].offset, 1000000);
	assert_int_equal(fk.f[i].syn_val, 1000500);
	/* its bound counts from the SYN plus the skew, on this clock */
	assert_int_equal(fk.f[i].syn_ms, MONO_MS - 2100);
	assert_int_equal(fk.f[i].last_raw, 1700);
	assert_int_equal(fk.f[i].last_val, 1001700);
	assert_int_equal(fk.attached_to, 3);	/* the client's input interface */
	assert_int_equal(st.flows_adopted, 1);
	assert_int_equal(flow_count(ps.flows), 0);
}

static void
server_packet_without_entry_is_adopted_and_left_to_the_egress_program(void **state)
{
	struct shift_key k = key();

	(void)state;
	assert_int_equal(seg(TCPF_ACK, true, 77, 1001700, false), PROC_PASS);
	assert_memory_equal(buf, orig, len);
	assert_true(fake_find(&k) >= 0);
	assert_int_equal(fk.attached_to, 4);	/* its output: the client's side */
	assert_int_equal(st.flows_adopted, 1);
}

static void
packet_of_a_flow_the_map_holds_is_not_looked_up(void **state)
{
	(void)state;
	seg(TCPF_SYN, false, 5, 0, false);
	/* the SYN-ACK, queued before the connection's mark is set */
	assert_int_equal(seg(TCPF_SYN | TCPF_ACK, true, 77, 1, false), PROC_PASS);
	assert_int_equal(ct_gets, 0);
	assert_int_equal(st.flows_adopted, 0);
	assert_int_equal(st.flows_unadopted, 0);
}

static void
adoption_the_map_refuses_is_counted(void **state)
{
	(void)state;
	fk.fail_put = true;
	assert_int_equal(seg(TCPF_ACK, false, 1700, 9, false), PROC_PASS);
	assert_int_equal(st.offload_refused, 1);
	assert_int_equal(st.flows_unadopted, 1);
	assert_int_equal(st.flows_adopted, 0);
}

/* A DNATed flow met without state (a takeover): its record comes with its
 * packet (the glue), and it goes into the flow table, not the map. */
static void
dnat_flow_is_adopted_into_the_flow_table(void **state)
{
	(void)state;
	dnat();
	pkt_ct_labels = ct_labels;
	assert_int_equal(seg(TCPF_ACK, false, 1700, 9, false), PROC_MODIFIED);
	assert_int_equal(sent_tsval(), 1001700);
	assert_true(csum_ok());
	assert_int_equal(fk.n, 0);
	assert_int_equal(flow_count(ps.flows), 1);
	assert_int_equal(st.flows_adopted, 1);
	assert_int_equal(st.offload_dnat, 1);
	assert_int_equal(ct_gets, 0);		/* no lookup: the labels came along */
	/* and its replies are shifted back here */
	assert_int_equal(seg(TCPF_ACK, true, 77, 1001700, false), PROC_MODIFIED);
	assert_int_equal(fk.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(offloaded_flows_answer_asks_for_its_record, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(client_packet_without_entry_is_adopted_into_the_map, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(server_packet_without_entry_is_adopted_and_left_to_the_egress_program, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(packet_of_a_flow_the_map_holds_is_not_looked_up, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(adoption_the_map_refuses_is_counted, setup_ha, teardown),
		cmocka_unit_test_setup_teardown(dnat_flow_is_adopted_into_the_flow_table, setup_ha, teardown),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(first_syn_writes_the_kernel_entry_and_keeps_no_flow),
		T(first_syn_starts_at_the_domain_clock),
		T(first_syn_attaches_to_its_input_interface),
		T(next_syn_starts_above_what_the_kernel_sent),
		T(a_kernel_mark_behind_the_clock_changes_nothing),
		T(retransmitted_syn_keeps_the_entry_offset),
		T(retransmitted_syn_stays_within_the_bound),
		T(syn_on_a_closed_entry_is_a_new_connection),
		T(server_packets_pass_untouched_for_the_kernel),
		T(client_packets_after_the_syn_pass_untouched),
		T(attach_refused_keeps_the_flow_in_nfqueue),
		T(put_refused_keeps_the_flow_in_nfqueue),
		T(lookup_error_keeps_the_flow_in_nfqueue),
		T(fallback_syn_still_starts_above_the_kernel_mark),
		T(tsval_zero_syn_goes_to_nfqueue_for_its_rebase),
		T(syn_without_timestamp_touches_neither),
		T(nfqueue_flow_from_before_keeps_its_path),
		T(draining_path_takes_no_flow_but_raises_the_clock),
		T(client_packet_the_programs_missed_is_shifted_here),
		T(missed_packet_cannot_jump_past_the_bound),
		T(first_syn_writes_its_wait_into_the_entry),
		T(missed_packet_gets_what_the_programs_gave_its_tsval),
		T(packet_of_no_entry_and_no_flow_passes),
		T(syn_after_one_fin_replaces_the_entry),
		T(draining_path_keeps_a_live_entry_offset_for_its_syn),
		T(draining_path_deletes_an_ended_entry_before_nfqueue_takes_the_tuple),
		T(each_offloaded_flow_counts_for_its_client),
		T(client_at_its_quota_in_the_map_gets_strip),
		T(client_below_its_quota_is_offloaded),
		T(syn_with_destination_nat_stays_in_nfqueue),
		T(dnat_flow_is_shifted_by_the_daemon_both_ways),
		T(retransmitted_dnat_syn_is_counted_once),
		T(dnat_syn_still_starts_above_the_kernel_mark),
		T(syn_with_only_source_nat_is_offloaded),
		T(syn_without_conntrack_is_offloaded_as_before),
		T(dnat_syn_on_a_draining_path_is_not_counted),
		T(dnat_syn_without_offload_is_not_counted),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
