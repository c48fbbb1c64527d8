/* SPDX-License-Identifier: MIT */
/*
 * What the device offers and shows: virtio-net features per back-end,
 * protocol features, the queue count, the config space (virtio 1.2 §5.1.4:
 * mac, status, max_virtqueue_pairs, mtu), NET_SET_MTU bounds, and a second
 * front-end after the first one left.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nh.h"

#define ALL   UINT64_MAX
#define VF(b) vh_virtio_feature_mask(b)

static struct nh *start(enum net_mode m, unsigned pairs, bool no_offload)
{
	static struct nh h;
	struct net_opts o;

	net_opts_init(&o);
	o.mode = m;
	o.gen_size = 64;
	o.pairs = pairs;
	o.no_offload = no_offload;
	o.mtu = 9000;
	nh_start(&h, &o, ALL);
	return &h;
}

static void offers_the_virtio_net_features(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, 1, false);
	uint64_t want =
	    NET_F(VIRTIO_NET_F_MRG_RXBUF) | NET_F(VIRTIO_NET_F_MAC) |
	    NET_F(VIRTIO_NET_F_STATUS) | NET_F(VIRTIO_NET_F_MTU) |
	    NET_F(VIRTIO_NET_F_CTRL_VQ) | NET_F_HOST_OFFLOADS |
	    NET_F_GUEST_OFFLOADS | VF(VH_VIRTIO_F_VERSION_1) |
	    VF(VH_VIRTIO_F_RING_PACKED) | VF(VH_VIRTIO_RING_F_EVENT_IDX) |
	    VF(VH_VIRTIO_RING_F_INDIRECT_DESC) | VF(VH_VIRTIO_F_IN_ORDER) |
	    VF(VH_VHOST_USER_F_PROTOCOL_FEATURES);
	uint64_t pf = vh_frontend_offered_protocol_features(h->fe);
	uint64_t num;

	(void)state;
	assert_int_equal(h->offered & want, want);
	/* One pair: no MQ. */
	assert_int_equal(h->offered & NET_F(VIRTIO_NET_F_MQ), 0);
	assert_true(vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_MQ));
	assert_true(vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_REPLY_ACK));
	assert_true(vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_STATUS));
	assert_true(vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_CONFIG));
#ifdef NET_HAVE_SERVER_NET_OPS
	assert_true(vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_RARP));
	assert_true(vh_protocol_has(pf, VHOST_USER_PROTOCOL_F_NET_MTU));
#endif
	assert_int_equal(vh_frontend_get_queue_num(h->fe, &num), 0);
	assert_int_equal(num, 3); /* RX, TX, control */
	nh_stop(h);
}

static void offers_mq_with_several_pairs(void **state)
{
	struct nh *h = start(NET_MODE_SINK, 4, false);
	uint64_t num;

	(void)state;
	assert_true(h->offered & NET_F(VIRTIO_NET_F_MQ));
	assert_int_equal(vh_frontend_get_queue_num(h->fe, &num), 0);
	assert_int_equal(num, 9);
	nh_stop(h);
}

static void no_offload_offers_no_checksum_or_gso(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, 1, true);

	(void)state;
	assert_int_equal(
	    h->offered & (NET_F_HOST_OFFLOADS | NET_F_GUEST_OFFLOADS), 0);
	assert_true(h->offered & NET_F(VIRTIO_NET_F_MRG_RXBUF));
	nh_stop(h);
}

static void config_space_shows_mac_status_pairs_and_mtu(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, 3, false);
	struct virtio_net_config c;
	static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(vh_frontend_get_config(h->fe, 0, 12, 0, (uint8_t *)&c),
			 0);
	assert_memory_equal(c.mac, mac, 6);
	assert_int_equal(c.status, VIRTIO_NET_S_LINK_UP);
	assert_int_equal(c.max_virtqueue_pairs, 3);
	assert_int_equal(c.mtu, 9000);
	nh_stop(h);
}

