/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offload_map.c - what the workers (offload.h's operations) and the main
 * loop's sweep do with the kernel data path's maps: entries, the
 * programs' mark, attaching to an interface, the per-client counts of the
 * quota, ending flows. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "offload_int.h"

uint64_t
offload_now_ns(void)
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

	v.last_ns = offload_now_ns();
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
bool
offload_read_mark(struct offload *o, uint32_t *mark)
{
	uint64_t v[MAX_CPUS], sec = offload_now_ns() / 1000000000u;
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
		return offload_read_mark(o, mark);
	if (!r->mark_read || r->mark_ms != mono_ms) {
		r->has_mark = offload_read_mark(o, &r->mark);
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
	uint64_t now = offload_now_ns();
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

int
offload_attach(void *ctx, uint32_t ifindex)
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

const struct offload_ops offload_worker_ops = {
	.get = op_get, .put = op_put, .del = op_del, .mark = op_mark, .attach = offload_attach,
	.client_flows = op_client_flows,
};
/* Draining (offload = false, an earlier daemon's data path pinned): new
 * flows go through NFQUEUE, above what the programs still send. */
const struct offload_ops offload_drain_ops = { .get = op_get, .del = op_del, .mark = op_mark };

/* Whether f has ended by now (ns): both FINs closing_s ago, unanswered
 * half_open_s ago, idle idle_s. */
static bool
ended(const struct shift_flow *f, uint64_t now, uint32_t idle_s, uint32_t closing_s,
      uint32_t half_open_s)
{
	uint64_t idle = now > f->last_ns ? (now - f->last_ns) / 1000000000u : 0;
	bool closing = (f->flags & SHIFT_CLOSING) == SHIFT_CLOSING;

	return idle >= (closing ? closing_s : !(f->flags & SHIFT_ANSWERED) ? half_open_s : idle_s);
}

bool
offload_entry_open(const struct shift_flow *f)
{
	return (f->flags & SHIFT_CLOSING) != SHIFT_CLOSING;
}

bool
offload_sweep(struct offload *o, uint32_t idle_s, uint32_t closing_s, uint32_t half_open_s,
	      uint32_t *left, uint32_t *nremoved)
{
	struct shift_key k, next, *dead = NULL;
	struct shift_flow f;
	uint64_t now = offload_now_ns();
	uint32_t ndead = 0, cap = 0, n = 0, removed = 0, open = 0;
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
			open += offload_entry_open(&f);
			/* closing flows do not count against the quota */
			if ((f.flags & SHIFT_CLOSING) != SHIFT_CLOSING)
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
		    ended(&f, offload_now_ns(), idle_s, closing_s, half_open_s))
			removed += bpf_map_delete_elem(o->fd[PIN_FLOWS], &dead[i]) == 0;
	free(dead);
	for (int d = 0; d < CM_D; d++)
		for (int i = 0; i < CM_W; i++)
			atomic_store_explicit(&o->pub[d][i], o->scratch[d][i], memory_order_relaxed);
	atomic_fetch_add_explicit(&o->gen, 1, memory_order_release);
	*left = n - removed;
	*nremoved = removed;
	o->open = open;
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

