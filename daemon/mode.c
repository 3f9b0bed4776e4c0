/* mode.c - the table of modes: the one place that maps a mode to its
 * operations and its name. */
#include <string.h>

#include "mode.h"

#define MODE_ROW(id, name) [id] = &mode_##name,
static const struct mode_ops *const mode_table[] = {
	MODE_LIST(MODE_ROW)
	[MODE_OBSERVE] = NULL,		/* reserved: named, not implemented */
};
#undef MODE_ROW

#define NMODES (sizeof(mode_table) / sizeof(mode_table[0]))

const struct mode_ops *
mode_get(enum policy_mode m)
{
	return (unsigned)m < NMODES ? mode_table[m] : NULL;
}

const struct mode_ops *
mode_of_flow(const struct flow *f)
{
	(void)f;
	return &mode_rewrite;
}

const char *
policy_mode_name(enum policy_mode m)
{
	if (m == MODE_OBSERVE)
		return "observe";
	return mode_get(m) ? mode_get(m)->name : "?";
}

int
policy_mode_parse(const char *s, enum policy_mode *m)
{
	for (unsigned i = 0; i < NMODES; i++) {
		if (strcmp(s, policy_mode_name((enum policy_mode)i)) == 0) {
			*m = (enum policy_mode)i;
			return 0;
		}
	}
	return -1;
}
