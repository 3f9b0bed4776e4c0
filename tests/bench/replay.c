/* replay.c - the userspace hot path, measured without the network.
 *
 *   replay calls strip|strip-veth|rewrite|untouched N
 *       builds N NFQUEUE packet messages as the kernel sends them and runs
 *       them through the engine's batch path (engine_replay: attribute
 *       parsing, process_packet, verdict messages); run it under
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

#include "confutil.h"
#include "engine.h"
#include "flow.h"
#include "log.h"
#include "pktbuild.h"

#define MSG_MAX 2048

static _Atomic(struct conf *) current;

/* One NFQUEUE packet message around pkt[0..len). */
static size_t
put_msg(uint8_t *buf, uint32_t id, const uint8_t *pkt, size_t len, uint32_t skb_info)
{
	return pb_nfq_msg(buf, &(struct pb_nfq){ .id = id, .skb_info = skb_info }, pkt, len);
}

#define REPLAY_BATCH 64	/* datagrams per recvmmsg() in the engine */

struct work {
	uint8_t *msgs;		/* N messages, MSG_MAX apart */
	void **bufs;		/* each message's address */
	size_t *lens;
	unsigned n;
};

/* The measured loop: callgrind counts only inside it. Batches as full as
 * the engine's receive ring, as under load. */
__attribute__((noinline)) unsigned bench_loop(struct engine *e, struct work *w);
__attribute__((noinline)) unsigned
bench_loop(struct engine *e, struct work *w)
{
	unsigned done = 0;

	for (unsigned i = 0; i < w->n; i += REPLAY_BATCH)
		done += engine_replay(e, &current, w->bufs + i, w->lens + i,
				      w->n - i < REPLAY_BATCH ? w->n - i : REPLAY_BATCH);
	return done;
}

static int
calls(const char *workload, unsigned n)
{
	static uint8_t pkt[PB_MAX];
	bool strip = strncmp(workload, "strip", 5) == 0;
	const char *text = strip ?
		"policies = ( { name = \"s\"; mode = \"strip\"; destinations = \"198.51.100.0/24\"; } );\n" :
		"policies = ( { name = \"r\"; mode = \"rewrite\"; destinations = \"198.51.100.0/24\";"
		" translated_source = \"198.51.100.1\"; } );\n";
	struct conf *c = conf_from_text(text, NULL);
	struct domains *d = domains_new(1);
	struct engine *e;
	struct work w = { .n = n };
	struct pb_opts syn = {0}, ack = {0};
	size_t len;
	unsigned done;

	if (!c || !d)
		return 1;
	atomic_store(&current, c);
	e = engine_offline(c, d, 1);
	w.msgs = malloc((size_t)n * MSG_MAX);
	w.lens = malloc(n * sizeof(*w.lens));
	w.bufs = malloc(n * sizeof(*w.bufs));
	pb_mss(&syn, 1460);
	pb_sackok(&syn);
	pb_ts(&syn, 123456, 0);
	pb_nop(&syn);
	pb_ws(&syn, 7);
	pb_nop(&ack);
	pb_nop(&ack);
	pb_ts(&ack, 123500, 777);

	if (strcmp(workload, "rewrite") == 0) {
		/* the flow's SYN, outside the measurement */
		uint8_t m[MSG_MAX];

		void *mp = m;
		size_t ml;

		len = pb_build(pkt, &(struct pb_spec){ .opts = &syn });
		ml = put_msg(m, 1, pkt, len, NFQA_SKB_CSUMNOTREADY);
		engine_replay(e, &current, &mp, &ml, 1);
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *m = w.msgs + (size_t)i * MSG_MAX;

		w.bufs[i] = m;
		if (strip) {
			/* many clients: a new source port per SYN. From a NIC the
			 * checksum is final ("strip"); from a veth the kernel
			 * hands it over partial ("strip-veth") */
			len = pb_build(pkt, &(struct pb_spec){ .opts = &syn,
				.sport = (uint16_t)(1024 + i % 60000) });
			if (strcmp(workload, "strip-veth") == 0)
				pb_make_partial(pkt, len);
			w.lens[i] = put_msg(m, 2 + i, pkt, len,
					    strcmp(workload, "strip-veth") == 0 ?
					    NFQA_SKB_CSUMNOTREADY : 0);
		} else if (strcmp(workload, "rewrite") == 0) {
			/* a full-size data segment of the flow (checksum final) */
			len = pb_build(pkt, &(struct pb_spec){ .opts = &ack,
				.flags = TCPF_ACK, .payload = 1448 });
			w.lens[i] = put_msg(m, 2 + i, pkt, len, 0);
		} else {
			/* a data segment of a flow whose SYN was not seen */
			len = pb_build(pkt, &(struct pb_spec){ .opts = &ack,
				.flags = TCPF_ACK, .payload = 1448, .sport = 999 });
			w.lens[i] = put_msg(m, 2 + i, pkt, len, 0);
		}
	}
	done = bench_loop(e, &w);
	{
		struct stats s;

		engine_offline_publish(e);
		engine_stats(e, 0, &s);
		printf("workload=%s packets=%u stripped=%llu rewritten=%llu passed=%llu\n",
		       workload, done, (unsigned long long)s.stripped,
		       (unsigned long long)s.rewritten, (unsigned long long)s.passed);
	}
	free(w.msgs);
	free(w.lens);
	free(w.bufs);
	engine_free(e);
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
