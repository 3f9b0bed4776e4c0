/* SPDX-License-Identifier: GPL-2.0-or-later */
/* engine.c - batched, zero-copy NFQUEUE workers (doc/ARCHITECTURE.md): the
 * sockets, the threads and the I/O. What the messages say is nfq.c's.
 *
 * Per batch: one recvmmsg() over a ring of 64 KiB+ slots; nfqmsg_batch_run()
 * parses each packet and changes it in place in its slot; then one
 * sendmsg() (more only past 1 MiB) carrying a NFQNL_MSG_VERDICT per
 * modified packet (its payload iovec points into the slot) followed by one
 * NFQNL_MSG_VERDICT_BATCH for everything else. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "engine_int.h"
#include "ctnl.h"
#include "flowsnap.h"
#include "log.h"
#include "nfq.h"
#include "process.h"

#define ENG_RCVBUF (64u << 20)
#define ENG_SNDBUF (8u << 20)		/* > NFQMSG_SEND_MAX */
#define ENG_TIMEOUT_MS 250
#define ENG_COALESCE_US 50		/* pause after a busy, non-full batch */
#define ENG_COALESCE_MIN 2		/* "busy": this many packets in a batch */

struct worker {
	struct engine *eng;
	unsigned queue;
	struct mnl_socket *nl;
	int fd;
	pthread_t thread;
	bool started;
	uint8_t *slots;			/* NFQMSG_BATCH slots, page-aligned */
	struct mmsghdr rx[NFQMSG_BATCH];
	struct iovec rxiov[NFQMSG_BATCH];
	struct nfqmsg_batch *batch;	/* the verdicts of the last batch */
	bool owed;			/* packets may wait for engine_sweep() */
	const struct conf *conf;	/* this turn's: loaded once per batch */
	struct proc_state ps;
	struct proc_notes notes;
	struct stats st;
	struct stats_pub pub;
	struct flowsnap snap;		/* the control socket's copy of the flows */
	struct ctnl *ct;		/* HA: label writes and lookups; NULL: none */
	struct proc_ha ha;
	uint8_t *ha_buf;		/* a batch of label writes */
	_Atomic uint32_t nflows;	/* flows in the table, published per turn */
	_Atomic unsigned epoch;
};

struct engine {
	unsigned n;
	struct domains *domains;
	_Atomic(struct conf *) *confp;
	/* rewrite's kernel data path, taken with the conf each batch */
	_Atomic(const struct offload_path *) offload;
	_Atomic bool stop;
	struct worker *w;
};

/* One sendmsg() of iov to the kernel, tried twice: the errors a netlink
 * send can meet (ENOBUFS, ENOMEM, EINTR) are mostly passing. */
static int
send_iov(int fd, struct iovec *iov, size_t niov)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
			     .msg_iov = iov, .msg_iovlen = niov };

	if (sendmsg(fd, &mh, 0) >= 0 || sendmsg(fd, &mh, 0) >= 0)
		return 0;
	return -1;
}

/* Every packet of a failed send still gets its verdict: the group's
 * fallback drops what it sent back modified (why not accept it as
 * received: nfq.h, nfqmsg_batch_fallback) and accepts the rest. Only if
 * that small send fails too is the sweep owed, which accepts everything:
 * fail-open is then the last resort. */
bool
engine_verdicts_send(int fd, struct nfqmsg_batch *b, struct stats *st)
{
	bool all = true;

	for (unsigned g = 0; g < nfqmsg_batch_groups(b); g++) {
		size_t niov;
		struct iovec *iov = nfqmsg_batch_group(b, g, &niov);

		if (send_iov(fd, iov, niov) == 0)
			continue;
		st->send_errors++;
		iov = nfqmsg_batch_fallback(b, g, &niov);
		if (niov && send_iov(fd, iov, niov) < 0) {
			st->send_errors++;
			all = false;
		}
	}
	return all;
}

