/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_nfq.c - the NFQUEUE messages without a socket: packet messages in
 * (as recvmmsg() returns them), attributes read, packets processed in their
 * receive buffer, verdict messages out, counters; config messages. (What
 * the kernel makes of them is checked end to end by tests/e2e.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "confutil.h"
#include "log.h"
#include "nfq.h"
#include "packet.h"
#include "pktbuild.h"

#define MSG_SIZE (PB_MAX + 512)	/* a multiple of 8: every row aligned */
#define NMSG NFQMSG_BATCH
#define QUEUE 7

static struct conf *conf;
static struct domains *doms;
static struct proc_state ps;
static struct stats st;
static struct nfqmsg_batch *batch;
static _Alignas(8) uint8_t msgs[NMSG][MSG_SIZE];
static size_t mlen[NMSG];
static size_t plen[NMSG];	/* each message's packet length */
static struct iovec rxiov[NMSG];
static struct mmsghdr rx[NMSG];

/* What process_packet() was last given (the linker wraps it, so that
 * what nfqmsg_batch_run() hands it can be seen); it runs as always. */
static struct proc_pkt last_in;
enum proc_result __real_process_packet(const struct conf *c, struct proc_state *pstate,
				       struct proc_pkt *in, struct stats *counters);
enum proc_result __wrap_process_packet(const struct conf *c, struct proc_state *pstate,
				       struct proc_pkt *in, struct stats *counters);
enum proc_result
__wrap_process_packet(const struct conf *c, struct proc_state *pstate, struct proc_pkt *in,
		      struct stats *counters)
{
	last_in = *in;
	return __real_process_packet(c, pstate, in, counters);
}

static int
setup(void **state)
{
	(void)state;
	log_init(LOG_ERR);
	conf = conf_from_text("policies = ( { name = \"web\"; mode = \"strip\";"
			      " destinations = \"198.51.100.0/24\"; } );\n", NULL);
	doms = domains_new(1);
	batch = nfqmsg_batch_new(QUEUE);
	memset(&st, 0, sizeof(st));
	memset(&last_in, 0, sizeof(last_in));
	ps = (struct proc_state){ .domains = doms, .flows = flow_table_new(1024, 1) };
	return conf && doms && batch && ps.flows ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	flow_table_free(ps.flows);
	nfqmsg_batch_free(batch);
	domains_free(doms);
	conf_free(conf);
	return 0;
}

/* Message i: a SYN with MSS/SACK/TS/WS to daddr, described by m. */
static void
put(unsigned i, const char *daddr, struct pb_nfq m)
{
	uint8_t pkt[PB_MAX];
	struct pb_opts o = { 0 };

	pb_mss(&o, 1460);
	pb_sackok(&o);
	pb_ts(&o, 1000 + i, 0);
	pb_nop(&o);
	pb_ws(&o, 7);
	plen[i] = pb_build(pkt, &(struct pb_spec){ .opts = &o, .daddr = daddr,
				.sport = (uint16_t)(30000 + i) });
	if (!m.id)
		m.id = i + 1;
	mlen[i] = pb_nfq_msg(msgs[i], &m, pkt, plen[i]);
}

/* The packet inside message i: the payload is its last attribute. */
static uint8_t *
payload(unsigned i)
{
	return msgs[i] + mlen[i] - MNL_ALIGN(plen[i]);
}

/* Datagram i as recvmmsg() returns it: buffer at base, len bytes. */
static void
dgram(unsigned i, void *base, size_t len)
{
	rxiov[i] = (struct iovec){ .iov_base = base, .iov_len = MSG_SIZE };
	rx[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &rxiov[i], .msg_iovlen = 1 },
				  .msg_len = (unsigned)len };
}

/* Messages 0..n-1 as one batch of n datagrams. */
static struct stats
replay(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		dgram(i, msgs[i], mlen[i]);
	nfqmsg_batch_run(batch, conf, &ps, &st, rx, n);
	return st;
}

static bool
has_ts(unsigned i)
{
	struct pkt p;

	return pkt_parse(payload(i), plen[i], &p) == PKT_OK && p.ts_count > 0;
}

/* All verdicts of the batch, concatenated; returns the byte count. */
static size_t
verdict_bytes(uint8_t *out, size_t cap)
{
	size_t n = 0;

	for (unsigned g = 0; g < nfqmsg_batch_groups(batch); g++) {
		size_t niov;
		struct iovec *iov = nfqmsg_batch_group(batch, g, &niov);

		for (size_t k = 0; k < niov; k++) {
			assert_true(n + iov[k].iov_len <= cap);
			memcpy(out + n, iov[k].iov_base, iov[k].iov_len);
			n += iov[k].iov_len;
		}
	}
	return n;
}

static void
syn_to_strip_destination_is_stripped_in_its_receive_buffer(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ 0 });
	s = replay(1);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.stripped, 1);
	assert_int_equal(s.modified, 1);
	assert_false(has_ts(0));
	assert_true(pb_tcp_csum_ok(payload(0), plen[0]));
}

static void
unknown_attributes_are_skipped(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .unknown_attrs = true });
	s = replay(1);
	assert_int_equal(s.malformed, 0);
	assert_int_equal(s.stripped, 1);
	assert_false(has_ts(0));
}

/* The verdicts of the batch, message by message: type, id, verdict. */
struct seen_verdict {
	bool batch;
	uint32_t id;
	uint32_t verdict;
	uint32_t len;
};

static unsigned
verdicts_of(const struct iovec *iov, size_t niov, struct seen_verdict *out, unsigned max)
{
	static uint8_t buf[NFQMSG_SEND_MAX];
	size_t n = 0, off = 0;
	unsigned k = 0;

	for (size_t i = 0; i < niov; i++) {
		memcpy(buf + n, iov[i].iov_base, iov[i].iov_len);
		n += iov[i].iov_len;
	}
	while (off < n && k < max) {
		const struct nlmsghdr *nlh = (const void *)(buf + off);
		const struct nfqnl_msg_verdict_hdr *vh = (const void *)(buf + off + NLMSG_HDRLEN +
			sizeof(struct nfgenmsg) + NLA_HDRLEN);

		out[k++] = (struct seen_verdict){
			.batch = (nlh->nlmsg_type & 0xff) == NFQNL_MSG_VERDICT_BATCH,
			.id = ntohl(vh->id), .verdict = ntohl(vh->verdict), .len = nlh->nlmsg_len };
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	assert_int_equal(off, n);
	return k;
}

/* The one group's verdicts of the last batch. */
static unsigned
batch_verdicts(struct seen_verdict *out, unsigned max)
{
	size_t niov;
	struct iovec *iov;

	assert_int_equal(nfqmsg_batch_groups(batch), 1);
	iov = nfqmsg_batch_group(batch, 0, &niov);
	return verdicts_of(iov, niov, out, max);
}

static void
short_u32_attribute_rejects_the_message_untouched(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .short_skb_info = true });
	s = replay(1);
	assert_int_equal(s.malformed, 1);
	assert_int_equal(s.passed, 1);
	assert_int_equal(s.modified, 0);
	assert_true(has_ts(0));
}

