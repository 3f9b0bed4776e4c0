/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_shift.c - the kernel data path (daemon/bpf/shift.bpf.c) loaded
 * through the verifier and run on hand-built packets (BPF_PROG_TEST_RUN):
 * shifts, the bound, checksums, both families. Root (CAP_BPF); `make bpf`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/types.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "packet.h"
#include "pktbuild.h"
#include "shift.h"
#include "shift.skel.h"

#define MARK 0x10000000u

static struct shift *skel;
static char verifier_log[1 << 16], verifier_log_egress[1 << 16];

static uint32_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint32_t)((uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000);
}

static int
setup(void **state)
{
	(void)state;
	skel = shift__open();
	if (!skel)
		return -1;
	skel->rodata->mark_bit = MARK;
	bpf_program__set_log_buf(skel->progs.shift_ingress, verifier_log, sizeof(verifier_log));
	bpf_program__set_log_level(skel->progs.shift_ingress, 4);	/* statistics */
	bpf_program__set_log_buf(skel->progs.shift_egress, verifier_log_egress,
				 sizeof(verifier_log_egress));
	bpf_program__set_log_level(skel->progs.shift_egress, 4);
	if (shift__load(skel)) {
		shift__destroy(skel);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	shift__destroy(skel);
	return 0;
}

/* frame = Ethernet header + the IP packet pkt[0..len) */
static size_t
frame(uint8_t *out, const uint8_t *pkt, size_t len, int family)
{
	memset(out, 0, 14);
	out[12] = family == 4 ? 0x08 : 0x86;
	out[13] = family == 4 ? 0x00 : 0xdd;
	memcpy(out + 14, pkt, len);
	return len + 14;
}

/* A client segment (or the server's reply) with NOP NOP TS. */
static size_t
segment_f(uint8_t *pkt, int family, bool reply, uint32_t tsval, uint32_t tsecr,
	  uint8_t flags);

static size_t
segment(uint8_t *pkt, int family, bool reply, uint32_t tsval, uint32_t tsecr)
{
	return segment_f(pkt, family, reply, tsval, tsecr, TCPF_ACK);
}

static size_t
segment_f(uint8_t *pkt, int family, bool reply, uint32_t tsval, uint32_t tsecr,
	  uint8_t flags)
{
	struct pb_opts o = {0};

	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, tsval, tsecr);
	return pb_build(pkt, &(struct pb_spec){ .family = family, .opts = &o,
		.flags = flags, .payload = flags & TCPF_SYN ? 0 : 100,
		.saddr = family == 4 ? (reply ? "198.51.100.10" : "192.0.2.5") :
				       (reply ? "2001:db8:1::10" : "2001:db8::5"),
		.daddr = family == 4 ? (reply ? "192.0.2.5" : "198.51.100.10") :
				       (reply ? "2001:db8::5" : "2001:db8:1::10"),
		.sport = reply ? 80 : 40000, .dport = reply ? 40000 : 80 });
}

static void
add_flow(int family, uint32_t offset, uint32_t syn_val, uint32_t syn_ms)
{
	struct shift_key k = { .family = (uint8_t)family,
		.client_port = htons(40000), .server_port = htons(80) };
	/* as the daemon writes it at the SYN */
	struct shift_flow f = { .offset = offset, .syn_val = syn_val, .syn_ms = syn_ms,
				.last_raw = syn_val - offset, .last_val = syn_val };

	inet_pton(family == 4 ? AF_INET : AF_INET6, family == 4 ? "192.0.2.5" : "2001:db8::5",
		  k.client);
	inet_pton(family == 4 ? AF_INET : AF_INET6, family == 4 ? "198.51.100.10" : "2001:db8:1::10",
		  k.server);
	assert_int_equal(bpf_map__update_elem(skel->maps.shift_flows, &k, sizeof(k), &f,
					      sizeof(f), BPF_ANY), 0);
}

/* Run prog on pkt; the IP packet after it back in pkt; the skb's mark
 * after it returned. */
