/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Status and message-output parsers for the dm-shadow targets; the
 * grammar is in dm-shadow(7) and above each target's status function.
 * Strict: every field must be present and well formed, nothing may
 * follow the last one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "shadow-status.h"

int shadow_parse_decimal(const char *s, size_t len, uint64_t *ret)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned int d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static int parse_u32(const char *s, size_t len, uint32_t *ret)
{
	uint64_t v;

	if (shadow_parse_decimal(s, len, &v) < 0 || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

/* Split @s on single spaces into at most @max words (pointer, length). */
struct word {
	const char *s;
	size_t len;
};

static int split(const char *s, struct word *w, unsigned int max)
{
	unsigned int n = 0;

	while (*s) {
		const char *e;

		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if (n == max)
			return -EINVAL;
		e = s;
		while (*e && *e != ' ' && *e != '\n' && *e != '\t')
			e++;
		if (*e == '\n' || *e == '\t')
			return -EINVAL;
		w[n].s = s;
		w[n].len = (size_t)(e - s);
		n++;
		s = e;
	}
	return (int)n;
}

static bool word_is(const struct word *w, const char *lit)
{
	return w->len == strlen(lit) && memcmp(w->s, lit, w->len) == 0;
}

/* "<a>/<b>" */
static int parse_pair(const struct word *w, uint64_t *a, uint64_t *b)
{
	const char *slash = memchr(w->s, '/', w->len);

	if (!slash)
		return -EINVAL;
	if (shadow_parse_decimal(w->s, (size_t)(slash - w->s), a) < 0 ||
	    shadow_parse_decimal(slash + 1, w->len - (size_t)(slash - w->s) - 1, b) < 0)
		return -EINVAL;
	return 0;
}

static int copy_word(const struct word *w, char *buf, size_t size)
{
	if (w->len == 0 || w->len >= size)
		return -EINVAL;
	memcpy(buf, w->s, w->len);
	buf[w->len] = '\0';
	return 0;
}

/*
 * <metadata_used>/<metadata_blocks> <transaction_id> -|needs_check
 * -|<held_metadata_root>
 */
static int parse_v2_fields(const struct word *w,
			   struct shadow_origin_status *st)
{
	if (parse_pair(&w[0], &st->metadata_used, &st->metadata_blocks) < 0 ||
	    st->metadata_used > st->metadata_blocks)
		return -EINVAL;
	if (shadow_parse_decimal(w[1].s, w[1].len, &st->transaction_id) < 0)
		return -EINVAL;
	if (word_is(&w[2], "needs_check"))
		st->needs_check = true;
	else if (!word_is(&w[2], "-"))
		return -EINVAL;
	if (!word_is(&w[3], "-") &&
	    (shadow_parse_decimal(w[3].s, w[3].len, &st->held_root) < 0 ||
	     !st->held_root))
		return -EINVAL;
	st->has_metadata = true;
	return 0;
}

/* -|<revert_id> -|<revert_cursor>/<origin_chunks> */
static int parse_revert_fields(const struct word *w,
			       struct shadow_origin_status *st)
{
	if (word_is(&w[0], "-") && word_is(&w[1], "-"))
		return 0;
	if (shadow_parse_decimal(w[0].s, w[0].len, &st->revert_id) < 0 ||
	    parse_pair(&w[1], &st->revert_cursor, &st->origin_chunks) < 0 ||
	    st->revert_cursor > st->origin_chunks)
		return -EINVAL;
	st->reverting = true;
	return 0;
}

/* -|<fold_cursor>/<origin_chunks> -|<fold_rate> */
static int parse_fold_fields(const struct word *w,
			     struct shadow_origin_status *st)
{
	if (!word_is(&w[0], "-")) {
		if (parse_pair(&w[0], &st->fold_cursor, &st->fold_origin_chunks) < 0 ||
		    st->fold_cursor > st->fold_origin_chunks)
			return -EINVAL;
		st->folding = true;
	}
	if (!word_is(&w[1], "-") && parse_u32(w[1].s, w[1].len, &st->fold_rate) < 0)
		return -EINVAL;
	return 0;
}

static const char *const clone_words[] = {
	[SHADOW_CLONE_STATE_HYDRATING] = "hydrating",
	[SHADOW_CLONE_STATE_COMPLETE] = "complete",
	[SHADOW_CLONE_STATE_FAILED] = "failed",
};

const char *shadow_clone_status_word(enum shadow_clone_state s)
{
	return (size_t)s < ELEMENTSOF(clone_words) ? clone_words[s] : NULL;
}

/* <id> hydrating|complete|failed <copied>/<origin_chunks> */
static int parse_clone(const struct word *w, struct shadow_clone_status *ret)
{
	struct shadow_clone_status c = { 0 };
	size_t i;

	if (shadow_parse_decimal(w[0].s, w[0].len, &c.id) < 0 || c.id == 0)
		return -EINVAL;
	for (i = 0; i < ELEMENTSOF(clone_words); i++)
		if (word_is(&w[1], clone_words[i]))
			break;
	if (i == ELEMENTSOF(clone_words))
		return -EINVAL;
	c.state = (enum shadow_clone_state)i;
	if (parse_pair(&w[2], &c.copied, &c.total) < 0 || c.copied > c.total)
		return -EINVAL;
	*ret = c;
	return 0;
}

/*
 * A clone store's own fields, after the fold fields: <hydrate_rate>
 * <clones>, then as many triples as it announces (@n words in all from
 * @w; more may follow, of later versions).
 */
static int parse_clone_fields(const struct word *w, int n,
			      struct shadow_origin_status *st)
{
	uint32_t count;

	if (parse_u32(w[0].s, w[0].len, &st->hydrate_rate) < 0 ||
	    parse_u32(w[1].s, w[1].len, &count) < 0 ||
	    count > SHADOW_STATUS_MAX_CLONES || (uint64_t)count * 3 > (uint64_t)(n - 2))
		return -EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		if (parse_clone(&w[2 + 3 * i], &st->clones[i]) < 0)
			return -EINVAL;
		for (uint32_t j = 0; j < i; j++)
			if (st->clones[j].id == st->clones[i].id)
				return -EINVAL;
	}
	st->n_clones = count;
	st->has_clones = true;
	return 0;
}

int shadow_parse_origin_status(const char *params,
			       struct shadow_origin_status *ret)
{
	struct shadow_origin_status st = { 0 };
	struct word w[SHADOW_ORIGIN_STATUS_MAX_WORDS];
	uint64_t a, b;
	int n;

	if (!params)
		return -EINVAL;
	/* Fields are only ever appended: those of later versions are skipped. */
	n = split(params, w, SHADOW_ORIGIN_STATUS_MAX_WORDS);
	if (n != 6 && n != 7 && n < 11)
		return -EINVAL;
	if (copy_word(&w[0], st.store_type, sizeof(st.store_type)) < 0 ||
	    parse_u32(w[1].s, w[1].len, &st.chunk_sectors) < 0)
		return -EINVAL;
	if (parse_pair(&w[2], &st.used_chunks, &st.total_chunks) < 0 ||
	    st.used_chunks > st.total_chunks)
		return -EINVAL;
	if (parse_pair(&w[3], &a, &b) < 0 || a > b || b > UINT32_MAX)
		return -EINVAL;
	st.snapshots = (uint32_t)a;
	st.max_snapshots = (uint32_t)b;
	if (parse_u32(w[4].s, w[4].len, &st.invalid) < 0 ||
	    st.invalid > st.snapshots)
		return -EINVAL;
	if (word_is(&w[5], "rw"))
		st.failed = false;
	else if (word_is(&w[5], "fail"))
		st.failed = true;
	else
		return -EINVAL;
	st.data_chunks = st.total_chunks;
	if (n >= 7 && (shadow_parse_decimal(w[6].s, w[6].len, &st.data_chunks) < 0 ||
		       st.data_chunks < st.total_chunks))
		return -EINVAL;
	if (n >= 11 && parse_v2_fields(&w[7], &st) < 0)
		return -EINVAL;
	if (n >= 13 && parse_revert_fields(&w[11], &st) < 0)
		return -EINVAL;
	if (n >= 15 && parse_fold_fields(&w[13], &st) < 0)
		return -EINVAL;
	/* Only a clone store goes on (a cow or row store ends at fold_rate). */
	if (n >= 16 && strcmp(st.store_type, "clone") == 0 &&
	    (n < 17 || parse_clone_fields(&w[15], n - 15, &st) < 0))
		return -EINVAL;
	*ret = st;
	return 0;
}

int shadow_parse_snap_status(const char *params, struct shadow_snap_status *ret)
{
	struct shadow_snap_status st = { 0 };
	struct word w[3];

	if (!params || split(params, w, 3) != 3)
		return -EINVAL;
	if (shadow_parse_decimal(w[0].s, w[0].len, &st.id) < 0)
		return -EINVAL;
	if (word_is(&w[1], "valid"))
		st.valid = true;
	else if (!word_is(&w[1], "invalid"))
		return -EINVAL;
	if (word_is(&w[2], "ro"))
		st.seal = SHADOW_SEAL_RO;
	else if (word_is(&w[2], "rw"))
		st.seal = SHADOW_SEAL_RW;
	else if (word_is(&w[2], "sealed"))
		st.seal = SHADOW_SEAL_SEALED;
	else
		return -EINVAL;
	*ret = st;
	return 0;
}

static int parse_list_line(const char *line, size_t len,
			   struct shadow_list_entry *ret)
{
	struct shadow_list_entry e = { 0 };
	char buf[128];
	struct word w[5];

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (split(buf, w, 5) != 5)
		return -EINVAL;
	if (shadow_parse_decimal(w[0].s, w[0].len, &e.id) < 0 ||
	    shadow_parse_decimal(w[1].s, w[1].len, &e.seq) < 0 ||
	    shadow_parse_decimal(w[2].s, w[2].len, &e.ctime) < 0)
		return -EINVAL;
	if (word_is(&w[3], "valid"))
		e.valid = true;
	else if (!word_is(&w[3], "invalid"))
		return -EINVAL;
	if (word_is(&w[4], "sealed"))
		e.sealed = true;
	else if (!word_is(&w[4], "ro"))
		return -EINVAL;
	*ret = e;
	return 0;
}

int shadow_parse_list(const char *out, struct shadow_list_entry **ret,
		      unsigned int *ret_n)
{
	_cleanup_free_ struct shadow_list_entry *v = NULL;
	unsigned int n = 0, cap = 0;
	const char *p = out ? out : "";

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		/* Every line, the last one included, ends with '\n'. */
		if (!nl)
			return -EINVAL;
		if (n == cap) {
			struct shadow_list_entry *t;

			cap = cap ? cap * 2 : 16;
			t = realloc(v, cap * sizeof(*v));
			if (!t)
				return -ENOMEM;
			v = t;
		}
		if (parse_list_line(p, len, &v[n]) < 0)
			return -EINVAL;
		/* The kernel lists in id order; a repeat is corruption. */
		if (n > 0 && v[n].id <= v[n - 1].id)
			return -EINVAL;
		n++;
		p = nl + 1;
	}
	*ret = n ? TAKE_PTR(v) : NULL;
	*ret_n = n;
	return 0;
}

