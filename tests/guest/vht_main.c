/* SPDX-License-Identifier: MIT */
/*
 * vht: one static binary for every in-guest test, chosen by its first
 * argument (see tests/guest/init.sh):
 *   vht net | net-vhost-hdr | vsock | scsi IMG WWPN TPGT | vdpa | bad
 *   vht mkimg PATH      the SCSI backing file with its known pattern
 */
#include <stdio.h>
#include <string.h>

#include "vht.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} tests[] = {
    {"net", vht_net},	{"net-vhost-hdr", vht_net}, {"vsock", vht_vsock},
    {"scsi", vht_scsi}, {"mkimg", vht_scsi_mkimg},  {"vdpa", vht_vdpa},
    {"bad", vht_bad},
};

int main(int argc, char **argv)
{
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2) {
		for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
			if (strcmp(argv[1], tests[i].name) == 0) {
				vht_log_to_stdout();
				return tests[i].fn(argc - 1, argv + 1);
			}
	}
	fprintf(stderr, "usage: vht net|net-vhost-hdr|vsock|scsi IMG WWPN "
			"TPGT|mkimg PATH|vdpa|bad\n");
	return 2;
}
