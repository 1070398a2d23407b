/*
 * authz_inproc.c: in-process benchmark of the policy decision engine.
 *
 * Builds a snapshot of one account with 10,000 access policies over 2,000
 * service IDs and 100 access groups (each identity in 3 groups), 20
 * registered services plus the built-ins, a few custom roles, wildcard,
 * any-of, resource-group and time-conditioned policies; then times
 * iam_engine_decide on one thread over a pre-generated mix of requests
 * (about half permitted) and prints decisions per second, by wall clock and
 * by the thread's CPU time (the per-core figure, steady on a shared machine).
 * Bounded: at most IAMD_BENCH_SECONDS (default 2, at most 30) seconds of deciding.
 *
 *   build/<dir>/authz_inproc [seconds]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/arena.h"
#include "iam/engine.h"

#define ACCOUNT "0123456789abcdef0123456789abcdef"
#define SUBJECTS 2000
#define GROUPS 100
#define GROUPS_PER_SUBJECT 3
#define SERVICES 20
#define ACTIONS_PER_SERVICE 12
#define POLICIES 10000
#define GROUP_POLICIES 2000
#define REQUESTS 8192
#define INSTANCES 50

static uint64_t prng_state = 0x853c49e6748fea9bull;

static uint64_t prng_next(void)
{
    /* xorshift64*: deterministic, good enough to spread requests */
    prng_state ^= prng_state >> 12;
    prng_state ^= prng_state << 25;
    prng_state ^= prng_state >> 27;
    return prng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t pick(uint32_t bound)
{
    return (uint32_t)(prng_next() % bound);
}

static const char *const verbs[ACTIONS_PER_SERVICE] = {"read", "list", "create", "update", "delete", "manage",
                                                       "get", "put", "attach", "detach", "start", "stop"};

static int64_t monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* CPU time of this thread: the per-core figure, unaffected by other processes sharing the core. */
static int64_t thread_cpu_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

static char *service_document(struct iam_arena *arena, int index)
{
    char actions[4096] = "", viewer[2048] = "", editor[4096] = "", reader[2048] = "";
    size_t used = 0, used_viewer = 0, used_editor = 0, used_reader = 0;
    for (int i = 0; i < ACTIONS_PER_SERVICE; i++) {
        used += (size_t)snprintf(actions + used, sizeof actions - used, "%s{\"id\":\"svc%02d.thing.%s\"}",
                                 i ? "," : "", index, verbs[i]);
        used_editor += (size_t)snprintf(editor + used_editor, sizeof editor - used_editor, "%s\"svc%02d.thing.%s\"",
                                        i ? "," : "", index, verbs[i]);
        if (i < 3) {
            used_viewer += (size_t)snprintf(viewer + used_viewer, sizeof viewer - used_viewer,
                                            "%s\"svc%02d.thing.%s\"", i ? "," : "", index, verbs[i]);
            used_reader += (size_t)snprintf(reader + used_reader, sizeof reader - used_reader,
                                            "%s\"svc%02d.thing.%s\"", i ? "," : "", index, verbs[i]);
        }
    }
    return iam_arena_printf(arena,
                            "{\"name\":\"svc%02d\",\"display_name\":\"Service %d\",\"service_type\":\"service\","
                            "\"pdp_clients\":[],\"actions\":[%s],\"roles\":{\"Viewer\":[%s],\"Editor\":[%s],"
                            "\"Administrator\":[%s],\"Reader\":[%s],\"Manager\":[%s]},\"resource_types\":[\"thing\"]}",
                            index, index, actions, viewer, editor, editor, reader, editor);
}

static const char *const role_crns[] = {
    "crn:v1:bluemix:public:iam::::role:Viewer",         "crn:v1:bluemix:public:iam::::role:Editor",
    "crn:v1:bluemix:public:iam::::serviceRole:Reader",  "crn:v1:bluemix:public:iam::::serviceRole:Manager",
    "crn:v1:bluemix:public:iam::::role:Administrator",
};

