/* The bounded worker pool (src/app/workers.c). */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workers.h"

#define MANY 1000

/* What the handlers share with the test. */
struct ctx {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int gate;          /* blocking handler: items allowed to finish */
    int running;       /* blocking handler: items inside the handler */
    int done;          /* items finished */
    int counts[MANY];  /* counting handler: times each item was handled */
    int sleep_ms;      /* sleeping handler */
};

static void ctx_init(struct ctx *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
}

static void ctx_destroy(struct ctx *c)
{
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
}

/* Waits inside until the test opens the gate for it. */
static void blocking_handler(void *arg, void *item)
{
    (void)item;
    struct ctx *c = arg;
    pthread_mutex_lock(&c->lock);
    c->running++;
    pthread_cond_broadcast(&c->changed);
    while (c->gate == 0)
        pthread_cond_wait(&c->changed, &c->lock);
    c->gate--;
    c->running--;
    c->done++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

static void counting_handler(void *arg, void *item)
{
    struct ctx *c = arg;
    int i = *(int *)item;
    pthread_mutex_lock(&c->lock);
    c->counts[i]++;
    c->done++;
    pthread_mutex_unlock(&c->lock);
}

static void sleeping_handler(void *arg, void *item)
{
    (void)item;
    struct ctx *c = arg;
    usleep((useconds_t)c->sleep_ms * 1000);
    pthread_mutex_lock(&c->lock);
    c->done++;
    pthread_mutex_unlock(&c->lock);
}

static void open_gate(struct ctx *c, int n)
{
    pthread_mutex_lock(&c->lock);
    c->gate += n;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

/* Waits (bounded) until n items are inside the blocking handler. */
static void wait_running(struct ctx *c, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&c->lock);
    while (c->running < n)
        if (pthread_cond_timedwait(&c->changed, &c->lock, &until) != 0)
            break;
    int running = c->running;
    pthread_mutex_unlock(&c->lock);
    ck_assert_int_eq(running, n);
}

static int done(struct ctx *c)
{
    pthread_mutex_lock(&c->lock);
    int d = c->done;
    pthread_mutex_unlock(&c->lock);
    return d;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(full_pool_has_no_slot_until_one_finishes)
{
    struct ctx c;
    struct workers w;
    int items[3];
    ctx_init(&c);
    ck_assert_int_eq(workers_init(&w, 3, 0, blocking_handler, &c), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(workers_wait_slot(&w, 1000), 1);
        ck_assert_int_eq(workers_submit(&w, &items[i]), 0);
    }
    wait_running(&c, 3);

    long long t0 = now_ms();
    ck_assert_int_eq(workers_submit(&w, &items[0]), 1); /* full: refused, not queued */
    ck_assert_int_eq(workers_wait_slot(&w, 50), 0);
    long long waited = now_ms() - t0;
    ck_assert_msg(waited >= 40 && waited < 2000, "waited %lld ms for 50", waited);
    ck_assert_int_eq(workers_wait_idle(&w, 50), 3); /* three still busy */

    open_gate(&c, 1);
    ck_assert_int_eq(workers_wait_slot(&w, 2000), 1);
    ck_assert_int_le(w.nthreads, 3);

    /* The freed thread takes the next item: still at most three threads. */
    ck_assert_int_eq(workers_submit(&w, &items[0]), 0);
    wait_running(&c, 3);
    ck_assert_int_eq(w.nthreads, 3);
    ck_assert_int_eq(workers_wait_slot(&w, 50), 0);

    open_gate(&c, 3);
    ck_assert_int_eq(workers_wait_idle(&w, 2000), 0);
    ck_assert_int_eq(done(&c), 4);
    workers_destroy(&w);
    ctx_destroy(&c);
}
END_TEST

START_TEST(each_item_handled_exactly_once)
{
    struct ctx *c = malloc(sizeof *c);
    ck_assert_ptr_nonnull(c);
    static int items[MANY];
    struct workers w;
    ctx_init(c);
    ck_assert_int_eq(workers_init(&w, 3, 0, counting_handler, c), 0);
    for (int i = 0; i < MANY; i++) {
        items[i] = i;
        ck_assert_int_eq(workers_wait_slot(&w, 5000), 1);
        ck_assert_int_eq(workers_submit(&w, &items[i]), 0);
        ck_assert_int_le(w.nthreads, 3); /* never more threads than max */
    }
    ck_assert_int_eq(workers_wait_idle(&w, 5000), 0);
    ck_assert_int_eq(done(c), MANY);
    for (int i = 0; i < MANY; i++)
        ck_assert_msg(c->counts[i] == 1, "item %d handled %d times", i, c->counts[i]);
    workers_destroy(&w);
    ctx_destroy(c);
    free(c);
}
END_TEST

START_TEST(idle_pool_is_idle)
{
    struct ctx c;
    struct workers w;
    ctx_init(&c);
    ck_assert_int_eq(workers_init(&w, 2, 0, counting_handler, &c), 0);
    ck_assert_int_eq(workers_wait_idle(&w, 10), 0);
    ck_assert_int_eq(workers_wait_slot(&w, 10), 1);
    workers_destroy(&w); /* no thread was ever made */
    ctx_destroy(&c);
}
END_TEST

START_TEST(destroy_waits_for_running_items)
{
    struct ctx c;
    struct workers w;
    int items[2];
    ctx_init(&c);
    c.sleep_ms = 100;
    ck_assert_int_eq(workers_init(&w, 2, 128 * 1024, sleeping_handler, &c), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(workers_wait_slot(&w, 1000), 1);
        ck_assert_int_eq(workers_submit(&w, &items[i]), 0);
    }
    workers_destroy(&w); /* joins: both items finish first */
    ck_assert_int_eq(done(&c), 2);
    ctx_destroy(&c);
}
END_TEST

static Suite *workers_suite(void)
{
    Suite *s = suite_create("workers");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, full_pool_has_no_slot_until_one_finishes);
    tcase_add_test(tc, each_item_handled_exactly_once);
    tcase_add_test(tc, idle_pool_is_idle);
    tcase_add_test(tc, destroy_waits_for_running_items);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(workers_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
