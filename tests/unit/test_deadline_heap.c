/* The deadline heap (src/app/deadline_heap.c): after every operation the
 * soonest entry is on top, each entry knows its index, and nothing is lost. */
#include <check.h>
#include <stdlib.h>

#include "deadline_heap.h"

#define N 500

/* The heap's invariant, and that exactly the entries marked in[] are in
 * it: NULL, or what is wrong (checked in plain C and asserted once: each
 * passing Check assertion costs a message to the test's parent). */
static const char *broken(const struct deadline_heap *h, const struct deadline_entry *e,
                          const int *in, size_t count)
{
    size_t expected = 0;
    for (size_t i = 0; i < count; i++) {
        if (in[i]) {
            expected++;
            if (e[i].pos >= h->n || h->at[e[i].pos] != &e[i])
                return "an entry that is in is not where its index says";
        } else if (e[i].pos != DEADLINE_NOT_IN_HEAP) {
            return "an entry that is out has an index";
        }
    }
    if (h->n != expected)
        return "the heap holds another number of entries than were put in";
    for (size_t i = 1; i < h->n; i++)
        if (h->at[(i - 1) / 2]->when_ms > h->at[i]->when_ms)
            return "a parent is due later than its child";
    for (size_t i = 0; i < h->n; i++)
        if (h->at[i]->pos != i)
            return "an entry's index is not its place";
    return NULL;
}

static void check_invariant(const struct deadline_heap *h, const struct deadline_entry *e,
                            const int *in, size_t count)
{
    const char *why = broken(h, e, in, count);
    ck_assert_msg(why == NULL, "%s", why);
}

START_TEST(empty_heap_has_no_top)
{
    struct deadline_heap h;
    ck_assert_int_eq(deadline_heap_init(&h, 4), 0);
    ck_assert_ptr_null(deadline_heap_top(&h));
    struct deadline_entry e;
    deadline_entry_init(&e);
    ck_assert_int_eq(deadline_entry_queued(&e), 0);
    deadline_heap_remove(&h, &e); /* in no heap: nothing happens */
    ck_assert_uint_eq(h.n, 0);
    deadline_heap_free(&h);
}
END_TEST

START_TEST(pops_come_soonest_first)
{
    struct deadline_heap h;
    ck_assert_int_eq(deadline_heap_init(&h, N), 0);
    static struct deadline_entry e[N];
    srand(7);
    for (size_t i = 0; i < N; i++) {
        deadline_entry_init(&e[i]);
        ck_assert_int_eq(deadline_heap_set(&h, &e[i], (double)(rand() % 1000)), 0);
    }
    double last = -1;
    for (size_t i = 0; i < N; i++) {
        struct deadline_entry *top = deadline_heap_top(&h);
        ck_assert_ptr_nonnull(top);
        ck_assert_msg(top->when_ms >= last, "%g came after %g", top->when_ms, last);
        last = top->when_ms;
        deadline_heap_remove(&h, top);
        ck_assert_int_eq(deadline_entry_queued(top), 0);
    }
    ck_assert_ptr_null(deadline_heap_top(&h));
    deadline_heap_free(&h);
}
END_TEST

/* Inserts, moves sooner and later, removals from anywhere, in a random
 * order with many equal deadlines: the invariant holds after each. */
START_TEST(invariant_holds_through_random_operations)
{
    struct deadline_heap h;
    ck_assert_int_eq(deadline_heap_init(&h, N), 0);
    static struct deadline_entry e[N];
    static int in[N];
    for (size_t i = 0; i < N; i++) {
        deadline_entry_init(&e[i]);
        in[i] = 0;
    }
    srand(13);
    for (int step = 0; step < 20000; step++) {
        size_t i = (size_t)rand() % N;
        if (rand() % 3 == 0) {
            deadline_heap_remove(&h, &e[i]);
            in[i] = 0;
        } else {
            ck_assert_int_eq(deadline_heap_set(&h, &e[i], (double)(rand() % 50)), 0);
            in[i] = 1;
        }
        check_invariant(&h, e, in, N);
    }
    check_invariant(&h, e, in, N);
    deadline_heap_free(&h);
}
END_TEST

START_TEST(full_heap_refuses_a_new_entry_but_moves_one_in_it)
{
    struct deadline_heap h;
    ck_assert_int_eq(deadline_heap_init(&h, 2), 0);
    struct deadline_entry e[3];
    int in[3] = { 1, 1, 0 };
    for (size_t i = 0; i < 3; i++)
        deadline_entry_init(&e[i]);
    ck_assert_int_eq(deadline_heap_set(&h, &e[0], 10), 0);
    ck_assert_int_eq(deadline_heap_set(&h, &e[1], 20), 0);
    ck_assert_int_eq(deadline_heap_set(&h, &e[2], 5), -1);
    ck_assert_int_eq(deadline_entry_queued(&e[2]), 0);
    check_invariant(&h, e, in, 3);
    ck_assert_int_eq(deadline_heap_set(&h, &e[1], 1), 0); /* already in: a move */
    ck_assert_ptr_eq(deadline_heap_top(&h), &e[1]);
    check_invariant(&h, e, in, 3);
    deadline_heap_free(&h);
}
END_TEST

static Suite *deadline_heap_suite(void)
{
    Suite *s = suite_create("deadline_heap");
    TCase *tc = tcase_create("heap");
    tcase_add_test(tc, empty_heap_has_no_top);
    tcase_add_test(tc, pops_come_soonest_first);
    tcase_add_test(tc, invariant_holds_through_random_operations);
    tcase_add_test(tc, full_heap_refuses_a_new_entry_but_moves_one_in_it);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(deadline_heap_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
