/* SPDX-License-Identifier: GPL-2.0-or-later */
/* confutil.h - load a configuration from text in a test. */
#ifndef TSNATD_CONFUTIL_H
#define TSNATD_CONFUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

/* Load text as a config file; *errs_out (if non-NULL) receives the error
 * text (caller frees). The temporary file is removed. */
static inline struct conf *
conf_from_text(const char *text, char **errs_out)
{
	char path[] = "/tmp/tsnatd-test-XXXXXX";
	int fd = mkstemp(path);
	char *errs = NULL;
	size_t len = 0;
	FILE *ef = open_memstream(&errs, &len);
	struct conf *c;

	if (fd < 0 || !ef || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
	c = conf_load(path, ef);
	fclose(ef);
	unlink(path);
	if (errs_out)
		*errs_out = errs;
	else
		free(errs);
	return c;
}

#endif