static void
malformed_message_with_an_id_is_accepted_in_its_batch(void **state)
{
	struct seen_verdict v[4];

	(void)state;
	put(0, NULL, (struct pb_nfq){ .id = 41 });
	put(1, NULL, (struct pb_nfq){ .id = 42, .short_skb_info = true });
	replay(2);
	assert_int_equal(st.malformed, 1);
	assert_int_equal(st.packets, 2);
	/* 41 stripped; 42, the batch's last, covered by the batch verdict */
	assert_int_equal(batch_verdicts(v, 4), 2);
	assert_false(v[0].batch);
	assert_int_equal(v[0].id, 41);
	assert_true(v[1].batch);
	assert_int_equal(v[1].id, 42);
	assert_int_equal(v[1].verdict, NF_ACCEPT);
	assert_true(has_ts(1));
}

static void
message_without_packet_header_is_malformed(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .no_hdr = true });
	s = replay(1);
	assert_int_equal(s.malformed, 1);
	assert_int_equal(s.packets, 0);
	assert_true(has_ts(0));
	/* no id: no verdict can name it (a later batch verdict covers it) */
	assert_int_equal(nfqmsg_batch_groups(batch), 0);
}

static void
message_without_payload_is_counted_truncated(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .no_payload = true });
	s = replay(1);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.truncated, 1);
	assert_int_equal(s.passed, 1);
	assert_int_equal(s.modified, 0);
}

static void
copy_shorter_than_the_packet_is_never_mangled(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .cap_len = (uint32_t)plen[0] + 100 });
	s = replay(1);
	assert_int_equal(s.truncated, 1);
	assert_int_equal(s.modified, 0);
	assert_true(has_ts(0));
}

static void
full_batch_gives_every_packet_one_outcome(void **state)
{
	struct stats s;

	(void)state;
	for (unsigned i = 0; i < NMSG; i++)
		put(i, i % 2 ? "203.0.113.10" : NULL, (struct pb_nfq){ 0 });
	s = replay(NMSG);
	assert_int_equal(s.packets, NMSG);
	assert_int_equal(s.batches, 1);
	assert_int_equal(s.modified, NMSG / 2);
	assert_int_equal(s.passed, NMSG / 2);
	for (unsigned i = 0; i < NMSG; i++) {
		assert_int_equal(has_ts(i), i % 2 == 1);
		assert_true(pb_tcp_csum_ok(payload(i), plen[i]));
	}
}

static void
csum_mode_follows_skb_info(void **state)
{
	(void)state;
	assert_int_equal(nfqmsg_csum_mode(0), CSUM_INCREMENTAL);
	assert_int_equal(nfqmsg_csum_mode(NFQA_SKB_CSUMNOTREADY), CSUM_FULL);
	assert_int_equal(nfqmsg_csum_mode(NFQA_SKB_GSO), CSUM_NONE);
	assert_int_equal(nfqmsg_csum_mode(NFQA_SKB_GSO | NFQA_SKB_CSUMNOTREADY), CSUM_NONE);
	assert_int_equal(nfqmsg_csum_mode(NFQA_SKB_CSUM_NOTVERIFIED), CSUM_INCREMENTAL);
}

static void
parse_reads_every_attribute_the_daemon_uses(void **state)
{
	struct nfqmsg_pkt p;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .id = 4242, .skb_info = NFQA_SKB_CSUMNOTREADY,
				      .cap_len = 1500, .unknown_attrs = true });
	assert_int_equal(nfqmsg_parse((struct nlmsghdr *)msgs[0], &p), 0);
	assert_int_equal(p.id, 4242);
	assert_ptr_equal(p.payload, payload(0));
	assert_int_equal(p.payload_len, plen[0]);
	assert_int_equal(p.cap_len, 1500);
	assert_int_equal(p.skb_info, NFQA_SKB_CSUMNOTREADY);
	assert_int_equal(p.indev, 2);
	assert_int_equal(p.outdev, 3);
	/* the same attributes in a message of another type: not a packet */
	((struct nlmsghdr *)msgs[0])->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG;
	assert_int_equal(nfqmsg_parse((struct nlmsghdr *)msgs[0], &p), -1);
}

/* NFQA_TIMESTAMP: when the kernel received the packet (wall clock), there
 * when the kernel stamps received packets (the engine asks it to). */
static void
parse_reads_the_arrival_time_in_milliseconds(void **state)
{
	struct nfqmsg_pkt p;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .tstamp_us = 1796679488326587ull });
	assert_int_equal(nfqmsg_parse((struct nlmsghdr *)msgs[0], &p), 0);
	assert_true(p.has_tstamp);
	assert_int_equal(p.tstamp_ms, (uint32_t)(1796679488326ull % 4294967296ull));
	put(0, NULL, (struct pb_nfq){ 0 });
	assert_int_equal(nfqmsg_parse((struct nlmsghdr *)msgs[0], &p), 0);
	assert_false(p.has_tstamp);
}

static void
short_timestamp_rejects_the_message(void **state)
{
	struct nfqmsg_pkt p;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .short_tstamp = true });
	assert_int_equal(nfqmsg_parse((struct nlmsghdr *)msgs[0], &p), -1);
}

/* The packet's wait in the kernel before its batch, for the rewrite mode:
 * the batch's wall clock minus the arrival; 0 without a stamp or with one
 * from the future (the wall clock stepped back). */
static void
packet_wait_is_the_batch_clock_minus_the_arrival(void **state)
{
	(void)state;
	assert_int_equal(nfqmsg_wait_ms(true, 1000, 1030), 30);
	assert_int_equal(nfqmsg_wait_ms(true, 4294967290u, 10), 16);	/* wraps */
	assert_int_equal(nfqmsg_wait_ms(true, 1030, 1000), 0);
	assert_int_equal(nfqmsg_wait_ms(false, 1000, 1030), 0);
	assert_int_equal(nfqmsg_wait_ms(true, 0, 1000000), 65535);	/* saturates */
}

