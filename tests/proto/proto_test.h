/* SPDX-License-Identifier: MIT */
/* Helpers for the wire layer's unit tests: native-order integers written
 * to and read from byte buffers at exact offsets, as a peer would. */
#ifndef PROTO_TEST_H
#define PROTO_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <setjmp.h>

#include <cmocka.h>

#include "vhost/log.h"
#include "vhost/proto.h"

static inline void discard_log(void *opaque, enum vh_log_level level,
			       const char *msg)
{
	(void)opaque;
	(void)level;
	(void)msg;
}

/* Group setup: run with logging at debug level into a sink that drops it,
 * so every reason a validator formats is exercised (and sanitised). */
static inline int debug_logging_on(void **state)
{
	(void)state;
	vh_log_set_handler(discard_log, NULL);
	vh_log_set_level(VH_LOG_DEBUG);
	return 0;
}

static inline int debug_logging_off(void **state)
{
	(void)state;
	vh_log_set_level(VH_LOG_WARN);
	vh_log_set_handler(NULL, NULL);
	return 0;
}

static inline void put_u64(uint8_t *buf, size_t off, uint64_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

static inline void put_u32(uint8_t *buf, size_t off, uint32_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

static inline void put_u16(uint8_t *buf, size_t off, uint16_t v)
{
	memcpy(buf + off, &v, sizeof(v));
}

static inline uint64_t get_u64(const uint8_t *buf, size_t off)
{
	uint64_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

static inline uint32_t get_u32(const uint8_t *buf, size_t off)
{
	uint32_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

static inline uint16_t get_u16(const uint8_t *buf, size_t off)
{
	uint16_t v;

	memcpy(&v, buf + off, sizeof(v));
	return v;
}

/* A message as the socket layer hands it over: @size payload bytes copied
 * from @payload into the raw buffer, @nfds placeholder descriptors. */
static inline void make_msg(struct vhost_user_msg *m, uint32_t request,
			    const void *payload, uint32_t size, unsigned nfds)
{
	memset(m, 0, sizeof(*m));
	vh_proto_init_hdr(&m->hdr, request, 0, size);
	if (payload && size)
		memcpy(m->payload.raw, payload, size);
	for (unsigned i = 0; i < VHOST_USER_MAX_FDS; i++)
		m->fds[i] = -1;
	m->nfds = nfds;
}

/* The shape rows of front-end / back-end request @req (never NULL). */
static inline const struct vh_msg_shape *fe(uint32_t req)
{
	const struct vh_msg_shape *s = vh_proto_request_shape(req);

	assert_non_null(s);
	return s;
}

static inline const struct vh_msg_shape *be(uint32_t req)
{
	const struct vh_msg_shape *s = vh_proto_backend_request_shape(req);

	assert_non_null(s);
	return s;
}

#endif /* PROTO_TEST_H */
