/* SPDX-License-Identifier: MIT */
/*
 * Internal to lib/conn: a deadline that starts the first time it is asked
 * for, and a poll() wait bounded by it. Starting lazily keeps clock reads off
 * the fast path: a message that is read or written without ever blocking
 * never looks at the clock.
 */
#ifndef VH_CONN_DEADLINE_H
#define VH_CONN_DEADLINE_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct vh_deadline {
	bool set;
	int64_t at_ns; /* CLOCK_MONOTONIC */
};

static inline int64_t vh_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Milliseconds left before @d, which starts @timeout_ms from now on the first
 * call. Rounded up so that a caller never spins on poll(0) with time left;
 * 0 means expired. A negative @timeout_ms means no limit (-1).
 */
static inline int vh_deadline_left_ms(struct vh_deadline *d, int timeout_ms)
{
	int64_t left;

	if (timeout_ms < 0)
		return -1;
	if (!d->set) {
		d->set = true;
		d->at_ns = vh_now_ns() + (int64_t)timeout_ms * 1000000;
	}
	left = d->at_ns - vh_now_ns();
	if (left <= 0)
		return 0;
	return (int)((left + 999999) / 1000000);
}

/*
 * Wait until @fd reports @events (or an error or hang-up, which the caller's
 * next read or write turns into its errno), within @d / @timeout_ms.
 * Returns 0 when the caller should retry its I/O, -ETIMEDOUT when the time
 * is up, -EBADF for an invalid fd, or poll's negative errno.
 */
static inline int vh_wait_fd(int fd, short events, struct vh_deadline *d,
			     int timeout_ms)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int left = vh_deadline_left_ms(d, timeout_ms);
		int r;

		if (left == 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left);
		if (r > 0)
			return (p.revents & POLLNVAL) ? -EBADF : 0;
		if (r < 0 && errno != EINTR)
			return -errno;
		/* Timed out or interrupted: the next turn recomputes what is
		 * left, so an early wake-up never shortens the wait. */
	}
}

#endif /* VH_CONN_DEADLINE_H */
