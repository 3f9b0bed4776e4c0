/* SPDX-License-Identifier: GPL-2.0-or-later */
/* replay.c - the userspace hot path, measured without the network.
 *
 *   replay calls strip|strip-veth|rewrite|untouched N
 *       builds N NFQUEUE packet messages as the kernel sends them and runs
 *       them, as recvmmsg() would have returned them, through the batch
 *       path that the engine's workers run (nfqmsg_batch_run: attribute
 *       parsing, process_packet, verdict messages; nothing is sent, and
 *       there is no socket); run it under
 *       valgrind --tool=callgrind --toggle-collect=bench_loop (whole path)
 *       or --toggle-collect=process_packet (parse, policy, flow, rewrite,
 *       checksum) and divide by N.
 *   replay mem N
 *       fills a flow table with N flows; prints bytes per flow and the
 *       resident memory of the process. */
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confutil.h"
#include "flow.h"
#include "log.h"
#include "nfq.h"
#include "pktbuild.h"

#define MSG_MAX 2048

static _Atomic(struct conf *) current;

/* One NFQUEUE packet message around pkt[0..len). */
static size_t
put_msg(uint8_t *buf, uint32_t id, const uint8_t *pkt, size_t len, uint32_t skb_info)
{
	return pb_nfq_msg(buf, &(struct pb_nfq){ .id = id, .skb_info = skb_info }, pkt, len);
}

/* What an engine worker owns, without its socket and thread. */
struct replay {
	struct nfqmsg_batch *batch;
	struct proc_state ps;
	struct proc_notes notes;
	struct stats st;
};

struct work {
	uint8_t *msgs;		/* N messages, MSG_MAX apart */
	struct iovec *iov;	/* each message's buffer */
	struct mmsghdr *rx;	/* as recvmmsg() fills them */
	unsigned n;
};

/* The clocks, read once per batch as the engine does. */
static void
replay_clock(struct proc_state *ps)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	ps->now = (uint32_t)mono.tv_sec;
	ps->now_ms = (uint32_t)((uint64_t)real.tv_sec * 1000 + (uint64_t)real.tv_nsec / 1000000);
	ps->mono_ms = (uint32_t)((uint64_t)mono.tv_sec * 1000 + (uint64_t)mono.tv_nsec / 1000000);
}

/* One batch of n datagrams from rx, as an engine worker runs it. */
static unsigned
replay_batch(struct replay *r, struct mmsghdr *rx, unsigned n)
{
	const struct conf *c = atomic_load_explicit(&current, memory_order_acquire);

	replay_clock(&r->ps);
	return nfqmsg_batch_run(r->batch, c, &r->ps, &r->st, rx, n);
}

/* The measured loop: callgrind counts only inside it. Batches as full as
 * the engine's receive ring, as under load. */
__attribute__((noinline)) unsigned bench_loop(struct replay *r, struct work *w);
__attribute__((noinline)) unsigned
bench_loop(struct replay *r, struct work *w)
{
	unsigned done = 0;

	for (unsigned i = 0; i < w->n; i += NFQMSG_BATCH)
		done += replay_batch(r, w->rx + i,
				     w->n - i < NFQMSG_BATCH ? w->n - i : NFQMSG_BATCH);
	return done;
}

/* Message i of w: its buffer, and the length recvmmsg() would report. */
static uint8_t *
work_msg(struct work *w, unsigned i, size_t len)
{
	uint8_t *m = w->msgs + (size_t)i * MSG_MAX;

	w->iov[i] = (struct iovec){ .iov_base = m, .iov_len = MSG_MAX };
	w->rx[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &w->iov[i], .msg_iovlen = 1 },
				     .msg_len = (unsigned)len };
	return m;
}

/* A worker's state as engine_open() sets it up (flow table size, seed). */
static int
replay_init(struct replay *r, const struct conf *c, struct domains *d)
{
	uint32_t per_worker = c->flows_max / c->queue_count;

	*r = (struct replay){ .ps = { .domains = d, .notes = &r->notes } };
	r->ps.flows = flow_table_new(per_worker < 1024 ? 1024 : per_worker, 1);
	r->batch = nfqmsg_batch_new((uint16_t)c->queue_first);
	return r->ps.flows && r->batch ? 0 : -1;
}

/* Message i of the workload into w. */
static void
work_fill(struct work *w, unsigned i, const char *workload)
{
	static uint8_t pkt[PB_MAX];
	uint8_t *m = w->msgs + (size_t)i * MSG_MAX;
	struct pb_opts syn = { 0 }, ack = { 0 };
	uint32_t skb_info = 0;
	size_t len;

	pb_mss(&syn, 1460);
	pb_sackok(&syn);
	pb_ts(&syn, 123456, 0);
	pb_nop(&syn);
	pb_ws(&syn, 7);
	pb_nop(&ack);
	pb_nop(&ack);
	/* the SYN's own TSval: the replay lasts milliseconds, and an honest
	 * client's clock moves at most one tick per ms (a TSval further ahead
	 * would be clamped to the flow's real-time bound) */
	pb_ts(&ack, 123456, 777);
	if (strncmp(workload, "strip", 5) == 0) {
		/* many clients: a new source port per SYN. From a NIC the
		 * checksum is final ("strip"); from a veth the kernel
		 * hands it over partial ("strip-veth") */
		len = pb_build(pkt, &(struct pb_spec){ .opts = &syn,
			.sport = (uint16_t)(1024 + i % 60000) });
		if (strcmp(workload, "strip-veth") == 0) {
			pb_make_partial(pkt, len);
			skb_info = NFQA_SKB_CSUMNOTREADY;
		}
	} else if (strcmp(workload, "rewrite") == 0) {
		/* a full-size data segment of the flow (checksum final) */
		len = pb_build(pkt, &(struct pb_spec){ .opts = &ack,
			.flags = TCPF_ACK, .payload = 1448 });
	} else {
		/* a data segment of a flow whose SYN was not seen */
		len = pb_build(pkt, &(struct pb_spec){ .opts = &ack,
			.flags = TCPF_ACK, .payload = 1448, .sport = 999 });
	}
	work_msg(w, i, put_msg(m, 2 + i, pkt, len, skb_info));
}

