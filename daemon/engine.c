/* engine.c - batched, zero-copy NFQUEUE workers (DESIGN.md section 6).
 *
 * Per batch: one recvmmsg() over a ring of 64 KiB+ slots, each packet
 * parsed and changed in place in its slot, then one sendmsg() carrying a
 * NFQNL_MSG_VERDICT per modified packet (its payload iovec points into the
 * slot) followed by one NFQNL_MSG_VERDICT_BATCH for everything else. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "process.h"

#define ENG_BATCH 64
#define ENG_SLOT (0xffff + 4096)	/* one packet per datagram, copy range 0xffff */
#define ENG_VHDR 64			/* nlmsghdr+nfgenmsg+verdict attr+payload attr */
#define ENG_RCVBUF (64u << 20)
#define ENG_SNDBUF (8u << 20)
#define ENG_SEND_MAX (1u << 20)		/* flush a sendmsg before it grows past this */
#define ENG_TIMEOUT_MS 250
#define ENG_COALESCE_US 50		/* pause after a busy, non-full batch */
#define ENG_COALESCE_MIN 2		/* "busy": this many packets in a batch */
#define ENG_CLOSING_TIMEOUT 30		/* seconds a flow lives after both FINs:
					 * the last ACKs still need their TSecr */

struct pending {
	uint32_t id;
	uint8_t *payload;
	uint16_t len;
	uint8_t result;		/* enum proc_result */
};

struct worker {
	struct engine *eng;
	unsigned queue;
	bool offline;			/* benchmarks: no socket, nothing sent */
	struct mnl_socket *nl;
	int fd;
	pthread_t thread;
	bool started;
	uint8_t *slots;
	struct mmsghdr rx[ENG_BATCH];
	struct iovec rxiov[ENG_BATCH];
	struct pending pend[ENG_BATCH];
	unsigned npend;
	uint8_t vhdr[ENG_BATCH][ENG_VHDR];
	uint8_t batchmsg[ENG_VHDR];
	struct iovec tx[ENG_BATCH * 3 + 1];
	const struct conf *conf;
	struct proc_state ps;
	struct proc_notes notes;
	uint32_t last_id;		/* highest packet id seen */
	bool seen_any;
	struct stats st;
	struct stats_pub pub;
	_Atomic unsigned epoch;
};

struct engine {
	unsigned n;
	struct domains *domains;
	_Atomic(struct conf *) *confp;
	_Atomic bool stop;
	struct worker *w;
};

static const uint8_t zero_pad[4];

enum csum_mode
engine_csum_mode(uint32_t skb_info)
{
	if (skb_info & NFQA_SKB_GSO)
		return CSUM_NONE;
	if (skb_info & NFQA_SKB_CSUMNOTREADY)
		return CSUM_FULL;
	return CSUM_INCREMENTAL;
}

static void
note_id(struct worker *w, uint32_t id)
{
	if (!w->seen_any || (int32_t)(id - w->last_id) > 0)
		w->last_id = id;
	w->seen_any = true;
}

/* What a packet message carries that the engine uses. */
struct nfq_attrs {
	const struct nfqnl_msg_packet_hdr *ph;
	uint8_t *payload;
	size_t payload_len;
	bool has_payload;
	uint32_t cap_len, skb_info, outdev;	/* host order, 0 if absent */
};

/* A 32-bit attribute in host order; -1 if it is shorter (as
 * mnl_attr_validate(MNL_TYPE_U32) would say). */
static int
attr_u32(const struct nlattr *a, size_t plen, uint32_t *out)
{
	uint32_t v;

	if (plen < sizeof(v))
		return -1;
	memcpy(&v, (const uint8_t *)a + NLA_HDRLEN, sizeof(v));
	*out = ntohl(v);
	return 0;
}

/* One walk over the attributes of a packet message, without the callback
 * and the table of nfq_nlmsg_parse() (a third of the per-packet cost): the
 * attributes used here are length-checked as that function checks them,
 * a message that fails is rejected whole, the others are skipped. 0 with
 * a packet header, -1 otherwise. */
