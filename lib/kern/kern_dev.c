/* SPDX-License-Identifier: MIT */
/*
 * vhost-vsock (guest CID, running) and vhost-scsi (endpoint, ABI version,
 * events-missed flag).
 */
#include <errno.h>
#include <string.h>

#include "kern_priv.h"

/* vhost_vsock_set_cid(): CIDs 0..2 are reserved (VMADDR_CID_HOST is 2) and
 * U32_MAX is VMADDR_CID_ANY. */
#define VSOCK_FIRST_GUEST_CID 3u

int vh_kern_vsock_set_guest_cid(struct vh_transport *t, uint64_t cid)
{
	struct kern *k;
	int r = kern_want(t, VH_KERN_VSOCK, "VHOST_VSOCK_SET_GUEST_CID", &k);

	if (r < 0)
		return r;
	if (cid < VSOCK_FIRST_GUEST_CID || cid >= UINT32_MAX) {
		vh_err("%s %s: VHOST_VSOCK_SET_GUEST_CID: CID %llu is not a "
		       "guest CID (3..4294967294)",
		       kern_kind(k), k->name, (unsigned long long)cid);
		return -EINVAL;
	}
	return KIOC(k, VSOCK_SET_GUEST_CID, &cid);
}

int vh_kern_vsock_set_running(struct vh_transport *t, bool running)
{
	struct kern *k;
	int v = running ? 1 : 0;
	int r = kern_want(t, VH_KERN_VSOCK, "VHOST_VSOCK_SET_RUNNING", &k);

	if (r < 0)
		return r;
	return KIOC(k, VSOCK_SET_RUNNING, &v);
}

static int scsi_target(struct kern *k, const char *what, const char *wwpn,
		       uint16_t tpgt, struct vh_k_scsi_target *out)
{
	size_t len = wwpn ? strlen(wwpn) : 0;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		vh_err("%s %s: %s: no WWPN", kern_kind(k), k->name, what);
		return -EINVAL;
	}
	if (len >= sizeof(out->vhost_wwpn)) {
		vh_err("%s %s: %s: WWPN of %zu bytes, at most %zu",
		       kern_kind(k), k->name, what, len,
		       sizeof(out->vhost_wwpn) - 1);
		return -ENAMETOOLONG;
	}
	out->abi_version = VH_K_SCSI_ABI_VERSION;
	memcpy(out->vhost_wwpn, wwpn, len);
	out->vhost_tpgt = tpgt;
	return 0;
}

int vh_kern_scsi_set_endpoint(struct vh_transport *t, const char *wwpn,
			      uint16_t tpgt)
{
	struct vh_k_scsi_target tg;
	struct kern *k;
	int r = kern_want(t, VH_KERN_SCSI, "VHOST_SCSI_SET_ENDPOINT", &k);

	if (r == 0)
		r = scsi_target(k, "VHOST_SCSI_SET_ENDPOINT", wwpn, tpgt, &tg);
	if (r == 0)
		r = KIOC(k, SCSI_SET_ENDPOINT, &tg);
	return r;
}

int vh_kern_scsi_clear_endpoint(struct vh_transport *t, const char *wwpn,
				uint16_t tpgt)
{
	struct vh_k_scsi_target tg;
	struct kern *k;
	int r = kern_want(t, VH_KERN_SCSI, "VHOST_SCSI_CLEAR_ENDPOINT", &k);

	if (r == 0)
		r = scsi_target(k, "VHOST_SCSI_CLEAR_ENDPOINT", wwpn, tpgt,
				&tg);
	if (r == 0)
		r = KIOC(k, SCSI_CLEAR_ENDPOINT, &tg);
	return r;
}

int vh_kern_scsi_get_abi_version(struct vh_transport *t, int *abi)
{
	struct kern *k;
	int r = kern_want(t, VH_KERN_SCSI, "VHOST_SCSI_GET_ABI_VERSION", &k);

	if (r == 0 && !abi)
		r = -EINVAL;
	if (r == 0)
		r = KIOC(k, SCSI_GET_ABI_VERSION, abi);
	return r;
}

int vh_kern_scsi_set_events_missed(struct vh_transport *t, bool missed)
{
	uint32_t v = missed ? 1 : 0;
	struct kern *k;
	int r = kern_want(t, VH_KERN_SCSI, "VHOST_SCSI_SET_EVENTS_MISSED", &k);

	if (r == 0)
		r = KIOC(k, SCSI_SET_EVENTS_MISSED, &v);
	return r;
}

int vh_kern_scsi_get_events_missed(struct vh_transport *t, bool *missed)
{
	uint32_t v = 0;
	struct kern *k;
	int r = kern_want(t, VH_KERN_SCSI, "VHOST_SCSI_GET_EVENTS_MISSED", &k);

	if (r == 0 && !missed)
		r = -EINVAL;
	if (r == 0)
		r = KIOC(k, SCSI_GET_EVENTS_MISSED, &v);
	if (r == 0)
		*missed = v != 0;
	return r;
}
