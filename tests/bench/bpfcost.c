/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bpfcost.c - what the kernel data path's programs cost a packet, without
 * traffic: BPF_PROG_TEST_RUN with repeat on built packets, the shift
 * programs (daemon/bpf/shift.bpf.c) and the no-op of the same shape
 * (tests/bench/noop.bpf.c) beside them. Root (CAP_BPF); `make bpf` and
 * `make bench` run it.
 *
 * The kernel runs a program `repeat` times on one skb and reports the mean
 * time of a run. The packet keeps each run's edit, so a flow's offset is 1
 * and its bound far ahead: every run is the common path (look the flow up,
 * find the option, shift by one tick, checksum, store), never a clamp; the
 * packet that comes out proves it (TSval + repeat, TSecr - repeat).
 *
 * Output, one line a case: "progtest CASE MEDIAN_NS MIN_NS MAX_NS ROUNDS
 * REPEAT ABOVE_MEDIAN ABOVE_MIN ABOVE_MAX ABOVE_Q1 ABOVE_Q3" (tab-separated;
 * over ROUNDS rounds of REPEAT runs each; ABOVE_*: the case less the no-op
 * timed just before it in the same round; Q1 and Q3 its quartiles).
 *
 *   bpfcost [REPEAT [ROUNDS]] */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "packet.h"
#include "pktbuild.h"
#include "shift.h"
#include "shift.skel.h"
#include "noop.skel.h"

#define ROUNDS 31		/* default; short rounds, many: see main() */
#define MAX_ROUNDS 201
#define TSVAL 1000000u
#define TSECR 3000000000u

static struct shift *sk;
static struct noop *nk;

static uint32_t
mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint32_t)((uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000);
}

static const char *
addr(int family, bool server)
{
	if (family == 4)
		return server ? "198.51.100.10" : "192.0.2.5";
	return server ? "2001:db8:1::10" : "2001:db8::5";
}

/* An Ethernet frame around a data segment (100 bytes, NOP NOP TS) of the
 * client (or the server's reply); client_port picks the flow. */
static size_t
frame(uint8_t *out, int family, bool reply, uint16_t client_port)
{
	struct pb_opts o = { 0 };
	size_t len;

	pb_nop(&o);
	pb_nop(&o);
	pb_ts(&o, reply ? 42 : TSVAL, reply ? TSECR : 777);
	len = pb_build(out + 14, &(struct pb_spec){ .family = family, .opts = &o,
		.flags = TCPF_ACK, .payload = 100,
		.saddr = addr(family, reply), .daddr = addr(family, !reply),
		.sport = reply ? 80 : client_port, .dport = reply ? client_port : 80 });
	memset(out, 0, 14);
	out[12] = family == 4 ? 0x08 : 0x86;
	out[13] = family == 4 ? 0x00 : 0xdd;
	return len + 14;
}

/* (Re)write the flow 40000 -> 80 as the daemon does at the SYN, with
 * offset 1 and a bound 2^29 ticks ahead. */
static void
flow_reset(int family)
{
	struct shift_key k = { .family = (uint8_t)family,
		.client_port = htons(40000), .server_port = htons(80) };
	struct shift_flow f = { .offset = 1, .syn_val = TSVAL + 1 + (1u << 29),
		.syn_ms = mono_ms(), .last_raw = TSVAL - 1, .last_val = TSVAL };

	inet_pton(family == 4 ? AF_INET : AF_INET6, addr(family, false), k.client);
	inet_pton(family == 4 ? AF_INET : AF_INET6, addr(family, true), k.server);
	if (bpf_map__update_elem(sk->maps.shift_flows, &k, sizeof(k), &f, sizeof(f), BPF_ANY)) {
		fprintf(stderr, "bpfcost: cannot write the flow\n");
		exit(1);
	}
}

struct bench_case {
	const char *name;
	struct bpf_program *prog;
	int family;
	bool reply;
	uint16_t client_port;	/* 40000: the flow; another: no flow */
	int retval;		/* what the program returns */
	int64_t moved;		/* how the shifted field moves in `repeat` runs: 1, -1, 0 */
};

