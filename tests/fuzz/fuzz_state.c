/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_state.c - libFuzzer: arbitrary bytes as the state file, through
 * state_restore() (daemon/state.c) into two flow tables and a domain
 * registry, under ASan/UBSan. It must never crash, and never restore from
 * a file that is not whole and valid: when anything was restored, the
 * header, the size and the CRC-32 check here too (independently of
 * state.c), every flow sits in a table of its queue with a known domain,
 * and the count returned is the count in the tables.
 *
 * Input: [mode][file bytes]. Mode bit 0 set: the harness first makes the
 * header's "saved at" now and the CRC right (when the file holds a
 * header), so that the fuzzer reaches the record checks; clear: the bytes
 * go to the file exactly as given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "domain.h"
#include "flow.h"
#include "log.h"
#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz-state-XXXXXX";
static char path[sizeof(dir) + sizeof(STATE_FILE) + 1];

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
file_crc(const uint8_t *f, size_t n)
{
	return state_crc32(state_crc32(0, f, STATE_HDR_CRC_OFF), f + STATE_HDR_SIZE,
			   n - STATE_HDR_SIZE);
}

/* What any restore needs, checked without state.c's help. */
static bool
file_whole(const uint8_t *f, size_t n)
{
	uint64_t nd, nf;

	if (n < STATE_HDR_SIZE || memcmp(f, "TSNATDST", 8) != 0)
		return false;
	nd = get32(f + 16);
	nf = get32(f + 20);
	return nd >= 1 && nd <= DOMAIN_MAX &&
	       n == STATE_HDR_SIZE + nd * STATE_DOMAIN_SIZE + nf * STATE_FLOW_SIZE &&
	       file_crc(f, n) == get32(f + STATE_HDR_CRC_OFF);
}

struct flow_check {
	uint16_t ndomains;
};

static void
flow_ok(const struct flow *f, void *arg)
{
	const struct flow_check *c = arg;
	int fam = flow_family(f);

	if ((fam != 4 && fam != 6) || f->domain >= c->ndomains ||
	    ((f->flags & FLOW_V6) != 0) != (fam == 6))
		abort();
}

static void
cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_queue q[2];
	struct domains *d;
	struct flow_check fc;
	uint8_t *f;
	size_t n;
	FILE *fp;
	long got;
	unsigned long in_tables = 0;
	uint16_t ndom;

	if (!path[0]) {
		log_init(LOG_CRIT);
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
		atexit(cleanup);
	}
	if (size < 1)
		return 0;
	n = size - 1;
	f = malloc(n ? n : 1);
	if (!f)
		abort();
	memcpy(f, data + 1, n);
	if ((data[0] & 1) && n >= STATE_HDR_SIZE) {
		uint64_t now = (uint64_t)time(NULL);

		put32(f + 24, (uint32_t)(now >> 32));
		put32(f + 28, (uint32_t)now);
		put32(f + STATE_HDR_CRC_OFF, file_crc(f, n));
	}
	fp = fopen(path, "wb");
	if (!fp || fwrite(f, 1, n, fp) != n || fclose(fp) != 0)
		abort();

	d = domains_new(2);
	q[0] = (struct state_queue){ 4, flow_table_new(64, 1) };
	q[1] = (struct state_queue){ 5, flow_table_new(64, 2) };
	if (!d || !q[0].flows || !q[1].flows)
		abort();
	ndom = domains_count(d);
	got = state_restore(dir, q, 2, d, 600);
	unlink(path);

	if (got < 0)
		abort();
	if ((got > 0 || domains_count(d) != ndom) && !file_whole(f, n))
		abort();	/* restored from a file that does not check */
	fc.ndomains = domains_count(d);
	for (unsigned i = 0; i < 2; i++) {
		in_tables += flow_count(q[i].flows);
		flow_foreach(q[i].flows, flow_ok, &fc);
	}
	if (in_tables != (unsigned long)got)
		abort();
	flow_table_free(q[0].flows);
	flow_table_free(q[1].flows);
	domains_free(d);
	free(f);
	return 0;
}
