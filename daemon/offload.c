/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offload.c - load, adopt and unload the kernel data path (bpf/shift.bpf.c,
 * embedded as a bpftool skeleton), and the main loop's housekeeping; what
 * the workers and the sweep do with its maps is offload_map.c. */
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
#include "offload_int.h"
#include "shift.skel.h"

/* ---- loading and adopting ---- */

static const char *const pin_name[NPINS] = { "flows", "marks", "counters", "ingress", "egress" };

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
		if (!idx || offload_attach(o, idx) < 0) {
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
	o->path = (struct offload_path){ &offload_worker_ops, o };
	snprintf(o->dir, sizeof(o->dir), "%s", dir);
	if (getrandom(&o->seed, sizeof(o->seed), 0) != sizeof(o->seed))
		o->seed = (uint32_t)offload_now_ns();
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
			offload_attach(o, idx[i]);
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
	return o ? o->drain ? &o->drain_path : &o->path : NULL;
}

char offload_last_why[OFFLOAD_WHY];

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
		o->drain_path = (struct offload_path){ &offload_drain_ops, o };
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
	return offload_last_why;
}

struct offload *
offload_start(const struct conf *c)
{
	char *why = offload_last_why;
	struct offload *o;

	why[0] = '\0';
	if (!conf_rewrites(c)) {
		snprintf(why, sizeof(offload_last_why), "no policy rewrites");
		return drain_pinned(c);
	}
	if ((o = offload_open(c, why, sizeof(offload_last_why)))) {
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
	if (offload_read_mark(o, &mark) && (!domains_floor(d, &floor) || (int32_t)(mark - floor) > 0))
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
		long open = 0;

		offload_unload(o->dir, &open);
		o->unloaded = true;
		log_info("offload: the last kernel-shifted flow ended: programs detached, "
			 "pins removed");
	}
}

void
offload_fold_marks(struct offload *o, struct domains *d)
{
	uint32_t mark;

	if (o && offload_read_mark(o, &mark))
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

uint32_t
offload_open_flows(const struct offload *o)
{
	return o ? o->open : 0;
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
offload_unload(const char *dir, long *open)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	int fd[NPINS];
	uint32_t ids[2];
	char p[512];
	long flows = 0;
	struct shift_key k, next;
	struct shift_flow f;
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
			*open += bpf_map_lookup_elem(fd[PIN_FLOWS], &k, &f) == 0 &&
				 offload_entry_open(&f);
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
