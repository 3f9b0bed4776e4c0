/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_engine.c - the engine on fake sockets: every packet gets its
 * verdict when sendmsg() fails, when packets arrive before a config ack,
 * and while the configuration is reloaded under load.
 *
 * The netlink socket calls, recvmmsg() and sendmsg() are mocked with the
 * linker's --wrap (multipath-tools style): a fake queue per socket hands
 * out packet messages with consecutive ids and records every verdict the
 * engine sends, so that a test can check that no id is left queued.
 * conf_free() is wrapped too: it scribbles over the policy names before
 * freeing, so that a worker still reading a freed conf shows (and ASan or
 * TSan, under `make tsan`, report it). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "confutil.h"
#include "engine.h"
#include "engine_int.h"
#include "log.h"
#include "nfq.h"
#include "pktbuild.h"
#include "reload.h"

#define FAKE_FD0 1000
#define FAKE_QUEUES 4
#define MAX_IDS (1u << 18)	/* ids a fake queue hands out, at most */
#define MAX_SEEN 256		/* verdict messages recorded per queue */

/* What the engine sent one fake queue. */
struct seen_verdict {
	bool batch;
	uint32_t id, verdict;
	bool payload;
};

struct fake_queue {
	/* receive side */
	bool live;			/* hand out packets */
	uint32_t next_id;		/* the last id handed out */
	/* config side: packets before the ack, then the ack */
	uint32_t cfg_seq;
	unsigned pre_ack, pre_ack_sent;
	int ack_error;			/* negative errno, 0: success */
	int ct_ack_error;		/* the same, for the conntrack flag's */
	bool cfg_ct;			/* the config waiting is the conntrack flag's */
	/* send side */
	unsigned sends;
	unsigned fail_next;		/* fail this many sends from now */
	bool fail_pattern;		/* fail some sends, in runs of 2 and 4 */
	uint8_t answered[MAX_IDS / 8];
	uint32_t batch_upto;
	struct seen_verdict seen[MAX_SEEN];
	unsigned nseen;
	uint8_t copy[NFQMSG_SEND_MAX];
};

static struct fake_queue *fq;
static struct { int unused; } fake_sockets[FAKE_QUEUES];
static unsigned nopen;
static _Atomic bool stopping;

/* The packets a fake queue hands out, built once. */
enum { PK_STRIP, PK_UNMATCHED, PK_REWRITE, PK_REWRITE_NO_TS, PK_KINDS };
static uint8_t tmpl[PK_KINDS][PB_MAX];
static size_t tmpl_len[PK_KINDS];

/* The mocks run in the worker threads too, where a cmocka assertion
 * cannot unwind: they check with must(). */
#define must(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();					\
		}							\
	} while (0)

static struct fake_queue *
queue_of_fd(int fd)
{
	must(fd >= FAKE_FD0 && fd < FAKE_FD0 + FAKE_QUEUES);
	return &fq[fd - FAKE_FD0];
}

static struct fake_queue *
queue_of(const struct mnl_socket *nl)
{
	size_t i = (size_t)((const char *)nl - (const char *)fake_sockets) /
		   sizeof(fake_sockets[0]);

	must(i < FAKE_QUEUES);
	return &fq[i];
}

static void
mark_answered(struct fake_queue *q, uint32_t id)
{
	if (id < MAX_IDS)
		q->answered[id / 8] |= (uint8_t)(1u << (id % 8));
}

static bool
answered(const struct fake_queue *q, uint32_t id)
{
	return id <= q->batch_upto || (q->answered[id / 8] & (1u << (id % 8)));
}

/* ---- mocks ---- */

struct mnl_socket *__wrap_mnl_socket_open(int bus);
struct mnl_socket *
__wrap_mnl_socket_open(int bus)
{
	(void)bus;
	must(nopen < FAKE_QUEUES);
	return (struct mnl_socket *)&fake_sockets[nopen++];
}

int __wrap_mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid);
int
__wrap_mnl_socket_bind(struct mnl_socket *nl, unsigned int groups, pid_t pid)
{
	(void)nl, (void)groups, (void)pid;
	return 0;
}

int __wrap_mnl_socket_get_fd(const struct mnl_socket *nl);
int
__wrap_mnl_socket_get_fd(const struct mnl_socket *nl)
{
	return FAKE_FD0 + (int)(queue_of(nl) - fq);
}

