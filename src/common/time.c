/* time.c: clocks and timestamp formatting and parsing. */
#include "common/time.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t iam_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec;
}

int64_t iam_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int64_t iam_monotonic_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

void iam_time_format_ibm(int64_t when, char out[IAM_TIME_TEXT_SIZE])
{
    time_t seconds = (time_t)when;
    struct tm parts;
    if (!gmtime_r(&seconds, &parts)) {
        out[0] = '\0';
        return;
    }
    strftime(out, IAM_TIME_TEXT_SIZE, "%Y-%m-%dT%H:%M+0000", &parts);
}

void iam_time_format_rfc3339(int64_t when, char out[IAM_TIME_TEXT_SIZE])
{
    time_t seconds = (time_t)when;
    struct tm parts;
    if (!gmtime_r(&seconds, &parts)) {
        out[0] = '\0';
        return;
    }
    strftime(out, IAM_TIME_TEXT_SIZE, "%Y-%m-%dT%H:%M:%SZ", &parts);
}

/* 10000-01-01T00:00:00Z: the formats have four-digit years. */
#define TIME_YEAR_10000 253402300800LL

/* Reads exactly `count` digits; returns -1 when they are not all digits. */
static int read_digits(const char **cursor, int count)
{
    int value = 0;
    for (int i = 0; i < count; i++) {
        unsigned char c = (unsigned char)(*cursor)[i];
        if (!isdigit(c))
            return -1;
        value = value * 10 + (c - '0');
    }
    *cursor += count;
    return value;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 ? 28 + leap : days[month - 1];
}

enum iam_result iam_time_parse(const char *text, int64_t *when)
{
    if (!text || strlen(text) > 40)
        return IAM_EINVAL;
    const char *p = text;
    int year = read_digits(&p, 4);
    if (year < 1970 || *p++ != '-')
        return IAM_EINVAL;
    int month = read_digits(&p, 2);
    if (month < 1 || month > 12 || *p++ != '-')
        return IAM_EINVAL;
    int day = read_digits(&p, 2);
    if (day < 1 || day > days_in_month(year, month) || (*p != 'T' && *p != 't'))
        return IAM_EINVAL;
    p++;
    int hour = read_digits(&p, 2);
    if (hour < 0 || hour > 23 || *p++ != ':')
        return IAM_EINVAL;
    int minute = read_digits(&p, 2);
    if (minute < 0 || minute > 59)
        return IAM_EINVAL;
    int second = 0;
    if (*p == ':') {
        p++;
        second = read_digits(&p, 2);
        if (second < 0 || second > 60)
            return IAM_EINVAL;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return IAM_EINVAL;
            while (isdigit((unsigned char)*p))
                p++;
        }
    }
    int offset_seconds = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        p++;
        int offset_hours = read_digits(&p, 2);
        if (*p == ':')
            p++;
        int offset_minutes = read_digits(&p, 2);
        if (offset_hours < 0 || offset_hours > 23 || offset_minutes < 0 || offset_minutes > 59)
            return IAM_EINVAL;
        offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60);
    } else {
        return IAM_EINVAL;
    }
    if (*p != '\0')
        return IAM_EINVAL;
    struct tm parts = {0};
    parts.tm_year = year - 1900;
    parts.tm_mon = month - 1;
    parts.tm_mday = day;
    parts.tm_hour = hour;
    parts.tm_min = minute;
    parts.tm_sec = second;
    time_t seconds = timegm(&parts);
    if (seconds == (time_t)-1)
        return IAM_EINVAL;
    /* An offset can move the instant out of the years our formats write (found by fuzz/fuzz_time.c). */
    int64_t instant = (int64_t)seconds - offset_seconds;
    if (instant < 0 || instant >= TIME_YEAR_10000)
        return IAM_EINVAL;
    *when = instant;
    return IAM_OK;
}