/* The message cut at len bytes (nlmsg_len too), in a heap block of exactly
 * that size: a read past it is an ASan error. */
static int
parse_cut(size_t len, struct nfqmsg_pkt *p)
{
	struct nlmsghdr *nlh = malloc(len);
	int ret;

	assert_non_null(nlh);
	memcpy(nlh, msgs[0], len);
	nlh->nlmsg_len = (uint32_t)len;
	ret = nfqmsg_parse(nlh, p);
	free(nlh);
	return ret;
}

static void
parse_never_reads_past_the_message(void **state)
{
	struct nfqmsg_pkt p;

	(void)state;
	put(0, NULL, (struct pb_nfq){ 0 });
	/* every cut: the payload attribute cut is not read, nor anything after */
	for (size_t len = NLMSG_HDRLEN; len < mlen[0]; len++) {
		if (parse_cut(len, &p) == 0)
			assert_null(p.payload);
	}
	assert_int_equal(parse_cut(NLMSG_HDRLEN, &p), -1);
	assert_int_equal(parse_cut(mlen[0], &p), 0);
	assert_int_equal(p.payload_len, plen[0]);
}

/* What libnetfilter_queue writes for a verdict, for comparison. */
static size_t
lib_verdict(uint8_t *buf, int type, uint32_t id, int verdict, const uint8_t *pl, size_t len)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put((char *)buf, type, QUEUE);

	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (pl)
		nfq_nlmsg_verdict_put_pkt(nlh, pl, (uint32_t)len);
	return nlh->nlmsg_len;
}

static void
verdict_messages_are_those_of_libnetfilter_queue(void **state)
{
	static uint8_t got[4096], want[4096];
	const uint8_t pl[] = { 1, 2, 3, 4, 5, 6, 7 };	/* odd: padded */
	struct stats s = { 0 };
	size_t n = 0;

	(void)state;
	nfqmsg_batch_begin(batch);
	assert_int_equal(nfqmsg_batch_add(batch, 10, PROC_PASS, NULL, 0), 0);
	assert_int_equal(nfqmsg_batch_add(batch, 11, PROC_MODIFIED, pl, sizeof(pl)), 0);
	assert_int_equal(nfqmsg_batch_add(batch, 12, PROC_DROP, NULL, 0), 0);
	assert_int_equal(nfqmsg_batch_add(batch, 13, PROC_PASS, NULL, 0), 0);
	nfqmsg_batch_end(batch, &s);
	n += lib_verdict(want + n, NFQNL_MSG_VERDICT, 11, NF_ACCEPT, pl, sizeof(pl));
	n += lib_verdict(want + n, NFQNL_MSG_VERDICT, 12, NF_DROP, NULL, 0);
	n += lib_verdict(want + n, NFQNL_MSG_VERDICT_BATCH, 13, NF_ACCEPT, NULL, 0);
	assert_int_equal(nfqmsg_batch_groups(batch), 1);
	assert_int_equal(verdict_bytes(got, sizeof(got)), n);
	assert_memory_equal(got, want, n);
	assert_int_equal(s.modified, 1);
	assert_int_equal(s.passed, 2);
}

static void
modified_payload_is_sent_from_its_receive_buffer(void **state)
{
	size_t niov;
	struct iovec *iov;

	(void)state;
	put(0, NULL, (struct pb_nfq){ 0 });
	replay(1);
	assert_int_equal(nfqmsg_batch_groups(batch), 1);
	iov = nfqmsg_batch_group(batch, 0, &niov);
	assert_true(niov >= 2);
	assert_ptr_equal(iov[1].iov_base, payload(0));
	assert_int_equal(iov[1].iov_len, plen[0]);
}

static void
verdicts_split_into_sends_under_one_mebibyte(void **state)
{
	size_t big = 0xffff - NLA_HDRLEN, sent = 0;
	uint8_t *pl = calloc(1, big + 1);
	struct stats s = { 0 };

	(void)state;
	assert_non_null(pl);
	nfqmsg_batch_begin(batch);
	assert_int_equal(nfqmsg_batch_add(batch, 1, PROC_MODIFIED, pl, big + 1), -1);
	for (unsigned i = 0; i < NFQMSG_BATCH; i++)
		assert_int_equal(nfqmsg_batch_add(batch, 1 + i, PROC_MODIFIED, pl, big), 0);
	/* the table of modified packets is full; untouched ones still fit */
	assert_int_equal(nfqmsg_batch_add(batch, 100, PROC_MODIFIED, pl, 10), -1);
	assert_int_equal(nfqmsg_batch_add(batch, 100, PROC_DROP, NULL, 0), -1);
	assert_int_equal(nfqmsg_batch_add(batch, 100, PROC_PASS, NULL, 0), 0);
	nfqmsg_batch_end(batch, &s);
	assert_true(nfqmsg_batch_groups(batch) > 1);
	for (unsigned g = 0; g < nfqmsg_batch_groups(batch); g++) {
		size_t niov, bytes = 0;
		struct iovec *iov = nfqmsg_batch_group(batch, g, &niov);
		const struct nlmsghdr *first = iov[0].iov_base;

		/* whole messages: each group starts with a header */
		assert_int_equal(first->nlmsg_type >> 8, NFNL_SUBSYS_QUEUE);
		for (size_t k = 0; k < niov; k++)
			bytes += iov[k].iov_len;
		assert_true(bytes <= NFQMSG_SEND_MAX);
		sent += bytes;
	}
	assert_int_equal(sent, NFQMSG_BATCH * (36 + MNL_ALIGN(big)) + 32);
	assert_int_equal(s.modified, NFQMSG_BATCH);
	free(pl);
}

/* An NLMSG_ERROR message with error err into buf; returns its length. */
static size_t
put_error(uint8_t *buf, int err)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));

	nlh->nlmsg_type = NLMSG_ERROR;
	e->error = err;
	return nlh->nlmsg_len;
}