unsigned int __wrap_mnl_socket_get_portid(const struct mnl_socket *nl);
unsigned int
__wrap_mnl_socket_get_portid(const struct mnl_socket *nl)
{
	(void)nl;
	return 0;
}

int __wrap_mnl_socket_setsockopt(const struct mnl_socket *nl, int type, void *buf,
				 socklen_t len);
int
__wrap_mnl_socket_setsockopt(const struct mnl_socket *nl, int type, void *buf, socklen_t len)
{
	(void)nl, (void)type, (void)buf, (void)len;
	return 0;
}

int __wrap_mnl_socket_close(struct mnl_socket *nl);
int
__wrap_mnl_socket_close(struct mnl_socket *nl)
{
	(void)nl;
	return 0;
}

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz);
ssize_t
__wrap_mnl_socket_sendto(const struct mnl_socket *nl, const void *req, size_t siz)
{
	struct fake_queue *q = queue_of(nl);

	const struct nlattr *a;

	q->cfg_seq = ((const struct nlmsghdr *)req)->nlmsg_seq;
	q->pre_ack_sent = 0;
	q->cfg_ct = false;
	mnl_attr_for_each(a, (const struct nlmsghdr *)req, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFQA_CFG_FLAGS &&
		    (ntohl(mnl_attr_get_u32(a)) & NFQA_CFG_F_CONNTRACK))
			q->cfg_ct = true;
	return (ssize_t)siz;
}

/* One packet message of the given kind and id into buf. */
static size_t
packet_msg(void *buf, unsigned kind, uint32_t id)
{
	return pb_nfq_msg(buf, &(struct pb_nfq){ .id = id }, tmpl[kind], tmpl_len[kind]);
}

/* The packets scripted before the ack, then the ack. */
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz);
ssize_t
__wrap_mnl_socket_recvfrom(const struct mnl_socket *nl, void *buf, size_t siz)
{
	struct fake_queue *q = queue_of(nl);
	struct nlmsghdr *nlh;
	struct nlmsgerr *err;

	must(siz >= NFQMSG_SLOT);
	if (q->pre_ack_sent < q->pre_ack) {
		q->pre_ack_sent++;
		return (ssize_t)packet_msg(buf, PK_STRIP, ++q->next_id);
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = q->cfg_seq;
	err = mnl_nlmsg_put_extra_header(nlh, sizeof(*err));
	err->error = q->cfg_ct ? q->ct_ack_error : q->ack_error;
	return nlh->nlmsg_len;
}

int __wrap_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		    struct timespec *timeout);
int
__wrap_recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen, int flags,
		struct timespec *timeout)
{
	struct fake_queue *q = queue_of_fd(fd);
	unsigned n;

	(void)timeout;
	if (!q->live || q->next_id + vlen >= MAX_IDS || atomic_load(&stopping)) {
		if (!(flags & MSG_DONTWAIT))
			nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
		errno = EAGAIN;
		return -1;
	}
	/* batches of 1 .. vlen packets, of every kind */
	n = 1 + q->next_id % vlen;
	for (unsigned i = 0; i < n; i++) {
		uint32_t id = ++q->next_id;

		vec[i].msg_len = (unsigned)packet_msg(vec[i].msg_hdr.msg_iov[0].iov_base,
						      id % PK_KINDS, id);
	}
	return (int)n;
}

static bool
send_fails(struct fake_queue *q)
{
	unsigned n = q->sends++;

	if (q->fail_next) {
		q->fail_next--;
		return true;
	}
	/* runs of 2 (the group and its retry fail: the fallback goes) and,
	 * rarer, of 4 (the fallback fails too: the sweep is owed) */
	return q->fail_pattern && (n % 97 < 2 || n % 389 < 4);
}

/* Record the verdict messages of one send. */
static void
record(struct fake_queue *q, size_t n)
{
	size_t off = 0;

