/* The admission loops (src/app/admission.c) on their own, with a plain TCP
 * listener on 127.0.0.1, a real worker pool and hooks that record what the
 * loops tell the server: a client that sends is handed to a worker, one
 * that stays silent is dropped at its deadline, a screen can refuse one,
 * clients wait for a busy pool, and a stop cuts off the ones still waiting. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admission.h"
#include "testutil.h"
#include "workers.h"

#define MAX_REPORTS 16

/* What the hooks and the workers saw, for the test to wait on. */
struct seen {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int ready;  /* on_ready calls */
    int served; /* clients the workers served */
    int gate;   /* workers wait while 0 (when gated) */
    int gated;
    int nreports;
    int status[MAX_REPORTS]; /* the reports, in order */
    int screened;            /* screen calls */
    int screen_rc;           /* what the screen answers */
};

/* One server: the loops run in their own thread until stop() . */
struct server {
    struct seen seen;
    secsock_transport *t;
    struct workers w;
    struct admission_ctx ax;
    int stop[2];
    int port;
    pthread_t thread;
    double grace_end;
};

static void seen_change(struct seen *s, void (*f)(struct seen *, int), int arg)
{
    pthread_mutex_lock(&s->lock);
    f(s, arg);
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
}

static void add_report(struct seen *s, int status)
{
    if (s->nreports < MAX_REPORTS)
        s->status[s->nreports] = status;
    s->nreports++;
}

static void add_ready(struct seen *s, int unused)
{
    (void)unused;
    s->ready++;
}

static void add_served(struct seen *s, int unused)
{
    (void)unused;
    s->served++;
}

static void open_gate(struct seen *s, int n)
{
    s->gate += n;
}

/* Waits (at most TESTUTIL_WAIT_MS) until *counter reaches n. */
static int wait_count(struct seen *s, const int *counter, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += TESTUTIL_WAIT_MS / 1000;
    pthread_mutex_lock(&s->lock);
    int rc = 0;
    while (*counter < n && rc == 0)
        rc = pthread_cond_timedwait(&s->changed, &s->lock, &until);
    int got = *counter;
    pthread_mutex_unlock(&s->lock);
    return got;
}

static void on_report(void *arg, const struct admission *a, int status, const char *why)
{
    (void)a;
    (void)why;
    seen_change(arg, add_report, status);
}

static void on_ready(void *arg, const secsock_listener *l)
{
    ck_assert_ptr_nonnull(l);
    seen_change(arg, add_ready, 0);
}

static int screen(void *arg, struct admission *a)
{
    struct seen *s = arg;
    pthread_mutex_lock(&s->lock);
    s->screened++;
    int rc = s->screen_rc;
    pthread_mutex_unlock(&s->lock);
    if (rc < 0)
        a->why = "refused by the screen";
    return rc;
}

/* A worker: answers "ok" to whatever came, then closes. */
static void serve(void *ctx, void *item)
{
    struct seen *s = ctx;
    struct admission *a = item;
    pthread_mutex_lock(&s->lock);
    while (s->gated && s->gate == 0)
        pthread_cond_wait(&s->changed, &s->lock);
    if (s->gated)
        s->gate--;
    pthread_mutex_unlock(&s->lock);
    char buf[64];
    secsock_conn_set_timeout(a->c, TESTUTIL_WAIT_MS);
    ssize_t n = secsock_read(a->c, buf, sizeof buf);
    if (n > 0)
        (void)secsock_write_all(a->c, "ok", 2);
    secsock_close(a->c);
    admission_free(a);
    seen_change(s, add_served, 0);
}

static void *run_loops(void *arg)
{
    struct server *sv = arg;
    sv->grace_end = admission_run(&sv->ax, 2, 64);
    return NULL;
}

/* How a test's server differs. */
struct setup {
    int workers;
    int idle_timeout_ms;
    int grace_ms;
    int screen_rc; /* with a screen that answers this, if nonzero */
    int gated;     /* workers wait for open_gate */
};

