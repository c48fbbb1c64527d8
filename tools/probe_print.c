/* SPDX-License-Identifier: MIT */
/* vhost-user-probe: the text and JSON reports (probe.h). */
#include <inttypes.h>
#include <stdio.h>

#include "probe.h"

const char *probe_type_name(enum probe_type t)
{
	return t == PROBE_TYPE_BLK ? "blk" : t == PROBE_TYPE_NET ? "net" : NULL;
}

/* ------------------------------------------------------------------------ */
/* Text output                                                              */
/* ------------------------------------------------------------------------ */

static void text_bits(uint64_t v,
		      const char *(*name)(enum probe_type, unsigned),
		      enum probe_type type)
{
	unsigned bit;
	const char *n;

	for (bit = 0; bit < 64; bit++) {
		if (!(v & (UINT64_C(1) << bit)))
			continue;
		n = name(type, bit);
		if (n)
			printf("    bit %2u  %s\n", bit, n);
		else
			printf("    bit %2u  (unknown)\n", bit);
	}
}

static const char *pf_name(enum probe_type type, unsigned bit)
{
	(void)type;
	return vh_proto_protocol_feature_name(bit);
}

void probe_print_text(const struct probe *p)
{
	struct probe_field fields[PROBE_MAX_FIELDS];
	size_t n, i, j;

	printf("socket:                   %s\n", p->path);
	if (probe_type_name(p->type))
		printf("device type:              %s\n",
		       probe_type_name(p->type));
	if (p->have_features) {
		printf("virtio features:          0x%016" PRIx64 "\n",
		       p->features);
		text_bits(p->features, probe_feature_name, p->type);
	}
	if (p->have_pf) {
		printf("protocol features:        0x%016" PRIx64 "\n",
		       p->pf_offered);
		text_bits(p->pf_offered, pf_name, p->type);
		printf("protocol features acked:  0x%016" PRIx64, p->pf_acked);
		for (i = 0; i < 64; i++)
			if (p->pf_acked & (UINT64_C(1) << i))
				printf(" %s", pf_name(p->type, (unsigned)i));
		printf("\n");
	} else if (p->have_features) {
		printf("protocol features:        none (no "
		       "VHOST_USER_F_PROTOCOL_FEATURES)\n");
	}
	if (p->have_qnum)
		printf("queues (GET_QUEUE_NUM):   %" PRIu64 "\n", p->qnum);
	if (p->have_slots)
		printf("max memory slots:         %" PRIu64 "\n", p->slots);
	if (p->cfg_note)
		printf("config space:             not read: %s\n", p->cfg_note);
	if (p->cfg_len) {
		printf("config space:             %u bytes\n", p->cfg_len);
		for (i = 0; i < p->cfg_len; i += 16) {
			printf("    %04zx ", i);
			for (j = i; j < i + 16 && j < p->cfg_len; j++)
				printf(" %02x", p->cfg[j]);
			printf("\n");
		}
		n = probe_decode_config(p->type, p->cfg, p->cfg_len, fields);
		for (i = 0; i < n; i++) {
			if (fields[i].text[0])
				printf("    %-32s %s\n", fields[i].name,
				       fields[i].text);
			else
				printf("    %-32s %" PRIu64 "\n",
				       fields[i].name, fields[i].value);
		}
		if (p->type == PROBE_TYPE_BLK && n > 0)
			printf("    (capacity is %" PRIu64
			       " MiB in 512-byte sectors)\n",
			       fields[0].value >> 11);
	}
}

/* ------------------------------------------------------------------------ */
/* JSON output                                                              */
/* ------------------------------------------------------------------------ */

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_bits(const char *key, uint64_t v,
		      const char *(*name)(enum probe_type, unsigned),
		      enum probe_type type)
{
	const char *sep = "";
	unsigned bit;
	const char *n;

	printf(",\n  \"%s\": {\"value\": \"0x%016" PRIx64 "\", \"names\": [",
	       key, v);
	for (bit = 0; bit < 64; bit++) {
		if (!(v & (UINT64_C(1) << bit)))
			continue;
		n = name(type, bit);
		printf("%s", sep);
		if (n)
			json_str(n);
		else
			printf("\"bit %u\"", bit);
		sep = ", ";
	}
	printf("]}");
}

void probe_print_json(const struct probe *p)
{
	struct probe_field fields[PROBE_MAX_FIELDS];
	size_t n, i;

	printf("{\n  \"socket\": ");
	json_str(p->path);
	if (probe_type_name(p->type)) {
		printf(",\n  \"type\": ");
		json_str(probe_type_name(p->type));
	}
	if (p->have_features)
		json_bits("features", p->features, probe_feature_name, p->type);
	if (p->have_pf) {
		json_bits("protocol_features", p->pf_offered, pf_name, p->type);
		json_bits("protocol_features_acked", p->pf_acked, pf_name,
			  p->type);
	}
	if (p->have_qnum)
		printf(",\n  \"queue_num\": %" PRIu64, p->qnum);
	if (p->have_slots)
		printf(",\n  \"max_mem_slots\": %" PRIu64, p->slots);
	if (p->cfg_note) {
		printf(",\n  \"config_error\": ");
		json_str(p->cfg_note);
	}
	if (p->cfg_len) {
		printf(",\n  \"config\": {\"size\": %u, \"hex\": \"",
		       p->cfg_len);
		for (i = 0; i < p->cfg_len; i++)
			printf("%02x", p->cfg[i]);
		printf("\"");
		n = probe_decode_config(p->type, p->cfg, p->cfg_len, fields);
		if (n) {
			printf(", \"%s\": {", probe_type_name(p->type));
			for (i = 0; i < n; i++) {
				printf("%s\"%s\": ", i ? ", " : "",
				       fields[i].name);
				if (fields[i].text[0])
					json_str(fields[i].text);
				else
					printf("%" PRIu64, fields[i].value);
			}
			printf("}");
		}
		printf("}");
	}
	if (p->error[0]) {
		printf(",\n  \"error\": ");
		json_str(p->error);
	}
	printf("\n}\n");
}