static void
async_verdict_error_is_counted_and_the_walk_goes_on(void **state)
{
	static _Alignas(8) uint8_t d[3 * MSG_SIZE];
	size_t n = 0;
	struct nlmsghdr *noop;
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ 0 });
	n += put_error(d + n, -EINVAL);
	n += put_error(d + n, 0);		/* an ack: no error */
	noop = mnl_nlmsg_put_header(d + n);
	noop->nlmsg_type = NLMSG_NOOP;
	n += noop->nlmsg_len;
	memcpy(d + n, msgs[0], mlen[0]);
	n += mlen[0];
	dgram(0, d, n);
	nfqmsg_batch_run(batch, conf, &ps, &st, rx, 1);
	s = st;
	assert_int_equal(s.verdict_errors, 1);
	assert_int_equal(s.packets, 1);
	assert_int_equal(s.stripped, 1);
	assert_int_equal(s.malformed, 0);
}

static void
datagram_cut_short_is_malformed_and_accepted_untouched(void **state)
{
	struct seen_verdict v[2];
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .id = 77 });
	dgram(0, msgs[0], mlen[0] - 8);
	nfqmsg_batch_run(batch, conf, &ps, &st, rx, 1);
	s = st;
	assert_int_equal(s.malformed, 1);
	assert_int_equal(s.passed, 1);
	assert_true(has_ts(0));
	assert_int_equal(batch_verdicts(v, 2), 1);
	assert_true(v[0].batch);
	assert_int_equal(v[0].id, 77);
}

static void
batch_verdict_covers_the_highest_id_of_the_batch(void **state)
{
	struct seen_verdict v[2];
	struct stats s = { 0 };

	(void)state;
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add(batch, 9, PROC_PASS, NULL, 0);
	nfqmsg_batch_add(batch, 5, PROC_PASS, NULL, 0);	/* never from a kernel */
	nfqmsg_batch_end(batch, &s);
	assert_int_equal(batch_verdicts(v, 2), 1);
	assert_int_equal(v[0].id, 9);
}

static void
fallback_drops_modified_packets_and_accepts_the_rest(void **state)
{
	const uint8_t pl[] = { 1, 2, 3, 4 };
	struct seen_verdict v[8];
	struct stats s = { 0 };
	struct iovec *iov;
	size_t niov;

	(void)state;
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add(batch, 20, PROC_PASS, NULL, 0);
	nfqmsg_batch_add(batch, 21, PROC_MODIFIED, pl, sizeof(pl));
	nfqmsg_batch_add(batch, 22, PROC_DROP, NULL, 0);
	nfqmsg_batch_add(batch, 23, PROC_MODIFIED, pl, sizeof(pl));
	nfqmsg_batch_add(batch, 24, PROC_PASS, NULL, 0);
	nfqmsg_batch_end(batch, &s);
	iov = nfqmsg_batch_fallback(batch, 0, &niov);
	assert_int_equal(verdicts_of(iov, niov, v, 8), 4);
	for (unsigned i = 0; i < 3; i++) {
		assert_false(v[i].batch);
		assert_int_equal(v[i].id, 21 + i);
		assert_int_equal(v[i].verdict, NF_DROP);
		assert_int_equal(v[i].len, 32);		/* no payload */
	}
	assert_true(v[3].batch);
	assert_int_equal(v[3].id, 24);
	assert_int_equal(v[3].verdict, NF_ACCEPT);
	/* the group itself is still there to retry */
	assert_int_equal(batch_verdicts(v, 8), 4);
	assert_int_equal(v[0].id, 21);
	assert_int_equal(v[0].verdict, NF_ACCEPT);
}

static void
fallback_of_a_middle_group_stops_at_that_groups_top_id(void **state)
{
	size_t big = 0xffff - NLA_HDRLEN, niov, niov1;
	uint8_t *pl = calloc(1, big);
	struct seen_verdict v[NFQMSG_BATCH + 1];
	struct stats s = { 0 };
	struct iovec *iov;
	unsigned n;

	(void)state;
	assert_non_null(pl);
	nfqmsg_batch_begin(batch);
	for (unsigned i = 0; i < 40; i++)
		nfqmsg_batch_add(batch, 100 + i, i % 2 ? PROC_PASS : PROC_MODIFIED, pl, big);
	nfqmsg_batch_end(batch, &s);
	assert_int_equal(nfqmsg_batch_groups(batch), 2);
	nfqmsg_batch_group(batch, 1, &niov1);
	iov = nfqmsg_batch_fallback(batch, 0, &niov);
	n = verdicts_of(iov, niov, v, NFQMSG_BATCH + 1);
	/* group 0 holds the first 15 modified ones (16 would pass 1 MiB) */
	assert_int_equal(n, 16);
	assert_int_equal(v[14].id, 128);
	assert_int_equal(v[14].verdict, NF_DROP);
	assert_true(v[15].batch);
	assert_int_equal(v[15].id, 128);
	/* group 1 is untouched by it */
	nfqmsg_batch_group(batch, 1, &niov);
	assert_int_equal(niov, niov1);
	free(pl);
}


static void
misaligned_datagram_is_never_read(void **state)
{
	struct stats s;

	(void)state;
	put(0, NULL, (struct pb_nfq){ 0 });
	memmove(msgs[0] + 1, msgs[0], mlen[0]);
	dgram(0, msgs[0] + 1, mlen[0]);
	nfqmsg_batch_run(batch, conf, &ps, &st, rx, 1);
	s = st;
	assert_int_equal(s.malformed, 1);
	assert_int_equal(s.packets, 0);
}

