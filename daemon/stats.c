/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats.c - counters: publish, read, format. */
#include <stdio.h>
#include <string.h>

#include "stats.h"

void
stats_publish(struct stats_pub *pub, const struct stats *s)
{
	const uint64_t *v = (const uint64_t *)s;

	for (size_t i = 0; i < STATS_N; i++)
		atomic_store_explicit(&pub->v[i], v[i], memory_order_relaxed);
}

void
stats_read(const struct stats_pub *pub, struct stats *out)
{
	uint64_t *v = (uint64_t *)out;

	for (size_t i = 0; i < STATS_N; i++)
		v[i] = atomic_load_explicit(&pub->v[i], memory_order_relaxed);
}

void
stats_add(struct stats *sum, const struct stats *s)
{
	uint64_t *a = (uint64_t *)sum;
	const uint64_t *b = (const uint64_t *)s;

	for (size_t i = 0; i < STATS_N; i++)
		a[i] += b[i];
}

void
stats_format(const struct stats *s, char *out, size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
#define STATS_FMT(name, desc)						\
	if (off < outlen)						\
		off += (size_t)snprintf(out + off, outlen - off, "%s%s=%llu", \
				off ? " " : "", #name,			\
				(unsigned long long)s->name);
	STATS_FIELDS(STATS_FMT)
#undef STATS_FMT
}