static int
nfq_attrs_parse(const struct nlmsghdr *nlh, struct nfq_attrs *a)
{
	const char *tail = mnl_nlmsg_get_payload_tail(nlh);
	struct nlattr *attr;

	memset(a, 0, sizeof(*a));
	/* mnl_attr_for_each() with the message's end computed once */
	for (attr = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nfgenmsg));
	     mnl_attr_ok(attr, (int)(tail - (const char *)attr));
	     attr = mnl_attr_next(attr)) {
		size_t plen = attr->nla_len - NLA_HDRLEN;

		switch (attr->nla_type & NLA_TYPE_MASK) {
		case NFQA_PACKET_HDR:
			if (plen < sizeof(*a->ph))
				return -1;
			a->ph = (const void *)((uint8_t *)attr + NLA_HDRLEN);
			break;
		case NFQA_PAYLOAD:
			a->payload = (uint8_t *)attr + NLA_HDRLEN;
			a->payload_len = plen;
			a->has_payload = true;
			break;
		case NFQA_CAP_LEN:
			if (attr_u32(attr, plen, &a->cap_len) < 0)
				return -1;
			break;
		case NFQA_SKB_INFO:
			if (attr_u32(attr, plen, &a->skb_info) < 0)
				return -1;
			break;
		case NFQA_IFINDEX_OUTDEV:
			if (attr_u32(attr, plen, &a->outdev) < 0)
				return -1;
			break;
		default:
			break;
		}
	}
	return a->ph ? 0 : -1;
}

static void
note_orphan(struct worker *w, const struct nlmsghdr *nlh)
{
	struct nfq_attrs a;

	if (nfq_attrs_parse(nlh, &a) == 0)
		note_id(w, ntohl(a.ph->packet_id));
}

/* Send one config message for queue q with NLM_F_ACK and wait for the ack.
 * build() adds the attributes. Returns 0 or -1 with errno from the kernel. */
static int
queue_config(struct worker *w, void (*build)(struct nlmsghdr *, void *), void *arg)
{
	/* Slot 0 is free between batches; a packet may arrive here whole. */
	char *buf = (char *)w->slots;
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, w->queue);
	unsigned seq = (unsigned)time(NULL) + w->queue;
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	build(nlh, arg);
	if (mnl_socket_sendto(w->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	/* Packets may arrive before the ack: note their ids and leave them
	 * queued; a later batch verdict (up to last_id) accepts them. */
	for (;;) {
		n = mnl_socket_recvfrom(w->nl, buf, ENG_SLOT);
		if (n < 0)
			return -1;
		nlh = (struct nlmsghdr *)buf;
		if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq == seq)
			return mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(w->nl),
					  NULL, NULL) < 0 ? -1 : 0;
		if (nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET))
			note_orphan(w, nlh);
	}
}

static void
build_bind(struct nlmsghdr *nlh, void *arg)
{
	unsigned maxlen = *(unsigned *)arg;

	/* One message: a bound queue without copy mode would drop packets,
	 * and --queue-bypass does not cover that window. */
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO));
}

static void
build_maxlen(struct nlmsghdr *nlh, void *arg)
{
	nfq_nlmsg_cfg_put_qmaxlen(nlh, *(unsigned *)arg);
}

static void
build_conntrack(struct nlmsghdr *nlh, void *arg)
{
	(void)arg;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_CONNTRACK));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_CONNTRACK));
}

