/* The bounded worker pool (src/app/workers.c). */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "workers.h"

#define MANY 1000

/* What the handlers share with the test. */
struct ctx {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int gate;         /* blocking handler: items allowed to finish */
    int running;      /* blocking handler: items inside the handler */
    int done;         /* items finished */
    int counts[MANY]; /* counting handler: times each item was handled */
    int sleep_ms;     /* sleeping handler */
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

START_TEST(full_pool_has_no_slot_until_one_finishes)
{
    struct ctx c;
    struct workers w;
    int items[3];
    ctx_init(&c);
    ck_assert_int_eq(workers_init(&w, 3, 0, blocking_handler, &c), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(workers_wait_slot(&w, 1000), 1);
        ck_assert_int_eq(workers_submit(&w, &items[i], -1), 0);
    }
    wait_running(&c, 3);

    long long t0 = testutil_now_ms();
    ck_assert_int_eq(workers_submit(&w, &items[0], -1), 1); /* full: refused, not queued */
    ck_assert_int_eq(workers_wait_slot(&w, 50), 0);
    long long waited = testutil_now_ms() - t0;
    ck_assert_msg(waited >= 40 && waited < 2000, "waited %lld ms for 50", waited);
    ck_assert_int_eq(workers_wait_idle(&w, 50), 3); /* three still busy */

    open_gate(&c, 1);
    ck_assert_int_eq(workers_wait_slot(&w, 2000), 1);
    ck_assert_int_le(w.nthreads, 3);

    /* The freed thread takes the next item: still at most three threads. */
    ck_assert_int_eq(workers_submit(&w, &items[0], -1), 0);
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

/* Readable within timeout_ms? */
static int readable(int fd, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, timeout_ms) == 1;
}

/* A refused submitter is told when a slot frees (the admission loops sleep
 * on it instead of polling the pool), once, and not after it forgets. */
START_TEST(refused_submitter_is_woken_when_a_slot_frees)
{
    struct ctx c;
    struct workers w;
    int items[3];
    ctx_init(&c);
    int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int other = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ck_assert_int_ge(wake, 0);
    ck_assert_int_ge(other, 0);
    ck_assert_int_eq(workers_init(&w, 2, 0, blocking_handler, &c), 0);
    ck_assert_int_eq(workers_submit(&w, &items[0], wake), 0);
    ck_assert_int_eq(workers_submit(&w, &items[1], wake), 0);
    wait_running(&c, 2);
    ck_assert_int_eq(readable(wake, 0), 0); /* accepted submits ask for nothing */

    ck_assert_int_eq(workers_submit(&w, &items[2], wake), 1);
    ck_assert_int_eq(workers_submit(&w, &items[2], wake), 1); /* asked twice: told once */
    ck_assert_int_eq(workers_submit(&w, &items[2], other), 1);
    workers_forget_waiter(&w, other);
    ck_assert_int_eq(readable(wake, 100), 0); /* nothing freed yet */

    open_gate(&c, 1);
    ck_assert_int_eq(readable(wake, 5000), 1);
    eventfd_t n = 0;
    ck_assert_int_eq(eventfd_read(wake, &n), 0);
    ck_assert_int_eq((int)n, 1);
    ck_assert_int_eq(readable(other, 100), 0); /* forgotten: never written */
    ck_assert_int_eq(workers_submit(&w, &items[2], wake), 0);

    open_gate(&c, 2); /* no refusal since: nobody is told */
    ck_assert_int_eq(workers_wait_idle(&w, 5000), 0);
    ck_assert_int_eq(readable(wake, 50), 0);
    workers_destroy(&w);
    close(wake);
    close(other);
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
        ck_assert_int_eq(workers_submit(&w, &items[i], -1), 0);
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
        ck_assert_int_eq(workers_submit(&w, &items[i], -1), 0);
    }
    workers_destroy(&w); /* joins: both items finish first */
    ck_assert_int_eq(done(&c), 2);
    ctx_destroy(&c);
}
END_TEST

/* ---- several submitting threads (the admission loops) ------------------ */

#define SUBMITTERS 4
#define POOL_MAX 3

struct submitter {
    struct workers *w;
    pthread_barrier_t *start; /* all submit at once */
    int attempts;             /* submits to make */
    int item;
    int accepted; /* returned 0 */
    int refused;  /* returned 1 */
    int other;    /* anything else (-1 or garbage) */
    int max_busy; /* w->busy seen right after its submits */
};

static void *submitter_main(void *arg)
{
    struct submitter *sb = arg;
    pthread_barrier_wait(sb->start);
    for (int i = 0; i < sb->attempts; i++) {
        int rc = workers_submit(sb->w, &sb->item, -1);
        if (rc == 0)
            sb->accepted++;
        else if (rc == 1)
            sb->refused++;
        else
            sb->other++;
        pthread_mutex_lock(&sb->w->lock);
        if (sb->w->busy > sb->max_busy)
            sb->max_busy = sb->w->busy;
        pthread_mutex_unlock(&sb->w->lock);
    }
    return NULL;
}

/* Starts SUBMITTERS threads that each submit `attempts` times at once;
 * returns when all are done. */
static void run_submitters(struct workers *w, struct submitter sb[SUBMITTERS], int attempts)
{
    pthread_barrier_t start;
    pthread_t th[SUBMITTERS];
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, SUBMITTERS), 0);
    for (int i = 0; i < SUBMITTERS; i++) {
        sb[i] = (struct submitter){ .w = w, .start = &start, .attempts = attempts, .item = i };
        ck_assert_int_eq(pthread_create(&th[i], NULL, submitter_main, &sb[i]), 0);
    }
    for (int i = 0; i < SUBMITTERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
}

