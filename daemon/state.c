/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.c - save and restore flow tables and domain marks in the record
 * format described in state.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "state.h"


static const char state_magic[8] = "TSNATDST";

/* --- byte order and checksum -------------------------------------------- */

uint32_t
state_crc32(uint32_t crc, const void *buf, size_t len)
{
	/* Four bits at a time: small, and state files are read once. */
	static const uint32_t nibble[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac,
		0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
		0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	const uint8_t *p = buf;

	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ nibble[crc & 15];
		crc = (crc >> 4) ^ nibble[crc & 15];
	}
	return ~crc;
}


/* --- records ------------------------------------------------------------ */

struct state_domain {
	uint8_t family;
	bool has_mark;
	uint32_t mark;
	uint8_t addr[16];
};

static void
state_domain_encode(uint8_t *r, uint16_t id, const struct state_domain *dm)
{
	memset(r, 0, STATE_DOMAIN_SIZE);
	pkt_put16(r, id);
	r[2] = dm->family;
	r[3] = dm->has_mark;
	pkt_put32(r + 4, dm->has_mark ? dm->mark : 0);
	memcpy(r + 8, dm->addr, dm->family == 4 ? 4 : dm->family == 6 ? 16 : 0);
}

/* Record number index, or false if any field is out of place. */
static bool
state_domain_decode(const uint8_t *r, uint32_t index, struct state_domain *dm)
{
	dm->family = r[2];
	dm->has_mark = r[3] == 1;
	dm->mark = pkt_get32(r + 4);
	memcpy(dm->addr, r + 8, 16);
	if (pkt_get16(r) != index || r[3] > 1 || (!dm->has_mark && dm->mark))
		return false;
	if (index == DOMAIN_SHARED)
		return dm->family == 0 && bytes_zero(dm->addr, 16);
	if (dm->family == 4)
		return bytes_zero(dm->addr + 4, 12);
	return dm->family == 6;
}

/* Monotonic milliseconds, as the workers count them. */
static uint32_t
state_mono_ms(void)
{
	struct timespec mono;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	return (uint32_t)((uint64_t)mono.tv_sec * 1000 + (uint64_t)mono.tv_nsec / 1000000);
}

static void
state_flow_encode(uint8_t *r, unsigned queue, const struct flow *f, uint32_t mono_ms)
{
	size_t alen = flow_family(f) == 4 ? 4 : 16;

	memset(r, 0, STATE_FLOW_SIZE);
	pkt_put16(r, (uint16_t)queue);
	r[2] = (uint8_t)flow_family(f);
	r[3] = (uint8_t)f->flags;
	memcpy(r + 4, f->a, alen);
	memcpy(r + 20, f->b, alen);
	pkt_put16(r + 36, f->pa);
	pkt_put16(r + 38, f->pb);
	pkt_put32(r + 40, f->offset);
	pkt_put32(r + 44, f->last_raw);
	pkt_put16(r + 48, f->domain);
	pkt_put32(r + 52, f->syn_val);
	pkt_put32(r + 56, mono_ms - f->syn_ms);
}

/* A flow record, checked field by field against what flow.h allows. */
static bool
state_flow_decode(const uint8_t *r, uint32_t ndomains, uint16_t *queue, struct flow *f)
{
	int family = r[2], c;
	uint16_t dom = pkt_get16(r + 48);

	memset(f, 0, sizeof(*f));
	*queue = pkt_get16(r);
	if ((family != 4 && family != 6) || (r[3] & ~FLOW_FLAGS) ||
	    !!(r[3] & FLOW_V6) != (family == 6) || dom >= ndomains || pkt_get16(r + 50))
		return false;
	if (family == 4 && (!bytes_zero(r + 8, 12) || !bytes_zero(r + 24, 12)))
		return false;
	memcpy(f->a, r + 4, 16);
	memcpy(f->b, r + 20, 16);
	f->pa = pkt_get16(r + 36);
	f->pb = pkt_get16(r + 38);
	c = memcmp(f->a, f->b, 16);
	if (c > 0 || (c == 0 && f->pa > f->pb))
		return false;
	f->offset = pkt_get32(r + 40);
	f->last_raw = pkt_get32(r + 44);
	f->domain = dom & (DOMAIN_MAX - 1);
	f->flags = r[3] & FLOW_FLAGS;
	f->syn_val = pkt_get32(r + 52);
	f->syn_ms = pkt_get32(r + 56);	/* the age: state_apply() makes it a time */
	return true;
}

/* --- writing ------------------------------------------------------------ */

struct state_out {
	int fd;
	bool failed;
	uint32_t crc;
	size_t len;
	uint8_t buf[16384];
};

static int
state_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
state_flush(struct state_out *o)
{
	if (!o->failed && o->len && state_write_all(o->fd, o->buf, o->len) < 0)
		o->failed = true;
	o->len = 0;
}