static int
worker_open(struct worker *w, unsigned maxlen)
{
	int one = 1, rcv = ENG_RCVBUF, snd = ENG_SNDBUF;
	struct timeval tv = { 0, ENG_TIMEOUT_MS * 1000 };

	w->slots = malloc((size_t)ENG_BATCH * ENG_SLOT);
	if (!w->slots)
		fatal("malloc receive slots");
	for (unsigned i = 0; i < ENG_BATCH; i++) {
		w->rxiov[i].iov_base = w->slots + (size_t)i * ENG_SLOT;
		w->rxiov[i].iov_len = ENG_SLOT;
		w->rx[i].msg_hdr.msg_iov = &w->rxiov[i];
		w->rx[i].msg_hdr.msg_iovlen = 1;
	}
	w->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!w->nl) {
		log_warn("queue %u: netlink socket", w->queue);
		return -1;
	}
	if (mnl_socket_bind(w->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("queue %u: netlink bind", w->queue);
		return -1;
	}
	w->fd = mnl_socket_get_fd(w->nl);
	/* ENOBUFS is a counter, not an error that stops the loop. */
	mnl_socket_setsockopt(w->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (setsockopt(w->fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		setsockopt(w->fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	if (queue_config(w, build_bind, &maxlen) < 0) {
		if (errno == EBUSY || errno == EPERM)
			log_warnx("queue %u is already bound by another process "
				  "(another tsnatd, or an NFQUEUE program)", w->queue);
		else
			log_warn("queue %u: bind with copy mode, maxlen and flags", w->queue);
		return -1;
	}
	/* Optional: needs CONFIG_NETFILTER_NETLINK_GLUE_CT, often absent. */
	if (queue_config(w, build_conntrack, NULL) < 0)
		log_debug("queue %u: conntrack attributes not available (%s); not needed",
			  w->queue, strerror(errno));

	return 0;
}

static struct engine *engine_new(const struct conf *c, struct domains *domains,
				 uint32_t seed, bool offline);

struct engine *
engine_open(const struct conf *c, struct domains *domains, uint32_t seed)
{
	return engine_new(c, domains, seed, false);
}

struct engine *
engine_offline(const struct conf *c, struct domains *domains, uint32_t seed)
{
	return engine_new(c, domains, seed, true);
}

static struct engine *
engine_new(const struct conf *c, struct domains *domains, uint32_t seed, bool offline)
{
	struct engine *e = calloc(1, sizeof(*e));
	uint32_t per_worker;

	if (!e)
		fatal("calloc");
	e->domains = domains;
	e->n = c->queue_count;
	per_worker = c->flows_max / c->queue_count;
	if (per_worker < 1024)
		per_worker = 1024;
	e->w = calloc(e->n, sizeof(*e->w));
	if (!e->w)
		fatal("calloc");
	for (unsigned i = 0; i < e->n; i++) {
		struct worker *w = &e->w[i];

		w->eng = e;
		w->queue = c->queue_first + i;
		w->ps.worker = i;
		w->ps.domains = domains;
		w->ps.notes = &w->notes;
		/* Always there: a reload may turn a policy to rewrite. Pages
		 * are only touched as flows are created. */
		w->ps.flows = flow_table_new(per_worker, seed + i);
		if (!w->ps.flows)
			fatal("flow table of %u flows", per_worker);
		w->offline = offline;
		if (offline)
			continue;
		if (worker_open(w, c->queue_maxlen) < 0) {
			engine_stop(e);
			engine_free(e);
			return NULL;
		}
	}
	return e;
}

/* Send what the tx iovecs hold; count a failure (the kernel keeps the
 * packets queued; the next batch verdict accepts them unmodified). */
static void
tx_send(struct worker *w, unsigned niov)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct msghdr mh = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = w->tx, .msg_iovlen = niov,
	};

	if (w->offline || !niov)
		return;
	if (sendmsg(w->fd, &mh, 0) < 0)
		w->st.send_errors++;
}

/* Give every pending packet its verdict: modified ones first, one message
 * each with the payload taken from the receive slot, then one batch verdict
 * up to the highest id for all the rest (ids are FIFO per queue). */
static void
verdicts_flush(struct worker *w)
{
	unsigned niov = 0, untouched = 0;
	uint32_t maxid = 0;
	size_t bytes = 0;

	for (unsigned i = 0; i < w->npend; i++) {
		struct pending *pd = &w->pend[i];
		struct nlmsghdr *nlh;
		struct nlattr *pa;
		size_t pad;

		maxid = pd->id;
		if (pd->result == PROC_PASS) {
			untouched++;
			continue;
		}
		if (bytes + pd->len + ENG_VHDR > ENG_SEND_MAX) {
			tx_send(w, niov);
			niov = 0;
			bytes = 0;
		}
		nlh = nfq_nlmsg_put((char *)w->vhdr[i], NFQNL_MSG_VERDICT, w->queue);
		if (pd->result == PROC_DROP) {
			nfq_nlmsg_verdict_put(nlh, (int)pd->id, NF_DROP);
			w->tx[niov].iov_base = nlh;
			w->tx[niov++].iov_len = nlh->nlmsg_len;
			bytes += nlh->nlmsg_len;
			continue;
		}
		nfq_nlmsg_verdict_put(nlh, (int)pd->id, NF_ACCEPT);
		pa = mnl_nlmsg_put_extra_header(nlh, sizeof(*pa));
		pa->nla_type = NFQA_PAYLOAD;
		pa->nla_len = (uint16_t)(sizeof(*pa) + pd->len);
		w->tx[niov].iov_base = nlh;
		w->tx[niov++].iov_len = nlh->nlmsg_len;
		nlh->nlmsg_len += pd->len;
		w->tx[niov].iov_base = pd->payload;
		w->tx[niov++].iov_len = pd->len;
		pad = MNL_ALIGN(nlh->nlmsg_len) - nlh->nlmsg_len;
		if (pad) {
			w->tx[niov].iov_base = (void *)zero_pad;
			w->tx[niov++].iov_len = pad;
		}
		bytes += MNL_ALIGN(nlh->nlmsg_len);
		w->st.modified++;
	}
	if (untouched) {
		struct nlmsghdr *nlh = nfq_nlmsg_put((char *)w->batchmsg,
						     NFQNL_MSG_VERDICT_BATCH, w->queue);

		nfq_nlmsg_verdict_put(nlh, (int)maxid, NF_ACCEPT);
		w->tx[niov].iov_base = nlh;
		w->tx[niov++].iov_len = nlh->nlmsg_len;
		w->st.passed += untouched;
	}
	tx_send(w, niov);
	w->npend = 0;
}

static int
on_packet(const struct nlmsghdr *nlh, void *data)
{
	struct worker *w = data;
	struct pending *pd;
	struct proc_pkt pk = { 0 };
	struct nfq_attrs a;

	if (nfq_attrs_parse(nlh, &a) < 0) {
		w->st.malformed++;
		return MNL_CB_OK;	/* no id: the next batch verdict covers it */
	}
	if (w->npend == ENG_BATCH)
		verdicts_flush(w);
	pd = &w->pend[w->npend++];
	pd->id = ntohl(a.ph->packet_id);
	pd->result = PROC_PASS;
	note_id(w, pd->id);
	w->st.packets++;
	if (!a.has_payload) {
		w->st.truncated++;
		return MNL_CB_OK;
	}
	pk.buf = a.payload;
	pk.len = a.payload_len;
	pk.truncated = a.cap_len > pk.len;
	pk.csum = engine_csum_mode(a.skb_info);
	pk.outdev = a.outdev;
	pd->result = (uint8_t)process_packet(w->conf, &w->ps, &pk, &w->st);
	if (pd->result == PROC_MODIFIED) {
		pd->payload = pk.buf;
		pd->len = (uint16_t)pk.len;
	}
	return MNL_CB_OK;
}

static int
on_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct worker *w = data;

	/* An asynchronous verdict error must not stop the loop. */
	if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*err)) && err->error)
		w->st.verdict_errors++;
	return MNL_CB_OK;
}