static uint32_t
run(struct bpf_program *prog, uint8_t *pkt, size_t len, int family)
{
	uint8_t in[PB_MAX + 14], out[PB_MAX + 14];
	struct __sk_buff ctx = { 0 }, ctx_out = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = 0,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .ctx_out = &ctx_out, .ctx_size_out = sizeof(ctx_out));

	opts.data_size_in = (uint32_t)frame(in, pkt, len, family);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &opts), 0);
	assert_int_equal(opts.retval, 0);			/* TC_ACT_OK */
	assert_int_equal(opts.data_size_out, opts.data_size_in);
	memcpy(pkt, out + 14, len);
	return ctx_out.mark;
}

static struct pkt
parsed(const uint8_t *pkt, size_t len)
{
	struct pkt p;

	assert_int_equal(pkt_parse(pkt, len, &p), PKT_OK);
	return p;
}

static uint64_t
counter(uint32_t which)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t v[256] = { 0 }, sum = 0;

	assert_int_equal(bpf_map__lookup_elem(skel->maps.shift_counters, &which, sizeof(which),
					      v, sizeof(v[0]) * (size_t)ncpu, 0), 0);
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

static void
ingress_shifts_tsval_with_a_valid_checksum(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len = segment(pkt, 4, false, 1000, 777);
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_int_equal(parsed(pkt, len).tsval, 5001000);
	assert_int_equal(parsed(pkt, len).tsecr, 777);
	assert_true(pb_tcp_csum_ok(pkt, len));
	fprintf(stderr, "verifier (ingress): %s", strstr(verifier_log, "processed") ?
		strstr(verifier_log, "processed") : "no statistics\n");
	fprintf(stderr, "verifier (egress): %s", strstr(verifier_log_egress, "processed") ?
		strstr(verifier_log_egress, "processed") : "no statistics\n");
}

static void
egress_maps_tsecr_back_and_zero_stays_zero(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len = segment(pkt, 4, true, 42, 5001000);
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	run(skel->progs.shift_egress, pkt, len, 4);
	assert_int_equal(parsed(pkt, len).tsecr, 1000);
	assert_int_equal(parsed(pkt, len).tsval, 42);
	assert_true(pb_tcp_csum_ok(pkt, len));
	len = segment(pkt, 4, true, 42, 0);
	run(skel->progs.shift_egress, pkt, len, 4);
	assert_int_equal(parsed(pkt, len).tsecr, 0);
}

static void
hostile_jump_is_clamped_to_the_bound(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len = segment(pkt, 4, false, 1000 + 0x7fffffffu, 777);
	uint64_t before = counter(SHIFT_CLAMPED);
	uint32_t v;
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	run(skel->progs.shift_ingress, pkt, len, 4);
	v = parsed(pkt, len).tsval;
	assert_true(v - 5001000 < 1000);	/* the bound: SYN' plus milliseconds */
	assert_true(pb_tcp_csum_ok(pkt, len));
	assert_int_equal(counter(SHIFT_CLAMPED), before + 1);
}

static void
packet_of_no_flow_is_untouched(void **state)
{
	uint8_t pkt[PB_MAX], orig[PB_MAX];
	size_t len = segment(pkt, 4, false, 1000, 777);
	struct shift_key k = { .family = 4 };
	(void)state;

	bpf_map__delete_elem(skel->maps.shift_flows, &k, sizeof(k), 0);
	pkt[21] = 0x99;		/* another client port: no flow */
	memcpy(orig, pkt, len);
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_memory_equal(pkt, orig, len);
}

static void
ipv6_flow_is_shifted_both_ways(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len = segment(pkt, 6, false, 1000, 777);
	(void)state;

	add_flow(6, 5000000, 5001000, mono_ms());
	run(skel->progs.shift_ingress, pkt, len, 6);
	assert_int_equal(parsed(pkt, len).tsval, 5001000);
	assert_true(pb_tcp_csum_ok(pkt, len));
	len = segment(pkt, 6, true, 9, 5001000);
	run(skel->progs.shift_egress, pkt, len, 6);
	assert_int_equal(parsed(pkt, len).tsecr, 1000);
	assert_true(pb_tcp_csum_ok(pkt, len));
}