static char *policy_document(struct iam_arena *arena, const char *subject_key, const char *subject, int shape)
{
    int service = (int)pick(SERVICES);
    const char *role = role_crns[pick(5)];
    char resource[512];
    switch (shape % 6) {
    case 0: /* one instance */
        snprintf(resource, sizeof resource,
                 ",{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"svc%02d\"},"
                 "{\"key\":\"serviceInstance\",\"operator\":\"stringEquals\",\"value\":\"inst-%u\"}",
                 service, pick(INSTANCES));
        break;
    case 1: /* resources by wildcard */
        snprintf(resource, sizeof resource,
                 ",{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"svc%02d\"},"
                 "{\"key\":\"resourceType\",\"operator\":\"stringEquals\",\"value\":\"thing\"},"
                 "{\"key\":\"resource\",\"operator\":\"stringMatch\",\"value\":\"res-%u*\"}",
                 service, pick(10));
        break;
    case 2: /* any of several instances */
        snprintf(resource, sizeof resource,
                 ",{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"svc%02d\"},"
                 "{\"key\":\"serviceInstance\",\"operator\":\"stringEqualsAnyOf\",\"value\":[\"inst-%u\",\"inst-%u\","
                 "\"inst-%u\"]}",
                 service, pick(INSTANCES), pick(INSTANCES), pick(INSTANCES));
        break;
    case 3: /* a resource group */
        snprintf(resource, sizeof resource,
                 ",{\"key\":\"resourceGroupId\",\"operator\":\"stringEquals\",\"value\":\"rg-%u\"}", pick(20));
        break;
    case 4: /* a whole service */
        snprintf(resource, sizeof resource,
                 ",{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"svc%02d\"}", service);
        break;
    default: /* one instance, office hours on weekdays */
        snprintf(resource, sizeof resource,
                 ",{\"key\":\"serviceName\",\"operator\":\"stringEquals\",\"value\":\"svc%02d\"},"
                 "{\"key\":\"serviceInstance\",\"operator\":\"stringEquals\",\"value\":\"inst-%u\"}",
                 service, pick(INSTANCES));
        break;
    }
    const char *rule = shape % 6 == 5
                           ? ",\"pattern\":\"time-based-conditions:weekly:custom-hours\",\"rule\":{\"operator\":\"and\","
                             "\"conditions\":[{\"key\":\"{{environment.attributes.day_of_week}}\",\"operator\":"
                             "\"dayOfWeekAnyOf\",\"value\":[\"1+00:00\",\"2+00:00\",\"3+00:00\",\"4+00:00\","
                             "\"5+00:00\"]},{\"key\":\"{{environment.attributes.current_time}}\",\"operator\":"
                             "\"timeGreaterThanOrEquals\",\"value\":\"09:00:00+00:00\"},{\"key\":"
                             "\"{{environment.attributes.current_time}}\",\"operator\":\"timeLessThanOrEquals\","
                             "\"value\":\"17:00:00+00:00\"}]}"
                           : "";
    return iam_arena_printf(arena,
                            "{\"type\":\"access\",\"subject\":{\"attributes\":[{\"key\":\"%s\",\"operator\":"
                            "\"stringEquals\",\"value\":\"%s\"}]},\"resource\":{\"attributes\":[{\"key\":"
                            "\"accountId\",\"operator\":\"stringEquals\",\"value\":\"" ACCOUNT "\"}%s]},"
                            "\"control\":{\"grant\":{\"roles\":[{\"role_id\":\"%s\"}]}}%s}",
                            subject_key, subject, resource, role, rule);
}

struct bench_request {
    struct iam_engine_request request;
    struct iam_engine_attribute attributes[4];
};

