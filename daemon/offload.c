/* offload.c - load, adopt, attach, sweep and unload the kernel data path
 * (bpf/shift.bpf.c, embedded as a bpftool skeleton). */
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <pthread.h>
#include <sys/random.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conf.h"
#include "domain.h"
#include "flow.h"
#include "log.h"
#include "policy.h"
#include "offload.h"
#include "shift.skel.h"

/* The tc filters' identity on every interface: handle and priority. */
#define TC_HANDLE 0x7453
#define TC_PRIO 0x7453
#define MAX_IFACES 64
#define MAX_CPUS 512	/* per-CPU values read on a worker's stack */
/* The per-client counts of the quota: a count-min sketch (never fewer
 * than there are), rebuilt by each sweep and published to the workers;
 * each worker adds what it wrote since. */
#define CM_D 2
#define CM_W 4096
#define SWEEP_MAX_DEAD (1u << 20)	/* entries ended per sweep, at most */

struct recent {
	uint32_t gen;				/* of the sweep it counts from */
	uint32_t c[CM_D][CM_W];
	/* the programs' mark as this worker last read it */
	uint32_t mark_ms, mark;
	bool mark_read, has_mark;
};

enum { PIN_FLOWS, PIN_MARKS, PIN_COUNTERS, PIN_INGRESS, PIN_EGRESS, NPINS };
static const char *const pin_name[NPINS] = { "flows", "marks", "counters", "ingress", "egress" };

struct offload {
	int fd[NPINS];
	bool adopted;
	bool drain;				/* offload = false: only the sweep */
	bool unloaded;				/* drained, then unloaded */
	char dir[256];
	uint64_t last_sweep;			/* monotonic s */
	uint32_t flows;				/* entries at the last sweep */
	uint64_t errors;			/* SHIFT_ERRORS last warned about */
	uint32_t seed;				/* keys the sketch */
	_Atomic uint32_t gen;			/* sweeps published */
	_Atomic uint32_t pub[CM_D][CM_W];	/* entries per client, last sweep */
	uint32_t scratch[CM_D][CM_W];		/* the sweep's count */
	struct recent *recent;			/* per worker */
	unsigned nrecent;
	int ncpus;
	pthread_mutex_t lock;			/* attach */
	_Atomic uint32_t ifindex[MAX_IFACES];	/* attached by this daemon
						 * (UINT32_MAX: a free slot) */
	uint32_t only[MAX_IFACES];		/* offload_interfaces, if listed */
	unsigned nonly;
	struct { uint32_t ifindex; uint64_t until_ns; } refused[8]; /* lock */
	struct offload_path path;
};

static uint64_t
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- what the workers call ---- */

static int
op_get(void *ctx, const struct shift_key *k, struct shift_flow *f)
{
	struct offload *o = ctx;

	if (bpf_map_lookup_elem(o->fd[PIN_FLOWS], k, f) == 0)
		return 1;
	return errno == ENOENT ? 0 : -1;
}

static int
op_put(void *ctx, const struct shift_key *k, const struct shift_flow *f, bool create)
{
	struct offload *o = ctx;
	struct shift_flow v = *f;

	v.last_ns = now_ns();
	return bpf_map_update_elem(o->fd[PIN_FLOWS], k, &v, create ? BPF_NOEXIST : BPF_EXIST) == 0 ?
	       0 : -1;
}

static int
op_del(void *ctx, const struct shift_key *k)
{
	struct offload *o = ctx;

	return bpf_map_delete_elem(o->fd[PIN_FLOWS], k) == 0 || errno == ENOENT ? 0 : -1;
}

