/* SPDX-License-Identifier: GPL-2.0-or-later */
/* marks.c - checkpointed high-water marks (see marks.h for why a restart
 * from one covers every TSval' stamped before a crash). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "log.h"
#include "marks.h"
#include "state.h"

#define MARKS_HDR 32
#define MARKS_CRC_OFF 28
#define MARKS_REC 24

static const char marks_magic[8] = "TSNATDMK";



size_t
marks_size(void)
{
	return MARKS_HDR + (size_t)DOMAIN_MAX * MARKS_REC;
}

size_t
marks_encode(const struct domains *d, uint64_t now_ms, uint8_t *buf)
{
	uint16_t n = domains_count(d);
	size_t len = MARKS_HDR + (size_t)n * MARKS_REC;
	uint32_t floor;

	/* A floor (this daemon started from a checkpoint) counts as a time
	 * at which SYNs were stamped. */
	if (domains_floor(d, &floor) && (int32_t)(floor - (uint32_t)now_ms) > 0)
		now_ms += floor - (uint32_t)now_ms;
	memset(buf, 0, len);
	memcpy(buf, marks_magic, 8);
	buf[8] = MARKS_VERSION >> 8;
	buf[9] = MARKS_VERSION & 0xff;
	buf[11] = MARKS_REC;
	pkt_put32(buf + 12, n);
	pkt_put32(buf + 16, (uint32_t)(now_ms >> 32));
	pkt_put32(buf + 20, (uint32_t)now_ms);
	for (uint16_t i = 0; i < n; i++) {
		uint8_t *r = buf + MARKS_HDR + (size_t)i * MARKS_REC;
		uint32_t mark;
		int fam = 0;

		domains_get(d, i, &fam, r + 8);
		r[0] = i == DOMAIN_SHARED ? 0 : (uint8_t)fam;
		if (i == DOMAIN_SHARED)
			memset(r + 8, 0, 16);
		r[1] = domains_hwm(d, i, &mark);
		pkt_put32(r + 4, r[1] ? mark : 0);
	}
	pkt_put32(buf + MARKS_CRC_OFF, state_crc32(state_crc32(0, buf, MARKS_CRC_OFF),
					       buf + MARKS_HDR, len - MARKS_HDR));
	return len;
}


/* Every field in range and the checksum right. */
static bool
marks_valid(const uint8_t *buf, size_t len)
{
	uint32_t n;

	if (len < MARKS_HDR || memcmp(buf, marks_magic, 8) != 0 ||
	    buf[8] != (MARKS_VERSION >> 8) || buf[9] != (MARKS_VERSION & 0xff) ||
	    buf[10] != 0 || buf[11] != MARKS_REC || pkt_get32(buf + 24) != 0)
		return false;
	n = pkt_get32(buf + 12);
	if (n == 0 || n > DOMAIN_MAX || len != MARKS_HDR + (size_t)n * MARKS_REC)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *r = buf + MARKS_HDR + (size_t)i * MARKS_REC;
		bool shared = r[0] == 0;

		if (r[1] > 1 || r[2] || r[3] || (!r[1] && pkt_get32(r + 4)) ||
		    (r[0] != 0 && r[0] != 4 && r[0] != 6) || (shared && !bytes_zero(r + 8, 16)) ||
		    (r[0] == 4 && !bytes_zero(r + 12, 12)))
			return false;
	}
	return pkt_get32(buf + MARKS_CRC_OFF) ==
	       state_crc32(state_crc32(0, buf, MARKS_CRC_OFF), buf + MARKS_HDR,
			   len - MARKS_HDR);
}

long
marks_apply(struct domains *d, const uint8_t *buf, size_t len, uint64_t now_ms)
{
	uint64_t then_ms;
	uint32_t now32 = (uint32_t)now_ms;
	long raised = 0;

	if (!marks_valid(buf, len))
		return -1;
	then_ms = (uint64_t)pkt_get32(buf + 16) << 32 | pkt_get32(buf + 20);
	/* Every domain, even one created later: SYNs taken from the wall
	 * clock after the checkpoint stay below its time plus the cover. */
	if ((int32_t)((uint32_t)then_ms + MARKS_COVER_MS - now32) > 0) {
		domains_set_floor(d, (uint32_t)then_ms + MARKS_COVER_MS);
		raised++;
	}
	for (uint32_t i = 0; i < pkt_get32(buf + 12); i++) {
		const uint8_t *r = buf + MARKS_HDR + (size_t)i * MARKS_REC;
		uint32_t base = (uint32_t)then_ms, start;
		uint16_t dom;

		if (!r[1])
			continue;
		if ((int32_t)(pkt_get32(r + 4) - base) > 0)
			base = pkt_get32(r + 4);
		start = base + MARKS_COVER_MS;
		if ((int32_t)(start - now32) <= 0)
			continue;	/* the wall clock is past it already */
		dom = r[0] ? domains_intern(d, r[0], r + 8) : DOMAIN_SHARED;
		domains_note(d, 0, dom, start);
		raised++;
	}
	return raised;
}

int
marks_save(const char *dir, const struct domains *d, uint64_t now_ms)
{
	uint8_t *buf = malloc(marks_size());
	int ret;

	if (!buf)
		return -1;
	ret = state_file_replace(dir, MARKS_FILE, buf, marks_encode(d, now_ms, buf));
	free(buf);
	return ret;
}

long
marks_restore(const char *dir, struct domains *d, uint64_t now_ms)
{
	size_t cap = marks_size() + 1, len = 0;
	uint8_t *buf = malloc(cap);
	char path[512];
	ssize_t n;
	long raised = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, MARKS_FILE);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (!buf || fd < 0) {
		if (fd < 0 && errno != ENOENT)
			log_warn("marks checkpoint %s", path);
		free(buf);
		return 0;
	}
	while (len < cap && (n = read(fd, buf + len, cap - len)) > 0)
		len += (size_t)n;
	close(fd);
	raised = marks_apply(d, buf, len, now_ms);
	if (raised < 0)
		log_warnx("%s: not a valid marks checkpoint; ignored (SYNs start at the "
			  "wall clock)", path);
	free(buf);
	return raised;
}