static void config_mac_is_writable_and_the_rest_is_not(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, 1, false);
	static const uint8_t mac[6] = {0x02, 1, 2, 3, 4, 5};
	uint8_t got[6], status[2] = {0, 0};

	(void)state;
	assert_int_equal(vh_frontend_set_config(h->fe, 0, 6, 0, mac), 0);
	assert_int_equal(vh_frontend_get_config(h->fe, 0, 6, 0, got), 0);
	assert_memory_equal(got, mac, 6);
	/* status is read-only: refused (REPLY_ACK carries the failure). */
	assert_int_equal(vh_frontend_set_config(h->fe, 6, 2, 0, status), -EIO);
	nh_stop(h);
}

static void set_mtu_takes_68_to_65535(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, 1, false);
	uint8_t mtu[2];

	(void)state;
#ifdef NET_HAVE_SERVER_NET_OPS
	assert_int_equal(vh_frontend_net_set_mtu(h->fe, 67), -EIO);
	assert_int_equal(vh_frontend_net_set_mtu(h->fe, 68), 0);
	assert_int_equal(vh_frontend_net_set_mtu(h->fe, 1400), 0);
#else
	assert_int_equal(net_dev_set_mtu(h->dev, 67), -EINVAL);
	assert_int_equal(net_dev_set_mtu(h->dev, 68), 0);
	assert_int_equal(net_dev_set_mtu(h->dev, 1400), 0);
#endif
	assert_int_equal(vh_frontend_get_config(h->fe, 10, 2, 0, mtu), 0);
	assert_int_equal(mtu[0] | mtu[1] << 8, 1400);
	nh_stop(h);
}

static void a_second_front_end_starts_from_reset(void **state)
{
	struct nh *h = start(NET_MODE_LOOP, 2, false);
	uint8_t cmd[4] = {VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			  2, 0};
	static const struct virtio_net_hdr_v1 zero;
	uint8_t f[64];
	unsigned s;
	uint32_t len;

	(void)state;
	nh_ring(h, 4, 16);
	assert_true(nh_ctrl_post(h, 4, cmd, 4, 1) >= 0);
	nh_kick(h, 4);
	assert_int_equal(nh_reap(h, 4, NH_TIMEOUT_MS, &s, &len), 1);
	assert_int_equal(atomic_load(&h->dev->vq_pairs), 2);
	/* The front-end leaves; the server accepts the next one. */
	nh_disconnect(h);
	for (int i = 0; i < 500 && vh_server_sessions(h->srv) < 1; i++)
		usleep(1000);
	for (int i = 0; i < 500 && vh_server_connected(h->srv); i++)
		usleep(1000);
	assert_false(vh_server_connected(h->srv));
	assert_int_equal(atomic_load(&h->dev->vq_pairs), 1);
	assert_false(atomic_load(&h->dev->ctrl_started));
	nh_connect(h, NH_PF, ALL);
	nh_ring(h, 0, 16);
	nh_ring(h, 1, 16);
	assert_true(nh_rx_post(h, 0, 2048, 1) >= 0);
	nh_kick(h, 0);
	nh_frame(f, sizeof(f), 1);
	assert_true(nh_tx_post(h, 1, &zero, 12, f, sizeof(f), false) >= 0);
	nh_kick(h, 1);
	assert_int_equal(nh_reap(h, 0, NH_TIMEOUT_MS, &s, &len), 1);
	assert_int_equal(len, 12 + sizeof(f));
	nh_stop(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(offers_the_virtio_net_features),
	    cmocka_unit_test(offers_mq_with_several_pairs),
	    cmocka_unit_test(no_offload_offers_no_checksum_or_gso),
	    cmocka_unit_test(config_space_shows_mac_status_pairs_and_mtu),
	    cmocka_unit_test(config_mac_is_writable_and_the_rest_is_not),
	    cmocka_unit_test(set_mtu_takes_68_to_65535),
	    cmocka_unit_test(a_second_front_end_starts_from_reset),
	};

	nh_quiet_logs();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
