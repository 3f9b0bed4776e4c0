/* SPDX-License-Identifier: GPL-2.0-or-later */
/* discofile.c - the discovery table across restarts (see discofile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "discofile.h"
#include "log.h"
#include "state.h"

#define HDR 32
#define CRC_OFF 28
#define REC 88

static const char magic[8] = "TSNATDDS";





struct enc {
	const struct domains *d;
	uint8_t *buf;
	uint32_t n, cap;
};

static void
encode_one(const struct discovery_entry_state *e, void *arg)
{
	struct enc *x = arg;
	uint8_t *r = x->buf + HDR + (size_t)x->n * REC;
	const struct discovery_server *s = &e->s;
	int fam = 0;

	if (x->n == x->cap)
		return;
	memset(r, 0, REC);
	r[0] = s->family;
	if (s->domain != DOMAIN_SHARED && domains_get(x->d, s->domain, &fam, r + 28))
		r[1] = (uint8_t)fam;
	else
		memset(r + 28, 0, 16);
	r[2] = e->has_record;
	pkt_put32(r + 4, e->has_record ? e->record_ts : 0);
	pkt_put32(r + 8, e->has_record ? e->record_age : 0);
	memcpy(r + 12, s->server, s->family == 4 ? 4 : 16);
	pkt_put64(r + 44, s->syns);
	pkt_put64(r + 52, s->predicted_310);
	pkt_put64(r + 60, s->predicted_4x);
	pkt_put64(r + 68, s->confirmed);
	pkt_put64(r + 76, s->contrary);
	x->n++;
}

long
discofile_save(const char *dir, struct discovery *t, const struct domains *d, uint32_t now)
{
	struct enc x = { .d = d, .cap = (uint32_t)discovery_count(t) };
	size_t len;
	long ret;

	x.buf = calloc(1, HDR + (size_t)x.cap * REC);
	if (!x.buf)
		return -1;
	discovery_foreach(t, now, encode_one, &x);
	len = HDR + (size_t)x.n * REC;
	memcpy(x.buf, magic, 8);
	x.buf[9] = DISCOFILE_VERSION;
	x.buf[11] = REC;
	pkt_put32(x.buf + 12, x.n);
	pkt_put64(x.buf + 16, (uint64_t)time(NULL));
	pkt_put32(x.buf + CRC_OFF, state_crc32(state_crc32(0, x.buf, CRC_OFF), x.buf + HDR, len - HDR));
	ret = state_file_replace(dir, DISCOFILE, x.buf, len) < 0 ? -1 : (long)x.n;
	free(x.buf);
	return ret;
}


static bool
record_ok(const uint8_t *r)
{
	return (r[0] == 4 || r[0] == 6) && (r[1] == 0 || r[1] == 4 || r[1] == 6) &&
	       r[2] <= 1 && r[3] == 0 && (r[2] || (!pkt_get32(r + 4) && !pkt_get32(r + 8))) &&
	       (r[0] == 6 || bytes_zero(r + 16, 12)) && (r[1] == 6 || bytes_zero(r + 32, 12)) &&
	       (r[1] != 0 || bytes_zero(r + 28, 4));
}

static bool
file_ok(const uint8_t *buf, size_t len)
{
	uint32_t n;

	if (len < HDR || memcmp(buf, magic, 8) || buf[8] || buf[9] != DISCOFILE_VERSION ||
	    buf[10] || buf[11] != REC || pkt_get32(buf + 24))
		return false;
	n = pkt_get32(buf + 12);
	if (len != HDR + (size_t)n * REC)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!record_ok(buf + HDR + (size_t)i * REC))
			return false;
	return pkt_get32(buf + CRC_OFF) ==
	       state_crc32(state_crc32(0, buf, CRC_OFF), buf + HDR, len - HDR);
}

static void
restore_one(struct discovery *t, struct domains *d, const uint8_t *r, uint32_t down,
	    uint32_t now)
{
	struct discovery_entry_state e = { .has_record = r[2] };

	e.s.family = r[0];
	memcpy(e.s.server, r + 12, 16);
	e.s.domain = r[1] ? domains_intern(d, r[1], r + 28) : DOMAIN_SHARED;
	e.s.syns = pkt_get64(r + 44);
	e.s.predicted_310 = pkt_get64(r + 52);
	e.s.predicted_4x = pkt_get64(r + 60);
	e.s.confirmed = pkt_get64(r + 68);
	e.s.contrary = pkt_get64(r + 76);
	e.record_ts = pkt_get32(r + 4);
	e.record_age = pkt_get32(r + 8) + down;
	discovery_restore(t, &e, now);
}

/* The file's bytes (bounded), or NULL; *len set. */
static uint8_t *
read_all(const char *path, size_t *len)
{
	size_t cap = HDR + (size_t)(DISCOVERY_MAX_DEFAULT * 4) * REC;
	uint8_t *buf = malloc(cap + 1);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t r;

	*len = 0;
	if (fd < 0 || !buf) {
		if (fd < 0 && errno != ENOENT)
			log_warn("discovery state %s", path);
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	while (*len <= cap && (r = read(fd, buf + *len, cap + 1 - *len)) > 0)
		*len += (size_t)r;
	close(fd);
	return buf;
}

long
discofile_restore(const char *dir, struct discovery *t, struct domains *d, uint32_t now)
{
	char path[512];
	size_t len;
	uint8_t *buf;
	int64_t down;
	long n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, DISCOFILE);
	buf = read_all(path, &len);
	unlink(path);
	if (!buf)
		return 0;
	if (!file_ok(buf, len)) {
		log_warnx("%s: not a discovery state file of this version; ignored", path);
		free(buf);
		return 0;
	}
	down = (int64_t)time(NULL) - (int64_t)pkt_get64(buf + 16);
	for (uint32_t i = 0; i < pkt_get32(buf + 12); i++, n++)
		restore_one(t, d, buf + HDR + (size_t)i * REC, down > 0 ? (uint32_t)down : 0, now);
	free(buf);
	return n;
}
