/* metrics.c: the process-wide counters of metrics.h, one atomic per cache line, and the store call histogram. */
#include "common/metrics.h"

#include <stdatomic.h>
#include <stddef.h>

#include "common/time.h"

/* Counters bumped by different threads stay on different cache lines. */
struct metric_slot {
    _Alignas(64) atomic_int_fast64_t value;
};

static struct metric_slot metric_slots[IAM_METRIC_COUNT];
static atomic_int_fast64_t metric_start_time;

/* From a SQLite point read on a warm page cache (tens of microseconds) to a PostgreSQL round trip gone bad. */
const int64_t iam_metrics_store_bounds_us[IAM_METRICS_STORE_BUCKETS - 1] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000};

/* The store histogram: the sum on a line of its own, since every call adds to it. */
static struct {
    _Alignas(64) atomic_uint_fast64_t buckets[IAM_METRICS_STORE_BUCKETS];
    _Alignas(64) atomic_uint_fast64_t sum_ns;
} store_calls;

void iam_metrics_add(enum iam_metric metric, int64_t amount)
{
    if ((unsigned)metric < IAM_METRIC_COUNT)
        atomic_fetch_add_explicit(&metric_slots[metric].value, amount, memory_order_relaxed);
}

void iam_metrics_set(enum iam_metric metric, int64_t value)
{
    if ((unsigned)metric < IAM_METRIC_COUNT)
        atomic_store_explicit(&metric_slots[metric].value, value, memory_order_relaxed);
}

int64_t iam_metrics_get(enum iam_metric metric)
{
    if ((unsigned)metric >= IAM_METRIC_COUNT)
        return 0;
    return atomic_load_explicit(&metric_slots[metric].value, memory_order_relaxed);
}

void iam_metrics_observe_store_call(int64_t duration_ns)
{
    if (duration_ns < 0)
        duration_ns = 0;
    size_t bucket = 0;
    while (bucket < IAM_METRICS_STORE_BUCKETS - 1 && duration_ns > iam_metrics_store_bounds_us[bucket] * 1000)
        bucket++;
    atomic_fetch_add_explicit(&store_calls.buckets[bucket], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&store_calls.sum_ns, (uint_fast64_t)duration_ns, memory_order_relaxed);
}

void iam_metrics_store_calls(struct iam_metrics_histogram *out)
{
    for (size_t i = 0; i < IAM_METRICS_STORE_BUCKETS; i++)
        out->buckets[i] = atomic_load_explicit(&store_calls.buckets[i], memory_order_relaxed);
    out->sum_ns = atomic_load_explicit(&store_calls.sum_ns, memory_order_relaxed);
}

int64_t iam_metrics_start_time(void)
{
    int_fast64_t unset = 0;
    int64_t now = iam_now();
    if (atomic_compare_exchange_strong(&metric_start_time, &unset, now))
        return now;
    return atomic_load(&metric_start_time);
}