static uint32_t
field(const uint8_t *f, size_t len, bool tsecr)
{
	struct pkt p;

	if (pkt_parse(f + 14, len - 14, &p) != PKT_OK || !p.ts_off)
		return 0;
	return tsecr ? p.tsecr : p.tsval;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* One round of `repeat` runs of case c: the mean ns of a run, or -1. */
static long
round_ns(const struct bench_case *c, int repeat)
{
	uint8_t in[PB_MAX + 14], out[PB_MAX + 14];
	size_t len = frame(in, c->family, c->reply, c->client_port);
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = in, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
	uint32_t want = (c->reply ? TSECR : TSVAL) + (uint32_t)(c->moved * repeat);

	flow_reset(c->family);
	if (bpf_prog_test_run_opts(bpf_program__fd(c->prog), &o) < 0) {
		perror("bpfcost: BPF_PROG_TEST_RUN");
		return -1;
	}
	if (o.retval != (uint32_t)c->retval || o.data_size_out != len ||
	    field(out, len, c->reply) != want) {
		fprintf(stderr, "bpfcost: %s did not take the measured path (retval %d, "
			"field %u, expected %u)\n", c->name, (int)o.retval,
			field(out, len, c->reply), want);
		return -1;
	}
	return (long)o.duration;
}

static void
print_case(const char *name, uint32_t *ns, uint32_t *above, int rounds, int repeat)
{
	qsort(ns, (size_t)rounds, sizeof(ns[0]), cmp_u32);
	qsort(above, (size_t)rounds, sizeof(above[0]), cmp_u32);
	printf("progtest\t%s\t%u\t%u\t%u\t%d\t%d\t%u\t%u\t%u\t%u\t%u\n", name, ns[rounds / 2],
	       ns[0], ns[rounds - 1], rounds, repeat, above[rounds / 2], above[0],
	       above[rounds - 1], above[rounds / 4], above[rounds - 1 - rounds / 4]);
}

int
main(int argc, char **argv)
{
	int repeat = argc > 1 ? atoi(argv[1]) : 20000;
	int rounds = argc > 2 ? atoi(argv[2]) : ROUNDS;

	if (repeat < 1 || repeat > 1000000 || rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: bpfcost [REPEAT (1..1000000) [ROUNDS (1..%d)]]\n",
			MAX_ROUNDS);
		return 2;
	}
	sk = shift__open_and_load();
	nk = noop__open_and_load();
	if (!sk || !nk) {
		fprintf(stderr, "bpfcost: cannot load the programs (root?)\n");
		return 1;
	}
	const struct bench_case cases[] = {
		{ "noop", nk->progs.noop_ingress, 4, false, 40000, -1, 0 },
		{ "ingress-v4", sk->progs.shift_ingress, 4, false, 40000, 0, 1 },
		{ "egress-v4", sk->progs.shift_egress, 4, true, 40000, 0, -1 },
		{ "ingress-v6", sk->progs.shift_ingress, 6, false, 40000, 0, 1 },
		{ "egress-v6", sk->progs.shift_egress, 6, true, 40000, 0, -1 },
		/* the common packet on the interface: not a rewritten flow */
		{ "ingress-noflow-v4", sk->progs.shift_ingress, 4, false, 40001, 0, 0 },
	};
	enum { NCASES = sizeof(cases) / sizeof(cases[0]) };
	static uint32_t ns[NCASES][MAX_ROUNDS], above[NCASES][MAX_ROUNDS];
	int rc = 0;

	/* Interleaved: every round times the no-op and then each case, so a
	 * case and the no-op it is set against see the same moment of the
	 * machine (rounds in blocks put a slow minute on one side only). One
	 * round first, not kept: it warms the programs, maps and caches. */
	for (int r = -1; r < rounds && !rc; r++) {
		long noop_ns = 0;

		for (size_t i = 0; i < NCASES && !rc; i++) {
			long d = round_ns(&cases[i], repeat);

			if (d < 0) {
				rc = 1;
				break;
			}
			if (i == 0)
				noop_ns = d;
			if (r < 0)
				continue;
			ns[i][r] = (uint32_t)d;
			above[i][r] = d > noop_ns ? (uint32_t)(d - noop_ns) : 0;
		}
	}
	for (size_t i = 0; i < NCASES && !rc; i++)
		print_case(cases[i].name, ns[i], above[i], rounds, repeat);
	noop__destroy(nk);
	shift__destroy(sk);
	return rc;
}