static void
sweep_accepts_up_to_the_highest_id_seen(void **state)
{
	struct stats s = { 0 };
	size_t niov;
	struct iovec *iov;
	const struct nfqnl_msg_verdict_hdr *vh;

	(void)state;
	assert_false(nfqmsg_batch_sweep(batch));
	assert_int_equal(nfqmsg_batch_groups(batch), 0);
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add(batch, 0xfffffff0u, PROC_PASS, NULL, 0);
	nfqmsg_batch_end(batch, &s);
	nfqmsg_batch_seen(batch, 5);		/* after a wrap of the ids */
	nfqmsg_batch_seen(batch, 3);
	assert_true(nfqmsg_batch_sweep(batch));
	assert_int_equal(nfqmsg_batch_groups(batch), 1);
	iov = nfqmsg_batch_group(batch, 0, &niov);
	assert_int_equal(niov, 1);
	assert_int_equal(((struct nlmsghdr *)iov[0].iov_base)->nlmsg_type,
			 (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH);
	vh = (const void *)((uint8_t *)iov[0].iov_base + NLMSG_HDRLEN +
			    sizeof(struct nfgenmsg) + NLA_HDRLEN);
	assert_int_equal(ntohl(vh->id), 5);
	assert_int_equal(ntohl(vh->verdict), NF_ACCEPT);
}

/* ---- the conntrack glue: NFQA_CT in, NFQA_CT out ---- */

/* Labels with a pattern, so that a byte out of place shows. */
static void
labels_fill(uint8_t *l, uint8_t seed)
{
	for (unsigned i = 0; i < NFQMSG_CT_LABELS; i++)
		l[i] = (uint8_t)(seed + 17 * i);
}

/* Message 0 with the conntrack entry ct; parsed into *p. */
static int
parse_ct(const struct pb_ct *ct, struct nfqmsg_pkt *p)
{
	put(0, NULL, (struct pb_nfq){ .ct = ct });
	return nfqmsg_parse((struct nlmsghdr *)msgs[0], p);
}

static void
parse_reads_the_conntrack_status_mark_id_and_info(void **state)
{
	struct pb_ct ct = { .status = IPS_CONFIRMED | IPS_DST_NAT | IPS_DST_NAT_DONE,
			    .mark = 0x42, .id = 0xdeadbeef, .info = IP_CT_NEW };
	struct nfqmsg_pkt p;

	(void)state;
	assert_int_equal(parse_ct(&ct, &p), 0);
	assert_true(p.has_ct);
	assert_int_equal(p.ct_status, IPS_CONFIRMED | IPS_DST_NAT | IPS_DST_NAT_DONE);
	assert_int_equal(p.ct_mark, 0x42);
	assert_true(p.has_ct_id);
	assert_int_equal(p.ct_id, 0xdeadbeef);
	assert_true(p.has_ct_info);
	assert_int_equal(p.ct_info, IP_CT_NEW);
	assert_false(p.ct_malformed);
	/* the rest of the message as without it */
	assert_ptr_equal(p.payload, payload(0));
	assert_int_equal(p.payload_len, plen[0]);
}

static void
parse_reads_the_conntrack_labels(void **state)
{
	struct pb_ct ct = { .status = IPS_CONFIRMED, .has_labels = true };
	struct nfqmsg_pkt p;

	(void)state;
	labels_fill(ct.labels, 3);
	assert_int_equal(parse_ct(&ct, &p), 0);
	assert_true(p.has_ct);
	assert_true(p.has_ct_labels);
	assert_memory_equal(p.ct_labels, ct.labels, NFQMSG_CT_LABELS);
}

/* The kernel sends no CTA_LABELS while no label is set, and no CTA_MARK
 * for mark 0 (before 6.2): both read as 0. */
static void
conntrack_without_labels_or_mark_reads_as_zero(void **state)
{
	static const uint8_t zero[NFQMSG_CT_LABELS];
	struct pb_ct ct = { .status = IPS_SRC_NAT };
	struct nfqmsg_pkt p;

	(void)state;
	assert_int_equal(parse_ct(&ct, &p), 0);
	assert_true(p.has_ct);
	assert_int_equal(p.ct_status, IPS_SRC_NAT);
	assert_false(p.has_ct_labels);
	assert_memory_equal(p.ct_labels, zero, NFQMSG_CT_LABELS);
	assert_int_equal(p.ct_mark, 0);
}

/* No glue (or no entry, an untracked packet): no conntrack, nothing wrong. */
static void
message_without_conntrack_has_none(void **state)
{
	struct nfqmsg_pkt p;

	(void)state;
	put(0, NULL, (struct pb_nfq){ 0 });
	assert_int_equal(nfqmsg_parse((struct nlmsghdr *)msgs[0], &p), 0);
	assert_false(p.has_ct);
	assert_false(p.has_ct_info);
	assert_false(p.ct_malformed);
}

/* A broken NFQA_CT never costs the packet: it parses, without conntrack. */
static void
assert_ct_ignored(const struct pb_ct *ct)
{
	static const uint8_t zero[NFQMSG_CT_LABELS];
	struct nfqmsg_pkt p;

	assert_int_equal(parse_ct(ct, &p), 0);
	assert_false(p.has_ct);
	assert_int_equal(p.ct_status, 0);
	assert_false(p.has_ct_labels);
	assert_memory_equal(p.ct_labels, zero, NFQMSG_CT_LABELS);
	assert_false(p.has_ct_id);
	assert_true(p.ct_malformed);
	assert_ptr_equal(p.payload, payload(0));
}

static void
short_conntrack_status_leaves_the_packet_without_conntrack(void **state)
{
	(void)state;
	assert_ct_ignored(&(struct pb_ct){ .short_status = true, .has_labels = true });
}

static void
conntrack_without_status_leaves_the_packet_without_conntrack(void **state)
{
	(void)state;
	assert_ct_ignored(&(struct pb_ct){ .no_status = true, .id = 5 });
}

static void
short_conntrack_labels_leave_the_packet_without_conntrack(void **state)
{
	(void)state;
	assert_ct_ignored(&(struct pb_ct){ .status = IPS_DST_NAT, .short_labels = true });
}

static void
attribute_past_the_conntrack_nest_leaves_the_packet_without_conntrack(void **state)
{
	(void)state;
	assert_ct_ignored(&(struct pb_ct){ .status = IPS_DST_NAT, .has_labels = true,
					   .overrun = true });
}

static void
short_conntrack_info_is_ignored_alone(void **state)
{
	struct nfqmsg_pkt p;

	(void)state;
	assert_int_equal(parse_ct(&(struct pb_ct){ .status = IPS_DST_NAT, .short_info = true }, &p),
			 0);
	assert_true(p.has_ct);
	assert_false(p.has_ct_info);
	assert_true(p.ct_malformed);
}

/* Every cut of a message with NFQA_CT: nothing read past the cut. */
static void
parse_never_reads_past_a_conntrack_nest(void **state)
{
	struct pb_ct ct = { .status = IPS_DST_NAT, .has_labels = true, .mark = 9 };
	struct nfqmsg_pkt p;

	(void)state;
	put(0, NULL, (struct pb_nfq){ .ct = &ct });
	for (size_t len = NLMSG_HDRLEN; len < mlen[0]; len++)
		parse_cut(len, &p);
	assert_int_equal(parse_cut(mlen[0], &p), 0);
	assert_true(p.has_ct);
}

/* In a batch: the packet is handled as always, its conntrack handed to
 * process_packet(), a broken one counted. */
static void
conntrack_reaches_process_packet(void **state)
{
	struct pb_ct ct = { .status = IPS_DST_NAT, .has_labels = true };

	(void)state;
	labels_fill(ct.labels, 9);
	put(0, NULL, (struct pb_nfq){ .ct = &ct });
	replay(1);
	assert_true(last_in.has_ct);
	assert_int_equal(last_in.ct_status, IPS_DST_NAT);
	assert_true(last_in.has_ct_labels);
	assert_memory_equal(last_in.ct_labels, ct.labels, NFQMSG_CT_LABELS);
	assert_int_equal(st.stripped, 1);
	assert_int_equal(st.ct_malformed, 0);
}

static void
broken_conntrack_is_counted_and_the_packet_handled_without_it(void **state)
{
	(void)state;
	put(0, NULL, (struct pb_nfq){ .ct = &(struct pb_ct){ .status = IPS_DST_NAT,
							     .short_labels = true } });
	replay(1);
	assert_false(last_in.has_ct);
	assert_int_equal(st.ct_malformed, 1);
	assert_int_equal(st.malformed, 0);
	assert_int_equal(st.stripped, 1);
	assert_false(has_ts(0));
}

/* The attributes of the one verdict message at msg (after its nfgenmsg). */
static void
verdict_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	const struct nlattr *a;

	memset(tb, 0, (NFQA_MAX + 1) * sizeof(*tb));
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		assert_true(mnl_attr_get_type(a) <= NFQA_MAX);
		tb[mnl_attr_get_type(a)] = a;
	}
}

