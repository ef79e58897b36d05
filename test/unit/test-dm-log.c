/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdevmapper's log bridge (lib/shadow-dm.c): each context gets the
 * messages of its own calls, from any thread; a freed context is never
 * reached; once the last context is freed, libdevmapper has its default
 * log back.  libdevmapper logs a name that is too long without asking
 * the kernel (and, where device-mapper is missing or its control node
 * closed to us, it logs that), so none of this needs device-mapper.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shadow-ctx.h"
#include "unit.h"

/* What one context's log received. */
struct received {
	unsigned int n;
	char last[256];
};

static void record(void *userdata, int level, const char *msg)
{
	struct received *r = userdata;

	r->n++;
	snprintf(r->last, sizeof(r->last), "%s", msg);
}

/*
 * A libdevmapper call that fails and logs: "Name ... too long.", or,
 * without access to device-mapper, that it cannot reach the driver.
 */
static void dm_call_that_logs(void)
{
	struct shadow_dm_info info;
	char name[300];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_int_lt(shadow_dm_info(name, &info), 0);
}

/* As a public entry point does it: the call runs on behalf of @ctx. */
static void call_for(shadow_ctx *ctx)
{
	CTX_DM_LOG(ctx);

	dm_call_that_logs();
}

static shadow_ctx *new_ctx(struct received *r)
{
	shadow_ctx *ctx = NULL;

	ck_assert_int_eq(shadow_ctx_new("/nonexistent/state", &ctx), 0);
	shadow_ctx_set_log(ctx, record, r);
	return ctx;
}

START_TEST(test_each_context_its_own)
{
	struct received ra = { 0 }, rb = { 0 };
	shadow_ctx *a = new_ctx(&ra), *b = new_ctx(&rb);

	call_for(a);
	ck_assert_uint_gt(ra.n, 0);
	ck_assert_uint_eq(rb.n, 0);
	ck_assert_str_ne(ra.last, "");
	ra.n = 0;
	call_for(b);
	ck_assert_uint_eq(ra.n, 0);
	ck_assert_uint_gt(rb.n, 0);
	/* Outside any call: nobody's. */
	rb.n = 0;
	dm_call_that_logs();
	ck_assert_uint_eq(ra.n + rb.n, 0);
	shadow_ctx_free(a);
	shadow_ctx_free(b);
}
END_TEST

/* Two contexts, one freed: the other's calls log, the freed is not touched. */
START_TEST(test_freed_context_not_reached)
{
	struct received ra = { 0 }, rb = { 0 };
	shadow_ctx *a = new_ctx(&ra), *b = new_ctx(&rb);

	call_for(a);
	shadow_ctx_free(a);
	ra.n = 0;
	call_for(b);
	dm_call_that_logs();
	ck_assert_uint_eq(ra.n, 0);
	ck_assert_uint_gt(rb.n, 0);
	shadow_ctx_free(b);
}
END_TEST

/* A context freed inside a call on its behalf is forgotten at once. */
START_TEST(test_freed_within_call)
{
	struct received ra = { 0 };
	shadow_ctx *a = new_ctx(&ra), *keep = new_ctx(&ra);
	CTX_DM_LOG(a);

	shadow_ctx_free(a);
	ra.n = 0;
	dm_call_that_logs();
	ck_assert_uint_eq(ra.n, 0);
	shadow_ctx_free(keep);
}
END_TEST

struct worker {
	shadow_ctx *ctx;
	pthread_t owner;
	unsigned int n;		/* messages from the owner thread */
	unsigned int crossed;	/* from another thread */
	pthread_barrier_t *start;
};

static void thread_record(void *userdata, int level, const char *msg)
{
	struct worker *w = userdata;

	if (pthread_equal(pthread_self(), w->owner))
		w->n++;
	else
		w->crossed++;
}

static void *work(void *p)
{
	struct worker *w = p;

	w->owner = pthread_self();
	pthread_barrier_wait(w->start);
	for (int i = 0; i < 200; i++)
		call_for(w->ctx);
	return NULL;
}