bool
engine_sweep(int fd, struct nfqmsg_batch *b, struct stats *st)
{
	size_t niov;
	struct iovec *iov;

	if (!nfqmsg_batch_sweep(b))
		return true;
	iov = nfqmsg_batch_group(b, 0, &niov);
	if (send_iov(fd, iov, niov) == 0)
		return true;
	st->send_errors++;
	return false;
}

/* The packet messages of a datagram of len bytes read outside a batch:
 * their ids are noted for the sweep. Returns how many. */
static unsigned
note_packets(struct nfqmsg_batch *b, const uint8_t *buf, size_t len)
{
	unsigned n = 0;

	while (len >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		uint32_t id;

		if (nfqmsg_packet_id(nlh, len, &id) == 0) {
			nfqmsg_batch_seen(b, id);
			n++;
		}
		/* (compared before aligning: a length near 2^32 aligns to 0) */
		if (nlh->nlmsg_len < NLMSG_HDRLEN || nlh->nlmsg_len >= len ||
		    NLMSG_ALIGN(nlh->nlmsg_len) >= len)
			break;
		len -= NLMSG_ALIGN(nlh->nlmsg_len);
		buf += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return n;
}

/* Packets can arrive before the ack (at bind, between binding and the
 * ack; at the drain, before maxlen 0 takes effect). They are accepted
 * untouched as soon as the ack is in, not left for a later batch verdict
 * that may never come: at bind the flows are not restored yet and the
 * worker has no configuration, and at the drain the kernel accepts new
 * packets untouched itself (maxlen 0, FAIL_OPEN). */
int
engine_queue_config(struct mnl_socket *nl, void *buf, struct nlmsghdr *nlh,
		    struct nfqmsg_batch *b, struct stats *st, bool *owed)
{
	uint32_t seq = nlh->nlmsg_seq;
	unsigned seen = 0;
	int ret = -1, err;
	ssize_t n;

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, NFQMSG_SLOT);
		if (n < 0)
			break;
		nlh = buf;
		if ((size_t)n >= NLMSG_HDRLEN && nlh->nlmsg_type == NLMSG_ERROR &&
		    nlh->nlmsg_seq == seq) {
			ret = mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl),
					 NULL, NULL) < 0 ? -1 : 0;
			break;
		}
		seen += note_packets(b, buf, (size_t)n);
	}
	err = errno;
	if (seen && !engine_sweep(mnl_socket_get_fd(nl), b, st))
		*owed = true;
	errno = err;
	return ret;
}

/* Send the config message nlh (an nfqmsg_config_*() built in slot 0,
 * which is free between batches) and wait for its ack. */
static int
queue_config(struct worker *w, struct nlmsghdr *nlh)
{
	return engine_queue_config(w->nl, w->slots, nlh, w->batch, &w->st, &w->owed);
}

/* A config sequence number: distinct per queue and per run. */
static uint32_t
config_seq(const struct worker *w)
{
	return (uint32_t)time(NULL) + w->queue;
}

/* The ring of receive slots, page-aligned so that every slot starts
 * aligned (NFQMSG_SLOT is a whole number of pages). */
static void
worker_ring(struct worker *w)
{
	w->slots = aligned_alloc(NFQMSG_PAGE, (size_t)NFQMSG_BATCH * NFQMSG_SLOT);
	if (!w->slots)
		fatal("malloc receive slots");
	for (unsigned i = 0; i < NFQMSG_BATCH; i++) {
		w->rxiov[i].iov_base = w->slots + (size_t)i * NFQMSG_SLOT;
		w->rxiov[i].iov_len = NFQMSG_SLOT;
		w->rx[i].msg_hdr.msg_iov = &w->rxiov[i];
		w->rx[i].msg_hdr.msg_iovlen = 1;
	}
}

/* A send larger than the send buffer fails (EMSGSIZE), and a group of
 * verdicts that fails has its modified packets dropped: say so at start
 * when the buffer could not be made large enough (no CAP_NET_ADMIN for
 * SO_SNDBUFFORCE, and net.core.wmem_max below it). */
