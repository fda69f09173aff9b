/* Minimal test harness: each CHECK counts a pass or prints the failure with
 * its location; check_done() prints "N passed, N failed" and gives the exit
 * status. Shared by every test program. */
#ifndef DAMO_TEST_CHECK_H
#define DAMO_TEST_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed_, check_failed_;

static inline int check_report_(int ok, const char *file, int line, const char *what)
{
    if (ok) {
        check_passed_++;
    } else {
        check_failed_++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
    return ok;
}

#define CHECK(cond) check_report_(!!(cond), __FILE__, __LINE__, #cond)

#define CHECK_MSG(cond, ...)                                                  \
    do {                                                                      \
        if (!check_report_(!!(cond), __FILE__, __LINE__, #cond)) {            \
            fprintf(stderr, "    ");                                          \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
        }                                                                     \
    } while (0)

#define CHECK_INT(a, b)                                                       \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        CHECK_MSG(a_ == b_, "%s == %lld, expected %lld", #a, a_, b_);         \
    } while (0)

#define CHECK_STR_HAS(hay, needle)                                            \
    do {                                                                      \
        const char *h_ = (hay), *n_ = (needle);                               \
        CHECK_MSG(h_ && strstr(h_, n_), "\"%s\" does not contain \"%s\"",    \
                  h_ ? h_ : "(null)", n_);                                    \
    } while (0)

/* |a - b| <= atol + rtol * |b|, NaNs equal, infinities equal by sign. */
static inline int check_close_(double a, double b, double rtol, double atol)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

#define CHECK_CLOSE(a, b, rtol, atol)                                         \
    do {                                                                      \
        double a_ = (a), b_ = (b);                                            \
        CHECK_MSG(check_close_(a_, b_, (rtol), (atol)),                       \
                  "%s = %.17g, expected %.17g", #a, a_, b_);                  \
    } while (0)

static inline int check_done(void)
{
    printf("%d passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
