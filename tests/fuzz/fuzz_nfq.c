/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_nfq.c - libFuzzer: arbitrary datagrams, as recvmmsg() would hand
 * them over, through nfqmsg_batch_run() with a small configuration (a
 * strip and a rewrite policy), under ASan/UBSan. The verdicts it builds
 * must be well formed: whole messages per group, each group under
 * NFQMSG_SEND_MAX; only NFQNL_MSG_VERDICT (accept with a payload of the
 * announced length, or drop without one) and at most one trailing
 * NFQNL_MSG_VERDICT_BATCH (accept); only ids of packets in the input; and
 * every packet whose id can be read is answered in this batch, by its own
 * verdict or by the batch verdict.
 *
 * Input: records of [len_hi][len_lo][len bytes], one datagram each (at
 * most NFQMSG_BATCH), each copied to its own heap block of exactly len
 * bytes, so that a read past it is an ASan error. */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "conf.h"
#include "domain.h"
#include "flow.h"
#include "nfq.h"
#include "policy.h"
#include "process.h"

#define QUEUE 3
#define MAX_IDS (NFQMSG_BATCH * 64)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct conf conf;
static struct policy pol[2];
static struct cidr cidrs[3];

static void
cidr(struct cidr *c, const char *s)
{
	char err[128];

	if (cidr_parse(s, c, err, sizeof(err)) < 0)
		abort();
}

/* Built in code: this fuzzer links no libconfig. */
static void
conf_init(void)
{
	long n;

	cidr(&cidrs[0], "198.51.100.0/25");
	cidr(&cidrs[1], "198.51.100.128/25");
	cidr(&cidrs[2], "2001:db8:1::/64");
	pol[0] = (struct policy){ .name = "old", .mode = MODE_REWRITE,
		.dst = &cidrs[0], .ndst = 1, .ts_auto = true };
	pol[1] = (struct policy){ .name = "web", .mode = MODE_STRIP,
		.dst = &cidrs[1], .ndst = 2 };
	conf = (struct conf){ .enabled = true, .flows_on_full = ON_FULL_EVICT_IDLE,
		.flows_idle_timeout = 600, .flows_half_open_timeout = 5,
		.pol = pol, .npol = 2,
		.modes = (1u << MODE_REWRITE) | (1u << MODE_STRIP) };
	n = policy_dst4_build(pol, 2, &conf.dst4);
	if (n < 0)
		abort();
	conf.ndst4 = (size_t)n;
}

/* The ids of the input, walked independently of nfq.c: every message
 * whose packet id lies within the bytes present. */
struct ids {
	uint32_t id[MAX_IDS];
	unsigned n;
};

static void
ids_of(struct ids *ids, const uint8_t *buf, size_t len)
{
	while (len >= NLMSG_HDRLEN && ids->n < MAX_IDS) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		size_t step;

		if (nlh->nlmsg_len < NLMSG_HDRLEN)
			return;
		if (nfqmsg_packet_id(nlh, len, &ids->id[ids->n]) == 0)
			ids->n++;
		if (nlh->nlmsg_len >= len)
			return;		/* the last, or cut short */
		step = NLMSG_ALIGN(nlh->nlmsg_len);
		if (step >= len)
			return;
		buf += step;
		len -= step;
	}
}

/* One verdict message at v (n bytes left in its group's copy). */
struct verdict {
	bool batch;
	uint32_t id;
	size_t len;
};

static struct verdict
verdict_check(const uint8_t *v, size_t n)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)v;
	const struct nfgenmsg *nfg = (const struct nfgenmsg *)(v + NLMSG_HDRLEN);
	const struct nlattr *va = (const struct nlattr *)(v + NLMSG_HDRLEN + sizeof(*nfg));
	const struct nfqnl_msg_verdict_hdr *vh = (const void *)((const uint8_t *)va + NLA_HDRLEN);
	const size_t head = NLMSG_HDRLEN + sizeof(*nfg) + NLA_HDRLEN + sizeof(*vh);
	struct verdict out = { 0 };
	uint32_t verdict;

	if (n < head || nlh->nlmsg_len < head || nlh->nlmsg_len > n)
		abort();
	if (nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT_BATCH))
		out.batch = true;
	else if (nlh->nlmsg_type != ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_VERDICT))
		abort();
	if (!(nlh->nlmsg_flags & NLM_F_REQUEST) || ntohs(nfg->res_id) != QUEUE ||
	    nfg->version != NFNETLINK_V0 || va->nla_type != NFQA_VERDICT_HDR ||
	    va->nla_len != NLA_HDRLEN + sizeof(*vh))
		abort();
	verdict = ntohl(vh->verdict);
	out.id = ntohl(vh->id);
	out.len = nlh->nlmsg_len;
	if (nlh->nlmsg_len == head) {
		/* the batch verdict accepts; a single one without payload drops */
		if (out.batch ? verdict != NF_ACCEPT : verdict != NF_DROP)
			abort();
	} else {
		const struct nlattr *pa = (const struct nlattr *)(v + head);

		/* only a modified packet carries a payload, padded to 4 */
		if (out.batch || verdict != NF_ACCEPT || nlh->nlmsg_len < head + NLA_HDRLEN ||
		    pa->nla_type != NFQA_PAYLOAD || pa->nla_len < NLA_HDRLEN ||
		    nlh->nlmsg_len != head + NLA_ALIGN(pa->nla_len))
			abort();
	}
	return out;
}

