/* SPDX-License-Identifier: MIT */
/*
 * The current-table holder: copy-on-write publication of guest memory
 * tables. The pointer to the current table is a C11 atomic; writers swap it
 * under a mutex and readers take references.
 *
 * Why a mutex on the acquire slow path: between loading the pointer and
 * incrementing its reference count, a writer could swap the table and drop
 * the holder's reference, freeing it. Taking the reference under the same
 * lock the writer swaps under closes that window. The fast path
 * (vh_mem_refresh with the current table already held) is one atomic load,
 * so queue threads pay the lock only when the table actually changed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "mem_priv.h"

struct vh_mem {
	pthread_mutex_t lock;
	_Atomic(struct vh_mem_table *) cur;
	uint64_t generation;
};

int vh_mem_new(struct vh_mem **out)
{
	struct vh_mem *m = calloc(1, sizeof(*m));
	struct vh_mem_table *t;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	t = mem_table_alloc(0);
	if (!t) {
		free(m);
		return -ENOMEM;
	}
	pthread_mutex_init(&m->lock, NULL);
	atomic_init(&m->cur, t);
	m->generation = 1;
	*out = m;
	return 0;
}

void vh_mem_free(struct vh_mem *m)
{
	if (!m)
		return;
	vh_mem_table_unref(atomic_load(&m->cur));
	pthread_mutex_destroy(&m->lock);
	free(m);
}

struct vh_mem_table *vh_mem_acquire(struct vh_mem *m)
{
	struct vh_mem_table *t;

	pthread_mutex_lock(&m->lock);
	t = vh_mem_table_ref(
	    atomic_load_explicit(&m->cur, memory_order_relaxed));
	pthread_mutex_unlock(&m->lock);
	return t;
}

struct vh_mem_table *vh_mem_refresh(struct vh_mem *m, struct vh_mem_table *held)
{
	/* @held is referenced by the caller, so no other table can share its
	 * address: pointer equality means "still current". */
	if (held && atomic_load_explicit(&m->cur, memory_order_acquire) == held)
		return held;
	vh_mem_table_unref(held);
	return vh_mem_acquire(m);
}

bool vh_mem_is_current(struct vh_mem *m, const struct vh_mem_table *t)
{
	return atomic_load_explicit(&m->cur, memory_order_acquire) == t;
}

/* Swap under the lock held by the caller; returns the old table. */
static struct vh_mem_table *swap_locked(struct vh_mem *m,
					struct vh_mem_table *t)
{
	struct vh_mem_table *old =
	    atomic_load_explicit(&m->cur, memory_order_relaxed);

	/* Release: the new table's contents are visible before its address. */
	atomic_store_explicit(&m->cur, t, memory_order_release);
	m->generation++;
	return old;
}

void vh_mem_publish(struct vh_mem *m, struct vh_mem_table *t)
{
	struct vh_mem_table *old;

	pthread_mutex_lock(&m->lock);
	old = atomic_load_explicit(&m->cur, memory_order_relaxed);
	if (!t->log && old->log)
		t->log = mem_log_ref(old->log);
	old = swap_locked(m, t);
	pthread_mutex_unlock(&m->lock);
	/* Unmapping happens here only if no reader holds the old table. */
	vh_mem_table_unref(old);
}

int vh_mem_set_table(struct vh_mem *m, const struct vhost_user_mem_region *r,
		     int *fds, unsigned n)
{
	struct vh_mem_table *t;
	int err = vh_mem_table_new(r, fds, n, &t);

	if (err)
		return err;
	vh_mem_publish(m, t);
	return 0;
}

int vh_mem_add_region(struct vh_mem *m, const struct vhost_user_mem_region *r,
		      int fd)
{
	struct vh_mem_table *t, *old = NULL;
	int err;

	pthread_mutex_lock(&m->lock);
	err = vh_mem_table_add(atomic_load(&m->cur), r, fd, &t);
	if (!err)
		old = swap_locked(m, t);
	pthread_mutex_unlock(&m->lock);
	vh_mem_table_unref(old);
	return err;
}

int vh_mem_remove_region(struct vh_mem *m,
			 const struct vhost_user_mem_region *r)
{
	struct vh_mem_table *t, *old = NULL;
	int err;

	pthread_mutex_lock(&m->lock);
	err = vh_mem_table_remove(atomic_load(&m->cur), r, &t);
	if (!err)
		old = swap_locked(m, t);
	pthread_mutex_unlock(&m->lock);
	vh_mem_table_unref(old);
	return err;
}

int vh_mem_set_log(struct vh_mem *m, struct vh_mem_log *log)
{
	struct vh_mem_table *t, *old = NULL;
	int err;

	pthread_mutex_lock(&m->lock);
	err = mem_table_with_log(atomic_load(&m->cur), log, &t);
	if (!err)
		old = swap_locked(m, t);
	pthread_mutex_unlock(&m->lock);
	vh_mem_table_unref(old);
	return err;
}

uint64_t vh_mem_generation(struct vh_mem *m)
{
	uint64_t g;

	pthread_mutex_lock(&m->lock);
	g = m->generation;
	pthread_mutex_unlock(&m->lock);
	return g;
}