static struct shift_key
flow_key(int family)
{
	struct shift_key k = { .family = (uint8_t)family,
		.client_port = htons(40000), .server_port = htons(80) };

	inet_pton(family == 4 ? AF_INET : AF_INET6, family == 4 ? "192.0.2.5" : "2001:db8::5",
		  k.client);
	inet_pton(family == 4 ? AF_INET : AF_INET6, family == 4 ? "198.51.100.10" : "2001:db8:1::10",
		  k.server);
	return k;
}

static bool
entry(int family, struct shift_flow *f)
{
	struct shift_key k = flow_key(family);

	return bpf_map__lookup_elem(skel->maps.shift_flows, &k, sizeof(k), f, sizeof(*f), 0) == 0;
}

static void
client_syn_is_left_to_the_daemon(void **state)
{
	uint8_t pkt[PB_MAX], orig[PB_MAX];
	size_t len = segment_f(pkt, 4, false, 1000, 0, TCPF_SYN);
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	memcpy(orig, pkt, len);
	assert_int_equal(run(skel->progs.shift_ingress, pkt, len, 4), 0);
	assert_memory_equal(pkt, orig, len);
}

static void
shifted_client_packet_carries_the_mark(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len = segment(pkt, 4, false, 1000, 777);
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	assert_int_equal(run(skel->progs.shift_ingress, pkt, len, 4), MARK);
	len = segment(pkt, 4, true, 42, 5001000);
	assert_int_equal(run(skel->progs.shift_egress, pkt, len, 4), 0);
}

static void
packet_of_no_flow_gets_no_mark(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len = segment(pkt, 4, false, 1000, 777);
	(void)state;

	pkt[21] = 0x98;		/* another client port: no flow */
	assert_int_equal(run(skel->progs.shift_ingress, pkt, len, 4), 0);
}

static void
rst_closes_the_flow_and_is_still_shifted(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len = segment_f(pkt, 4, false, 1000, 777, TCPF_RST | TCPF_ACK);
	struct shift_flow f;
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_int_equal(parsed(pkt, len).tsval, 5001000);
	assert_true(pb_tcp_csum_ok(pkt, len));
	/* kept, closed as after both FINs, for the sweep and the next SYN */
	assert_true(entry(4, &f));
	assert_int_equal(f.flags & (SHIFT_FIN_CLIENT | SHIFT_FIN_SERVER),
			 SHIFT_FIN_CLIENT | SHIFT_FIN_SERVER);
}

static void
fins_and_the_answer_are_recorded(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len;
	struct shift_flow f;
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	len = segment(pkt, 4, false, 1000, 777);
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_true(entry(4, &f));
	assert_int_equal(f.flags, 0);
	assert_int_equal(f.last_raw, 1000);
	assert_true(f.last_ns > 0);
	len = segment_f(pkt, 4, true, 42, 5001000, TCPF_FIN | TCPF_ACK);
	run(skel->progs.shift_egress, pkt, len, 4);
	assert_true(entry(4, &f));
	assert_int_equal(f.flags, SHIFT_ANSWERED | SHIFT_FIN_SERVER);
	len = segment_f(pkt, 4, false, 1001, 42, TCPF_FIN | TCPF_ACK);
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_true(entry(4, &f));
	assert_int_equal(f.flags, SHIFT_ANSWERED | SHIFT_FIN_SERVER | SHIFT_FIN_CLIENT);
}

/* TSval of the NOP NOP TS option first in the TCP header of IPv4 pkt
 * (pkt_parse refuses the broken option after it). */
