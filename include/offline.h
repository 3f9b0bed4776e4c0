/* SPDX-License-Identifier: GPL-2.0-or-later */
/* offline.h - what the command line asks for besides running the daemon:
 * -t, --print-rules, --apply-rules, --remove-rules, --unload. */
#ifndef TSNATD_OFFLINE_H
#define TSNATD_OFFLINE_H

#include <stdbool.h>
#include <stdio.h>

enum offline_action {
	OFF_NONE,
	OFF_TEST,		/* -t */
	OFF_PRINT,		/* --print-rules KIND */
	OFF_APPLY,		/* --apply-rules */
	OFF_REMOVE,		/* --remove-rules */
	OFF_UNLOAD,		/* --unload */
};

/* The command line's summary, to f. */
void offline_usage(FILE *f);

/* Record action a; false (said on stderr) if another was asked already. */
bool offline_set_action(enum offline_action *action, enum offline_action a);

/* Do it on the configuration at path (kind: --print-rules' enum
 * rules_kind); 0, or 1 after saying why. */
int offline_run(const char *path, enum offline_action action, int kind);

#endif
