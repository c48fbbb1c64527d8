/* SPDX-License-Identifier: MIT */
/* Logging sink and errno text (include/vhost/log.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vhost/log.h"

static void log_stderr(void *opaque, enum vh_log_level level, const char *msg)
{
	static const char *const tag[] = {"error", "warning", "info", "debug"};

	(void)opaque;
	fprintf(stderr, "libvhost %s: %s\n", tag[level], msg);
}

static vh_log_fn log_fn = log_stderr;
static void *log_opaque;
static enum vh_log_level log_level = VH_LOG_WARN;

void vh_log_set_handler(vh_log_fn fn, void *opaque)
{
	log_fn = fn ? fn : log_stderr;
	log_opaque = fn ? opaque : NULL;
}

void vh_log_set_level(enum vh_log_level level)
{
	if (level > VH_LOG_DEBUG)
		level = VH_LOG_DEBUG;
	log_level = level;
}

enum vh_log_level vh_log_get_level(void)
{
	return log_level;
}

void vh_log(enum vh_log_level level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_fn(log_opaque, level, buf);
}

const char *vh_strerror(int err)
{
	/* strerror() is not thread-safe; strerror_r's GNU form returns a
	 * pointer that may be our buffer, so keep one per thread. */
	static _Thread_local char buf[64];

	if (err < 0)
		err = -err;
	return strerror_r(err, buf, sizeof(buf));
}
