/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log.c - leveled logging to stderr (journald-aware). */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static _Atomic int log_max = LOG_INFO;
static int log_journal;

void
log_init(int level)
{
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	log_set_level(level);
}

void
log_set_level(int level)
{
	atomic_store(&log_max, level);
}

/* The one mapping between log levels and their names. */
static const struct { const char *name; int level; } log_levels[] = {
	{ "error", LOG_ERR }, { "warn", LOG_WARNING },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcmp(s, log_levels[i].name) == 0)
			return log_levels[i].level;
	return -1;
}

const char *
log_level_name(int level)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return NULL;
}

static void LOGF(2, 0)
vlog(int pri, const char *fmt, va_list ap, int errnum)
{
	static const char *const tag[] = {
		[LOG_ERR] = "error", [LOG_WARNING] = "warning",
		[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
	};
	char msg[1024];

	if (pri > atomic_load(&log_max))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_journal) {
		if (errnum)
			fprintf(stderr, "<%d>%s: %s\n", pri, msg, strerror(errnum));
		else
			fprintf(stderr, "<%d>%s\n", pri, msg);
	} else {
		if (errnum)
			fprintf(stderr, "tsnatd: %s: %s: %s\n", tag[pri], msg, strerror(errnum));
		else
			fprintf(stderr, "tsnatd: %s: %s\n", tag[pri], msg);
	}
}

#define LOG_BODY(pri, errnum) do {		\
	va_list ap;				\
	va_start(ap, fmt);			\
	vlog((pri), fmt, ap, (errnum));		\
	va_end(ap);				\
} while (0)

void log_warn(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_WARNING, e); }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_WARNING, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_DEBUG, 0); }
void fatal(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_ERR, e); exit(1); }
void fatalx(const char *fmt, ...) { LOG_BODY(LOG_ERR, 0); exit(1); }