static int
on_noop(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static mnl_cb_t ctl_cb[NLMSG_MIN_TYPE] = {
	[NLMSG_NOOP] = on_noop,
	[NLMSG_ERROR] = on_error,
	[NLMSG_DONE] = on_noop,
	[NLMSG_OVERRUN] = on_noop,
};

/* The clocks, read once per batch (vDSO, no syscall). */
static void
engine_clock(struct worker *w)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	w->ps.now = (uint32_t)mono.tv_sec;
	w->ps.now_ms = (uint32_t)((uint64_t)real.tv_sec * 1000 + (uint64_t)real.tv_nsec / 1000000);
}

/* Idle and closed flows leave the table a few at a time, between batches.
 * got: what worker_batch() returned; after a batch its clock is fresh, after
 * a receive timeout it must be read here or idle flows would never age. */
static void
worker_expire(struct worker *w, int got)
{
	const struct conf *c = atomic_load_explicit(w->eng->confp, memory_order_acquire);

	if (!w->ps.flows || flow_count(w->ps.flows) == 0)
		return;
	if (got < 0)
		engine_clock(w);
	w->st.flows_expired += flow_expire(w->ps.flows, w->ps.now, c->flows_idle_timeout,
					   ENG_CLOSING_TIMEOUT, 256);
}

