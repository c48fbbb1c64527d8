/* SPDX-License-Identifier: MIT */
/* vhost-user-bench: block orders and --verify patterns (pattern.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pattern.h"

/* "VHBENCH1" read as a little-endian u64. */
#define PAT_MAGIC UINT64_C(0x3148434e45424856)
#define PAT_WORDS ((SECTOR_SIZE - 32) / 8)

void perm_init(struct perm *p, uint64_t n, uint64_t seed)
{
	uint64_t m = 1, s = seed;

	while (m < n)
		m <<= 1;
	p->n = n ? n : 1;
	p->mask = m - 1;
	p->a = ((rng_next(&s) << 2) | 1) & p->mask; /* a = 1 (mod 4) */
	p->c = (rng_next(&s) | 1) & p->mask;	    /* c odd */
	p->x = rng_next(&s) & p->mask;
	if (p->mask < 3)
		p->a = 1; /* modulo 1 or 2 any a works; keep it simple */
	if (p->mask == 0)
		p->c = 0;
}

uint64_t perm_next(struct perm *p)
{
	do
		p->x = (p->a * p->x + p->c) & p->mask;
	while (p->x >= p->n);
	return p->x;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8); /* little-endian hosts only, like the rings */
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static uint64_t filler_seed(uint64_t lba, uint64_t pass, uint64_t seed)
{
	uint64_t s = seed ^ (lba * UINT64_C(0xd6e8feb86659fd93)) ^
		     (pass * UINT64_C(0xa0761d6478bd642f));

	return rng_next(&s);
}

static void fill_sector(uint8_t *p, uint64_t lba, uint64_t pass, uint64_t seed)
{
	uint64_t s = filler_seed(lba, pass, seed);

	put64(p, PAT_MAGIC);
	put64(p + 8, lba);
	put64(p + 16, pass);
	put64(p + 24, seed);
	for (unsigned i = 0; i < PAT_WORDS; i++)
		put64(p + 32 + 8 * i, rng_next(&s));
}

void pattern_fill(void *buf, uint64_t lba, unsigned nsect, uint64_t pass,
		  uint64_t seed)
{
	uint8_t *p = buf;

	for (unsigned i = 0; i < nsect; i++)
		fill_sector(p + (size_t)i * SECTOR_SIZE, lba + i, pass, seed);
}

static bool all_bytes(const uint8_t *p, uint8_t v)
{
	for (unsigned i = 0; i < SECTOR_SIZE; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* The header names whose data came back; that is what finds the bug. */
static void classify(const uint8_t *got, const uint8_t *exp, uint64_t lba,
		     uint64_t pass, uint64_t seed, struct pattern_mismatch *m)
{
	unsigned off = 0, n;

	while (off < SECTOR_SIZE && got[off] == exp[off])
		off++;
	memset(m, 0, sizeof(*m));
	m->lba = lba;
	m->offset = off;
	n = SECTOR_SIZE - off < 8 ? SECTOR_SIZE - off : 8;
	memcpy(m->expected, exp + off, n);
	memcpy(m->actual, got + off, n);
	if (all_bytes(got, 0)) {
		m->got = PAT_GOT_ZEROES;
		return;
	}
	if (all_bytes(got, PATTERN_POISON)) {
		m->got = PAT_GOT_POISON;
		return;
	}
	if (get64(got) != PAT_MAGIC) {
		m->got = PAT_GOT_GARBAGE;
		return;
	}
	m->got_lba = get64(got + 8);
	m->got_pass = get64(got + 16);
	m->got_seed = get64(got + 24);
	if (m->got_lba != lba)
		m->got = PAT_GOT_OTHER_SECTOR;
	else if (m->got_pass != pass)
		m->got = PAT_GOT_OTHER_PASS;
	else if (m->got_seed != seed)
		m->got = PAT_GOT_OTHER_SEED;
	else
		m->got = PAT_GOT_CORRUPT;
}

unsigned pattern_check(const void *buf, uint64_t lba, unsigned nsect,
		       uint64_t pass, uint64_t seed,
		       struct pattern_mismatch *out, unsigned max)
{
	const uint8_t *p = buf;
	uint8_t exp[SECTOR_SIZE];
	unsigned bad = 0;

	for (unsigned i = 0; i < nsect; i++) {
		const uint8_t *got = p + (size_t)i * SECTOR_SIZE;

		fill_sector(exp, lba + i, pass, seed);
		if (memcmp(got, exp, SECTOR_SIZE) == 0)
			continue;
		if (bad < max)
			classify(got, exp, lba + i, pass, seed, &out[bad]);
		bad++;
	}
	return bad;
}

static const char *got_name(enum pattern_got g)
{
	switch (g) {
	case PAT_GOT_OTHER_SECTOR:
		return "data of another sector";
	case PAT_GOT_OTHER_PASS:
		return "data of another pass";
	case PAT_GOT_OTHER_SEED:
		return "data of another seed";
	case PAT_GOT_CORRUPT:
		return "right header, corrupt data";
	case PAT_GOT_ZEROES:
		return "all zeroes";
	case PAT_GOT_POISON:
		return "the reader's poison: the device wrote nothing";
	case PAT_GOT_GARBAGE:
		break;
	}
	return "not a pattern";
}

static void hex8(char *out, const uint8_t *b)
{
	for (unsigned i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

int pattern_describe(const struct pattern_mismatch *m, uint64_t pass,
		     uint64_t seed, char *buf, size_t len)
{
	char e[17], a[17];

	hex8(e, m->expected);
	hex8(a, m->actual);
	switch (m->got) {
	case PAT_GOT_OTHER_SECTOR:
	case PAT_GOT_OTHER_PASS:
	case PAT_GOT_OTHER_SEED:
	case PAT_GOT_CORRUPT:
		return snprintf(
		    buf, len,
		    "sector %" PRIu64 " byte %u: expected lba %" PRIu64
		    " pass %" PRIu64 " seed %" PRIu64 ", got lba %" PRIu64
		    " pass %" PRIu64 " seed %" PRIu64
		    " (%s; bytes %s, expected %s)",
		    m->lba, m->offset, m->lba, pass, seed, m->got_lba,
		    m->got_pass, m->got_seed, got_name(m->got), a, e);
	default:
		return snprintf(buf, len,
				"sector %" PRIu64
				" byte %u: expected lba %" PRIu64
				" pass %" PRIu64 " seed %" PRIu64
				", got %s (bytes %s, expected %s)",
				m->lba, m->offset, m->lba, pass, seed,
				got_name(m->got), a, e);
	}
}
