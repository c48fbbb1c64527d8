/* SPDX-License-Identifier: MIT */
/* Internal to lib/conn: the connection object. */
#ifndef VH_CONN_PRIV_H
#define VH_CONN_PRIV_H

#include <stdint.h>

struct vh_conn {
	int fd;
	uint32_t max_payload; /* <= VHOST_USER_MAX_PAYLOAD */
	unsigned max_fds;     /* 1..VHOST_USER_MAX_FDS */
	int msg_timeout_ms;   /* > 0 */
	int rcvtimeo_ms;      /* SO_RCVTIMEO in force; 0: none */
};

#endif /* VH_CONN_PRIV_H */