/* Receive one batch (blocking up to the socket timeout unless dontwait),
 * process it, send its verdicts. Returns the number of datagrams, or -1 on
 * timeout/EAGAIN. */
static int
worker_batch(struct worker *w, bool dontwait)
{
	int n = recvmmsg(w->fd, w->rx, ENG_BATCH,
			 dontwait ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);

	if (n < 0) {
		if (errno == ENOBUFS)
			w->st.enobufs++;
		return -1;
	}
	w->conf = atomic_load_explicit(w->eng->confp, memory_order_acquire);
	w->st.batches++;
	engine_clock(w);
	for (int i = 0; i < n; i++) {
		/* A datagram cut by MSG_TRUNC fails mnl's length checks and is
		 * skipped; the batch verdict accepts its packet unmodified. */
		mnl_cb_run2(w->rxiov[i].iov_base, w->rx[i].msg_len, 0, 0,
			    on_packet, w, ctl_cb, NLMSG_MIN_TYPE);
	}
	verdicts_flush(w);
	return n;
}

/* Under load, a short pause before the next receive lets one wakeup take a
 * real batch instead of one or two packets: the syscalls and wakeups are
 * then paid per batch, not per packet (measured: 1.7 -> 60 packets per
 * batch, -25% CPU per SYN). An idle queue blocks in recvmmsg and wakes on
 * its first packet, so a lone SYN is not delayed. Only when no policy
 * rewrites: then only SYNs are queued, and 50 us do not matter to them;
 * rewrite queues every data packet, and the pause would halve a fast TCP
 * flow's throughput (measured on veth: 45 -> 23 Gbit/s). */
static unsigned coalesce_us = ENG_COALESCE_US;

static void
worker_coalesce(const struct worker *w, int got)
{
	struct timespec ts = { 0, (long)coalesce_us * 1000 };

	if (coalesce_us && got >= ENG_COALESCE_MIN && got < ENG_BATCH &&
	    w->conf && !(w->conf->modes & (1u << MODE_REWRITE)) &&
	    flow_count(w->ps.flows) == 0)
		nanosleep(&ts, NULL);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct engine *e = w->eng;
	unsigned zero = 0;

	/* the pause is short: ask for a precise timer, not 50 us of slack */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
		int got = worker_batch(w, false);

		worker_coalesce(w, got);
		worker_expire(w, got);
		stats_publish(&w->pub, &w->st);
		atomic_fetch_add_explicit(&w->epoch, 1, memory_order_release);
	}
	/* Drain: with maxlen 0 and FAIL_OPEN the kernel accepts new packets
	 * itself; everything already queued gets its verdict from us. */
	if (queue_config(w, build_maxlen, &zero) < 0)
		log_warn("queue %u: setting maxlen 0 for the drain", w->queue);
	while (worker_batch(w, true) > 0)
		;
	/* Anything read but not yet answered (packets that came while a
	 * config message waited for its ack) is accepted before we close:
	 * closing the socket would make the kernel drop it. */
	if (w->seen_any) {
		w->pend[0] = (struct pending){ .id = w->last_id };
		w->npend = 1;
		verdicts_flush(w);
		w->st.passed--;		/* a sweep, not a packet */
	}
	stats_publish(&w->pub, &w->st);
	return NULL;
}