static uint32_t
parsed_ts(const uint8_t *pkt)
{
	const uint8_t *t = pkt + 20 + 20 + 2 + 2;

	return (uint32_t)t[0] << 24 | (uint32_t)t[1] << 16 | (uint32_t)t[2] << 8 | t[3];
}

/* NOP NOP TS, then an option whose length runs past the header: Linux
 * stops there and keeps the timestamp, so it is shifted (within the
 * bound) and marked, never passed raw. */
static void
timestamp_before_a_broken_option_is_still_shifted(void **state)
{
	uint8_t pkt[PB_MAX];
	struct pb_opts o = {0};
	size_t len;
	(void)state;

	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, 1000 + 0x7fffffffu, 777);
	pb_raw(&o, 30, 9, 0);	/* says 9 bytes, 2 are there, then the header ends */
	len = pb_build(pkt, &(struct pb_spec){ .family = 4, .opts = &o, .flags = TCPF_ACK,
		.payload = 100, .saddr = "192.0.2.5", .daddr = "198.51.100.10",
		.sport = 40000, .dport = 80 });
	add_flow(4, 5000000, 5001000, mono_ms());
	assert_int_equal(run(skel->progs.shift_ingress, pkt, len, 4), MARK);
	assert_true(parsed_ts(pkt) - 5001000 < 1000);		/* the bound */
	assert_true(pb_tcp_csum_ok(pkt, len));
}

/* A flow's packets shifted out of the client's order (two CPUs): the
 * older TSval never gets more than the newer one got, even when the newer
 * one was clamped at an earlier time. */
static void
older_packet_never_gets_more_than_a_newer_one(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len;
	uint32_t newer, older;
	(void)state;

	/* the client runs 500 ms ahead of the bound: clamped */
	add_flow(4, 5000000, 5001000, mono_ms());
	len = segment(pkt, 4, false, 1000 + 500, 777);
	run(skel->progs.shift_ingress, pkt, len, 4);
	newer = parsed(pkt, len).tsval;
	assert_true(newer - 5001000 < 400);		/* clamped to the bound */
	usleep(20000);				/* the bound moves on */
	len = segment(pkt, 4, false, 1000 + 499, 777);	/* sent before it */
	run(skel->progs.shift_ingress, pkt, len, 4);
	older = parsed(pkt, len).tsval;
	assert_true((int32_t)(newer - older) >= 0);
	len = segment(pkt, 4, false, 1000 + 501, 777);	/* and a newer one */
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_true((int32_t)(parsed(pkt, len).tsval - newer) >= 0);
}

/* A clamped flow's values are the client's clock compressed, never the
 * gateway's: a packet carrying the TSval another packet already carried
 * gets the same TSval' whenever it is shifted (the server's PAWS compares
 * them in the order they arrive, which the gateway's CPUs may change after
 * this program). */
static void
same_tsval_gets_the_same_value_whenever_it_is_shifted(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len;
	uint32_t first;
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	len = segment(pkt, 4, false, 1000 + 500, 777);	/* 500 ms ahead: clamped */
	run(skel->progs.shift_ingress, pkt, len, 4);
	first = parsed(pkt, len).tsval;
	usleep(20000);					/* the bound moves on */
	len = segment(pkt, 4, false, 1000 + 500, 777);	/* the same TSval */
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_int_equal(parsed(pkt, len).tsval, first);
}

/* ... and a newer TSval gains no more than the client's clock did, so a
 * reordering the client's own stream shrugs off (a step of 1) stays one. */
static void
newer_tsval_gains_no_more_than_the_client_clock(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len;
	uint32_t first;
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	len = segment(pkt, 4, false, 1000 + 500, 777);
	run(skel->progs.shift_ingress, pkt, len, 4);
	first = parsed(pkt, len).tsval;
	usleep(20000);
	len = segment(pkt, 4, false, 1000 + 501, 777);	/* one tick later */
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_int_equal(parsed(pkt, len).tsval, first + 1);
	assert_true(pb_tcp_csum_ok(pkt, len));
}

