/* SPDX-License-Identifier: GPL-2.0-or-later */
/* notes.h - what the workers noted (struct proc_note), logged by the main
 * thread with the addresses involved, rate-limited: a SYN without
 * timestamp once per (domain, server); a clamped TSval and a client over
 * its quota at most once per NOTES_INTERVAL_S per kind, with the number of
 * notes held back since. */
#ifndef TSNATD_NOTES_H
#define TSNATD_NOTES_H

#include <stddef.h>
#include <stdint.h>

#include "domain.h"
#include "process.h"

#define NOTES_INTERVAL_S 10

struct notes_log;

struct notes_log *notes_log_new(void);
void notes_log_free(struct notes_log *l);

/* Log note n at monotonic second now (d names its domain), or hold it
 * back. Returns true if a line was logged. */
bool notes_log(struct notes_log *l, const struct proc_note *n, const struct domains *d,
	       uint32_t now);

/* The line notes_log() would log for n, into out (held-back count
 * held); for tests and for notes_log itself. */
void notes_format(const struct proc_note *n, const struct domains *d, uint32_t held,
		  char *out, size_t len);

#endif