/* NFQA_CT of a verdict as the kernel reads it (ctnetlink_glue_parse: a
 * nest, flagged so; CTA_LABELS and CTA_LABELS_MASK of the same length,
 * a multiple of 4): its labels and mask. */
static void
verdict_ct(const struct nlattr *ct, uint8_t *labels, uint8_t *mask)
{
	const struct nlattr *a, *l = NULL, *m = NULL;

	assert_non_null(ct);
	assert_true(ct->nla_type & NLA_F_NESTED);
	mnl_attr_for_each_nested(a, ct) {
		assert_true(mnl_attr_get_type(a) == CTA_LABELS ||
			    mnl_attr_get_type(a) == CTA_LABELS_MASK);
		if (mnl_attr_get_type(a) == CTA_LABELS)
			l = a;
		else
			m = a;
	}
	assert_non_null(l);
	assert_non_null(m);
	assert_int_equal(mnl_attr_validate2(l, MNL_TYPE_BINARY, NFQMSG_CT_LABELS), 0);
	assert_int_equal(mnl_attr_get_payload_len(l), NFQMSG_CT_LABELS);
	assert_int_equal(mnl_attr_get_payload_len(m), NFQMSG_CT_LABELS);
	memcpy(labels, mnl_attr_get_payload(l), NFQMSG_CT_LABELS);
	memcpy(mask, mnl_attr_get_payload(m), NFQMSG_CT_LABELS);
}

static struct nfqmsg_ct_labels
ct_labels(uint8_t seed)
{
	struct nfqmsg_ct_labels ct;

	labels_fill(ct.labels, seed);
	labels_fill(ct.mask, (uint8_t)(seed + 100));
	return ct;
}

static void
modified_verdict_with_labels_carries_payload_and_nfqa_ct(void **state)
{
	static uint8_t got[4096];
	const uint8_t pl[] = { 1, 2, 3, 4, 5, 6, 7 };	/* odd: padded */
	struct nfqmsg_ct_labels ct = ct_labels(1);
	const struct nlattr *tb[NFQA_MAX + 1];
	const struct nlmsghdr *nlh = (const void *)got;
	const struct nfqnl_msg_verdict_hdr *vh;
	uint8_t l[NFQMSG_CT_LABELS], m[NFQMSG_CT_LABELS];
	struct stats s = { 0 };
	size_t n;

	(void)state;
	nfqmsg_batch_begin(batch);
	assert_int_equal(nfqmsg_batch_add_ct(batch, 11, PROC_MODIFIED, pl, sizeof(pl), &ct), 0);
	nfqmsg_batch_end(batch, &s);
	n = verdict_bytes(got, sizeof(got));
	assert_int_equal(nlh->nlmsg_len, n);	/* one message, all of it */
	assert_int_equal(nlh->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT);
	verdict_attrs(nlh, tb);
	vh = mnl_attr_get_payload(tb[NFQA_VERDICT_HDR]);
	assert_int_equal(ntohl(vh->id), 11);
	assert_int_equal(ntohl(vh->verdict), NF_ACCEPT);
	assert_int_equal(mnl_attr_get_payload_len(tb[NFQA_PAYLOAD]), sizeof(pl));
	assert_memory_equal(mnl_attr_get_payload(tb[NFQA_PAYLOAD]), pl, sizeof(pl));
	verdict_ct(tb[NFQA_CT], l, m);
	assert_memory_equal(l, ct.labels, NFQMSG_CT_LABELS);
	assert_memory_equal(m, ct.mask, NFQMSG_CT_LABELS);
	assert_int_equal(s.modified, 1);
}

/* Byte for byte what libnetfilter_queue and libmnl would write. */
static void
verdict_with_labels_is_what_libmnl_would_build(void **state)
{
	static uint8_t got[4096], want[4096];
	const uint8_t pl[] = { 9, 8, 7, 6, 5 };
	struct nfqmsg_ct_labels ct = ct_labels(7);
	struct nlmsghdr *nlh = nfq_nlmsg_put((char *)want, NFQNL_MSG_VERDICT, QUEUE);
	struct nlattr *nest;
	struct stats s = { 0 };

	(void)state;
	nfq_nlmsg_verdict_put(nlh, 12, NF_ACCEPT);
	nfq_nlmsg_verdict_put_pkt(nlh, pl, sizeof(pl));
	nest = mnl_attr_nest_start(nlh, NFQA_CT);
	mnl_attr_put(nlh, CTA_LABELS, NFQMSG_CT_LABELS, ct.labels);
	mnl_attr_put(nlh, CTA_LABELS_MASK, NFQMSG_CT_LABELS, ct.mask);
	mnl_attr_nest_end(nlh, nest);
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add_ct(batch, 12, PROC_MODIFIED, pl, sizeof(pl), &ct);
	nfqmsg_batch_end(batch, &s);
	assert_int_equal(verdict_bytes(got, sizeof(got)), nlh->nlmsg_len);
	assert_memory_equal(got, want, nlh->nlmsg_len);
}

