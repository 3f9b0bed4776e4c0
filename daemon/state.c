/* state.c - save and restore flow tables and domain marks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "state.h"

#define STATE_VERSION 1

struct state_hdr {
	char magic[8];		/* "TSNATDFL" flows, "TSNATDDM" domains */
	uint32_t version;
	uint32_t record_size;
	uint32_t count;
	uint32_t pad;
	uint64_t saved_at;	/* wall clock seconds */
};

struct domain_rec {
	uint16_t id;
	uint8_t family;
	uint8_t has_mark;
	uint32_t mark;
	uint8_t addr[16];
};

static const char flows_magic[8] = "TSNATDFL", domains_magic[8] = "TSNATDDM";

static void
path_for(char *out, size_t len, const char *dir, const char *name, unsigned queue)
{
	if (strcmp(name, "flows") == 0)
		snprintf(out, len, "%s/flows.q%u", dir, queue);
	else
		snprintf(out, len, "%s/%s", dir, name);
}

/* Write to a temporary name and rename: a crash never leaves half a file. */
static FILE *
open_tmp(const char *path, char *tmp, size_t len)
{
	snprintf(tmp, len, "%s.tmp", path);
	return fopen(tmp, "wb");
}

static int
close_tmp(FILE *f, const char *tmp, const char *path)
{
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		log_warn("saving %s", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct save_ctx {
	FILE *f;
	uint32_t n;
};

static void
save_one(const struct flow *fl, void *arg)
{
	struct save_ctx *sc = arg;

	if (fwrite(fl, sizeof(*fl), 1, sc->f) == 1)
		sc->n++;
}

long
state_save(const char *dir, const struct engine *e, const struct domains *d)
{
	char path[512], tmp[520];
	struct state_hdr h = { .version = STATE_VERSION, .saved_at = (uint64_t)time(NULL) };
	long total = 0;
	FILE *f;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("state directory %s", dir);
		return -1;
	}
	path_for(path, sizeof(path), dir, "domains", 0);
	if (!(f = open_tmp(path, tmp, sizeof(tmp))))
		goto fail;
	memcpy(h.magic, domains_magic, 8);
	h.record_size = sizeof(struct domain_rec);
	h.count = domains_count(d);
	fwrite(&h, sizeof(h), 1, f);
	for (uint16_t i = 0; i < h.count; i++) {
		struct domain_rec r = { .id = i };
		int fam = 0;

		domains_get(d, i, &fam, r.addr);
		r.family = (uint8_t)fam;
		r.has_mark = domains_hwm(d, i, &r.mark);
		fwrite(&r, sizeof(r), 1, f);
	}
	if (close_tmp(f, tmp, path) < 0)
		return -1;

	memcpy(h.magic, flows_magic, 8);
	h.record_size = sizeof(struct flow);
	for (unsigned i = 0; i < engine_nworkers(e); i++) {
		struct flow_table *t = engine_flows(e, i);
		struct save_ctx sc;

		path_for(path, sizeof(path), dir, "flows", engine_queue(e, i));
		if (!(f = open_tmp(path, tmp, sizeof(tmp))))
			goto fail;
		h.count = flow_count(t);
		fwrite(&h, sizeof(h), 1, f);
		sc = (struct save_ctx){ .f = f };
		flow_foreach(t, save_one, &sc);
		if (close_tmp(f, tmp, path) < 0)
			return -1;
		total += sc.n;
	}
	return total;
fail:
	log_warn("saving state to %s", dir);
	return -1;
}

/* Open a state file and check its header; NULL (with a warning when it
 * exists but does not fit) otherwise. */
static FILE *
open_checked(const char *path, const char magic[8], uint32_t record_size,
	     uint32_t max_age_s, struct state_hdr *h)
{
	FILE *f = fopen(path, "rb");
	uint64_t now = (uint64_t)time(NULL);

	if (!f)
		return NULL;
	if (fread(h, sizeof(*h), 1, f) != 1 || memcmp(h->magic, magic, 8) != 0 ||
	    h->version != STATE_VERSION || h->record_size != record_size) {
		log_warnx("%s: not a state file of this version; ignored", path);
	} else if (now - h->saved_at > max_age_s) {
		log_warnx("%s: saved %llu s ago, older than the flow timeout; ignored",
			  path, (unsigned long long)(now - h->saved_at));
	} else {
		return f;
	}
	fclose(f);
	return NULL;
}

long
state_restore(const char *dir, const struct engine *e, struct domains *d,
	      uint32_t max_age_s)
{
	uint16_t remap[DOMAIN_MAX] = { 0 };
	char path[512];
	struct state_hdr h;
	struct timespec mono;
	long total = 0, lost = 0;
	FILE *f;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	path_for(path, sizeof(path), dir, "domains", 0);
	f = open_checked(path, domains_magic, sizeof(struct domain_rec), max_age_s, &h);
	unlink(path);
	if (!f)
		return 0;	/* flows without their domains are useless */
	for (uint32_t i = 0; i < h.count && i < DOMAIN_MAX; i++) {
		struct domain_rec r;

		if (fread(&r, sizeof(r), 1, f) != 1 || r.id >= DOMAIN_MAX)
			break;
		remap[r.id] = r.id == DOMAIN_SHARED ? DOMAIN_SHARED :
			      domains_intern(d, r.family, r.addr);
		if (r.has_mark)
			domains_note(d, 0, remap[r.id], r.mark);
	}
	fclose(f);

	for (unsigned i = 0; i < engine_nworkers(e); i++) {
		struct flow_table *t = engine_flows(e, i);
		struct flow fl;

		path_for(path, sizeof(path), dir, "flows", engine_queue(e, i));
		f = open_checked(path, flows_magic, sizeof(struct flow), max_age_s, &h);
		unlink(path);
		if (!f)
			continue;
		for (uint32_t n = 0; n < h.count && fread(&fl, sizeof(fl), 1, f) == 1; n++) {
			fl.domain = fl.domain < DOMAIN_MAX ? remap[fl.domain] : DOMAIN_SHARED;
			if (flow_restore(t, &fl, (uint32_t)mono.tv_sec))
				total++;
			else
				lost++;
		}
		fclose(f);
	}
	if (lost)
		log_warnx("state: %ld saved flows did not fit the flow tables", lost);
	return total;
}