static void start(struct server *sv, const struct setup *su)
{
    memset(sv, 0, sizeof *sv);
    sv->seen.gated = su->gated;
    sv->seen.screen_rc = su->screen_rc;
    pthread_mutex_init(&sv->seen.lock, NULL);
    pthread_cond_init(&sv->seen.changed, NULL);
    sv->t = testutil_transport("tcp", SECSOCK_SERVER, NULL);
    secsock_listener *l = NULL;
    ck_assert_msg(secsock_listener_new(sv->t, "127.0.0.1", "0", 16, &l) == SECSOCK_OK, "%s",
                  secsock_listener_error(l));
    sv->port = atoi(strrchr(secsock_listener_address(l), ':') + 1);
    ck_assert_int_eq(pipe2(sv->stop, O_CLOEXEC | O_NONBLOCK), 0);
    ck_assert_int_eq(workers_init(&sv->w, su->workers, 0, serve, &sv->seen), 0);
    sv->ax = (struct admission_ctx){ .policy = { .handshake_timeout_ms = TESTUTIL_WAIT_MS,
                                                 .idle_timeout_ms = su->idle_timeout_ms,
                                                 .grace_ms = su->grace_ms,
                                                 .protocol = "TLS" },
                                     .hooks = { .arg = &sv->seen,
                                                .report = on_report,
                                                .on_ready = on_ready,
                                                .screen = su->screen_rc != 0 ? screen : NULL,
                                                .screen_arg = &sv->seen },
                                     .w = &sv->w,
                                     .l = l,
                                     .stop_fd = sv->stop[0],
                                     .cut_fd = -1 };
    ck_assert_int_eq(pthread_create(&sv->thread, NULL, run_loops, sv), 0);
    ck_assert_int_eq(wait_count(&sv->seen, &sv->seen.ready, 1), 1);
}

/* The stop signal; then what the servers do after admission_run. */
static void stop(struct server *sv)
{
    ck_assert_int_eq(write(sv->stop[1], "x", 1), 1);
    pthread_join(sv->thread, NULL);
    ck_assert_msg(sv->grace_end >= 0, "admission_run failed");
    workers_wait_idle(&sv->w, TESTUTIL_WAIT_MS);
    workers_destroy(&sv->w);
    secsock_listener_free(sv->ax.l); /* streams: freed by the last loop already */
    secsock_transport_free(sv->t);
    close(sv->stop[0]);
    close(sv->stop[1]);
    pthread_cond_destroy(&sv->seen.changed);
    pthread_mutex_destroy(&sv->seen.lock);
}

/* Whether a submitter waits for a slot of w, within TESTUTIL_WAIT_MS. */
static int wait_for_waiter(struct workers *w)
{
    long long until = testutil_now_ms() + TESTUTIL_WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        int n = w->nwaiters;
        pthread_mutex_unlock(&w->lock);
        if (n > 0)
            return 1;
        if (testutil_now_ms() >= until)
            return 0;
        (void)poll(NULL, 0, 2); /* a poll of state with a deadline, not a guess at timing */
    }
}

static int client(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* What the client reads before its connection ends (up to len bytes), or
 * -1 when it was reset; the test fails if nothing ends it in time. */
static ssize_t read_to_end(int fd, char *buf, size_t len)
{
    size_t got = 0;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ck_assert_msg(poll(&p, 1, TESTUTIL_WAIT_MS) == 1, "the server never ended the connection");
        ssize_t n = recv(fd, buf + got, len - got, 0);
        if (n < 0)
            return errno == ECONNRESET ? -1 : -2;
        if (n == 0 || got + (size_t)n == len)
            return (ssize_t)(got + (size_t)n);
        got += (size_t)n;
    }
}

START_TEST(client_that_sends_is_served_by_a_worker)
{
    struct server sv;
    start(&sv,
          &(struct setup){ .workers = 2, .idle_timeout_ms = TESTUTIL_WAIT_MS, .grace_ms = 1000 });
    int fd = client(sv.port);
    ck_assert_int_eq(send(fd, "hi", 2, 0), 2);
    char buf[8];
    ck_assert_int_eq(read_to_end(fd, buf, sizeof buf), 2);
    ck_assert_int_eq(memcmp(buf, "ok", 2), 0);
    close(fd);
    ck_assert_int_eq(wait_count(&sv.seen, &sv.seen.served, 1), 1);
    stop(&sv);
    ck_assert_int_eq(sv.seen.nreports, 0); /* the loops dropped no one */
    ck_assert_int_eq(sv.seen.ready, 1);
}
END_TEST