/* Two threads, a context each, at the same time: no message crosses. */
START_TEST(test_threads)
{
	struct worker w[2] = { 0 };
	pthread_barrier_t start;
	pthread_t t[2];

	pthread_barrier_init(&start, NULL, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(shadow_ctx_new("/nonexistent/state", &w[i].ctx), 0);
		shadow_ctx_set_log(w[i].ctx, thread_record, &w[i]);
		w[i].start = &start;
	}
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_ge(w[0].n, 200);
	ck_assert_uint_ge(w[1].n, 200);
	ck_assert_uint_eq(w[0].crossed + w[1].crossed, 0);
	for (int i = 0; i < 2; i++)
		shadow_ctx_free(w[i].ctx);
	pthread_barrier_destroy(&start);
}
END_TEST

/* What libdevmapper prints on standard error during @fn. */
static void stderr_of(void (*fn)(void), char *buf, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t n;

	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_ge(saved, 0);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(buf, 1, size - 1, tmp);
	buf[n] = '\0';
	fclose(tmp);
}

/*
 * While a context lives, the library prints nothing.  (Each test runs in
 * a process of its own: a missing device-mapper is reported, as an error,
 * at the first call only.)
 */
START_TEST(test_silent_while_alive)
{
	struct received ra = { 0 };
	shadow_ctx *a = new_ctx(&ra);
	char out[1024];

	stderr_of(dm_call_that_logs, out, sizeof(out));
	ck_assert_str_eq(out, "");
	shadow_ctx_free(a);
}
END_TEST

/*
 * Once the last context is freed, libdevmapper logs as it does by default:
 * no pointer of ours is left in it.
 */
START_TEST(test_default_log_back)
{
	struct received ra = { 0 };
	shadow_ctx *a = new_ctx(&ra), *b = new_ctx(&ra);
	char out[1024];

	shadow_ctx_free(a);
	shadow_ctx_free(b);
	stderr_of(dm_call_that_logs, out, sizeof(out));
	ck_assert_str_ne(out, "");
	ck_assert_uint_eq(ra.n, 0);
}
END_TEST

/*
 * Through the public interface, as shadowctl uses it: two contexts
 * opened, one freed, a call on the other that runs libdevmapper (the
 * provider probe asks for target versions).  The freed context's log is
 * never called (a dangling bridge would call it through freed memory).
 */
START_TEST(test_public_two_contexts)
{
	struct received ra = { 0 }, rb = { 0 };
	char da[] = "/tmp/shadow-dm-log-XXXXXX", db[] = "/tmp/shadow-dm-log-XXXXXX";
	shadow_ctx *a = NULL, *b = NULL;
	char path[64];

	ck_assert_ptr_nonnull(mkdtemp(da));
	ck_assert_ptr_nonnull(mkdtemp(db));
	ck_assert_int_eq(shadow_ctx_new(da, &a), 0);
	ck_assert_int_eq(shadow_ctx_new(db, &b), 0);
	shadow_ctx_set_log(a, record, &ra);
	shadow_ctx_set_log(b, record, &rb);
	ck_assert_int_eq(shadow_ctx_open(a, 0), 0);
	ck_assert_int_eq(shadow_ctx_open(b, 0), 0);
	shadow_ctx_free(b);
	rb.n = 0;
	(void)shadow_provider_why(a, 0);
	(void)shadow_provider_why(a, 1);
	ck_assert_uint_eq(rb.n, 0);
	shadow_ctx_free(a);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/lock", i ? db : da);
		unlink(path);
		snprintf(path, sizeof(path), "%s/catalog.json", i ? db : da);
		unlink(path);
		rmdir(i ? db : da);
	}
}
END_TEST

Suite *suite_dm_log(void)
{
	Suite *s = suite_create("dm-log");
	TCase *tc = tcase_create("bridge");

	tcase_add_test(tc, test_each_context_its_own);
	tcase_add_test(tc, test_freed_context_not_reached);
	tcase_add_test(tc, test_freed_within_call);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_public_two_contexts);
	tcase_add_test(tc, test_silent_while_alive);
	tcase_add_test(tc, test_default_log_back);
	suite_add_tcase(s, tc);
	return s;
}