/* Append n bytes to the file and the checksum (crc_len of them). */
static void
state_put(struct state_out *o, const uint8_t *p, size_t n, size_t crc_len)
{
	o->crc = state_crc32(o->crc, p, crc_len);
	if (o->len + n > sizeof(o->buf))
		state_flush(o);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

struct state_save_ctx {
	struct state_out *o;
	unsigned queue;
	uint32_t n;
	uint32_t mono_ms;
};

static void
state_save_flow(const struct flow *f, void *arg)
{
	struct state_save_ctx *sc = arg;
	uint8_t r[STATE_FLOW_SIZE];

	state_flow_encode(r, sc->queue, f, sc->mono_ms);
	state_put(sc->o, r, sizeof(r), sizeof(r));
	sc->n++;
}

/* Header and every record; the CRC field stays zero until the end. */
static uint32_t
state_write_body(struct state_out *o, const struct state_queue *q, unsigned nq,
		 const struct domains *d, uint32_t nflows)
{
	uint8_t h[STATE_HDR_SIZE] = { 0 }, r[STATE_DOMAIN_SIZE];
	uint16_t nd = domains_count(d);
	struct state_save_ctx sc = { .o = o, .mono_ms = state_mono_ms() };

	memcpy(h, state_magic, 8);
	pkt_put16(h + 8, STATE_VERSION);
	pkt_put16(h + 10, STATE_HDR_SIZE);
	pkt_put16(h + 12, STATE_DOMAIN_SIZE);
	pkt_put16(h + 14, STATE_FLOW_SIZE);
	pkt_put32(h + 16, nd);
	pkt_put32(h + 20, nflows);
	pkt_put64(h + 24, (uint64_t)time(NULL));
	state_put(o, h, sizeof(h), STATE_HDR_CRC_OFF);
	for (uint16_t i = 0; i < nd; i++) {
		struct state_domain dm = { 0 };
		int fam = 0;

		domains_get(d, i, &fam, dm.addr);
		dm.family = i == DOMAIN_SHARED ? 0 : (uint8_t)fam;
		if (i == DOMAIN_SHARED)
			memset(dm.addr, 0, sizeof(dm.addr));
		dm.has_mark = domains_hwm(d, i, &dm.mark);
		state_domain_encode(r, i, &dm);
		state_put(o, r, sizeof(r), sizeof(r));
	}
	for (unsigned i = 0; i < nq; i++) {
		sc.queue = q[i].queue;
		flow_foreach(q[i].flows, state_save_flow, &sc);
	}
	state_flush(o);
	return sc.n;
}

/* fsync the directory so that the rename itself is durable. */
static int
state_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = fsync(fd);
	close(fd);
	return ret;
}

int
state_file_replace(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[512], tmp[520];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fchmod(fd, 0600) < 0 || state_write_all(fd, buf, len) < 0 || fsync(fd) < 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return state_sync_dir(dir);
}

long
state_save(const char *dir, const struct state_queue *q, unsigned nq,
	   const struct domains *d)
{
	static struct state_out o;
	char path[512], tmp[520];
	uint32_t nflows = 0;
	uint8_t crc[4];

	for (unsigned i = 0; i < nq; i++)
		nflows += flow_count(q[i].flows);
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("state directory %s", dir);
		return -1;
	}
	o = (struct state_out){ .fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
					   O_CLOEXEC, 0600) };
	if (o.fd < 0) {
		log_warn("saving state: %s", tmp);
		return -1;
	}
	if (fchmod(o.fd, 0600) < 0 || state_write_body(&o, q, nq, d, nflows) != nflows ||
	    o.failed)
		goto fail;
	pkt_put32(crc, o.crc);
	if (pwrite(o.fd, crc, 4, STATE_HDR_CRC_OFF) != 4 || fsync(o.fd) < 0)
		goto fail;
	if (close(o.fd) < 0) {
		o.fd = -1;
		goto fail;
	}
	o.fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	if (state_sync_dir(dir) < 0)
		log_warn("saving state: fsync %s", dir);
	return nflows;
fail:
	log_warn("saving state: %s", tmp);
	if (o.fd >= 0)
		close(o.fd);
	unlink(tmp);
	return -1;
}

/* --- reading ------------------------------------------------------------ */

struct state_in {
	FILE *f;
	uint8_t h[STATE_HDR_SIZE];
	uint32_t nd, nf;
};

/* Why the header (of a file of size bytes) does not fit, or NULL. */
static const char *
state_check_header(struct state_in *in, uint64_t size, uint32_t max_age_s,
		   char *why, size_t len)
{
	const uint8_t *h = in->h;
	uint64_t now = (uint64_t)time(NULL), saved;

	if (size < STATE_HDR_SIZE || memcmp(h, state_magic, 8) != 0)
		return "not a tsnatd state file";
	if (pkt_get16(h + 8) != STATE_VERSION) {
		snprintf(why, len, "format version %u, this tsnatd reads version %u",
			 pkt_get16(h + 8), STATE_VERSION);
		return why;
	}
	in->nd = pkt_get32(h + 16);
	in->nf = pkt_get32(h + 20);
	if (pkt_get16(h + 10) != STATE_HDR_SIZE || pkt_get16(h + 12) != STATE_DOMAIN_SIZE ||
	    pkt_get16(h + 14) != STATE_FLOW_SIZE || pkt_get32(h + 32) != 0 ||
	    in->nd < 1 || in->nd > DOMAIN_MAX)
		return "header fields out of range";
	if (size != STATE_HDR_SIZE + (uint64_t)in->nd * STATE_DOMAIN_SIZE +
		    (uint64_t)in->nf * STATE_FLOW_SIZE)
		return "size does not match its record counts (truncated?)";
	saved = pkt_get64(h + 24);
	if (saved > now + 60)
		return "saved in the future";
	if (now - saved > max_age_s) {
		snprintf(why, len, "saved %llu s ago, longer than the flow timeout",
			 (unsigned long long)(now - saved));
		return why;
	}
	return NULL;
}