/* The flow's SYN, outside the measurement. */
static void
rewrite_syn(struct replay *r)
{
	static uint8_t pkt[PB_MAX];
	_Alignas(NLMSG_ALIGNTO) uint8_t m[MSG_MAX];
	struct pb_opts syn = { 0 };
	struct iovec iov = { m, sizeof(m) };
	struct mmsghdr rx = { .msg_hdr = { .msg_iov = &iov, .msg_iovlen = 1 } };
	size_t len;

	pb_mss(&syn, 1460);
	pb_sackok(&syn);
	pb_ts(&syn, 123456, 0);
	pb_nop(&syn);
	pb_ws(&syn, 7);
	len = pb_build(pkt, &(struct pb_spec){ .opts = &syn });
	rx.msg_len = (unsigned)put_msg(m, 1, pkt, len, NFQA_SKB_CSUMNOTREADY);
	replay_batch(r, &rx, 1);
}

static int
calls(const char *workload, unsigned n)
{
	bool strip = strncmp(workload, "strip", 5) == 0;
	const char *text = strip ?
		"policies = ( { name = \"s\"; mode = \"strip\"; destinations = \"198.51.100.0/24\"; } );\n" :
		"policies = ( { name = \"r\"; mode = \"rewrite\"; destinations = \"198.51.100.0/24\";"
		" translated_source = \"198.51.100.1\"; } );\n";
	struct conf *c = conf_from_text(text, NULL);
	struct domains *d = domains_new(1);
	struct replay r;
	struct work w = { .n = n };
	unsigned done;

	if (!c || !d)
		return 1;
	atomic_store(&current, c);
	if (replay_init(&r, c, d) < 0)
		return 1;
	w.msgs = malloc((size_t)n * MSG_MAX);
	w.iov = malloc(n * sizeof(*w.iov));
	w.rx = malloc(n * sizeof(*w.rx));
	if (!w.msgs || !w.iov || !w.rx)
		return 1;
	if (strcmp(workload, "rewrite") == 0)
		rewrite_syn(&r);
	for (unsigned i = 0; i < n; i++)
		work_fill(&w, i, workload);
	done = bench_loop(&r, &w);
	printf("workload=%s packets=%u stripped=%llu rewritten=%llu passed=%llu\n",
	       workload, done, (unsigned long long)r.st.stripped,
	       (unsigned long long)r.st.rewritten, (unsigned long long)r.st.passed);
	free(w.msgs);
	free(w.iov);
	free(w.rx);
	nfqmsg_batch_free(r.batch);
	flow_table_free(r.ps.flows);
	domains_free(d);
	conf_free(c);
	return done == n ? 0 : 1;
}

static long
rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb;
}

static int
mem(unsigned n)
{
	static uint8_t pkt[PB_MAX];
	long before = rss_kb(), after;
	struct flow_table *t = flow_table_new(n, 7);
	char src[32];
	struct pkt p;
	size_t len;

	len = pb_build(pkt, &(struct pb_spec){ 0 });
	pkt_parse(pkt, len, &p);
	for (unsigned i = 0; i < n; i++) {
		/* distinct 4-tuples: 2^16 ports x sources in 10.0.0.0/8-like
		 * space (documentation ranges are too small for a million) */
		pkt[12] = 192, pkt[13] = (uint8_t)(i >> 24), pkt[14] = (uint8_t)(i >> 16);
		pkt[15] = 2;	/* the source address p.saddr points at */
		pkt[20] = (uint8_t)(i >> 8), pkt[21] = (uint8_t)i;	/* the source port */
		if (!flow_insert(t, &p, 1)) {
			fprintf(stderr, "insert %u failed\n", i);
			return 1;
		}
	}
	after = rss_kb();
	snprintf(src, sizeof(src), "%u", flow_count(t));
	printf("flows=%s table_bytes=%zu bytes_per_flow=%.1f entry_bytes=%zu rss_before_kb=%ld rss_after_kb=%ld rss_mb=%.1f\n",
	       src, flow_table_bytes(t), (double)flow_table_bytes(t) / n, sizeof(struct flow),
	       before, after, after / 1024.0);
	flow_table_free(t);
	return 0;
}

int
main(int argc, char **argv)
{
	log_init(LOG_ERR);
	if (argc == 4 && strcmp(argv[1], "calls") == 0)
		return calls(argv[2], (unsigned)strtoul(argv[3], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "mem") == 0)
		return mem((unsigned)strtoul(argv[2], NULL, 10));
	fprintf(stderr, "usage: replay calls strip|strip-veth|rewrite|untouched N | replay mem N\n");
	return 2;
}
