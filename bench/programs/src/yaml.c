/*
 * yaml.c - our libyaml driver (libyaml's C sources come from the ruamel.yaml.clib
 * sdist at bench time): a strdup-heavy YAML reader.
 *
 *   yaml FILE PASSES
 *
 * Each pass: (1) parses FILE with libyaml's event API and strdup()s every scalar
 * (glibc's strdup, as a YAML loader building its own tree would) into a hash table
 * of keys with counts plus the list of a document's values, freed at each document
 * end; (2) loads every document with yaml_parser_load (libyaml's node tree, which
 * copies tags and values itself) and dumps it again with yaml_emitter_dump into a
 * growing malloc'ed buffer. Prints the event, scalar and distinct-key counts and the
 * size of the re-emitted text (the same for every build).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml.h"

struct entry {
	char *key;
	unsigned long count;
	struct entry *next;
};

#define NBUCKETS 4096
static struct entry *table[NBUCKETS];
static unsigned long distinct;

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void count_key(const char *k)
{
	unsigned b = hash(k) % NBUCKETS;
	for (struct entry *e = table[b]; e; e = e->next)
		if (strcmp(e->key, k) == 0) {
			e->count++;
			return;
		}
	struct entry *e = malloc(sizeof *e);
	e->key = strdup(k);
	e->count = 1;
	e->next = table[b];
	table[b] = e;
	distinct++;
}

static void clear_table(void)
{
	for (int b = 0; b < NBUCKETS; b++) {
		struct entry *e = table[b];
		while (e) {
			struct entry *n = e->next;
			free(e->key);
			free(e);
			e = n;
		}
		table[b] = NULL;
	}
}

struct outbuf {
	unsigned char *p;
	size_t len, cap;
};

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
	struct outbuf *o = data;
	if (o->len + size > o->cap) {
		o->cap = (o->len + size) * 2;
		o->p = realloc(o->p, o->cap);
		if (!o->p)
			return 0;
	}
	memcpy(o->p + o->len, buffer, size);
	o->len += size;
	return 1;
}

static void fail(const char *what, yaml_parser_t *p)
{
	fprintf(stderr, "yaml: %s: %s at line %lu\n", what, p && p->problem ? p->problem : "error",
		p ? (unsigned long)p->problem_mark.line + 1 : 0UL);
	exit(1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: yaml FILE PASSES\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		fprintf(stderr, "yaml: cannot open %s\n", argv[1]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *text = malloc((size_t)len);
	if (fread(text, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "yaml: cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	int passes = atoi(argv[2]);
	unsigned long events = 0, scalars = 0, docs = 0;
	size_t emitted = 0;
	for (int pass = 0; pass < passes; pass++) {
		/* 1. events, every scalar strdup()ed */
		yaml_parser_t parser;
		if (!yaml_parser_initialize(&parser))
			fail("parser init", NULL);
		yaml_parser_set_input_string(&parser, text, (size_t)len);
		char **vals = NULL;
		size_t nvals = 0, capvals = 0;
		int in_key = 0;
		int done = 0;
		while (!done) {
			yaml_event_t ev;
			if (!yaml_parser_parse(&parser, &ev))
				fail("parse", &parser);
			events++;
			switch (ev.type) {
			case YAML_SCALAR_EVENT: {
				scalars++;
				char *v = strdup((const char *)ev.data.scalar.value);
				if (nvals == capvals) {
					capvals = capvals ? capvals * 2 : 256;
					vals = realloc(vals, capvals * sizeof *vals);
				}
				vals[nvals++] = v;
				if (in_key)
					count_key(v);
				in_key = !in_key;
				break;
			}
			case YAML_MAPPING_START_EVENT:
				in_key = 1;
				break;
			case YAML_SEQUENCE_START_EVENT:
			case YAML_SEQUENCE_END_EVENT:
			case YAML_MAPPING_END_EVENT:
				in_key = 0;
				break;
			case YAML_DOCUMENT_END_EVENT:
				for (size_t i = 0; i < nvals; i++)
					free(vals[i]);
				nvals = 0;
				break;
			case YAML_STREAM_END_EVENT:
				done = 1;
				break;
			default:
				break;
			}
			yaml_event_delete(&ev);
		}
		free(vals);
		yaml_parser_delete(&parser);

		/* 2. documents loaded as node trees and dumped again */
		if (!yaml_parser_initialize(&parser))
			fail("parser init", NULL);
		yaml_parser_set_input_string(&parser, text, (size_t)len);
		yaml_emitter_t emitter;
		struct outbuf out = {0};
		yaml_emitter_initialize(&emitter);
		yaml_emitter_set_output(&emitter, write_handler, &out);
		yaml_emitter_set_unicode(&emitter, 1);
		if (!yaml_emitter_open(&emitter))
			fail("emitter open", NULL);
		for (;;) {
			yaml_document_t doc;
			if (!yaml_parser_load(&parser, &doc))
				fail("load", &parser);
			if (!yaml_document_get_root_node(&doc)) {
				yaml_document_delete(&doc);
				break;
			}
			docs++;
			if (!yaml_emitter_dump(&emitter, &doc)) /* deletes doc */
				fail("dump", NULL);
		}
		yaml_emitter_close(&emitter);
		yaml_emitter_delete(&emitter);
		yaml_parser_delete(&parser);
		emitted += out.len;
		free(out.p);
	}
	printf("yaml: %d passes, %lu events, %lu scalars, %lu distinct keys, %lu documents, "
	       "%zu bytes emitted\n",
	       passes, events, scalars, distinct, docs, emitted);
	clear_table();
	free(text);
	return 0;
}
