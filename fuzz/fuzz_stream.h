/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the protocol fuzz targets (fuzz/backend, fuzz/frontend):
 * the record format that turns fuzz bytes into a stream of vhost-user
 * messages with file descriptors, the writer thread that pushes that stream
 * into a socket, and the fd accounting every target ends with.
 *
 * Record format (repeated until the input ends):
 *   byte 0  ctl: bits 0-3  number of fds to attach, 0..10 (values above 10
 *                          count as 10; 9 and 10 exceed VHOST_USER_MAX_FDS
 *                          and exercise the truncated-control-data path)
 *                bits 4-5  fd kind: 0 eventfd, 1 memfd (64 KiB),
 *                          2 socket (one end of a socketpair; the other end
 *                          is closed at once), 3 a mix of the three
 *                bit  6    length byte: the payload length is the next
 *                          input byte instead of the header's size field
 *                          (so size and stream may disagree)
 *                bit  7    the fds travel with the first payload byte
 *                          instead of with the header
 *   12 bytes    the header as it goes on the wire (request, flags, size)
 *   n bytes     payload: hdr.size bytes (or the length byte's), cut short
 *               by the end of the input
 * A record cut short by the end of the input is written as far as it goes:
 * the peer then sees a hang-up in the middle of a message.
 */
#ifndef VH_FUZZ_STREAM_H
#define VH_FUZZ_STREAM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vhost/proto.h"

/* Record control byte fields (see above). */
#define FZ_CTL_NFDS_MASK  0x0fu
#define FZ_CTL_KIND_SHIFT 4
#define FZ_CTL_LENBYTE	  0x40u
#define FZ_CTL_FDS_LATE	  0x80u
#define FZ_MAX_FDS	  10u

enum fz_fd_kind {
	FZ_FD_EVENT = 0,
	FZ_FD_MEM = 1,
	FZ_FD_SOCK = 2,
	FZ_FD_MIX = 3,
};

/** A cursor over the fuzz input. */
struct fz_in {
	const uint8_t *p;
	size_t n;
};

/** Next byte, or @dflt when the input is exhausted. */
uint8_t fz_u8(struct fz_in *in, uint8_t dflt);

/** Writer thread: sends the record stream in @data to @fd, then
 * shutdown(@fd, SHUT_WR). Stops early when the peer goes away. */
struct fz_writer {
	pthread_t thread;
	int fd; /* borrowed */
	struct fz_in in;
	size_t records; /* records sent, for debugging */
};

/** Start the writer (the data is borrowed until fz_writer_join). Aborts on
 * a harness failure (thread creation). */
void fz_writer_start(struct fz_writer *w, int fd, const uint8_t *data,
		     size_t len);
/** Wait for the writer. The object under test must have closed its end
 * first if it stopped reading, so a blocked write can fail and return. */
void fz_writer_join(struct fz_writer *w);

/** Read and discard whatever is waiting on @fd (non-blocking), closing any
 * fds that came with it. */
void fz_drain(int fd);

/** A new fd of @kind (eventfd, memfd or socket); aborts on failure. */
int fz_make_fd(enum fz_fd_kind kind, unsigned i);

/** Number of open fds of this process (/proc/self/fd). */
int fz_count_fds(void);

/** Abort with a message when the fd count differs from @before. */
void fz_check_fds(int before, const char *target);

/** Connected AF_UNIX stream socketpair with large buffers; aborts on
 * failure. */
void fz_socketpair(int sv[2]);

/** Log sink that drops everything (installed by every target). */
void fz_quiet_logs(void);

/** Write one message (header, payload, fds borrowed) with a blocking send;
 * for preloading replies. Aborts on failure. */
void fz_send_msg(int fd, const struct vhost_user_msg *m);

/** The libFuzzer entry point each target defines. Built with
 * -DVH_FUZZ_STANDALONE instead of -fsanitize=fuzzer, fuzz_stream.c supplies
 * a main() that runs every file named on the command line once (to replay
 * a crash with any compiler). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* VH_FUZZ_STREAM_H */
