/* SPDX-License-Identifier: GPL-2.0-or-later */
/* textbuf.h - a growing text buffer for the control plane's answers:
 * printf onto its end, and JSON strings escaped. Never used on the packet
 * path. Out of memory is fatal (the answers are small and bounded). */
#ifndef TSNATD_TEXTBUF_H
#define TSNATD_TEXTBUF_H

#include <stddef.h>

#include "log.h"

struct textbuf {
	char *p;		/* NUL-terminated once anything was added */
	size_t len, cap;
};

/* Append printf-style text. */
void textbuf_printf(struct textbuf *b, const char *fmt, ...) LOGF(2, 3);

/* Append s as a JSON string, quotes included: '"', '\\' and every control
 * character escaped, bytes >= 0x80 copied as they are (UTF-8 stays UTF-8). */
void textbuf_json_str(struct textbuf *b, const char *s);

/* Forget the contents, keep the memory. */
void textbuf_reset(struct textbuf *b);

/* Release the memory; b is empty and usable again. */
void textbuf_free(struct textbuf *b);

#endif
