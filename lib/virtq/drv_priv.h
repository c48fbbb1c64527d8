/* SPDX-License-Identifier: MIT */
/* Internal state of the driver-side queue (include/vhost/driver.h). */
#ifndef VHOST_DRV_PRIV_H
#define VHOST_DRV_PRIV_H

#include "vhost/driver.h"
#include "vq_priv.h"

struct drv_state {
	void *token;
	uint16_t ndescs; /* descriptors (split) / ring slots (packed) */
	uint16_t last;	 /* split: last descriptor of the chain */
	bool busy;
};

struct vh_drv_queue {
	struct vh_drv_config cfg;
	uint16_t size;
	uint16_t num_free;
	bool cb_enabled;
	void *desc;
	void *driver;
	void *device;
	struct drv_state *state; /* per head (split) / Buffer ID (packed) */
	uint16_t *next;		 /* free lists: descriptors or Buffer IDs */
	uint16_t free_head;

	/* split */
	uint16_t avail_idx; /* next to publish */
	uint16_t published; /* avail idx at the last kick_prepare */
	uint16_t last_used;

	/* packed */
	uint16_t next_avail;
	bool avail_wrap;
	uint16_t next_used;
	bool used_wrap;
	uint16_t kicked; /* position at the last kick_prepare */
	bool kicked_wrap;
};

/* Host pointer and guest address of the indirect table for @slot. */
void *drv_indirect(struct vh_drv_queue *q, uint16_t slot, uint64_t *gpa);

int drv_split_add(struct vh_drv_queue *q, const struct vh_drv_buf *out,
		  unsigned nout, const struct vh_drv_buf *in, unsigned nin,
		  bool indirect, void *token);
bool drv_split_kick_prepare(struct vh_drv_queue *q);
int drv_split_get_used(struct vh_drv_queue *q, void **token, uint32_t *len);
bool drv_split_enable_cb(struct vh_drv_queue *q);
void drv_split_disable_cb(struct vh_drv_queue *q);

int drv_packed_add(struct vh_drv_queue *q, const struct vh_drv_buf *out,
		   unsigned nout, const struct vh_drv_buf *in, unsigned nin,
		   bool indirect, void *token);
bool drv_packed_kick_prepare(struct vh_drv_queue *q);
int drv_packed_get_used(struct vh_drv_queue *q, void **token, uint32_t *len);
bool drv_packed_enable_cb(struct vh_drv_queue *q);
void drv_packed_disable_cb(struct vh_drv_queue *q);

#endif /* VHOST_DRV_PRIV_H */
