/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulestool_int.h - what rulesapply.c and rulestool.c share: the rules
 * tools found in PATH, and one of them run as a child process (no shell).
 * Not a public interface: rulesapply.h is. */
#ifndef TSNATD_RULESTOOL_INT_H
#define TSNATD_RULESTOOL_INT_H

#include <limits.h>
#include <stdio.h>

/* Seconds iptables waits for the xtables lock another program holds
 * (legacy iptables; the nf_tables variant needs no lock). */
#define RULES_WAIT "10"

enum tool { TOOL_IPT, TOOL_IPT_RESTORE, TOOL_IP6T, TOOL_IP6T_RESTORE, TOOL_NFT, TOOL_N };

struct tools {
	char path[TOOL_N][PATH_MAX];	/* "" if not found */
	unsigned have;			/* RULES_HAVE_* */
};

/* Find the tools in search (a PATH value; NULL: the environment's PATH,
 * or the usual directories if that is unset); relative and empty entries
 * are skipped. Fills t and returns t->have (RULES_HAVE_*). */
unsigned tools_find(const char *search, struct tools *t);

/* Run argv (argv[0] an absolute path) with input on its standard input
 * (NULL: /dev/null) and, if output is not NULL, its standard output
 * collected into *output (the caller frees it). Its standard error is
 * ours, or, if errors is not NULL, copied to err after it exits and
 * returned in *errors (the caller frees it). Returns its exit status, or
 * -1 after telling err why it did not run or did not exit. */
int tool_run(const char *const argv[], const char *input, size_t inlen, char **output,
	     char **errors, FILE *err);

#endif
