/* SPDX-License-Identifier: MIT */
/*
 * libvhost — logging and error convention.
 *
 * Every function that can fail returns a negative errno. Where the failure
 * comes from a peer, a one-line message naming the request (and the ring,
 * where there is one) and the reason goes to the logger below. The default
 * logger writes to stderr at VH_LOG_WARN and above; an application plugs in
 * its own with vh_log_set_handler().
 */
#ifndef VHOST_LOG_H
#define VHOST_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

enum vh_log_level {
	VH_LOG_ERR = 0,
	VH_LOG_WARN = 1,
	VH_LOG_INFO = 2,
	VH_LOG_DEBUG = 3,
};

/**
 * A log sink. @msg is one line without a trailing newline, valid only for
 * the duration of the call. May be called from any thread.
 */
typedef void (*vh_log_fn)(void *opaque, enum vh_log_level level,
			  const char *msg);

/**
 * Replace the process-wide log sink; NULL restores the stderr default.
 * Not synchronised with concurrent logging: set it once at start-up.
 */
void vh_log_set_handler(vh_log_fn fn, void *opaque);

/** Messages above @level are dropped before formatting. Default VH_LOG_WARN. */
void vh_log_set_level(enum vh_log_level level);

/** The current level (for callers that want to skip expensive formatting). */
enum vh_log_level vh_log_get_level(void);

/** printf-style logging through the current sink. */
void vh_log(enum vh_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Text for a negative (or positive) errno value, thread-safe, never NULL:
 * "Invalid argument" for -EINVAL. Unknown values give "Unknown error".
 */
const char *vh_strerror(int err);

#define vh_err(...)  vh_log(VH_LOG_ERR, __VA_ARGS__)
#define vh_warn(...) vh_log(VH_LOG_WARN, __VA_ARGS__)
#define vh_info(...) vh_log(VH_LOG_INFO, __VA_ARGS__)
#define vh_dbg(...)                                        \
	do {                                               \
		if (vh_log_get_level() >= VH_LOG_DEBUG)    \
			vh_log(VH_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

#ifdef __cplusplus
}
#endif

#endif /* VHOST_LOG_H */
