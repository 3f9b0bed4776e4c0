/* SPDX-License-Identifier: GPL-2.0-or-later */
/* textbuf.c - a growing text buffer (see textbuf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbuf.h"

/* Room for need more bytes and the NUL. */
static void
textbuf_reserve(struct textbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;

	if (b->len + need + 1 <= b->cap)
		return;
	while (cap < b->len + need + 1)
		cap *= 2;
	b->p = realloc(b->p, cap);
	if (!b->p)
		fatal("realloc");
	b->cap = cap;
}

void
textbuf_printf(struct textbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	textbuf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
textbuf_json_str(struct textbuf *b, const char *s)
{
	textbuf_reserve(b, strlen(s) * 6 + 2);
	b->p[b->len++] = '"';
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = (char)*c;
		} else if (*c == '\n' || *c == '\t') {
			b->p[b->len++] = '\\';
			b->p[b->len++] = *c == '\n' ? 'n' : 't';
		} else if (*c < 0x20 || *c == 0x7f) {
			b->len += (size_t)snprintf(b->p + b->len, 7, "\\u%04x", *c);
		} else {
			b->p[b->len++] = (char)*c;
		}
	}
	b->p[b->len++] = '"';
	b->p[b->len] = '\0';
}

void
textbuf_reset(struct textbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void
textbuf_free(struct textbuf *b)
{
	free(b->p);
	*b = (struct textbuf){ 0 };
}