/* A client whose SYN waited at the gateway (the daemon decided it late) is
 * ahead of its bound by that wait: compressed, not counted. Beyond it
 * (plus SHIFT_CLAMP_GRACE ticks) the clamp is the client's and counted. */
static void
clamp_within_the_syn_wait_is_not_counted(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len;
	uint64_t before;
	struct shift_flow f;
	struct shift_key k = flow_key(4);
	(void)state;

	add_flow(4, 5000000, 5001000, mono_ms());
	assert_true(entry(4, &f));
	f.syn_wait = 40;
	assert_int_equal(bpf_map__update_elem(skel->maps.shift_flows, &k, sizeof(k), &f,
					      sizeof(f), BPF_ANY), 0);
	before = counter(SHIFT_CLAMPED);
	len = segment(pkt, 4, false, 1000 + 30, 777);	/* 30 ms ahead: within 40 */
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_true(parsed(pkt, len).tsval - 5001000 < 30);	/* still the bound */
	assert_int_equal(counter(SHIFT_CLAMPED), before);
	len = segment(pkt, 4, false, 1000 + 500, 777);	/* 500 ms ahead */
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_int_equal(counter(SHIFT_CLAMPED), before + 1);
}

/* The highest TSval' this CPU sent, for the daemon's next SYN. */
static void
ingress_raises_the_mark_and_never_lowers_it(void **state)
{
	uint8_t pkt[PB_MAX];
	size_t len;
	uint64_t v[256] = { 0 };
	uint32_t zero = 0, hi = 0;
	int ncpu = libbpf_num_possible_cpus();
	(void)state;

	/* The marks of the tests before, on whichever CPU their runs landed
	 * (on a 6.1 VM with two CPUs, one was 5001001), go first. */
	assert_int_equal(bpf_map__update_elem(skel->maps.shift_marks, &zero, sizeof(zero), v,
					      sizeof(v[0]) * (size_t)ncpu, 0), 0);
	add_flow(4, 5000000, 5001000, mono_ms());
	len = segment(pkt, 4, false, 1000, 777);
	run(skel->progs.shift_ingress, pkt, len, 4);
	len = segment(pkt, 4, false, 900, 777);		/* an older segment */
	run(skel->progs.shift_ingress, pkt, len, 4);
	assert_int_equal(bpf_map__lookup_elem(skel->maps.shift_marks, &zero, sizeof(zero), v,
					      sizeof(v[0]) * (size_t)ncpu, 0), 0);
	for (int i = 0; i < ncpu; i++)
		if ((v[i] & SHIFT_MARK_VALID) && (int32_t)((uint32_t)v[i] - hi) > 0)
			hi = (uint32_t)v[i];
	assert_int_equal(hi, 5001000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ingress_shifts_tsval_with_a_valid_checksum),
		cmocka_unit_test(egress_maps_tsecr_back_and_zero_stays_zero),
		cmocka_unit_test(hostile_jump_is_clamped_to_the_bound),
		cmocka_unit_test(packet_of_no_flow_is_untouched),
		cmocka_unit_test(ipv6_flow_is_shifted_both_ways),
		cmocka_unit_test(client_syn_is_left_to_the_daemon),
		cmocka_unit_test(shifted_client_packet_carries_the_mark),
		cmocka_unit_test(packet_of_no_flow_gets_no_mark),
		cmocka_unit_test(rst_closes_the_flow_and_is_still_shifted),
		cmocka_unit_test(fins_and_the_answer_are_recorded),
		cmocka_unit_test(ingress_raises_the_mark_and_never_lowers_it),
		cmocka_unit_test(timestamp_before_a_broken_option_is_still_shifted),
		cmocka_unit_test(older_packet_never_gets_more_than_a_newer_one),
		cmocka_unit_test(same_tsval_gets_the_same_value_whenever_it_is_shifted),
		cmocka_unit_test(newer_tsval_gains_no_more_than_the_client_clock),
		cmocka_unit_test(clamp_within_the_syn_wait_is_not_counted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