static void
worker_check_sndbuf(const struct worker *w)
{
	int snd = 0;
	socklen_t len = sizeof(snd);

	if (getsockopt(w->fd, SOL_SOCKET, SO_SNDBUF, &snd, &len) == 0 &&
	    snd < (int)NFQMSG_SEND_MAX + 64)
		log_warnx("queue %u: send buffer of %d bytes, under the %u of a verdict "
			  "send: batches of large modified packets will fail and be "
			  "dropped; raise net.core.wmem_max", w->queue, snd, NFQMSG_SEND_MAX);
}

static int
worker_ha_get(void *ctx, const struct ct_tuple *t, struct ct_entry *e)
{
	struct worker *w = ctx;

	return ctnl_get(w->ct, t, e);
}

static const struct ha_ops worker_ha_ops = { .get = worker_ha_get };

/* The label writes the batch asked for, in one datagram after its
 * verdicts: by then the SYNs' conntrack entries are confirmed (the verdict
 * sent them on through the rest of the hooks), so they can be updated. */
static void
worker_ha_flush(struct worker *w)
{
	struct proc_ha *ha = &w->ha;
	size_t len = 0;
	unsigned n = 0;
	int refused;

	for (unsigned i = 0; i < ha->nwrites; i++) {
		struct nlmsghdr *nlh = ctnl_build_labels(w->ha_buf + len, CTNL_LABEL_MSG_MAX,
							 &ha->w[i].t, ha->w[i].labels,
							 ha->w[i].mask, 0x80000000u | i);

		if (!nlh)
			continue;
		len += NLMSG_ALIGN(nlh->nlmsg_len);
		n++;
	}
	ha->nwrites = 0;
	if (!n)
		return;
	refused = ctnl_send_writes(w->ct, w->ha_buf, len);
	if (refused < 0)
		refused = (int)n;
	w->st.labels_written += n - (unsigned)refused;
	w->st.label_errors += (unsigned)refused;
}