static bool
known(const struct ids *ids, uint32_t id)
{
	for (unsigned i = 0; i < ids->n; i++)
		if (ids->id[i] == id)
			return true;
	return false;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* "Up to id" is meaningful when all ids lie within 2^31 of each other
 * (the kernel's are consecutive): then the largest gap between them,
 * around the circle of 2^32, exceeds 2^31. */
static bool
ids_in_window(const struct ids *ids)
{
	static uint32_t sorted[MAX_IDS];
	uint64_t gap;

	if (ids->n < 2)
		return true;
	memcpy(sorted, ids->id, ids->n * sizeof(sorted[0]));
	qsort(sorted, ids->n, sizeof(sorted[0]), cmp_u32);
	gap = (uint64_t)sorted[0] + (1ull << 32) - sorted[ids->n - 1];
	for (unsigned i = 1; i < ids->n; i++)
		if (sorted[i] - sorted[i - 1] > gap)
			gap = sorted[i] - sorted[i - 1];
	return gap > (1ull << 31);
}

/* Every message of every group well formed and for an id of the input;
 * then every input id answered. */
static void
verdicts_check(struct nfqmsg_batch *b, const struct ids *ids)
{
	static uint8_t copy[NFQMSG_SEND_MAX];
	static uint32_t single[NFQMSG_BATCH * 2];
	unsigned ngroups = nfqmsg_batch_groups(b), nsingle = 0;
	bool has_batch = false;
	uint32_t batch_id = 0;

	for (unsigned g = 0; g < ngroups; g++) {
		size_t niov, n = 0, off = 0;
		struct iovec *iov = nfqmsg_batch_group(b, g, &niov);

		for (size_t k = 0; k < niov; k++) {
			if (n + iov[k].iov_len > sizeof(copy))
				abort();
			memcpy(copy + n, iov[k].iov_base, iov[k].iov_len);
			n += iov[k].iov_len;
		}
		if (n == 0)
			abort();
		while (off < n) {
			struct verdict v = verdict_check(copy + off, n - off);

			if (has_batch || !known(ids, v.id))
				abort();	/* the batch verdict comes last */
			if (v.batch) {
				has_batch = true;
				batch_id = v.id;
			} else if (nsingle < NFQMSG_BATCH * 2) {
				single[nsingle++] = v.id;
			} else {
				abort();
			}
			off += NLMSG_ALIGN(v.len);
		}
		if (off != n)
			abort();
	}
	if (!ids_in_window(ids))
		return;
	for (unsigned i = 0; i < ids->n; i++) {
		bool answered = has_batch && (int32_t)(batch_id - ids->id[i]) >= 0;

		for (unsigned k = 0; k < nsingle && !answered; k++)
			answered = single[k] == ids->id[i];
		if (!answered)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ids ids;
	struct mmsghdr rx[NFQMSG_BATCH];
	struct iovec iov[NFQMSG_BATCH];
	uint8_t *dg[NFQMSG_BATCH];
	struct proc_notes notes;
	struct proc_state ps;
	struct stats st = { 0 };
	struct nfqmsg_batch *b;
	unsigned n = 0;

	if (!conf.npol)
		conf_init();
	ids.n = 0;
	while (size >= 2 && n < NFQMSG_BATCH) {
		size_t len = (size_t)data[0] << 8 | data[1];

		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		dg[n] = malloc(len ? len : 1);
		if (!dg[n])
			abort();
		memcpy(dg[n], data, len);
		ids_of(&ids, dg[n], len);
		iov[n] = (struct iovec){ dg[n], len };
		rx[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n], .msg_iovlen = 1 },
					  .msg_len = (unsigned)len };
		data += len;
		size -= len;
		n++;
	}
	memset(&notes, 0, sizeof(notes));
	ps = (struct proc_state){ .flows = flow_table_new(64, 1), .domains = domains_new(1),
				  .notes = &notes, .now = 1000, .now_ms = 5000000 };
	b = nfqmsg_batch_new(QUEUE);
	if (!ps.flows || !ps.domains || !b)
		abort();
	nfqmsg_batch_run(b, &conf, &ps, &st, rx, n);
	verdicts_check(b, &ids);
	nfqmsg_batch_free(b);
	flow_table_free(ps.flows);
	domains_free(ps.domains);
	for (unsigned i = 0; i < n; i++)
		free(dg[i]);
	return 0;
}