/* The highest TSval' any CPU's program sent in the last SHIFT_MARK_AGE s. */
static bool
read_mark(struct offload *o, uint32_t *mark)
{
	uint64_t v[MAX_CPUS], sec = now_ns() / 1000000000u;
	uint32_t zero = 0;
	bool any = false;

	if (bpf_map_lookup_elem(o->fd[PIN_MARKS], &zero, v) < 0)
		return false;
	for (int i = 0; i < o->ncpus; i++) {
		if (!(v[i] & SHIFT_MARK_VALID) ||
		    ((sec - (v[i] >> 32)) & 0x7fffffff) > SHIFT_MARK_AGE)
			continue;
		if (!any || (int32_t)((uint32_t)v[i] - *mark) > 0)
			*mark = (uint32_t)v[i];
		any = true;
	}
	return any;
}

/* Read at most once a millisecond per worker: a SYN burst pays one
 * system call a millisecond, not one a SYN. */
static bool
op_mark(void *ctx, unsigned worker, uint32_t mono_ms, uint32_t *mark)
{
	struct offload *o = ctx;
	struct recent *r = worker < o->nrecent ? &o->recent[worker] : NULL;

	if (!r)
		return read_mark(o, mark);
	if (!r->mark_read || r->mark_ms != mono_ms) {
		r->has_mark = read_mark(o, &r->mark);
		r->mark_ms = mono_ms;
		r->mark_read = true;
	}
	*mark = r->mark;
	return r->has_mark;
}

static bool
attached(struct offload *o, uint32_t ifindex)
{
	for (int i = 0; i < MAX_IFACES; i++)
		if (atomic_load_explicit(&o->ifindex[i], memory_order_acquire) == ifindex)
			return true;
	return false;
}

/* Both programs on ifindex: a clsact qdisc (made if missing) and a direct-
 * action filter per hook, replacing one of ours already there. */
static int
tc_attach(int ingress_fd, int egress_fd, uint32_t ifindex)
{
	for (int h = 0; h < 2; h++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)ifindex,
			    .attach_point = h ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = TC_HANDLE, .priority = TC_PRIO,
			    .prog_fd = h ? egress_fd : ingress_fd, .flags = BPF_TC_F_REPLACE);
		int err = bpf_tc_hook_create(&hook);

		if (err && err != -EEXIST)
			return err;
		if ((err = bpf_tc_attach(&hook, &opts)) < 0)
			return err;
	}
	return 0;
}

/* The programs read an Ethernet header: other link types (WireGuard, tun,
 * PPP: no link header at all) keep their flows in NFQUEUE. */
static bool
is_ethernet(const char *name)
{
	char path[64], type[16] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/type", name);
	if (!(f = fopen(path, "re")))
		return false;
	if (!fgets(type, sizeof(type), f))
		type[0] = '\0';
	fclose(f);
	return atoi(type) == 1;	/* ARPHRD_ETHER */
}

/* Refused lately (a minute): not tried, nor warned about, again for
 * each SYN. Under o->lock. */
static bool
refused_lately(struct offload *o, uint32_t ifindex, bool add)
{
	uint64_t now = now_ns();
	size_t n = sizeof(o->refused) / sizeof(o->refused[0]), oldest = 0;

	for (size_t i = 0; i < n; i++) {
		if (o->refused[i].ifindex == ifindex && o->refused[i].until_ns > now)
			return true;
		if (o->refused[i].until_ns < o->refused[oldest].until_ns)
			oldest = i;
	}
	if (add)
		o->refused[oldest].ifindex = ifindex, o->refused[oldest].until_ns = now + 60000000000ull;
	return false;
}