START_TEST(silent_client_is_dropped_at_its_deadline)
{
    struct server sv;
    start(&sv, &(struct setup){ .workers = 2, .idle_timeout_ms = 200, .grace_ms = 1000 });
    long long t0 = testutil_now_ms();
    int fd = client(sv.port);
    char buf[8];
    ck_assert_int_eq(read_to_end(fd, buf, sizeof buf), -1); /* a timeout is a reset */
    ck_assert_int_ge(testutil_now_ms() - t0, 200);
    close(fd);
    ck_assert_int_eq(wait_count(&sv.seen, &sv.seen.nreports, 1), 1);
    ck_assert_int_eq(sv.seen.status[0], SECSOCK_ERR_TIMEOUT);
    stop(&sv);
    ck_assert_int_eq(sv.seen.served, 0);
}
END_TEST

START_TEST(screen_can_refuse_a_client)
{
    struct server sv;
    start(&sv, &(struct setup){ .workers = 2,
                                .idle_timeout_ms = TESTUTIL_WAIT_MS,
                                .grace_ms = 1000,
                                .screen_rc = SECSOCK_ERR_HANDSHAKE });
    int fd = client(sv.port);
    ck_assert_int_eq(send(fd, "hi", 2, 0), 2);
    char buf[8];
    ck_assert_int_le(read_to_end(fd, buf, sizeof buf), 0); /* closed, nothing answered */
    close(fd);
    ck_assert_int_eq(wait_count(&sv.seen, &sv.seen.nreports, 1), 1);
    ck_assert_int_eq(sv.seen.status[0], SECSOCK_ERR_HANDSHAKE);
    ck_assert_int_ge(sv.seen.screened, 1);
    stop(&sv);
    ck_assert_int_eq(sv.seen.served, 0);
}
END_TEST

/* One worker, held busy: the second client waits in its loop, and is
 * handed over when the worker frees (the pool wakes the loop). */
START_TEST(client_waits_for_a_busy_pool)
{
    struct server sv;
    start(&sv,
          &(struct setup){
              .workers = 1, .idle_timeout_ms = TESTUTIL_WAIT_MS, .grace_ms = 1000, .gated = 1 });
    int first = client(sv.port);
    ck_assert_int_eq(send(first, "a", 1, 0), 1);
    int second = client(sv.port);
    ck_assert_int_eq(send(second, "b", 1, 0), 1);
    /* The pool refused the second: its loop waits to be told of a slot. */
    ck_assert_msg(wait_for_waiter(&sv.w), "the second client was never refused a worker");
    seen_change(&sv.seen, open_gate, 2);
    char buf[8];
    ck_assert_int_eq(read_to_end(first, buf, sizeof buf), 2);
    ck_assert_int_eq(read_to_end(second, buf, sizeof buf), 2);
    close(first);
    close(second);
    ck_assert_int_eq(wait_count(&sv.seen, &sv.seen.served, 2), 2);
    stop(&sv);
    ck_assert_int_eq(sv.seen.nreports, 0);
}
END_TEST

/* A client still waiting for its first bytes when the grace period ends
 * is cut off: reported as cancelled, and reset. */
START_TEST(stop_cuts_off_a_waiting_client_after_the_grace_period)
{
    struct server sv;
    start(&sv,
          &(struct setup){ .workers = 2, .idle_timeout_ms = TESTUTIL_WAIT_MS, .grace_ms = 100 });
    int fd = client(sv.port);
    /* Once accepted, the client counts as admitted: then the stop. */
    long long until = testutil_now_ms() + TESTUTIL_WAIT_MS;
    while (atomic_load(&sv.ax.admitted) == 0 && testutil_now_ms() < until)
        (void)poll(NULL, 0, 5);
    ck_assert_int_eq(atomic_load(&sv.ax.admitted), 1);
    long long t0 = testutil_now_ms();
    stop(&sv);
    ck_assert_int_ge(testutil_now_ms() - t0, 100);
    ck_assert_int_eq(sv.seen.nreports, 1);
    ck_assert_int_eq(sv.seen.status[0], SECSOCK_ERR_CANCELLED);
    char buf[8];
    ck_assert_int_eq(read_to_end(fd, buf, sizeof buf), -1);
    close(fd);
}
END_TEST

static Suite *admission_suite(void)
{
    Suite *s = suite_create("admission");
    TCase *tc = tcase_create("loops");
    tcase_add_test(tc, client_that_sends_is_served_by_a_worker);
    tcase_add_test(tc, silent_client_is_dropped_at_its_deadline);
    tcase_add_test(tc, screen_can_refuse_a_client);
    tcase_add_test(tc, client_waits_for_a_busy_pool);
    tcase_add_test(tc, stop_cuts_off_a_waiting_client_after_the_grace_period);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(admission_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
