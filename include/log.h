/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.h - logging in the OpenBSD style: *_warn adds strerror(errno),
 * *_warnx does not; fatal/fatalx exit 1. Thread-safe (stdio locking).
 * Under systemd (JOURNAL_STREAM set) lines carry <N> priority prefixes. */
#ifndef TSNATD_LOG_H
#define TSNATD_LOG_H

#include <syslog.h>

#define LOGF(a, b) __attribute__((format(printf, a, b)))

void log_init(int level);
void log_set_level(int level);	/* LOG_ERR .. LOG_DEBUG */
int log_level_parse(const char *s);	/* "error|warn|info|debug" or -1 */
const char *log_level_name(int level);	/* the name, or NULL */

void log_warn(const char *fmt, ...) LOGF(1, 2);
void log_warnx(const char *fmt, ...) LOGF(1, 2);
void log_info(const char *fmt, ...) LOGF(1, 2);
void log_debug(const char *fmt, ...) LOGF(1, 2);
_Noreturn void fatal(const char *fmt, ...) LOGF(1, 2);
_Noreturn void fatalx(const char *fmt, ...) LOGF(1, 2);

#endif