	while (off < n) {
		const struct nlmsghdr *nlh = (const void *)(q->copy + off);
		const struct nfqnl_msg_verdict_hdr *vh =
			(const void *)(q->copy + off + NLMSG_HDRLEN + sizeof(struct nfgenmsg) +
				       NLA_HDRLEN);
		struct seen_verdict v = {
			.batch = (nlh->nlmsg_type & 0xff) == NFQNL_MSG_VERDICT_BATCH,
			.id = ntohl(vh->id), .verdict = ntohl(vh->verdict),
			.payload = nlh->nlmsg_len > 32,
		};

		must(nlh->nlmsg_len >= 32 && off + nlh->nlmsg_len <= n);
		if (v.batch && v.id > q->batch_upto)
			q->batch_upto = v.id;
		else if (!v.batch)
			mark_answered(q, v.id);
		if (q->nseen < MAX_SEEN)
			q->seen[q->nseen++] = v;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	must(off == n);
}

ssize_t __wrap_sendmsg(int fd, const struct msghdr *mh, int flags);
ssize_t
__wrap_sendmsg(int fd, const struct msghdr *mh, int flags)
{
	struct fake_queue *q = queue_of_fd(fd);
	size_t n = 0;

	(void)flags;
	must(mh->msg_name);
	if (send_fails(q)) {
		errno = ENOBUFS;
		return -1;
	}
	for (size_t i = 0; i < mh->msg_iovlen; i++) {
		must(n + mh->msg_iov[i].iov_len <= sizeof(q->copy));
		memcpy(q->copy + n, mh->msg_iov[i].iov_base, mh->msg_iov[i].iov_len);
		n += mh->msg_iov[i].iov_len;
	}
	record(q, n);
	return (ssize_t)n;
}

void __real_conf_free(struct conf *c);
void __wrap_conf_free(struct conf *c);
void
__wrap_conf_free(struct conf *c)
{
	for (size_t i = 0; c && i < c->npol; i++)
		memset(c->pol[i].name, 'X', sizeof(c->pol[i].name) - 1);
	__real_conf_free(c);
}

/* ---- fixtures ---- */

#define STRIP "{ name = \"web\"; mode = \"strip\"; destinations = \"198.51.100.128/25\"; }"
#define CONF_TEXT(rw) "log_level = \"error\";\nqueue = { count = 2; };\n" \
	"policies = ( " STRIP ", { name = \"" rw "\"; mode = \"rewrite\";" \
	" destinations = \"198.51.100.0/25\"; } );\n"

static struct conf *conf;
static struct domains *doms;
static struct proc_state ps;
static struct stats st;
static struct nfqmsg_batch *batch;

static void
templates(void)
{
	static const char *dst[PK_KINDS] = { "198.51.100.200", "203.0.113.10",
					     "198.51.100.10", "198.51.100.11" };

	for (unsigned k = 0; k < PK_KINDS; k++) {
		struct pb_opts o = { 0 };

		pb_mss(&o, 1460);
		if (k != PK_REWRITE_NO_TS)
			pb_ts(&o, 1000 + k, 0);
		tmpl_len[k] = pb_build(tmpl[k], &(struct pb_spec){ .opts = &o, .daddr = dst[k],
					.sport = (uint16_t)(40000 + k) });
	}
}

static int
setup(void **state)
{
	(void)state;
	log_init(LOG_ERR);
	templates();
	fq = calloc(FAKE_QUEUES, sizeof(*fq));
	nopen = 0;
	atomic_store(&stopping, false);
	conf = conf_from_text(CONF_TEXT("old"), NULL);
	doms = domains_new(2);
	batch = nfqmsg_batch_new(0);
	memset(&st, 0, sizeof(st));
	ps = (struct proc_state){ .domains = doms, .flows = flow_table_new(1024, 1) };
	return fq && conf && doms && batch && ps.flows ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	flow_table_free(ps.flows);
	nfqmsg_batch_free(batch);
	domains_free(doms);
	conf_free(conf);
	free(fq);
	return 0;
}

/* A batch of n packets of queue 0 (ids 1..n), kinds in turn from first,
 * run through nfq.c as the engine runs it. */
static void
run_batch(unsigned n, unsigned first)
{
	static _Alignas(8) uint8_t msgs[8][PB_MAX + 256];
	struct iovec iov[8];
	struct mmsghdr rx[8];

	assert_true(n <= 8);
	for (unsigned i = 0; i < n; i++) {
		size_t len = packet_msg(msgs[i], (first + i) % PK_KINDS, ++fq[0].next_id);

		iov[i] = (struct iovec){ msgs[i], sizeof(msgs[i]) };
		rx[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 },
					  .msg_len = (unsigned)len };
	}
	nfqmsg_batch_run(batch, conf, &ps, &st, rx, n);
}

static void
assert_all_answered(const struct fake_queue *q)
{
	for (uint32_t id = 1; id <= q->next_id; id++)
		if (!answered(q, id))
			fail_msg("packet %u was left queued (of %u)", id, q->next_id);
}

/* ---- sendmsg failures ---- */