static int
op_attach(void *ctx, uint32_t ifindex)
{
	struct offload *o = ctx;
	char name[IF_NAMESIZE] = "?";
	int err = 0, i;
	bool listed = o->nonly == 0;

	if (ifindex == 0)
		return -1;
	if (attached(o, ifindex))
		return 0;
	for (unsigned j = 0; j < o->nonly; j++)
		listed |= o->only[j] == ifindex;
	if (!listed)
		return -1;	/* not in offload_interfaces: NFQUEUE */
	pthread_mutex_lock(&o->lock);
	for (i = 0; i < MAX_IFACES && atomic_load(&o->ifindex[i]); i++)
		if (atomic_load(&o->ifindex[i]) == ifindex)
			goto out;
	if (refused_lately(o, ifindex, false)) {
		err = -1;
		goto out;
	}
	if_indextoname(ifindex, name);
	if (!is_ethernet(name)) {
		log_warnx("offload: %s is not an Ethernet interface: its flows go through "
			  "NFQUEUE", name);
		err = -1;
	} else if (i == MAX_IFACES) {
		log_warnx("offload: not attaching to %s: already on %d interfaces; its "
			  "flows go through NFQUEUE", name, MAX_IFACES);
		err = -1;
	} else if ((err = tc_attach(o->fd[PIN_INGRESS], o->fd[PIN_EGRESS], ifindex)) < 0) {
		log_warnx("offload: cannot attach to %s: %s; its flows go through NFQUEUE",
			  name, strerror(-err));
	} else if (o->nonly && !is_ethernet(name)) {
		err = -1;
	} else {
		atomic_store_explicit(&o->ifindex[i], ifindex, memory_order_release);
		log_info("offload: programs attached to %s (tc clsact ingress and egress)",
			 name);
	}
out:
	if (err < 0)
		refused_lately(o, ifindex, true);
	pthread_mutex_unlock(&o->lock);
	return err < 0 ? -1 : 0;
}

static uint32_t
cm_index(uint32_t seed, int row, const struct shift_key *k)
{
	uint32_t h = 2166136261u ^ seed ^ (uint32_t)row * 0x9e3779b9u;

	h = (h ^ k->family) * 16777619u;
	for (int i = 0; i < 16; i++)
		h = (h ^ k->client[i]) * 16777619u;
	h ^= h >> 15;
	return h % CM_W;
}

static uint32_t
op_client_flows(void *ctx, unsigned worker, const struct shift_key *k, bool add)
{
	struct offload *o = ctx;
	uint32_t g = atomic_load_explicit(&o->gen, memory_order_acquire), n = UINT32_MAX;
	struct recent *r = worker < o->nrecent ? &o->recent[worker] : NULL;

	if (r && r->gen != g) {
		memset(r->c, 0, sizeof(r->c));
		r->gen = g;
	}
	for (int d = 0; d < CM_D; d++) {
		uint32_t i = cm_index(o->seed, d, k), v;

		if (r && add)
			r->c[d][i]++;
		v = atomic_load_explicit(&o->pub[d][i], memory_order_relaxed) + (r ? r->c[d][i] : 0);
		if (v < n)
			n = v;
	}
	return n;
}

static const struct offload_ops ops = {
	.get = op_get, .put = op_put, .del = op_del, .mark = op_mark, .attach = op_attach,
	.client_flows = op_client_flows,
};
/* Draining (offload = false, an earlier daemon's data path pinned): new
 * flows go through NFQUEUE, above what the programs still send. */
static const struct offload_ops drain_ops = { .get = op_get, .del = op_del, .mark = op_mark };

/* ---- loading and adopting ---- */

static void
pin_path(char *out, size_t len, const char *dir, int which)
{
	snprintf(out, len, "%s/%s", dir, pin_name[which]);
}

static void
close_fds(int *fd)
{
	for (int i = 0; i < NPINS; i++) {
		if (fd[i] >= 0)
			close(fd[i]);
		fd[i] = -1;
	}
}

static void
unpin_all(const char *dir)
{
	char p[512];

	for (int i = 0; i < NPINS; i++) {
		pin_path(p, sizeof(p), dir, i);
		unlink(p);
	}
}

/* A map pinned by this version: same type, key and value sizes, and
 * (max != 0) as many entries. */
static bool
map_fits(int fd, enum bpf_map_type type, uint32_t key, uint32_t value, uint32_t max)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.type == type &&
	       info.key_size == key && info.value_size == value &&
	       (!max || info.max_entries == max);
}

