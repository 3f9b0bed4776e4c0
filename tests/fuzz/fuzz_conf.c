/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_conf.c - libFuzzer: arbitrary text as the configuration file,
 * through conf_load() (daemon/conf.c, libconfig underneath) and, when it
 * loads, rules_print() for iptables, ip6tables and nft (--print-rules),
 * under ASan/UBSan with leak checks. A file that does not load must say
 * why: conf_load() returning NULL with no error text aborts. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[] = "/tmp/fuzz-conf-XXXXXX";

static void
cleanup(void)
{
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum rules_kind kinds[] = { RULES_IPTABLES, RULES_IP6TABLES, RULES_NFT };
	char *errs = NULL, *rules = NULL;
	size_t elen = 0, rlen = 0;
	struct conf *c;
	FILE *fp, *ef;

	static bool ready;

	if (!ready) {
		int fd = mkstemp(path);

		log_init(LOG_CRIT);
		if (fd < 0)
			abort();
		close(fd);
		atexit(cleanup);
		ready = true;
	}
	fp = fopen(path, "wb");
	if (!fp || fwrite(data, 1, size, fp) != size || fclose(fp) != 0)
		abort();
	ef = open_memstream(&errs, &elen);
	if (!ef)
		abort();
	c = conf_load(path, ef);
	fclose(ef);
	if (!c && elen == 0)
		abort();	/* rejected without a word */
	if (c) {
		FILE *out = open_memstream(&rules, &rlen);

		if (!out)
			abort();
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (rules_print(c, kinds[i], path, out) != 0)
				abort();
		fclose(out);
		free(rules);
		conf_free(c);
	}
	free(errs);
	return 0;
}