static void
failed_send_is_tried_again(void **state)
{
	(void)state;
	run_batch(2, PK_STRIP);
	fq[0].fail_next = 1;
	assert_true(engine_verdicts_send(FAKE_FD0, batch, &st));
	assert_int_equal(st.send_errors, 0);
	assert_int_equal(fq[0].sends, 2);
	assert_int_equal(fq[0].nseen, 2);
	assert_true(fq[0].seen[0].payload);	/* the strip went through */
	assert_all_answered(&fq[0]);
}

static void
failed_group_drops_its_modified_packets_and_accepts_the_rest(void **state)
{
	struct seen_verdict *v = fq[0].seen;

	(void)state;
	run_batch(4, PK_STRIP);		/* 1 strip, 2 pass, 3 rewrite SYN, 4 pass */
	assert_int_equal(st.modified, 2);
	fq[0].fail_next = 2;
	assert_true(engine_verdicts_send(FAKE_FD0, batch, &st));
	assert_int_equal(st.send_errors, 1);
	assert_int_equal(fq[0].nseen, 3);
	assert_false(v[0].batch);
	assert_int_equal(v[0].id, 1);
	assert_int_equal(v[0].verdict, NF_DROP);
	assert_false(v[0].payload);
	assert_int_equal(v[1].id, 3);
	assert_int_equal(v[1].verdict, NF_DROP);
	assert_true(v[2].batch);
	assert_int_equal(v[2].id, 4);
	assert_int_equal(v[2].verdict, NF_ACCEPT);
	assert_all_answered(&fq[0]);
}

static void
failed_fallback_leaves_a_sweep_owed_that_accepts_everything(void **state)
{
	(void)state;
	run_batch(4, PK_STRIP);
	fq[0].fail_next = 4;
	assert_false(engine_verdicts_send(FAKE_FD0, batch, &st));
	assert_int_equal(st.send_errors, 2);
	assert_int_equal(fq[0].nseen, 0);
	fq[0].fail_next = 2;			/* the sweep fails too, once */
	assert_false(engine_sweep(FAKE_FD0, batch, &st));
	assert_int_equal(st.send_errors, 3);
	assert_true(engine_sweep(FAKE_FD0, batch, &st));
	assert_int_equal(fq[0].nseen, 1);
	assert_true(fq[0].seen[0].batch);
	assert_int_equal(fq[0].seen[0].id, 4);
	assert_all_answered(&fq[0]);
}

static void
sweep_without_packets_owes_nothing(void **state)
{
	(void)state;
	assert_true(engine_sweep(FAKE_FD0, batch, &st));
	assert_int_equal(fq[0].sends, 0);
}

/* ---- config acks ---- */

static void
packets_before_a_config_ack_are_accepted_right_after_it(void **state)
{
	_Alignas(8) uint8_t buf[NFQMSG_SLOT];
	struct mnl_socket *nl = __wrap_mnl_socket_open(NETLINK_NETFILTER);
	bool owed = false;

	(void)state;
	fq[0].pre_ack = 3;
	assert_int_equal(engine_queue_config(nl, buf, nfqmsg_config_bind(buf, 0, 100, 42),
					     batch, &st, &owed), 0);
	assert_false(owed);
	assert_int_equal(fq[0].nseen, 1);
	assert_true(fq[0].seen[0].batch);
	assert_int_equal(fq[0].seen[0].id, 3);
	assert_all_answered(&fq[0]);
}

static void
failed_config_still_answers_the_packets_read(void **state)
{
	_Alignas(8) uint8_t buf[NFQMSG_SLOT];
	struct mnl_socket *nl = __wrap_mnl_socket_open(NETLINK_NETFILTER);
	bool owed = false;

	(void)state;
	fq[0].pre_ack = 2;
	fq[0].ack_error = -EBUSY;
	assert_int_equal(engine_queue_config(nl, buf, nfqmsg_config_maxlen(buf, 0, 0, 7),
					     batch, &st, &owed), -1);
	assert_int_equal(errno, EBUSY);
	assert_int_equal(fq[0].nseen, 1);
	assert_all_answered(&fq[0]);
	/* and when that send fails, the sweep is owed */
	fq[0].pre_ack = 1;
	fq[0].ack_error = 0;
	fq[0].fail_next = 2;
	assert_int_equal(engine_queue_config(nl, buf, nfqmsg_config_maxlen(buf, 0, 0, 8),
					     batch, &st, &owed), 0);
	assert_true(owed);
}

