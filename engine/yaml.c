/*
 * yaml.c — libyaml events into node trees with positions (see yaml.h).
 */
#include "engine/yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "engine/buf.h"

struct builder {
	struct barge_ynode *stack[BARGE_YAML_MAX_DEPTH];
	int depth;
	size_t nodes;
	struct barge_ynode *root;
	bool pending_key[BARGE_YAML_MAX_DEPTH]; /* maps: the next scalar is a key */
	struct barge_yaml_error *error;
};

static void node_free(struct barge_ynode *n)
{
	if (!n)
		return;
	free(n->scalar);
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			node_free(n->keys[i]);
		node_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n);
}

void barge_yaml_docs_free(struct barge_ynode **docs, size_t n_docs)
{
	for (size_t i = 0; i < n_docs; i++)
		node_free(docs[i]);
	free(docs);
}

static int fail(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	b->error->line = (unsigned)m->line + 1;
	b->error->col = (unsigned)m->column + 1;
	va_start(ap, fmt);
	vsnprintf(b->error->message, sizeof b->error->message, fmt, ap);
	va_end(ap);
	return -1;
}

static void append(struct barge_ynode *parent, struct barge_ynode *key, struct barge_ynode *item)
{
	parent->items = barge_xrealloc(parent->items, (parent->n + 1) * sizeof *parent->items);
	if (parent->kind == BARGE_Y_MAP) {
		parent->keys = barge_xrealloc(parent->keys, (parent->n + 1) * sizeof *parent->keys);
		parent->keys[parent->n] = key;
	}
	parent->items[parent->n++] = item;
}

/* Only the standard tags of the core schema are accepted. */
static bool tag_ok(const yaml_char_t *tag)
{
	static const char *const ok[] = {"tag:yaml.org,2002:str", "tag:yaml.org,2002:int",
					 "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null",
					 "tag:yaml.org,2002:float", "tag:yaml.org,2002:map",
					 "tag:yaml.org,2002:seq", "!"};

	if (!tag)
		return true;
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (strcmp((const char *)tag, ok[i]) == 0)
			return true;
	return false;
}

/* Attach a finished node to its parent (or make it the root). */
static int attach(struct builder *b, struct barge_ynode *n, const yaml_mark_t *m)
{
	struct barge_ynode *parent;

	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == BARGE_Y_SEQ) {
		append(parent, NULL, n);
		return 0;
	}
	if (b->pending_key[b->depth - 1]) {
		if (n->kind != BARGE_Y_SCALAR) {
			node_free(n);
			return fail(b, m, "a mapping key must be a plain string");
		}
		for (size_t i = 0; i < parent->n; i++) {
			if (parent->keys[i]->len == n->len &&
			    memcmp(parent->keys[i]->scalar, n->scalar, n->len) == 0) {
				int rc = fail(b, m, "duplicate key \"%s\" (first at line %u)",
					      n->scalar, parent->keys[i]->line);
				node_free(n);
				return rc;
			}
		}
		/* hold the key in a new slot; its value comes next */
		append(parent, n, NULL);
		b->pending_key[b->depth - 1] = false;
		return 0;
	}
	parent->items[parent->n - 1] = n;
	b->pending_key[b->depth - 1] = true;
	return 0;
}

