/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offline.c - the command line's actions on the configuration: check it,
 * print, apply or remove its firewall rules, unload the kernel data path. */
#include <stdio.h>
#include <unistd.h>

#include "conf.h"
#include "control.h"
#include "offline.h"
#include "offload.h"
#include "rules.h"
#include "rulesapply.h"
#include "rulesguard.h"

/* --unload: the kernel data path of c's offload_dir off every interface,
 * its pins removed. 0 or 1. */
static int
unload_offload(const struct conf *c)
{
	long open = 0, n = offload_unload(c->offload_dir, &open);
	char entries[64];

	/* the words of tsnatctl status: one count, one meaning */
	control_map_entries((uint32_t)n, (uint32_t)open, entries, sizeof(entries));
	if (n > 0)
		printf("tsnatd: kernel data path unloaded (%s); it held %s: from now on the "
		       "servers of the open ones see their clients' own timestamps\n",
		       c->offload_dir, entries);
	else if (n == 0)
		printf("tsnatd: kernel data path unloaded (%s)\n", c->offload_dir);
	return n < 0;
}


/* The command line's summary. */
void
offline_usage(FILE *f)
{
	fprintf(f,
		"usage: tsnatd [-c FILE]                 run in the foreground\n"
		"       tsnatd -t [-c FILE]              check the configuration\n"
		"       tsnatd --print-rules iptables|ip6tables|nft [-c FILE]\n"
		"       tsnatd --apply-rules | --remove-rules [-c FILE]\n"
		"       tsnatd --unload [-c FILE]        detach and unpin the kernel data path\n"
		"       tsnatd -h | -V\n"
		"default FILE: " CONF_DEFAULT_PATH "\n"
		"signals: HUP reload, USR1 log counters, TERM/INT drain and exit\n");
}

/* -t, --print-rules, --apply-rules, --remove-rules, --unload: work on the
 * configuration and exit, 0 or 1. -t run as root also answers for the
 * daemon tsnatd.service starts as its own user: that user must be able to
 * read the file (as any other user, -t reads it as that user already). */
int
offline_run(const char *path, enum offline_action action, int kind)
{
	struct conf *c = conf_load(path, stderr);
	bool unreadable = action == OFF_TEST && geteuid() == 0 &&
			  conf_service_check(path, stderr) < 0;
	int ret = 0;

	if (!c)
		fprintf(stderr, "tsnatd: %s: configuration has errors\n", path);
	if (!c || unreadable) {
		conf_free(c);
		return 1;
	}
	switch (action) {
	case OFF_TEST:
		printf("%s: configuration OK\n", path);
		break;
	case OFF_PRINT:
		ret = rules_print(c, (enum rules_kind)kind, path, stdout) < 0;
		break;
	case OFF_APPLY:
		/* the running daemon's queues change at a restart only */
		ret = (c->rules != CONF_RULES_NONE && rulesguard_check(c, path, stderr) < 0) ||
		      rules_apply(c, path, stdout, stderr) < 0;
		if (ret)
			fprintf(stderr, "tsnatd: --apply-rules failed\n");
		break;
	case OFF_REMOVE:
		ret = rules_remove(c, path, stdout, stderr) < 0;
		if (ret)
			fprintf(stderr, "tsnatd: --remove-rules failed\n");
		break;
	case OFF_UNLOAD:
		ret = unload_offload(c);
		break;
	case OFF_NONE:
		break;
	}
	conf_free(c);
	return ret;
}

/* One of -t and the rules options; a second is an error. */
bool
offline_set_action(enum offline_action *action, enum offline_action a)
{
	if (*action != OFF_NONE && *action != a) {
		fprintf(stderr, "tsnatd: -t, --print-rules, --apply-rules, --remove-rules and "
			"--unload go one at a time\n");
		return false;
	}
	*action = a;
	return true;
}
