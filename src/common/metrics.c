/* metrics.c: the process-wide counters of metrics.h, one atomic per cache line. */
#include "common/metrics.h"

#include <stdatomic.h>

#include "common/time.h"

/* Counters bumped by different threads stay on different cache lines. */
struct metric_slot {
    _Alignas(64) atomic_int_fast64_t value;
};

static struct metric_slot metric_slots[IAM_METRIC_COUNT];
static atomic_int_fast64_t metric_start_time;

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

int64_t iam_metrics_start_time(void)
{
    int_fast64_t unset = 0;
    int64_t now = iam_now();
    if (atomic_compare_exchange_strong(&metric_start_time, &unset, now))
        return now;
    return atomic_load(&metric_start_time);
}
