/* SPDX-License-Identifier: MIT */
/*
 * Copies that survive SIGBUS.
 *
 * The copy engine (a mapped tmpfs image, --ram) moves data with memcpy
 * between two mappings of shared memory: the image and the guest's memory.
 * Either can shrink under us: another process truncates the image, or the
 * front-end truncates the memfd it sent. Touching a page past the new end
 * of a file raises SIGBUS (so does a write fault on tmpfs when it is full,
 * and a hardware memory error). pread / pwrite would have returned an
 * error; a copy must too, and the back-end must live on.
 *
 * So every data copy runs under a guard: sigsetjmp(env, 0) (no syscall:
 * the signal mask is not saved) and a thread-local pointer to it. The
 * SIGBUS handler jumps back to the guard of the faulting thread, which
 * returns -EFAULT: the request completes with IOERR. SA_NODEFER keeps
 * SIGBUS unblocked after the jump. A SIGBUS outside a guard, or one sent
 * by another process, is not ours: the default action (core dump) runs as
 * if no handler were installed.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "blk.h"

static _Thread_local sigjmp_buf *volatile guard;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	sigjmp_buf *g = guard;

	(void)uc;
	/* si_code > 0: raised by a fault of this thread. kill(), tkill(),
	 * sigqueue() (si_code <= 0) are not a failed copy. */
	if (g && si->si_code > 0) {
		guard = NULL;
		siglongjmp(*g, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int blk_fault_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL) ? -errno : 0;
}

/* Out of line: nothing the copy changes lives in blk_copy_iov's frame,
 * which the jump returns to. */
static __attribute__((noinline)) void copy(uint8_t *p, const struct iovec *iov,
					   unsigned n, bool write)
{
	for (unsigned i = 0; i < n; i++) {
		if (write)
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, p, iov[i].iov_len);
		p += iov[i].iov_len;
	}
}

int blk_copy_iov(uint8_t *p, const struct iovec *iov, unsigned n, bool write)
{
	sigjmp_buf env;

	if (sigsetjmp(env, 0))
		return -EFAULT;
	guard = &env;
	atomic_signal_fence(memory_order_seq_cst);
	copy(p, iov, n, write);
	atomic_signal_fence(memory_order_seq_cst);
	guard = NULL;
	return 0;
}