static int
worker_open(struct worker *w, unsigned maxlen)
{
	int one = 1, rcv = ENG_RCVBUF, snd = ENG_SNDBUF;
	struct timeval tv = { 0, ENG_TIMEOUT_MS * 1000 };

	worker_ring(w);
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
	/* Any socket (netlink ones too) asking for timestamps makes the
	 * kernel stamp every packet it receives, so NFQA_TIMESTAMP says how
	 * long a SYN waited at the gateway (mode_rewrite.c: a clamp within
	 * that wait is not the client's). Netlink itself adds no cmsg. */
	if (setsockopt(w->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		log_warn("queue %u: receive timestamps: every clamp of a client whose "
			 "SYN waited counts as its own", w->queue);
	if (setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (setsockopt(w->fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		setsockopt(w->fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	worker_check_sndbuf(w);
	setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	if (queue_config(w, nfqmsg_config_bind(w->slots, (uint16_t)w->queue, maxlen,
					       config_seq(w))) < 0) {
		if (errno == EBUSY || errno == EPERM)
			log_warnx("queue %u is already bound by another process "
				  "(another tsnatd, or an NFQUEUE program)", w->queue);
		else
			log_warn("queue %u: bind with copy mode, maxlen and flags", w->queue);
		return -1;
	}
	/* HA pairs (ha_labels): a ctnetlink socket of the worker's own, for
	 * label writes after its verdicts and for adoption lookups. Opened
	 * whether or not the configuration asks for it now: a reload may. */
	if (!(w->ct = ctnl_open()) || !(w->ha_buf = malloc(HA_WRITES * CTNL_LABEL_MSG_MAX)))
		log_warn("queue %u: conntrack socket: ha_labels cannot work", w->queue);
	w->ha.ops = &worker_ha_ops;
	w->ha.ctx = w;

	/* Optional: needs CONFIG_NETFILTER_NETLINK_GLUE_CT, often absent. */
	if (queue_config(w, nfqmsg_config_conntrack(w->slots, (uint16_t)w->queue,
						    config_seq(w))) < 0)
		log_debug("queue %u: conntrack attributes not available (%s); not needed",
			  w->queue, strerror(errno));

	return 0;
}

struct engine *
engine_open(const struct conf *c, struct domains *domains, struct discovery *discovery,
	    uint32_t seed)
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
		w->ps.discovery = discovery;
		w->ps.notes = &w->notes;
		/* Always there: a reload may turn a policy to rewrite. Pages
		 * are only touched as flows are created. */
		w->ps.flows = flow_table_new(per_worker, seed + i);
		if (!w->ps.flows)
			fatal("flow table of %u flows", per_worker);
		w->batch = nfqmsg_batch_new((uint16_t)w->queue);
		if (!w->batch)
			fatal("calloc");
		if (worker_open(w, c->queue_maxlen) < 0) {
			engine_stop(e);
			engine_free(e);
			return NULL;
		}
	}
	return e;
}

/* Send the verdicts of the last batch (every packet gets one: see
 * engine_verdicts_send), then whatever is still owed. */
static void
verdicts_send(struct worker *w)
{
	if (!engine_verdicts_send(w->fd, w->batch, &w->st))
		w->owed = true;
}

/* The sweep, while it is owed: after each turn until it gets through. */
static void
worker_settle(struct worker *w)
{
	if (w->owed)
		w->owed = !engine_sweep(w->fd, w->batch, &w->st);
}

/* The clocks, read once per batch (vDSO, no syscall). */
static void
engine_clock(struct worker *w)
{
	struct timespec mono, real;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	w->ps.now = (uint32_t)mono.tv_sec;
	w->ps.mono_ms = (uint32_t)((uint64_t)mono.tv_sec * 1000 + (uint64_t)mono.tv_nsec / 1000000);
	w->ps.now_ms = (uint32_t)((uint64_t)real.tv_sec * 1000 + (uint64_t)real.tv_nsec / 1000000);
}

/* Idle and closed flows leave the table a few at a time, between batches.
 * got: what worker_batch() returned; after a batch its clock is fresh, after
 * a receive timeout it must be read here or idle flows would never age. */
static void
worker_expire(struct worker *w, int got)
{
	struct flow_timeouts to = { .idle = w->conf->flows_idle_timeout,
				    .closing = FLOW_CLOSING_TIMEOUT,
				    .half_open = w->conf->flows_half_open_timeout };

	if (!w->ps.flows || flow_count(w->ps.flows) == 0)
		return;
	if (got < 0)
		engine_clock(w);
	w->st.flows_expired += flow_expire(w->ps.flows, w->ps.now, &to, 256);
}

/* Receive one batch (blocking up to the socket timeout unless dontwait),
 * process it, send its verdicts. Returns the number of datagrams, or -1 on
 * timeout/EAGAIN. */
static int
worker_batch(struct worker *w, bool dontwait)
{
	int n = recvmmsg(w->fd, w->rx, NFQMSG_BATCH,
			 dontwait ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);

	/* The configuration of this turn, loaded once whether a batch came
	 * or not: the batch, the pause and the expiry use it until the epoch
	 * moves. seq_cst, after the previous turn's seq_cst epoch increment:
	 * the reload handover depends on that order (reload.c,
	 * reload_retire). */
	w->conf = atomic_load_explicit(w->eng->confp, memory_order_seq_cst);
	/* acquire: what engine_set_offload published is complete */
	w->ps.offload = atomic_load_explicit(&w->eng->offload, memory_order_acquire);
	w->ps.ha = w->conf->ha_labels && w->ct && w->ha_buf ? &w->ha : NULL;
	w->ha.first = w->conf->ha_label_first;
	w->ha.skew = w->conf->ha_clock_skew;
	if (n < 0) {
		if (errno == ENOBUFS)
			w->st.enobufs++;
		return -1;
	}
	engine_clock(w);
	/* A datagram cut by MSG_TRUNC fails the length checks and is skipped;
	 * the batch verdict accepts its packet unmodified. */
	nfqmsg_batch_run(w->batch, w->conf, &w->ps, &w->st, w->rx, (unsigned)n);
	verdicts_send(w);
	if (w->ha.nwrites)
		worker_ha_flush(w);
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

	if (coalesce_us && got >= ENG_COALESCE_MIN && got < NFQMSG_BATCH &&
	    w->conf && !(w->conf->modes & (1u << MODE_REWRITE)) &&
	    flow_count(w->ps.flows) == 0)
		nanosleep(&ts, NULL);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct engine *e = w->eng;

	/* the pause is short: ask for a precise timer, not 50 us of slack */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	while (!atomic_load_explicit(&e->stop, memory_order_relaxed)) {
		int got = worker_batch(w, false);

		worker_coalesce(w, got);
		worker_expire(w, got);
		worker_settle(w);
		flowsnap_serve(&w->snap, w->ps.flows, w->ps.now, w->ps.mono_ms);
		atomic_store_explicit(&w->nflows, flow_count(w->ps.flows), memory_order_relaxed);
		stats_publish(&w->pub, &w->st);
		/* The turn is over: nothing loaded from w->conf is used after
		 * this (release), and the next turn's load of the conf pointer
		 * is ordered after it (seq_cst; see reload_retire). */
		atomic_fetch_add_explicit(&w->epoch, 1, memory_order_seq_cst);
	}
	/* Drain: with maxlen 0 and FAIL_OPEN the kernel accepts new packets
	 * itself; everything already queued gets its verdict from us. */
	if (queue_config(w, nfqmsg_config_maxlen(w->slots, (uint16_t)w->queue, 0,
						 config_seq(w))) < 0)
		log_warn("queue %u: setting maxlen 0 for the drain", w->queue);
	while (worker_batch(w, true) > 0)
		;
	/* Anything still queued (a verdict lost to failed sends) is accepted
	 * before we close: closing the socket would make the kernel drop it. */
	engine_sweep(w->fd, w->batch, &w->st);
	stats_publish(&w->pub, &w->st);
	return NULL;
}

void
engine_set_offload(struct engine *e, const struct offload_path *ol)
{
	atomic_store_explicit(&e->offload, ol, memory_order_release);
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
		char name[16];

		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_warnx("queue %u: cannot start its worker thread", w->queue);
			return -1;
		}
		w->started = true;
		/* "tsnatd-q<queue>": top -H, perf and make bench tell the
		 * workers (whose CPU time per packet the bench reports) from
		 * the main thread */
		snprintf(name, sizeof(name), "tsnatd-q%u", w->queue);
		pthread_setname_np(w->thread, name);
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
		nfqmsg_batch_free(e->w[i].batch);
		flow_table_free(e->w[i].ps.flows);
		flowsnap_free(&e->w[i].snap);
		ctnl_close(e->w[i].ct);
		free(e->w[i].ha_buf);
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

uint32_t
engine_queue_flows(const struct engine *e, unsigned i)
{
	return atomic_load_explicit(&e->w[i].nflows, memory_order_relaxed);
}

struct flowsnap *
engine_flowsnap(struct engine *e, unsigned i)
{
	return &e->w[i].snap;
}

bool
engine_note(const struct engine *e, unsigned i, struct proc_note *out)
{
	struct proc_notes *n = &e->w[i].notes;
	uint32_t tail = atomic_load_explicit(&n->tail, memory_order_relaxed);

	if (tail == atomic_load_explicit(&n->head, memory_order_acquire))
		return false;
	*out = n->ring[tail % PROC_NOTES];
	atomic_store_explicit(&n->tail, tail + 1, memory_order_release);
	return true;
}

unsigned long
engine_flow_count(const struct engine *e)
{
	unsigned long n = 0;

	for (unsigned i = 0; i < e->n; i++)
		n += flow_count(e->w[i].ps.flows);
	return n;
}
