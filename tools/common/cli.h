/* SPDX-License-Identifier: MIT */
/*
 * Command-line helpers shared by the programs (vhost-user-blk,
 * vhost-user-net, vhost-user-bench): sizes, bounded integers and CPU
 * lists, each strict (the whole string, no sign, no overflow). Not part of
 * the library's API: a static library the programs link.
 */
#ifndef VH_CLI_H
#define VH_CLI_H

#include <stdint.h>

/**
 * "4096", "4k", "4K", "4KiB", "256M", "1G", "2T" (binary multiples; an
 * optional "i" and "B" after the suffix, a plain "B" alone) -> bytes in
 * *@out. Returns 0; -EINVAL for anything else (empty, a sign, trailing
 * text); -ERANGE when the value does not fit 64 bits.
 */
int vh_cli_size(const char *s, uint64_t *out);

/**
 * A decimal (or 0x-prefixed hexadecimal) integer in [@min, @max] -> *@out.
 * Returns 0, or -EINVAL (not a number, a sign, trailing text, out of
 * range); *@out is untouched on error.
 */
int vh_cli_ulong(const char *s, unsigned long min, unsigned long max,
		 unsigned long *out);

/**
 * A CPU list "1", "0,2-3", "2-5,7" into @cpus (at most @max entries, CPUs
 * 0..65535, ranges ascending). Returns how many, or -1 for an empty or
 * malformed list or more than @max CPUs.
 */
int vh_cli_cpus(const char *s, int *cpus, unsigned max);

#endif