/* clone_target <id> <dev> (@w at the id), or hydrate_rate <MiB/s>. */
static int parse_table_feature(const struct word *w, bool target,
			       struct shadow_origin_table *t)
{
	uint64_t id;

	if (!target) {
		if (t->has_hydrate_rate || parse_u32(w[0].s, w[0].len, &t->hydrate_rate) < 0)
			return -EINVAL;
		t->has_hydrate_rate = true;
		return 0;
	}
	if (t->n_targets == SHADOW_STATUS_MAX_CLONES ||
	    shadow_parse_decimal(w[0].s, w[0].len, &id) < 0 ||
	    copy_word(&w[1], t->targets[t->n_targets].dev,
		      sizeof(t->targets[t->n_targets].dev)) < 0)
		return -EINVAL;
	for (unsigned int i = 0; i < t->n_targets; i++)
		if (t->targets[i].id == id)
			return -EINVAL;
	t->targets[t->n_targets++].id = id;
	return 0;
}

int shadow_parse_origin_table(const char *params,
			      struct shadow_origin_table *ret)
{
	struct shadow_origin_table t = { 0 };
	struct word w[SHADOW_ORIGIN_STATUS_MAX_WORDS];
	uint64_t nf;
	int n;

	if (!params)
		return -EINVAL;
	n = split(params, w, SHADOW_ORIGIN_STATUS_MAX_WORDS);
	if (n < 4)
		return -EINVAL;
	if (copy_word(&w[0], t.origin, sizeof(t.origin)) < 0 ||
	    copy_word(&w[1], t.store, sizeof(t.store)) < 0 ||
	    copy_word(&w[2], t.store_type, sizeof(t.store_type)) < 0 ||
	    parse_u32(w[3].s, w[3].len, &t.chunk_sectors) < 0)
		return -EINVAL;
	if (n > 4) {
		if (shadow_parse_decimal(w[4].s, w[4].len, &nf) < 0 ||
		    nf != (uint64_t)(n - 5))
			return -EINVAL;
	}
	for (int i = 5; i < n;) {
		bool target = word_is(&w[i], "clone_target");
		int words = target ? 3 : 2;

		if ((!target && !word_is(&w[i], "hydrate_rate")) || i + words > n ||
		    parse_table_feature(&w[i + 1], target, &t) < 0)
			return -EINVAL;
		i += words;
	}
	*ret = t;
	return 0;
}
