/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk features and config space (virtio 1.2 §5.2.3–§5.2.5), and the
 * control-thread callbacks of the device.
 *
 * The config space is built on every GET_CONFIG from the device's state, so
 * it cannot go stale. Only `writeback` is writable, and only when
 * VIRTIO_BLK_F_CONFIG_WCE was negotiated (§5.2.5.1: "The driver MUST NOT
 * write ... unless"); a SET_CONFIG that changes any other byte is refused,
 * unless it carries the migration flag (vhost-user.rst "Virtio device config
 * space": flags 1 = "used for live migration"), whose other bytes we accept
 * and ignore: they describe this very device.
 */
#include <errno.h>
#include <string.h>

#include "blk.h"
#include "vhost/log.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "virtio 1.x config fields are little-endian: LE hosts only");

uint64_t blk_features(const struct blk_dev *d)
{
	uint64_t f = VH_SERVER_RING_FEATURES;

	f |= BLK_FBIT(VIRTIO_BLK_F_SIZE_MAX) | BLK_FBIT(VIRTIO_BLK_F_SEG_MAX) |
	     BLK_FBIT(VIRTIO_BLK_F_BLK_SIZE) | BLK_FBIT(VIRTIO_BLK_F_FLUSH) |
	     BLK_FBIT(VIRTIO_BLK_F_TOPOLOGY) |
	     BLK_FBIT(VIRTIO_BLK_F_CONFIG_WCE) | BLK_FBIT(VIRTIO_BLK_F_MQ);
	if (d->o.read_only)
		f |= BLK_FBIT(VIRTIO_BLK_F_RO);
	else if (d->o.discard)
		f |= BLK_FBIT(VIRTIO_BLK_F_DISCARD) |
		     BLK_FBIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

bool blk_writeback(struct blk_dev *d)
{
	uint64_t f = atomic_load_explicit(&d->features, memory_order_relaxed);

	/* §5.2.5.2: with CONFIG_WCE the field rules; without it the cache
	 * is writeback exactly when FLUSH was negotiated (a driver that
	 * cannot flush needs every write stable). */
	if (f & BLK_FBIT(VIRTIO_BLK_F_CONFIG_WCE))
		return atomic_load_explicit(&d->wce, memory_order_relaxed);
	return (f & BLK_FBIT(VIRTIO_BLK_F_FLUSH)) != 0;
}

void blk_config_fill(struct blk_dev *d, struct virtio_blk_config *c)
{
	memset(c, 0, sizeof(*c));
	c->capacity = d->size / VIRTIO_BLK_SECTOR;
	c->size_max = BLK_SIZE_MAX;
	c->seg_max = BLK_SEG_MAX;
	c->blk_size = d->blk_size;
	c->physical_block_exp = d->phys_exp;
	c->alignment_offset = 0;
	c->min_io_size = d->min_io;
	c->opt_io_size = d->opt_io;
	c->writeback = atomic_load(&d->wce) ? 1 : 0;
	c->num_queues = (uint16_t)d->o.num_queues;
	if (d->offered & BLK_FBIT(VIRTIO_BLK_F_DISCARD)) {
		c->max_discard_sectors = BLK_MAX_DWZ_SECTORS;
		c->max_discard_seg = BLK_MAX_DWZ_SEG;
		c->discard_sector_alignment = d->blk_size / VIRTIO_BLK_SECTOR;
	}
	if (d->offered & BLK_FBIT(VIRTIO_BLK_F_WRITE_ZEROES)) {
		c->max_write_zeroes_sectors = BLK_MAX_DWZ_SECTORS;
		c->max_write_zeroes_seg = BLK_MAX_DWZ_SEG;
		c->write_zeroes_may_unmap = 1;
	}
}

static int blk_get_config(void *dev, uint32_t offset, uint32_t size,
			  uint8_t *buf)
{
	struct virtio_blk_config c;

	/* The dispatcher checked offset + size <= config_size. */
	blk_config_fill(dev, &c);
	memcpy(buf, (const uint8_t *)&c + offset, size);
	return 0;
}

static int blk_set_config(void *dev, uint32_t offset, uint32_t size,
			  uint32_t flags, const uint8_t *buf)
{
	struct blk_dev *d = dev;
	const uint32_t wce_off = offsetof(struct virtio_blk_config, writeback);
	bool migration = flags == VHOST_USER_CONFIG_FLAG_MIGRATION;
	struct virtio_blk_config c;
	const uint8_t *cur = (const uint8_t *)&c;
	int wce = -1;

	if (flags > VHOST_USER_CONFIG_FLAG_MIGRATION) {
		vh_err("blk: SET_CONFIG with unknown flags 0x%x refused",
		       flags);
		return -EINVAL;
	}
	blk_config_fill(d, &c);
	for (uint32_t i = 0; i < size; i++) {
		uint32_t off = offset + i;

		if (off == wce_off) {
			wce = buf[i];
			continue;
		}
		if (buf[i] != cur[off] && !migration) {
			vh_err("blk: SET_CONFIG writes read-only config byte "
			       "%u (0x%02x -> 0x%02x): refused",
			       off, cur[off], buf[i]);
			return -EPERM;
		}
	}
	if (wce < 0)
		return 0;
	if (!migration &&
	    !(atomic_load(&d->features) & BLK_FBIT(VIRTIO_BLK_F_CONFIG_WCE))) {
		vh_err("blk: SET_CONFIG writes writeback without "
		       "VIRTIO_BLK_F_CONFIG_WCE: refused");
		return -EPERM;
	}
	if (wce > 1) {
		vh_err("blk: SET_CONFIG writeback %d (0 or 1): refused", wce);
		return -EINVAL;
	}
	atomic_store(&d->wce, wce == 1);
	vh_info("blk: write cache now %s", wce ? "writeback" : "writethrough");
	return 0;
}

static int blk_set_features(void *dev, uint64_t features)
{
	struct blk_dev *d = dev;

	atomic_store(&d->features, features);
	/* §5.2.5.2: "If VIRTIO_BLK_F_CONFIG_WCE is negotiated but
	 * VIRTIO_BLK_F_FLUSH is not, the device MUST initialize writeback
	 * to 0." */
	if ((features & BLK_FBIT(VIRTIO_BLK_F_CONFIG_WCE)) &&
	    !(features & BLK_FBIT(VIRTIO_BLK_F_FLUSH)))
		atomic_store(&d->wce, false);
	return 0;
}

static void blk_reset(void *dev)
{
	struct blk_dev *d = dev;

	/* Device reset: the writeback field returns to its initial value. */
	atomic_store(&d->wce, !d->o.writethrough);
	atomic_store(&d->features, 0);
}

const struct vh_device_ops blk_ops = {
    .handle_reqs = blk_handle_reqs,
    .queue_started = blk_queue_started,
    .queue_stopped = blk_queue_stopped,
    .set_features = blk_set_features,
    .get_config = blk_get_config,
    .set_config = blk_set_config,
    .reset = blk_reset,
};