/* Every record valid and the checksum right, before anything is used. */
static const char *
state_verify(struct state_in *in, char *why, size_t len)
{
	uint32_t crc = state_crc32(0, in->h, STATE_HDR_CRC_OFF);
	uint8_t r[STATE_FLOW_SIZE];

	for (uint32_t i = 0; i < in->nd + in->nf; i++) {
		bool dom = i < in->nd, ok;
		size_t n = dom ? STATE_DOMAIN_SIZE : STATE_FLOW_SIZE;
		struct state_domain dm;
		struct flow fl;
		uint16_t queue;

		if (fread(r, n, 1, in->f) != 1)
			return "truncated";
		crc = state_crc32(crc, r, n);
		ok = dom ? state_domain_decode(r, i, &dm) :
			   state_flow_decode(r, in->nd, &queue, &fl);
		if (!ok) {
			snprintf(why, len, "%s record %u has a field out of range",
				 dom ? "domain" : "flow", dom ? i : i - in->nd);
			return why;
		}
	}
	if (crc != pkt_get32(in->h + STATE_HDR_CRC_OFF))
		return "checksum mismatch (corrupted)";
	return NULL;
}

static struct flow_table *
state_table_of(const struct state_queue *q, unsigned nq, uint16_t queue)
{
	for (unsigned i = 0; i < nq; i++)
		if (q[i].queue == queue)
			return q[i].flows;
	return NULL;
}

/* The verified records, read again and restored. */
static long
state_apply(struct state_in *in, const struct state_queue *q, unsigned nq,
	    struct domains *d)
{
	uint16_t remap[DOMAIN_MAX] = { DOMAIN_SHARED };
	uint8_t r[STATE_FLOW_SIZE];
	uint32_t now_ms = state_mono_ms();
	struct timespec mono;
	int64_t down_s = (int64_t)time(NULL) - (int64_t)pkt_get64(in->h + 24);
	long total = 0, lost = 0;

	/* Time passed while no daemon ran counts in each flow's age, rounded
	 * up: a bound a little loose for a moment, never one that clamps an
	 * honest client. */
	if (down_s < 0)
		down_s = 0;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (fseek(in->f, STATE_HDR_SIZE, SEEK_SET) < 0)
		return 0;
	for (uint32_t i = 0; i < in->nd && fread(r, STATE_DOMAIN_SIZE, 1, in->f) == 1; i++) {
		struct state_domain dm;

		if (!state_domain_decode(r, i, &dm))
			return 0;
		remap[i] = i == DOMAIN_SHARED ? DOMAIN_SHARED :
			   domains_intern(d, dm.family, dm.addr);
		if (dm.has_mark)
			domains_note(d, 0, remap[i], dm.mark);
	}
	for (uint32_t i = 0; i < in->nf && fread(r, STATE_FLOW_SIZE, 1, in->f) == 1; i++) {
		struct flow_table *t;
		struct flow fl;
		uint16_t queue;

		if (!state_flow_decode(r, in->nd, &queue, &fl))
			break;
		fl.domain = remap[fl.domain];
		fl.syn_ms = now_ms - fl.syn_ms - (uint32_t)(down_s + 1) * 1000;
		t = state_table_of(q, nq, queue);
		if (t && flow_restore(t, &fl, (uint32_t)mono.tv_sec))
			total++;
		else
			lost++;
	}
	if (lost)
		log_warnx("state: %ld saved flows did not fit the flow tables", lost);
	return total;
}

long
state_restore(const char *dir, const struct state_queue *q, unsigned nq,
	      struct domains *d, uint32_t max_age_s)
{
	struct state_in in = { 0 };
	char path[512], why[128];
	const char *bad = NULL;
	struct stat st;
	long total = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("state: %s", path);
		return 0;
	}
	/* Saved flows are valid once: whatever happens, the file goes. */
	unlink(path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || !(in.f = fdopen(fd, "rb"))) {
		log_warnx("%s: not a regular file; ignored", path);
		close(fd);
		return 0;
	}
	if (fread(in.h, 1, sizeof(in.h), in.f) != sizeof(in.h) && st.st_size >= STATE_HDR_SIZE)
		bad = "unreadable";
	if (!bad)
		bad = state_check_header(&in, (uint64_t)st.st_size, max_age_s, why, sizeof(why));
	if (!bad)
		bad = state_verify(&in, why, sizeof(why));
	if (bad)
		log_warnx("%s: %s; ignored", path, bad);
	else
		total = state_apply(&in, q, nq, d);
	fclose(in.f);
	return total;
}