int main(int argc, char **argv)
{
    double seconds = 2.0;
    const char *env = getenv("IAMD_BENCH_SECONDS");
    if (argc > 1)
        seconds = strtod(argv[1], NULL);
    else if (env)
        seconds = strtod(env, NULL);
    if (!(seconds > 0.0) || seconds > 30.0)
        seconds = 2.0;

    struct iam_arena *arena = iam_arena_new();
    if (!arena)
        return 1;
    char **subjects = iam_arena_alloc(arena, SUBJECTS * sizeof *subjects);
    char **groups = iam_arena_alloc(arena, GROUPS * sizeof *groups);
    struct iam_service_def_record *services = iam_arena_alloc(arena, SERVICES * sizeof *services);
    struct iam_policy_record *policies = iam_arena_alloc(arena, POLICIES * sizeof *policies);
    struct iam_group_member_record *members =
        iam_arena_alloc(arena, SUBJECTS * GROUPS_PER_SUBJECT * sizeof *members);
    struct bench_request *requests = iam_arena_alloc(arena, REQUESTS * sizeof *requests);
    if (!subjects || !groups || !services || !policies || !members || !requests)
        return 1;
    for (int i = 0; i < SUBJECTS; i++)
        subjects[i] = iam_arena_printf(arena, "iam-ServiceId-%08x-1111-4222-8333-%012d", (unsigned)i * 2654435761u, i);
    for (int i = 0; i < GROUPS; i++)
        groups[i] = iam_arena_printf(arena, "AccessGroupId-%08x-aaaa-4bbb-8ccc-%012d", (unsigned)i * 40503u, i);
    for (int i = 0; i < SERVICES; i++) {
        services[i].name = iam_arena_printf(arena, "svc%02d", i);
        services[i].document = service_document(arena, i);
    }
    for (int i = 0; i < POLICIES; i++) {
        bool group = i < GROUP_POLICIES;
        const char *subject = group ? groups[i % GROUPS] : subjects[i % SUBJECTS];
        policies[i] = (struct iam_policy_record){
            .id = iam_arena_printf(arena, "%08d-0000-4000-8000-000000000000", i),
            .account_id = ACCOUNT,
            .type = "access",
            .api_version = "v2",
            .subject_kind = group ? "access_group_id" : "iam_id",
            .subject_value = subject,
            .state = "active",
            .document = policy_document(arena, group ? "access_group_id" : "iam_id", subject, i),
        };
    }
    size_t member_count = 0;
    for (int i = 0; i < SUBJECTS; i++)
        for (int g = 0; g < GROUPS_PER_SUBJECT; g++)
            members[member_count++] = (struct iam_group_member_record){
                .group_id = groups[(i * 7 + g * 31) % GROUPS], .account_id = ACCOUNT, .iam_id = subjects[i],
                .type = "service"};
    struct iam_access_snapshot snapshot = {
        .policies = policies,
        .policy_count = POLICIES,
        .members = members,
        .member_count = member_count,
        .services = services,
        .service_count = SERVICES,
        .revision = 1,
    };

    int64_t compile_start = monotonic_ns();
    struct iam_engine *engine = NULL;
    struct iam_error err;
    if (iam_engine_new_from_snapshot(&snapshot, &engine, &err) != IAM_OK) {
        fprintf(stderr, "authz_inproc: %s\n", err.message);
        return 1;
    }
    double compile_ms = (double)(monotonic_ns() - compile_start) / 1e6;

    int64_t now = 1767603600; /* Monday 2026-01-05 09:00:00Z: office-hours policies hold */
    for (int i = 0; i < REQUESTS; i++) {
        struct bench_request *item = &requests[i];
        int service = (int)pick(SERVICES);
        item->attributes[0] = (struct iam_engine_attribute){"serviceName", iam_arena_printf(arena, "svc%02d", service)};
        item->attributes[1] =
            (struct iam_engine_attribute){"serviceInstance", iam_arena_printf(arena, "inst-%u", pick(INSTANCES))};
        item->attributes[2] = (struct iam_engine_attribute){"resourceType", "thing"};
        item->attributes[3] =
            (struct iam_engine_attribute){"resource", iam_arena_printf(arena, "res-%u-%u", pick(12), pick(1000))};
        item->request = (struct iam_engine_request){
            .account_id = ACCOUNT,
            .subject_iam_id = subjects[pick(SUBJECTS)],
            .action = iam_arena_printf(arena, "svc%02d.thing.%s", service, verbs[pick(4)]),
            .resource = item->attributes,
            .resource_count = 4,
            .now = now,
        };
        if (pick(4) == 0) /* a quarter of the requests also name a resource group */
            item->attributes[2] = (struct iam_engine_attribute){"resourceGroupId",
                                                                iam_arena_printf(arena, "rg-%u", pick(20))};
    }

    uint64_t decisions = 0, permits = 0;
    int64_t budget = (int64_t)(seconds * 1e9);
    int64_t start = monotonic_ns(), elapsed = 0, cpu_start = thread_cpu_ns();
    while (elapsed < budget) {
        for (int i = 0; i < REQUESTS; i++) {
            struct iam_engine_decision decision;
            if (iam_engine_decide(engine, &requests[i].request, &decision) != IAM_OK) {
                fprintf(stderr, "authz_inproc: decision failed\n");
                return 1;
            }
            permits += decision.permitted;
        }
        decisions += REQUESTS;
        elapsed = monotonic_ns() - start;
    }
    double cpu_seconds = (double)(thread_cpu_ns() - cpu_start) / 1e9;
    double rate = (double)decisions / ((double)elapsed / 1e9);
    double cpu_rate = (double)decisions / cpu_seconds;
    printf("authz_inproc: %d policies, %d subjects, %d groups, %d services; compiled in %.1f ms\n", POLICIES,
           SUBJECTS, GROUPS, SERVICES, compile_ms);
    printf("authz_inproc: %" PRIu64 " decisions in %.2f s on one thread, %.1f%% permitted\n", decisions,
           (double)elapsed / 1e9, 100.0 * (double)permits / (double)decisions);
    printf("authz_inproc: %.0f decisions/s wall clock (%.0f ns per decision)\n", rate, 1e9 / rate);
    printf("authz_inproc: %.0f decisions/s per core of CPU time (%.0f ns per decision)\n", cpu_rate, 1e9 / cpu_rate);
    iam_engine_free(engine);
    iam_arena_free(arena);
    return 0;
}
