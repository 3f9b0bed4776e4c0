/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulesapply.h - tsnatd --apply-rules and --remove-rules: the text of
 * rules.h fed to iptables-restore, ip6tables-restore or nft, run as child
 * processes (no shell), the text on a pipe. */
#ifndef TSNATD_RULESAPPLY_H
#define TSNATD_RULESAPPLY_H

#include <stdio.h>

#include "conf.h"

/* Which tools (RULES_HAVE_*, rules.h) are in path, a PATH value (NULL:
 * the environment's PATH; if that is unset, the usual sbin and bin
 * directories). Relative and empty entries are skipped: these tools are
 * run as root. */
unsigned rules_tools_find(const char *path);

/* Install c's rules with the back end its rules key picks (rules_choose).
 * iptables: each family the rules need gets chain TSNATD of table mangle
 * replaced in one iptables-restore --noflush transaction, with exactly one
 * "-A FORWARD -j TSNATD" afterwards; a family without rules gets tsnatd's
 * chain removed. nft: table inet tsnatd replaced in one nft -f. Then
 * tsnatd's rules of the back end not picked are removed, so that no packet
 * is queued twice. rules = "none": nothing is run. What is done is told on
 * out; errors (with the tool's exit status) and warnings go to err.
 * Returns 0, or -1 if a step failed (the steps before it stay done). */
int rules_apply(const struct conf *c, const char *conf_path, FILE *out, FILE *err);

/* Remove tsnatd's rules from every back end whose tools are installed:
 * the rules jumping to TSNATD, the chain, table inet tsnatd. What is not
 * there is not an error: removing twice is harmless. rules = "none":
 * nothing is run. Returns 0, or -1 if a step failed. */
int rules_remove(const struct conf *c, const char *conf_path, FILE *out, FILE *err);

#endif