/* The maps an earlier daemon pinned, if they fit this version and
 * flows_max (0: any size): true with their fds in o->fd. The programs
 * are not taken: the ones embedded here replace them (an upgrade, a new
 * offload_mark), on the same maps, so no flow loses its shift. */
static bool
adopt(struct offload *o, const char *dir, uint32_t flows_max)
{
	static const int maps[] = { PIN_FLOWS, PIN_MARKS, PIN_COUNTERS };
	char p[512];
	bool any = false;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		pin_path(p, sizeof(p), dir, maps[i]);
		o->fd[maps[i]] = bpf_obj_get(p);
		any |= o->fd[maps[i]] >= 0;
	}
	if (map_fits(o->fd[PIN_FLOWS], BPF_MAP_TYPE_LRU_HASH, sizeof(struct shift_key),
		     sizeof(struct shift_flow), flows_max) &&
	    map_fits(o->fd[PIN_MARKS], BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, 1) &&
	    map_fits(o->fd[PIN_COUNTERS], BPF_MAP_TYPE_PERCPU_ARRAY, 4, 8, SHIFT_NCOUNTERS))
		return true;
	if (any)
		log_warnx("offload: the maps pinned in %s are another version's or another "
			  "flows.max's: loading anew (the flows they hold lose their shift)", dir);
	close_fds(o->fd);
	return false;
}

/* Our filter's hooks on every interface of the namespace: ifindex list,
 * for the programs to replace. */
static unsigned
filtered_interfaces(uint32_t *out, unsigned max)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	unsigned n = 0;

	for (i = ifs; i && i->if_index && n < max; i++) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)i->if_index,
			    .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = TC_HANDLE, .priority = TC_PRIO);

		if (bpf_tc_query(&hook, &q) == 0)
			out[n++] = i->if_index;
	}
	if (ifs)
		if_freenameindex(ifs);
	return n;
}

/* Load the embedded programs, on the adopted maps if o->fd has them,
 * else on new ones, and pin what is new. 0, or -1 with why set. */