/* A batch verdict carries no NFQA_CT: an untouched packet that sets labels
 * gets a verdict of its own, the others stay in the batch verdict. */
static void
untouched_packet_with_labels_gets_a_verdict_of_its_own(void **state)
{
	static uint8_t got[4096];
	struct nfqmsg_ct_labels ct = ct_labels(5);
	struct seen_verdict v[4];
	const struct nlattr *tb[NFQA_MAX + 1];
	uint8_t l[NFQMSG_CT_LABELS], m[NFQMSG_CT_LABELS];
	struct stats s = { 0 };

	(void)state;
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add(batch, 30, PROC_PASS, NULL, 0);
	assert_int_equal(nfqmsg_batch_add_ct(batch, 31, PROC_PASS, NULL, 0, &ct), 0);
	nfqmsg_batch_add(batch, 32, PROC_PASS, NULL, 0);
	nfqmsg_batch_end(batch, &s);
	assert_int_equal(batch_verdicts(v, 4), 2);
	assert_false(v[0].batch);
	assert_int_equal(v[0].id, 31);
	assert_int_equal(v[0].verdict, NF_ACCEPT);
	assert_true(v[1].batch);
	assert_int_equal(v[1].id, 32);
	verdict_bytes(got, sizeof(got));
	verdict_attrs((const struct nlmsghdr *)got, tb);
	assert_null(tb[NFQA_PAYLOAD]);		/* accepted as it is */
	verdict_ct(tb[NFQA_CT], l, m);
	assert_memory_equal(l, ct.labels, NFQMSG_CT_LABELS);
	assert_int_equal(s.passed, 3);
	assert_int_equal(s.modified, 0);
}

/* Alone, it needs no batch verdict (one naming ids already answered would
 * come back as an error). */
static void
lone_untouched_packet_with_labels_sends_no_batch_verdict(void **state)
{
	struct nfqmsg_ct_labels ct = ct_labels(2);
	struct seen_verdict v[2];
	struct stats s = { 0 };

	(void)state;
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add_ct(batch, 40, PROC_PASS, NULL, 0, &ct);
	nfqmsg_batch_end(batch, &s);
	assert_int_equal(batch_verdicts(v, 2), 1);
	assert_false(v[0].batch);
	assert_int_equal(v[0].id, 40);
	assert_int_equal(s.passed, 1);
}

static void
dropped_packet_sends_no_labels(void **state)
{
	struct nfqmsg_ct_labels ct = ct_labels(4);
	struct seen_verdict v[2];
	struct stats s = { 0 };

	(void)state;
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add_ct(batch, 50, PROC_DROP, NULL, 0, &ct);
	nfqmsg_batch_end(batch, &s);
	assert_int_equal(batch_verdicts(v, 2), 1);
	assert_int_equal(v[0].verdict, NF_DROP);
	assert_int_equal(v[0].len, 32);		/* header and verdict only */
}

static void
verdict_without_labels_is_the_plain_one(void **state)
{
	static uint8_t a[4096], b[4096];
	const uint8_t pl[] = { 1, 2, 3 };
	struct stats s = { 0 };
	size_t na;

	(void)state;
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add(batch, 60, PROC_MODIFIED, pl, sizeof(pl));
	nfqmsg_batch_add(batch, 61, PROC_PASS, NULL, 0);
	nfqmsg_batch_end(batch, &s);
	na = verdict_bytes(a, sizeof(a));
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add_ct(batch, 60, PROC_MODIFIED, pl, sizeof(pl), NULL);
	nfqmsg_batch_add_ct(batch, 61, PROC_PASS, NULL, 0, NULL);
	nfqmsg_batch_end(batch, &s);
	assert_int_equal(verdict_bytes(b, sizeof(b)), na);
	assert_memory_equal(a, b, na);
}

/* Its own verdicts count against the batch's NFQMSG_BATCH. */
static void
labels_find_no_room_in_a_full_batch(void **state)
{
	struct nfqmsg_ct_labels ct = ct_labels(6);
	struct stats s = { 0 };

	(void)state;
	nfqmsg_batch_begin(batch);
	for (unsigned i = 0; i < NFQMSG_BATCH; i++)
		assert_int_equal(nfqmsg_batch_add_ct(batch, i + 1, PROC_PASS, NULL, 0, &ct), 0);
	assert_int_equal(nfqmsg_batch_add_ct(batch, 100, PROC_PASS, NULL, 0, &ct), -1);
	assert_int_equal(nfqmsg_batch_add(batch, 100, PROC_PASS, NULL, 0), 0);
	nfqmsg_batch_end(batch, &s);
	assert_int_equal(s.passed, NFQMSG_BATCH + 1);
}

/* A failed send's fallback: the untouched packet is accepted (without its
 * labels), never dropped as the modified ones are. */
static void
fallback_accepts_an_untouched_packet_with_labels(void **state)
{
	const uint8_t pl[] = { 1, 2, 3, 4 };
	struct nfqmsg_ct_labels ct = ct_labels(8);
	struct seen_verdict v[4];
	struct stats s = { 0 };
	struct iovec *iov;
	size_t niov;

	(void)state;
	nfqmsg_batch_begin(batch);
	nfqmsg_batch_add_ct(batch, 70, PROC_MODIFIED, pl, sizeof(pl), &ct);
	nfqmsg_batch_add_ct(batch, 71, PROC_PASS, NULL, 0, &ct);
	nfqmsg_batch_end(batch, &s);
	iov = nfqmsg_batch_fallback(batch, 0, &niov);
	assert_int_equal(verdicts_of(iov, niov, v, 4), 2);
	assert_int_equal(v[0].id, 70);
	assert_int_equal(v[0].verdict, NF_DROP);
	assert_true(v[1].batch);
	assert_int_equal(v[1].id, 71);
	assert_int_equal(v[1].verdict, NF_ACCEPT);
}

/* The attributes of config message nlh, by type. */
static void
config_attrs(const struct nlmsghdr *nlh, const struct nlattr **tb)
{
	const struct nlattr *a;

	memset(tb, 0, (NFQA_CFG_MAX + 1) * sizeof(*tb));
	assert_int_equal(nlh->nlmsg_type, (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_CONFIG);
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, 99);
	assert_true(nlh->nlmsg_len <= NFQMSG_CONFIG_SIZE);
	assert_int_equal(ntohs(((const struct nfgenmsg *)NLMSG_DATA(nlh))->res_id), QUEUE);
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) <= NFQA_CFG_MAX)
			tb[mnl_attr_get_type(a)] = a;
}

