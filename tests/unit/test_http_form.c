/*
 * test_http_form.c: urlencoded body parsing: percent-decoding, '+', malformed
 * escapes, %00, duplicate and empty names, the 64-field limit, empty bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

static int setup(void **state)
{
    struct iam_arena *arena = iam_arena_new();
    assert_non_null(arena);
    *state = arena;
    return 0;
}

static int teardown(void **state)
{
    iam_arena_free(*state);
    return 0;
}

static enum iam_result parse(struct iam_arena *arena, const char *body, struct iam_form *form)
{
    return iam_form_parse(arena, body, strlen(body), form);
}

static void test_token_request(void **state)
{
    struct iam_form form;
    assert_int_equal(parse(*state, "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=abc_DEF-123",
                           &form),
                     IAM_OK);
    assert_int_equal(form.count, 2);
    assert_string_equal(iam_form_get(&form, "grant_type"), "urn:ibm:params:oauth:grant-type:apikey");
    assert_string_equal(iam_form_get(&form, "apikey"), "abc_DEF-123");
    assert_null(iam_form_get(&form, "missing"));
    assert_null(iam_form_get(&form, "APIKEY")); /* names are case-sensitive */
    assert_string_equal(form.fields[0].name, "grant_type");
    assert_string_equal(form.fields[1].name, "apikey");
}

static void test_decoding(void **state)
{
    struct iam_form form;
    assert_int_equal(parse(*state, "a+b=c+d&e%20f=%41%62%2b%2B%25&u=%C3%A9&empty=&flag", &form), IAM_OK);
    assert_int_equal(form.count, 5);
    assert_string_equal(iam_form_get(&form, "a b"), "c d");
    assert_string_equal(iam_form_get(&form, "e f"), "Ab++%");
    assert_string_equal(iam_form_get(&form, "u"), "\xc3\xa9");
    assert_string_equal(iam_form_get(&form, "empty"), "");
    assert_string_equal(iam_form_get(&form, "flag"), "");
    /* Only the first '=' separates; later ones belong to the value. */
    assert_int_equal(parse(*state, "k=v=w", &form), IAM_OK);
    assert_string_equal(iam_form_get(&form, "k"), "v=w");
}

static void test_length_is_respected(void **state)
{
    struct iam_form form;
    const char *body = "a=1&b=2";
    assert_int_equal(iam_form_parse(*state, body, 3, &form), IAM_OK);
    assert_int_equal(form.count, 1);
    assert_string_equal(iam_form_get(&form, "a"), "1");
    /* An escape cut by the length is malformed. */
    assert_int_equal(iam_form_parse(*state, "a=%41", 4, &form), IAM_EINVAL);
}

static void test_malformed_escapes(void **state)
{
    const char *bodies[] = {"a=%", "a=%4", "a=%G1", "a=%1G", "a=%%41", "%=1", "a=1&b=%zz", "a%=1"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct iam_form form = {.fields = (void *)1, .count = 9};
        assert_int_equal(parse(*state, bodies[i], &form), IAM_EINVAL);
        assert_null(form.fields);
        assert_int_equal(form.count, 0);
    }
}

static void test_nul_refused(void **state)
{
    struct iam_form form;
    assert_int_equal(parse(*state, "a=%00", &form), IAM_EINVAL);
    assert_int_equal(parse(*state, "a%00b=1", &form), IAM_EINVAL);
    /* A raw NUL inside the given length, too. */
    assert_int_equal(iam_form_parse(*state, "a=1\0b=2", 7, &form), IAM_EINVAL);
}

static void test_duplicates_refused(void **state)
{
    struct iam_form form;
    assert_int_equal(parse(*state, "apikey=a&apikey=b", &form), IAM_EINVAL);
    /* Duplicates are found after decoding. */
    assert_int_equal(parse(*state, "api%6bey=a&apikey=b", &form), IAM_EINVAL);
    assert_int_equal(parse(*state, "a+b=1&a%20b=2", &form), IAM_EINVAL);
    assert_int_equal(parse(*state, "flag&flag", &form), IAM_EINVAL);
}

static void test_empty_names_refused(void **state)
{
    const char *bodies[] = {"=1", "a=1&=2", "a=1&&b=2", "a=1&", "&a=1", "&", "="};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct iam_form form;
        assert_int_equal(parse(*state, bodies[i], &form), IAM_EINVAL);
    }
}

static void test_field_limit(void **state)
{
    char body[1024];
    size_t used = 0;
    for (int i = 0; i < 64; i++) {
        int written = snprintf(body + used, sizeof body - used, "%sf%d=%d", i ? "&" : "", i, i);
        assert_true(written > 0);
        used += (size_t)written;
    }
    struct iam_form form;
    assert_int_equal(iam_form_parse(*state, body, used, &form), IAM_OK);
    assert_int_equal(form.count, 64);
    assert_string_equal(iam_form_get(&form, "f63"), "63");
    int written = snprintf(body + used, sizeof body - used, "&f64=64");
    assert_true(written > 0);
    used += (size_t)written;
    assert_int_equal(iam_form_parse(*state, body, used, &form), IAM_EINVAL);
    assert_int_equal(form.count, 0);
}

static void test_empty_body(void **state)
{
    struct iam_form form = {.fields = (void *)1, .count = 9};
    assert_int_equal(iam_form_parse(*state, "", 0, &form), IAM_OK);
    assert_int_equal(form.count, 0);
    assert_null(iam_form_get(&form, "a"));
    assert_int_equal(iam_form_parse(*state, NULL, 0, &form), IAM_OK);
    assert_int_equal(form.count, 0);
    assert_null(iam_form_get(NULL, "a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_token_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decoding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_length_is_respected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_names_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_field_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_body, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
