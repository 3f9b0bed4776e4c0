/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rulesguard.h - --apply-rules asks the running daemon which queues it
 * listens on before it replaces the rules: rules naming other queues
 * would send flows to queues nobody listens on, which --queue-bypass
 * lets through unfixed. Those queues change at a restart only (reload.h),
 * so the rules then must not change either. */
#ifndef TSNATD_RULESGUARD_H
#define TSNATD_RULESGUARD_H

#include <stdio.h>

#include "conf.h"

/* The queues in a `status --json` answer of the control socket ("ok\n"
 * then the document: "queue_first": N, "queue_count": M). 0, or -1 if
 * answer is an error answer or lacks either number. Pure. */
int rulesguard_parse(const char *answer, unsigned *first, unsigned *count);

/* Ask the daemon on the control socket at sock. 1 with *first, *count
 * set; 0 if no daemon listens there (no socket file, or nobody accepts:
 * a stale file after a crash); -1 if one may run but did not say (why
 * in why: permission, a timeout, an answer without the queues). Waits at
 * most RULESGUARD_TIMEOUT_S. */
#define RULESGUARD_TIMEOUT_S 5
int rulesguard_ask(const char *sock, unsigned *first, unsigned *count, char *why,
		   size_t whylen);

/* Before c's rules replace the loaded ones: 0 if no daemon runs, or it
 * listens on c's queues, or c has no control socket to ask (warned on
 * err); -1 after saying on err that a restart is required (the queues
 * differ) or that the running daemon could not be asked. */
int rulesguard_check(const struct conf *c, const char *conf_path, FILE *err);

#endif