static int
load(struct offload *o, const struct conf *c, char *why, size_t whylen)
{
	struct shift *skel = shift__open();
	bool reuse = o->fd[PIN_FLOWS] >= 0;
	char p[512];
	int err;

	if (!skel) {
		snprintf(why, whylen, "cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	skel->rodata->mark_bit = c->offload_mark;
	err = bpf_map__set_max_entries(skel->maps.shift_flows, c->flows_max);
	if (!err && reuse)
		err = bpf_map__reuse_fd(skel->maps.shift_flows, o->fd[PIN_FLOWS]) ?:
		      bpf_map__reuse_fd(skel->maps.shift_marks, o->fd[PIN_MARKS]) ?:
		      bpf_map__reuse_fd(skel->maps.shift_counters, o->fd[PIN_COUNTERS]);
	if (err || (err = shift__load(skel)) < 0) {
		snprintf(why, whylen, "the kernel refused the BPF programs or maps (%s): it "
			 "needs BPF with BTF, tc clsact, CAP_BPF and CAP_PERFMON, and memory "
			 "for flows.max entries (details at log_level debug)", strerror(-err));
		shift__destroy(skel);
		return -1;
	}
	if (!reuse) {
		o->fd[PIN_FLOWS] = dup(bpf_map__fd(skel->maps.shift_flows));
		o->fd[PIN_MARKS] = dup(bpf_map__fd(skel->maps.shift_marks));
		o->fd[PIN_COUNTERS] = dup(bpf_map__fd(skel->maps.shift_counters));
	}
	o->fd[PIN_INGRESS] = dup(bpf_program__fd(skel->progs.shift_ingress));
	o->fd[PIN_EGRESS] = dup(bpf_program__fd(skel->progs.shift_egress));
	shift__destroy(skel);
	for (int i = reuse ? PIN_INGRESS : 0; i < NPINS; i++) {
		pin_path(p, sizeof(p), c->offload_dir, i);
		unlink(p);
		if (o->fd[i] < 0 || bpf_obj_pin(o->fd[i], p) < 0) {
			snprintf(why, whylen, "cannot pin %s: %s", p, strerror(errno));
			close_fds(o->fd);
			return -1;
		}
	}
	return 0;
}

/* dir is on a bpf file system (a mount point itself, or to be made in
 * one). */
static bool
is_bpffs(const char *dir)
{
	struct statfs st;
	char parent[256];
	char *slash;

	if (statfs(dir, &st) == 0)
		return st.f_type == BPF_FS_MAGIC;
	snprintf(parent, sizeof(parent), "%s", dir);
	if ((slash = strrchr(parent, '/')) && slash != parent)
		*slash = '\0';
	return statfs(parent, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

/* The configured interfaces, now (names separated by spaces; "auto": none
 * now, each as its first offloaded SYN arrives on it). */
static int
attach_configured(struct offload *o, const char *list, char *why, size_t whylen)
{
	char buf[256], *save = NULL;

	if (strcmp(list, "auto") == 0)
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *n = strtok_r(buf, " ,", &save); n; n = strtok_r(NULL, " ,", &save)) {
		unsigned idx = if_nametoindex(n);

		if (idx && o->nonly < MAX_IFACES)
			o->only[o->nonly++] = idx;
		if (!idx || op_attach(o, idx) < 0) {
			snprintf(why, whylen, "cannot attach to interface %s%s", n,
				 idx ? "" : ": no such interface");
			return -1;
		}
	}
	return 0;
}

static struct offload *
offload_new(const char *dir)
{
	struct offload *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	for (int i = 0; i < NPINS; i++)
		o->fd[i] = -1;
	pthread_mutex_init(&o->lock, NULL);
	o->ncpus = libbpf_num_possible_cpus();
	o->path = (struct offload_path){ &ops, o };
	snprintf(o->dir, sizeof(o->dir), "%s", dir);
	if (getrandom(&o->seed, sizeof(o->seed), 0) != sizeof(o->seed))
		o->seed = (uint32_t)now_ns();
	return o;
}

/* libbpf's messages: its warnings (a verifier refusal) as ours. */
__attribute__((format(printf, 2, 0))) static int
libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("libbpf: %s", line);
	return 0;
}

struct offload *
offload_open(const struct conf *c, char *why, size_t whylen)
{
	struct offload *o;

	libbpf_set_print(libbpf_log);
	if (!c->offload) {
		snprintf(why, whylen, "offload = false in the configuration");
		return NULL;
	}
	if (!is_bpffs(c->offload_dir)) {
		snprintf(why, whylen, "%s is not on a bpf file system (mount -t bpf bpf "
			 "DIR; tsnatd.service mounts one on /run/tsnatd/bpf)", c->offload_dir);
		return NULL;
	}
	if (mkdir(c->offload_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create %s: %s", c->offload_dir, strerror(errno));
		return NULL;
	}
	if (!(o = offload_new(c->offload_dir)) ||
	    !(o->recent = calloc(c->queue_count, sizeof(*o->recent)))) {
		offload_close(o);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	o->nrecent = c->queue_count;
	if (o->ncpus <= 0 || o->ncpus > MAX_CPUS) {
		snprintf(why, whylen, "%d possible CPUs (at most %d)", o->ncpus, MAX_CPUS);
		goto fail;
	}
	o->adopted = adopt(o, c->offload_dir, c->flows_max);
	if (load(o, c, why, whylen) < 0)
		goto fail;
	/* The programs of an earlier daemon, wherever they are, replaced by
	 * these (on the same maps when adopted): the interfaces are ours. */
	{
		uint32_t idx[MAX_IFACES];
		unsigned n = filtered_interfaces(idx, MAX_IFACES);

		for (unsigned i = 0; i < n; i++)
			op_attach(o, idx[i]);
	}
	if (attach_configured(o, c->offload_interfaces, why, whylen) < 0)
		goto fail;
	return o;
fail:
	offload_close(o);
	return NULL;
}

void
offload_close(struct offload *o)
{
	if (!o)
		return;
	close_fds(o->fd);
	pthread_mutex_destroy(&o->lock);
	free(o->recent);
	free(o);
}

const struct offload_path *
offload_path(struct offload *o)
{
	return o ? &o->path : NULL;
}

static char last_why[OFFLOAD_WHY];

/* No kernel data path for new flows (offload = false, no policy rewrites,
 * or it did not load) but an earlier daemon's is pinned: its flows stay
 * shifted in the kernel until they end, then it is removed
 * (offload_tick). Meanwhile new flows go through NFQUEUE, above the
 * programs' mark, and a SYN on a tuple the map still holds deletes it. */
static struct offload *
drain_pinned(const struct conf *c)
{
	struct offload *o;

	if (!is_bpffs(c->offload_dir) || !(o = offload_new(c->offload_dir)))
		return NULL;
	if (o->ncpus > 0 && o->ncpus <= MAX_CPUS && adopt(o, c->offload_dir, 0)) {
		o->drain = true;
		o->path.ops = &drain_ops;
		log_warnx("offload: the kernel data path pinned in %s keeps shifting its "
			  "flows until they end; then it is removed", c->offload_dir);
		return o;
	}
	offload_close(o);
	return NULL;
}

const char *
offload_why(void)
{
	return last_why;
}

struct offload *
offload_start(const struct conf *c)
{
	char *why = last_why;
	struct offload *o;

	why[0] = '\0';
	if (!conf_rewrites(c)) {
		snprintf(why, sizeof(last_why), "no policy rewrites");
		return drain_pinned(c);
	}
	if ((o = offload_open(c, why, sizeof(last_why)))) {
		log_info("offload: rewritten flows are shifted in the kernel (tc on %s "
			 "interfaces), programs and maps %s %s", c->offload_interfaces,
			 o->adopted ? "adopted from" : "loaded and pinned in", c->offload_dir);
		return o;
	}
	log_warnx("offload: NOT USED: %s. Rewrite goes through NFQUEUE alone: every packet "
		  "of a rewritten flow is queued to tsnatd", why);
	return drain_pinned(c);
}

/* A filter of ours still on every interface this daemon attached to
 * (tsnatd --unload by hand, tc qdisc del): one that is gone is forgotten,
 * so that the next SYN from it attaches again. */
static void
check_attached(struct offload *o)
{
	for (int i = 0; i < MAX_IFACES; i++) {
		uint32_t idx = atomic_load(&o->ifindex[i]);
		char name[IF_NAMESIZE] = "?";

		if (!idx)
			break;
		if (idx == UINT32_MAX)
			continue;
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)idx, .attach_point = BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, q, .handle = TC_HANDLE, .priority = TC_PRIO);
		if (bpf_tc_query(&hook, &q) == 0)
			continue;
		if_indextoname(idx, name);
		log_warnx("offload: the programs are no longer on %s: attaching again at its "
			  "next SYN", name);
		atomic_store(&o->ifindex[i], UINT32_MAX);	/* a free slot */
	}
}

void
offload_tick(struct offload *o, const struct conf *c, struct domains *d, uint64_t mono_s)
{
	uint64_t cnt[SHIFT_NCOUNTERS];
	uint32_t removed, mark, floor;

	if (!o || o->unloaded || mono_s - o->last_sweep < 2)
		return;
	o->last_sweep = mono_s;
	/* What the programs sent counts for every SYN to come, also after a
	 * checkpoint and a crash (marks.c reads the floor). */
	if (read_mark(o, &mark) && (!domains_floor(d, &floor) || (int32_t)(mark - floor) > 0))
		domains_set_floor(d, mark);
	if (!o->drain)
		check_attached(o);
	if (!offload_sweep(o, c->flows_idle_timeout, FLOW_CLOSING_TIMEOUT,
			   c->flows_half_open_timeout, &o->flows, &removed))
		return;	/* no count: nothing drains on it */
	if (removed)
		log_debug("offload: %u flows ended (FINs or idle), %u left", removed, o->flows);
	offload_counters(o, cnt);
	if (cnt[SHIFT_ERRORS] != o->errors) {
		log_warnx("offload: the kernel refused %llu packet edits so far (they went "
			  "out unshifted)", (unsigned long long)cnt[SHIFT_ERRORS]);
		o->errors = cnt[SHIFT_ERRORS];
	}
	if (o->drain && o->flows == 0) {
		/* The descriptors stay open until the daemon stops: the workers
		 * still read the (detached) maps, harmlessly. */
		offload_unload(o->dir);
		o->unloaded = true;
		log_info("offload: the last kernel-shifted flow ended: programs detached, "
			 "pins removed");
	}
}

void
offload_fold_marks(struct offload *o, struct domains *d)
{
	uint32_t mark;

	if (o && read_mark(o, &mark))
		for (uint16_t i = 0; i < domains_count(d); i++)
			domains_note(d, 0, i, mark);
}

bool
offload_unloaded(const struct offload *o)
{
	return o && o->unloaded;
}

uint32_t
offload_flows(const struct offload *o)
{
	return o ? o->flows : 0;
}

bool
offload_draining(const struct offload *o)
{
	return o && o->drain;
}

bool
offload_adopted(const struct offload *o)
{
	return o && o->adopted;
}

/* ---- the main thread's housekeeping ---- */

/* Whether f has ended by now (ns): both FINs closing_s ago, unanswered
 * half_open_s ago, idle idle_s. */
static bool
ended(const struct shift_flow *f, uint64_t now, uint32_t idle_s, uint32_t closing_s,
      uint32_t half_open_s)
{
	uint64_t idle = now > f->last_ns ? (now - f->last_ns) / 1000000000u : 0;
	bool closing = (f->flags & SHIFT_FIN_CLIENT) && (f->flags & SHIFT_FIN_SERVER);

	return idle >= (closing ? closing_s : !(f->flags & SHIFT_ANSWERED) ? half_open_s : idle_s);
}

bool
offload_sweep(struct offload *o, uint32_t idle_s, uint32_t closing_s, uint32_t half_open_s,
	      uint32_t *left, uint32_t *nremoved)
{
	struct shift_key k, next, *dead = NULL;
	struct shift_flow f;
	uint64_t now = now_ns();
	uint32_t ndead = 0, cap = 0, n = 0, removed = 0;
	void *prev = NULL;
	int err;

	memset(o->scratch, 0, sizeof(o->scratch));
	/* Collect, then delete: deleting the key the walk stands on would
	 * restart it from the first. */
	while ((err = bpf_map_get_next_key(o->fd[PIN_FLOWS], prev, &next)) == 0) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(o->fd[PIN_FLOWS], &k, &f) < 0)
			continue;
		n++;
		if (!ended(&f, now, idle_s, closing_s, half_open_s)) {
			/* closing flows do not count against the quota */
			if (!((f.flags & SHIFT_FIN_CLIENT) && (f.flags & SHIFT_FIN_SERVER)))
				for (int d = 0; d < CM_D; d++)
					o->scratch[d][cm_index(o->seed, d, &k)]++;
			continue;
		}
		if (ndead == cap) {
			struct shift_key *more;

			if (cap == SWEEP_MAX_DEAD ||
			    !(more = realloc(dead, (cap ? cap * 2 : 256) * sizeof(*dead))))
				continue;	/* the rest at the next sweep */
			dead = more;
			cap = cap ? cap * 2 : 256;
		}
		dead[ndead++] = k;
	}
	if (err && errno != ENOENT) {
		log_warnx("offload: cannot walk the flows map: %s", strerror(errno));
		free(dead);
		return false;
	}
	/* Each one looked at again just before it goes: a SYN may have
	 * given its tuple to a new connection since, or it woke up. */
	for (uint32_t i = 0; i < ndead; i++)
		if (bpf_map_lookup_elem(o->fd[PIN_FLOWS], &dead[i], &f) == 0 &&
		    ended(&f, now_ns(), idle_s, closing_s, half_open_s))
			removed += bpf_map_delete_elem(o->fd[PIN_FLOWS], &dead[i]) == 0;
	free(dead);
	for (int d = 0; d < CM_D; d++)
		for (int i = 0; i < CM_W; i++)
			atomic_store_explicit(&o->pub[d][i], o->scratch[d][i], memory_order_relaxed);
	atomic_fetch_add_explicit(&o->gen, 1, memory_order_release);
	*left = n - removed;
	*nremoved = removed;
	return true;
}

