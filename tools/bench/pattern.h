/* SPDX-License-Identifier: MIT */
/*
 * vhost-user-bench: random numbers, block orders and --verify patterns.
 *
 * Pattern: every 512-byte sector written by --verify carries, little-endian,
 *   [0, 8)    the magic "VHBENCH1"
 *   [8, 16)   its own sector number (LBA, 512-byte units, from the device's
 *             first byte)
 *   [16, 24)  the pass number (--verify-pass)
 *   [24, 32)  the seed (--seed)
 *   [32, 512) 60 pseudo-random 64-bit words derived from the three
 * so every byte of the sector is checked, and a wrong sector read back can
 * be told apart: data of another sector, of another pass or seed, zeroes,
 * the poison the reader put there (the device wrote nothing), or garbage.
 * The pattern does not depend on the block size, so data written with one
 * --bs can be checked with another.
 */
#ifndef VH_BENCH_PATTERN_H
#define VH_BENCH_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECTOR_SIZE 512u
/* Byte a reader fills its buffer with before a verify READ. */
#define PATTERN_POISON 0xa5u

/* ---- random numbers: splitmix64 ------------------------------------------ */

static inline uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/** Uniform in [0, @n), @n > 0 (modulo bias below n / 2^64). */
static inline uint64_t rng_below(uint64_t *state, uint64_t n)
{
	return rng_next(state) % n;
}

/* ---- a permutation of [0, n): every value exactly once ------------------- */

/*
 * A full-period linear congruential sequence modulo the next power of two
 * (c odd, a = 1 mod 4: Hull-Dobell), skipping values >= n. O(1) memory,
 * fewer than two steps per value on average.
 */
struct perm {
	uint64_t n, mask, a, c, x;
};

/** Start a permutation of [0, @n) (@n >= 1) chosen by @seed. */
void perm_init(struct perm *p, uint64_t n, uint64_t seed);
/** The next value; after n calls the sequence repeats. */
uint64_t perm_next(struct perm *p);

/* ---- patterns ------------------------------------------------------------ */

/** Fill @nsect sectors at @buf with the pattern of sectors @lba... */
void pattern_fill(void *buf, uint64_t lba, unsigned nsect, uint64_t pass,
		  uint64_t seed);

enum pattern_got {
	PAT_GOT_OTHER_SECTOR, /* a valid pattern of another LBA */
	PAT_GOT_OTHER_PASS,   /* this LBA, another pass */
	PAT_GOT_OTHER_SEED,   /* this LBA, another seed */
	PAT_GOT_CORRUPT,      /* right header, the rest differs */
	PAT_GOT_ZEROES,	      /* all zero */
	PAT_GOT_POISON,	      /* all PATTERN_POISON: nothing was written */
	PAT_GOT_GARBAGE,      /* none of the above */
};

/** One sector that did not hold what was expected. */
struct pattern_mismatch {
	uint64_t lba;	 /* the sector */
	unsigned offset; /* first differing byte within it */
	enum pattern_got got;
	/* Header found in the sector (meaningful for OTHER_* and CORRUPT). */
	uint64_t got_lba, got_pass, got_seed;
	uint8_t expected[8], actual[8]; /* bytes from @offset */
};

/**
 * Check @nsect sectors at @buf against the pattern of @lba..., @pass,
 * @seed. Returns the number of sectors that differ; the first @max of them
 * are described in @out (may be NULL when @max is 0).
 */
unsigned pattern_check(const void *buf, uint64_t lba, unsigned nsect,
		       uint64_t pass, uint64_t seed,
		       struct pattern_mismatch *out, unsigned max);

/**
 * One line (no newline) for @m, e.g. "sector 1234 byte 0: expected lba
 * 1234 pass 1 seed 42, got lba 1240 pass 1 seed 42 (data of another
 * sector)". Returns snprintf's result.
 */
int pattern_describe(const struct pattern_mismatch *m, uint64_t pass,
		     uint64_t seed, char *buf, size_t len);

#endif /* VH_BENCH_PATTERN_H */