static void
config_ack_without_packets_sends_nothing(void **state)
{
	_Alignas(8) uint8_t buf[NFQMSG_SLOT];
	struct mnl_socket *nl = __wrap_mnl_socket_open(NETLINK_NETFILTER);
	bool owed = false;

	(void)state;
	assert_int_equal(engine_queue_config(nl, buf, nfqmsg_config_conntrack(buf, 0, 9),
					     batch, &st, &owed), 0);
	assert_int_equal(fq[0].sends, 0);
}

/* ---- the workers, under load, through reloads ---- */

#define RELOADS 200
#define NQ 2

static void
check_notes(const void *ctx)
{
	struct proc_note n;

	for (unsigned i = 0; i < NQ; i++)
		while (engine_note(ctx, i, &n))
			assert_true(strcmp(n.policy, "rw-a") == 0 || strcmp(n.policy, "rw-b") == 0);
}

static unsigned
count(const void *e)
{
	return engine_nworkers(e);
}

static unsigned
epoch(const void *e, unsigned i)
{
	return engine_epoch(e, i);
}

static void
pause_briefly(const void *e)
{
	(void)e;
	nanosleep(&(struct timespec){ 0, 100 * 1000 }, NULL);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
reload_under_load_never_frees_a_config_in_use(void **state)
{
	_Atomic(struct conf *) current;
	struct reload_workers w = { count, epoch, pause_briefly, NULL, check_notes };
	char path[] = "/tmp/tsnatd-engine-XXXXXX";
	struct stats total = { 0 }, s;
	struct engine *e;
	unsigned long packets = 0;

	(void)state;
	close(mkstemp(path));
	atomic_store(&current, conf_from_text(CONF_TEXT("rw-a"), NULL));
	for (unsigned i = 0; i < NQ; i++)
		fq[i] = (struct fake_queue){ .live = true, .fail_pattern = true };
	e = engine_open(atomic_load(&current), doms, NULL, 1);
	assert_non_null(e);
	w.ctx = e;
	assert_int_equal(engine_start(e, &current), 0);
	for (unsigned r = 0; r < RELOADS; r++) {
		write_file(path, r % 2 ? CONF_TEXT("rw-a") : CONF_TEXT("rw-b"));
		assert_true(reload_apply(&current, path, doms, &w, NULL));
	}
	atomic_store(&stopping, true);
	engine_stop(e);
	check_notes(e);
	for (unsigned i = 0; i < NQ; i++) {
		engine_stats(e, i, &s);
		stats_add(&total, &s);
		packets += fq[i].next_id;
		assert_all_answered(&fq[i]);
	}
	assert_int_equal(total.packets, packets);
	assert_true(total.send_errors > 0);	/* the failures were met */
	assert_true(packets > RELOADS);
	engine_free(e);
	conf_free(atomic_load(&current));
	unlink(path);
}

/* The conntrack glue is asked for on each queue at open; a kernel that
 * refuses it costs the queue nothing but the glue, and says why. */
static void
each_queue_reports_whether_the_kernel_gave_it_the_conntrack_glue(void **state)
{
	struct engine *e;
	int err = -1;

	(void)state;
	/* every fake socket after queue 0's (each worker also opens one for
	 * ctnetlink): queue 1's refuses the flag */
	for (unsigned i = 1; i < FAKE_QUEUES; i++)
		fq[i].ct_ack_error = -EOPNOTSUPP;
	e = engine_open(conf, doms, NULL, 1);
	assert_non_null(e);
	assert_true(engine_conntrack(e, 0, &err));
	assert_int_equal(err, 0);
	assert_false(engine_conntrack(e, 1, &err));
	assert_int_equal(err, EOPNOTSUPP);
	assert_false(engine_conntrack(e, 1, NULL));
	assert_string_equal(engine_glue_reason(err), "kernel lacks NETLINK_GLUE_CT");
	assert_string_equal(engine_glue_reason(EPERM), strerror(EPERM));
	engine_stop(e);
	engine_free(e);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(failed_send_is_tried_again),
		T(failed_group_drops_its_modified_packets_and_accepts_the_rest),
		T(failed_fallback_leaves_a_sweep_owed_that_accepts_everything),
		T(sweep_without_packets_owes_nothing),
		T(packets_before_a_config_ack_are_accepted_right_after_it),
		T(failed_config_still_answers_the_packets_read),
		T(config_ack_without_packets_sends_nothing),
		T(reload_under_load_never_frees_a_config_in_use),
		T(each_queue_reports_whether_the_kernel_gave_it_the_conntrack_glue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