void
offload_counters(struct offload *o, uint64_t out[SHIFT_NCOUNTERS])
{
	uint64_t v[MAX_CPUS];

	for (uint32_t i = 0; i < SHIFT_NCOUNTERS; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(o->fd[PIN_COUNTERS], &i, v) < 0)
			continue;
		for (int c = 0; c < o->ncpus; c++)
			out[i] += v[c];
	}
}

void
offload_interfaces(struct offload *o, char *out, size_t len)
{
	size_t at = 0;

	out[0] = '\0';
	for (int i = 0; i < MAX_IFACES && at < len; i++) {
		uint32_t idx = atomic_load(&o->ifindex[i]);
		char name[IF_NAMESIZE];

		if (!idx)
			break;
		if (idx == UINT32_MAX)
			continue;
		if (!if_indextoname(idx, name))
			snprintf(name, sizeof(name), "#%u", idx);
		at += (size_t)snprintf(out + at, len - at, "%s%s", at ? " " : "", name);
	}
}

/* ---- tsnatd --unload ---- */

static uint32_t
prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	return fd >= 0 && bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

long
offload_unload(const char *dir)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int fd[NPINS];
	uint32_t ids[2];
	char p[512];
	long flows = 0;
	struct shift_key k, next;
	void *prev = NULL;

	libbpf_set_print(libbpf_log);
	for (int j = 0; j < NPINS; j++) {
		pin_path(p, sizeof(p), dir, j);
		fd[j] = bpf_obj_get(p);
	}
	ids[0] = prog_id(fd[PIN_INGRESS]);
	ids[1] = prog_id(fd[PIN_EGRESS]);
	if (fd[PIN_FLOWS] >= 0)
		while (bpf_map_get_next_key(fd[PIN_FLOWS], prev, &next) == 0) {
			k = next;
			prev = &k;
			flows++;
		}
	/* Our filters (handle and priority) wherever they are, whichever
	 * program they run: also those of a daemon whose pins are gone. */
	for (i = ifs; i && i->if_index; i++)
		for (int h = 0; h < 2; h++) {
			LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)i->if_index,
				    .attach_point = h ? BPF_TC_EGRESS : BPF_TC_INGRESS);
			LIBBPF_OPTS(bpf_tc_opts, q, .handle = TC_HANDLE, .priority = TC_PRIO);

			if (bpf_tc_query(&hook, &q) < 0)
				continue;
			LIBBPF_OPTS(bpf_tc_opts, d, .handle = TC_HANDLE, .priority = TC_PRIO);
			if (bpf_tc_detach(&hook, &d) == 0)
				printf("tsnatd: detached from %s (%s, program %u%s)\n", i->if_name,
				       h ? "egress" : "ingress", q.prog_id,
				       q.prog_id == ids[h] ? "" : ", not the pinned one");
		}
	if (ifs)
		if_freenameindex(ifs);
	close_fds(fd);
	unpin_all(dir);
	/* a mount point (tsnatd.service's) stays; EBUSY says it is one */
	if (rmdir(dir) < 0 && errno != ENOENT && errno != EBUSY) {
		fprintf(stderr, "tsnatd: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return flows;
}