static struct barge_ynode *new_node(struct builder *b, enum barge_ynode_kind kind,
				    const yaml_mark_t *m)
{
	struct barge_ynode *n;

	if (++b->nodes > BARGE_YAML_MAX_NODES)
		return NULL;
	n = barge_xcalloc(1, sizeof *n);
	n->kind = kind;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	return n;
}

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	struct barge_ynode *n;
	const yaml_mark_t *m = &ev->start_mark;

	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail(b, m, "aliases (*%s) are not supported in job files; write the value "
				  "out", (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor)
			return fail(b, m, "anchors (&%s) are not supported in job files",
				    (const char *)ev->data.scalar.anchor);
		if (!tag_ok(ev->data.scalar.tag))
			return fail(b, m, "the tag %s is not supported in job files",
				    (const char *)ev->data.scalar.tag);
		n = new_node(b, BARGE_Y_SCALAR, m);
		if (!n)
			return fail(b, m, "the document has more than %d nodes", BARGE_YAML_MAX_NODES);
		n->len = ev->data.scalar.length;
		n->scalar = barge_xmalloc(n->len + 1);
		memcpy(n->scalar, ev->data.scalar.value, n->len);
		n->scalar[n->len] = '\0';
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
			   !ev->data.scalar.tag;
		return attach(b, n, m);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool map = ev->type == YAML_MAPPING_START_EVENT;
		const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor
						: ev->data.sequence_start.anchor;
		const yaml_char_t *tag = map ? ev->data.mapping_start.tag
					     : ev->data.sequence_start.tag;

		if (anchor)
			return fail(b, m, "anchors (&%s) are not supported in job files",
				    (const char *)anchor);
		if (!tag_ok(tag))
			return fail(b, m, "the tag %s is not supported in job files",
				    (const char *)tag);
		if (b->depth >= BARGE_YAML_MAX_DEPTH)
			return fail(b, m, "nested more than %d levels deep", BARGE_YAML_MAX_DEPTH);
		n = new_node(b, map ? BARGE_Y_MAP : BARGE_Y_SEQ, m);
		if (!n)
			return fail(b, m, "the document has more than %d nodes", BARGE_YAML_MAX_NODES);
		if (attach(b, n, m) != 0)
			return -1;
		b->stack[b->depth] = n;
		b->pending_key[b->depth] = true;
		b->depth++;
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->depth--;
		return 0;
	default:
		return 0;
	}
}

int barge_yaml_parse(const char *buf, size_t len, struct barge_ynode ***docs, size_t *n_docs,
		     struct barge_yaml_error *error)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	struct barge_ynode **out = NULL;
	size_t count = 0;
	struct builder b;
	int rc = 0;
	bool done = false;

	memset(&b, 0, sizeof b);
	b.error = error;
	if (!yaml_parser_initialize(&parser))
		abort();
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			error->line = (unsigned)parser.problem_mark.line + 1;
			error->col = (unsigned)parser.problem_mark.column + 1;
			snprintf(error->message, sizeof error->message, "YAML syntax: %s%s%s",
				 parser.problem ? parser.problem : "cannot parse",
				 parser.context ? " " : "", parser.context ? parser.context : "");
			rc = -1;
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			b.root = NULL;
			b.depth = 0;
			b.nodes = 0;
			break;
		case YAML_DOCUMENT_END_EVENT:
			out = barge_xrealloc(out, (count + 1) * sizeof *out);
			/* a document that is only "null" or "" is empty */
			if (b.root && b.root->kind == BARGE_Y_SCALAR && barge_ynode_is_null(b.root)) {
				node_free(b.root);
				b.root = NULL;
			}
			out[count++] = b.root;
			b.root = NULL;
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			if (on_event(&b, &ev) != 0)
				rc = -1;
			break;
		}
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&parser);
	if (rc) {
		/* the partial tree hangs off its root; the stack only borrows */
		node_free(b.root);
		barge_yaml_docs_free(out, count);
		return -1;
	}
	*docs = out;
	*n_docs = count;
	return 0;
}

const struct barge_ynode *barge_ynode_get(const struct barge_ynode *map, const char *key)
{
	if (!map || map->kind != BARGE_Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->keys[i]->scalar, key) == 0)
			return map->items[i];
	return NULL;
}

bool barge_ynode_is_null(const struct barge_ynode *n)
{
	return n && n->kind == BARGE_Y_SCALAR && n->plain &&
	       (n->len == 0 || strcmp(n->scalar, "~") == 0 || strcmp(n->scalar, "null") == 0 ||
		strcmp(n->scalar, "Null") == 0 || strcmp(n->scalar, "NULL") == 0);
}

const char *barge_ynode_kind_name(const struct barge_ynode *n)
{
	if (!n)
		return "nothing";
	switch (n->kind) {
	case BARGE_Y_MAP: return "a mapping";
	case BARGE_Y_SEQ: return "a list";
	case BARGE_Y_SCALAR: return barge_ynode_is_null(n) ? "null" : "a string";
	}
	return "?";
}