/* Four threads submit at once into a full-blocking pool of three: exactly
 * three items are taken, the fourth is refused with 1 (not -1, not queued
 * beyond max), round after round. */
START_TEST(concurrent_submit_takes_at_most_max)
{
    struct ctx c;
    struct workers w;
    ctx_init(&c);
    ck_assert_int_eq(workers_init(&w, POOL_MAX, 0, blocking_handler, &c), 0);
    int total_accepted = 0;
    for (int round = 0; round < 50; round++) {
        struct submitter sb[SUBMITTERS];
        run_submitters(&w, sb, 1);
        int accepted = 0, refused = 0;
        for (int i = 0; i < SUBMITTERS; i++) {
            ck_assert_msg(sb[i].other == 0, "round %d: a submit returned neither 0 nor 1", round);
            ck_assert_msg(sb[i].max_busy <= POOL_MAX, "round %d: busy %d > max %d", round,
                          sb[i].max_busy, POOL_MAX);
            accepted += sb[i].accepted;
            refused += sb[i].refused;
        }
        /* No handler can finish (the gate is shut): the pool is full at 3. */
        ck_assert_msg(accepted == POOL_MAX && refused == SUBMITTERS - POOL_MAX,
                      "round %d: %d accepted, %d refused", round, accepted, refused);
        wait_running(&c, POOL_MAX);
        pthread_mutex_lock(&w.lock);
        int busy = w.busy, nthreads = w.nthreads;
        pthread_mutex_unlock(&w.lock);
        ck_assert_int_eq(busy, POOL_MAX);
        ck_assert_int_le(nthreads, POOL_MAX);
        total_accepted += accepted;
        open_gate(&c, POOL_MAX);
        ck_assert_int_eq(workers_wait_idle(&w, 5000), 0);
    }
    ck_assert_int_eq(done(&c), total_accepted);
    workers_destroy(&w);
    ctx_destroy(&c);
}
END_TEST

/* What the stress handler shares: how many items are inside at once. */
struct inside {
    pthread_mutex_t lock;
    struct workers *w;
    int now, max, handled;
    int max_busy;
};

static void inside_handler(void *arg, void *item)
{
    (void)item;
    struct inside *in = arg;
    pthread_mutex_lock(&in->lock);
    in->now++;
    if (in->now > in->max)
        in->max = in->now;
    pthread_mutex_unlock(&in->lock);
    pthread_mutex_lock(&in->w->lock);
    if (in->w->busy > in->max_busy)
        in->max_busy = in->w->busy;
    pthread_mutex_unlock(&in->w->lock);
    sched_yield(); /* let the submitters race while we are inside */
    pthread_mutex_lock(&in->lock);
    in->now--;
    in->handled++;
    pthread_mutex_unlock(&in->lock);
}

/* The same race under load: items finish while four threads submit.
 * Every submit says 0 or 1, never more than three items are in the pool,
 * and every accepted item is handled exactly once. */
START_TEST(concurrent_submit_stress)
{
    struct inside in = { .max = 0 };
    struct workers w;
    pthread_mutex_init(&in.lock, NULL);
    in.w = &w;
    ck_assert_int_eq(workers_init(&w, POOL_MAX, 0, inside_handler, &in), 0);
    struct submitter sb[SUBMITTERS];
    run_submitters(&w, sb, 2000);
    ck_assert_int_eq(workers_wait_idle(&w, 10000), 0);
    int accepted = 0, refused = 0;
    for (int i = 0; i < SUBMITTERS; i++) {
        ck_assert_msg(sb[i].other == 0, "submitter %d: %d submits returned neither 0 nor 1", i,
                      sb[i].other);
        ck_assert_msg(sb[i].max_busy <= POOL_MAX, "submitter %d saw busy %d", i, sb[i].max_busy);
        accepted += sb[i].accepted;
        refused += sb[i].refused;
    }
    ck_assert_int_eq(accepted + refused, SUBMITTERS * 2000);
    ck_assert_int_gt(accepted, 0);
    pthread_mutex_lock(&in.lock);
    int handled = in.handled, max = in.max, max_busy = in.max_busy;
    pthread_mutex_unlock(&in.lock);
    ck_assert_msg(handled == accepted, "%d accepted, %d handled", accepted, handled);
    ck_assert_msg(max <= POOL_MAX, "%d items in handlers at once", max);
    ck_assert_msg(max_busy <= POOL_MAX, "busy reached %d", max_busy);
    ck_assert_int_le(w.nthreads, POOL_MAX);
    workers_destroy(&w);
    pthread_mutex_destroy(&in.lock);
}
END_TEST

static Suite *workers_suite(void)
{
    Suite *s = suite_create("workers");
    TCase *tc = tcase_create("pool");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, full_pool_has_no_slot_until_one_finishes);
    tcase_add_test(tc, refused_submitter_is_woken_when_a_slot_frees);
    tcase_add_test(tc, each_item_handled_exactly_once);
    tcase_add_test(tc, idle_pool_is_idle);
    tcase_add_test(tc, destroy_waits_for_running_items);
    tcase_add_test(tc, concurrent_submit_takes_at_most_max);
    tcase_add_test(tc, concurrent_submit_stress);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return testutil_run(workers_suite());
}