static void
config_bind_is_one_message_with_copy_mode_maxlen_and_flags(void **state)
{
	_Alignas(8) uint8_t buf[NFQMSG_CONFIG_SIZE];
	const struct nlattr *tb[NFQA_CFG_MAX + 1];
	const struct nfqnl_msg_config_cmd *cmd;
	const struct nfqnl_msg_config_params *par;
	uint32_t want = htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO);

	(void)state;
	config_attrs(nfqmsg_config_bind(buf, QUEUE, 4096, 99), tb);
	assert_non_null(tb[NFQA_CFG_CMD]);
	cmd = mnl_attr_get_payload(tb[NFQA_CFG_CMD]);
	assert_int_equal(cmd->command, NFQNL_CFG_CMD_BIND);
	assert_non_null(tb[NFQA_CFG_PARAMS]);
	par = mnl_attr_get_payload(tb[NFQA_CFG_PARAMS]);
	assert_int_equal(par->copy_mode, NFQNL_COPY_PACKET);
	assert_int_equal(ntohl(par->copy_range), 0xffff);
	assert_int_equal(ntohl(mnl_attr_get_u32(tb[NFQA_CFG_QUEUE_MAXLEN])), 4096);
	assert_int_equal(mnl_attr_get_u32(tb[NFQA_CFG_FLAGS]), want);
	assert_int_equal(mnl_attr_get_u32(tb[NFQA_CFG_MASK]), want);
}

static void
config_maxlen_and_conntrack_carry_only_their_setting(void **state)
{
	_Alignas(8) uint8_t buf[NFQMSG_CONFIG_SIZE];
	const struct nlattr *tb[NFQA_CFG_MAX + 1];

	(void)state;
	config_attrs(nfqmsg_config_maxlen(buf, QUEUE, 0, 99), tb);
	assert_null(tb[NFQA_CFG_CMD]);
	assert_null(tb[NFQA_CFG_FLAGS]);
	assert_int_equal(mnl_attr_get_u32(tb[NFQA_CFG_QUEUE_MAXLEN]), 0);
	config_attrs(nfqmsg_config_conntrack(buf, QUEUE, 99), tb);
	assert_null(tb[NFQA_CFG_CMD]);
	assert_null(tb[NFQA_CFG_QUEUE_MAXLEN]);
	assert_int_equal(mnl_attr_get_u32(tb[NFQA_CFG_FLAGS]), htonl(NFQA_CFG_F_CONNTRACK));
	assert_int_equal(mnl_attr_get_u32(tb[NFQA_CFG_MASK]), htonl(NFQA_CFG_F_CONNTRACK));
}

static void
every_receive_slot_of_a_page_aligned_ring_is_aligned(void **state)
{
	uint8_t *ring = aligned_alloc(NFQMSG_PAGE, (size_t)NFQMSG_BATCH * NFQMSG_SLOT);

	(void)state;
	assert_non_null(ring);
	assert_true(NFQMSG_SLOT >= 0xffff + 4096);
	assert_int_equal(NFQMSG_SLOT % NFQMSG_PAGE, 0);
	for (unsigned i = 0; i < NFQMSG_BATCH; i++)
		assert_int_equal((uintptr_t)(ring + (size_t)i * NFQMSG_SLOT) % _Alignof(max_align_t), 0);
	free(ring);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(syn_to_strip_destination_is_stripped_in_its_receive_buffer),
		T(unknown_attributes_are_skipped),
		T(short_u32_attribute_rejects_the_message_untouched),
		T(malformed_message_with_an_id_is_accepted_in_its_batch),
		T(batch_verdict_covers_the_highest_id_of_the_batch),
		T(fallback_drops_modified_packets_and_accepts_the_rest),
		T(fallback_of_a_middle_group_stops_at_that_groups_top_id),
		T(message_without_packet_header_is_malformed),
		T(message_without_payload_is_counted_truncated),
		T(copy_shorter_than_the_packet_is_never_mangled),
		T(full_batch_gives_every_packet_one_outcome),
		T(csum_mode_follows_skb_info),
		T(parse_reads_every_attribute_the_daemon_uses),
		T(parse_reads_the_arrival_time_in_milliseconds),
		T(short_timestamp_rejects_the_message),
		T(packet_wait_is_the_batch_clock_minus_the_arrival),
		T(parse_never_reads_past_the_message),
		T(verdict_messages_are_those_of_libnetfilter_queue),
		T(modified_payload_is_sent_from_its_receive_buffer),
		T(verdicts_split_into_sends_under_one_mebibyte),
		T(async_verdict_error_is_counted_and_the_walk_goes_on),
		T(datagram_cut_short_is_malformed_and_accepted_untouched),
		T(misaligned_datagram_is_never_read),
		T(sweep_accepts_up_to_the_highest_id_seen),
		T(parse_reads_the_conntrack_status_mark_id_and_info),
		T(parse_reads_the_conntrack_labels),
		T(conntrack_without_labels_or_mark_reads_as_zero),
		T(message_without_conntrack_has_none),
		T(short_conntrack_status_leaves_the_packet_without_conntrack),
		T(conntrack_without_status_leaves_the_packet_without_conntrack),
		T(short_conntrack_labels_leave_the_packet_without_conntrack),
		T(attribute_past_the_conntrack_nest_leaves_the_packet_without_conntrack),
		T(short_conntrack_info_is_ignored_alone),
		T(parse_never_reads_past_a_conntrack_nest),
		T(conntrack_reaches_process_packet),
		T(broken_conntrack_is_counted_and_the_packet_handled_without_it),
		T(modified_verdict_with_labels_carries_payload_and_nfqa_ct),
		T(verdict_with_labels_is_what_libmnl_would_build),
		T(untouched_packet_with_labels_gets_a_verdict_of_its_own),
		T(lone_untouched_packet_with_labels_sends_no_batch_verdict),
		T(dropped_packet_sends_no_labels),
		T(verdict_without_labels_is_the_plain_one),
		T(labels_find_no_room_in_a_full_batch),
		T(fallback_accepts_an_untouched_packet_with_labels),
		T(config_bind_is_one_message_with_copy_mode_maxlen_and_flags),
		T(config_maxlen_and_conntrack_carry_only_their_setting),
		T(every_receive_slot_of_a_page_aligned_ring_is_aligned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