int
engine_start(struct engine *e, _Atomic(struct conf *) *confp)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	const char *co = getenv("TSNATD_COALESCE_US");	/* benchmarking knob */

	if (co)
		coalesce_us = (unsigned)strtoul(co, NULL, 10);
	e->confp = confp;
	for (unsigned i = 0; i < e->n; i++) {
		struct worker *w = &e->w[i];

		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_warnx("queue %u: cannot start its worker thread", w->queue);
			return -1;
		}
		w->started = true;
		/* One worker per CPU when there are as many queues as CPUs or
		 * fewer; otherwise let the scheduler spread them. */
		if (e->n > 1 && ncpu > 0 && e->n <= (unsigned)ncpu) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(i, &set);
			pthread_setaffinity_np(w->thread, sizeof(set), &set);
		}
	}
	return 0;
}

void
engine_stop(struct engine *e)
{
	atomic_store(&e->stop, true);
	for (unsigned i = 0; i < e->n; i++) {
		struct worker *w = &e->w[i];

		if (w->started)
			pthread_join(w->thread, NULL);
		w->started = false;
		if (w->nl)
			mnl_socket_close(w->nl);
		w->nl = NULL;
	}
}

void
engine_free(struct engine *e)
{
	if (!e)
		return;
	for (unsigned i = 0; i < e->n; i++) {
		free(e->w[i].slots);
		flow_table_free(e->w[i].ps.flows);
	}
	free(e->w);
	free(e);
}

unsigned
engine_nworkers(const struct engine *e)
{
	return e->n;
}

unsigned
engine_epoch(const struct engine *e, unsigned i)
{
	return atomic_load_explicit(&e->w[i].epoch, memory_order_acquire);
}

unsigned
engine_queue(const struct engine *e, unsigned i)
{
	return e->w[i].queue;
}

void
engine_stats(const struct engine *e, unsigned i, struct stats *out)
{
	stats_read(&e->w[i].pub, out);
}

struct flow_table *
engine_flows(const struct engine *e, unsigned i)
{
	return e->w[i].ps.flows;
}

bool
engine_note(struct engine *e, unsigned i, struct proc_note *out)
{
	struct proc_notes *n = &e->w[i].notes;
	uint32_t tail = atomic_load_explicit(&n->tail, memory_order_relaxed);

	if (tail == atomic_load_explicit(&n->head, memory_order_acquire))
		return false;
	*out = n->ring[tail % PROC_NOTES];
	atomic_store_explicit(&n->tail, tail + 1, memory_order_release);
	return true;
}

unsigned
engine_replay(struct engine *e, _Atomic(struct conf *) *confp, void *const *bufs,
	      const size_t *lens, unsigned n)
{
	struct worker *w = &e->w[0];
	uint64_t before = w->st.packets;

	e->confp = confp;
	w->conf = atomic_load_explicit(confp, memory_order_acquire);
	w->st.batches++;
	engine_clock(w);
	for (unsigned i = 0; i < n; i++)
		mnl_cb_run2(bufs[i], lens[i], 0, 0, on_packet, w, ctl_cb, NLMSG_MIN_TYPE);
	verdicts_flush(w);
	return (unsigned)(w->st.packets - before);
}

void
engine_offline_publish(struct engine *e)
{
	for (unsigned i = 0; i < e->n; i++)
		stats_publish(&e->w[i].pub, &e->w[i].st);
}

unsigned long
engine_flow_count(const struct engine *e)
{
	unsigned long n = 0;

	for (unsigned i = 0; i < e->n; i++)
		n += flow_count(e->w[i].ps.flows);
	return n;
}
