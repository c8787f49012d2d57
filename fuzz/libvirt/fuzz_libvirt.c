/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the libvirt layer (virtwire_libvirt.h): the UUID
 * parser, and typed parameter lists as a daemon sends them, read and
 * written by field name and copied with virtwire_copy().
 *
 * Input: byte 0 bit 0 picks the part, bit 1 heap mode (else an arena):
 *   bit 0 clear  the rest is text for virtwire_uuid_parse() (a NUL ends
 *                it);
 *   bit 0 set    the rest is the XDR of a
 *                remote_domain_get_scheduler_parameters_flags_ret: a list
 *                of typed parameters.
 *
 * Checks (booleans taken as 0 or 1 first, as libvirt reads them): the
 * UUID parser answers 0 or VIRTWIRE_EINVAL; what it accepts
 * formats as 36 characters in libvirt's layout, which parse back to the
 * same 16 bytes.  Every getter finds the first parameter of a name and
 * answers 1 for its type and VIRTWIRE_EINVAL for the others; a deep copy
 * (into the other mode) encodes exactly as the original; setting every
 * parameter to the value its getter read leaves that encoding unchanged;
 * a new field is appended and reads back.  Nothing leaks (heap mode frees
 * what it decoded, copied and set).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtwire_libvirt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
    abort();
}

#define fuzz_check(cond) ((cond) ? (void)0 : fuzz_fail(__LINE__, #cond))

static void fuzz_uuid(const uint8_t *data, size_t size)
{
    char text[256];
    size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
    memcpy(text, data, n);
    text[n] = '\0';
    char uuid[16], again[16], shown[VIRTWIRE_UUID_STRING_BUFLEN];
    int rc = virtwire_uuid_parse(text, uuid);
    fuzz_check(rc == 0 || rc == VIRTWIRE_EINVAL);
    if (rc < 0)
        return;
    virtwire_uuid_format(uuid, shown);
    fuzz_check(strlen(shown) == 36);
    for (int i = 0; i < 36; i++)
        fuzz_check((i == 8 || i == 13 || i == 18 || i == 23)
                       ? shown[i] == '-'
                       : (shown[i] >= '0' && shown[i] <= '9') || (shown[i] >= 'a' && shown[i] <= 'f'));
    fuzz_check(virtwire_uuid_parse(shown, again) == 0 && memcmp(uuid, again, 16) == 0);
}

/* The encoding of a list, malloc'ed, in *out. */
static size_t encoding(const remote_domain_get_scheduler_parameters_flags_ret *v, unsigned char **out)
{
    const virtwire_type *t = &remote_domain_get_scheduler_parameters_flags_ret_desc;
    size_t n = t->encoded_size(v);
    *out = malloc(n ? n : 1);
    fuzz_check(*out != NULL);
    size_t len = 0;
    fuzz_check(virtwire_encode(t, v, *out, n, &len) == 0 && len == n);
    return n;
}

/* Sets every parameter of list to the value its getter reads. */
static void set_all(remote_typed_param **params, unsigned int *n, virtwire_arena *arena)
{
    for (unsigned int i = 0; i < *n; i++) {
        const remote_typed_param *p = &(*params)[i];
        const char *field = p->field;
        /* Only the first parameter of a name is reached by name. */
        if (virtwire_typed_params_find(*params, *n, field) != p)
            continue;
        int iv;
        unsigned int uv;
        long long lv;
        unsigned long long ulv;
        double dv;
        const char *sv;
        unsigned int before = *n;
        int rc = VIRTWIRE_EINVAL;
        if (virtwire_typed_params_get_int(*params, *n, field, &iv) == 1)
            rc = virtwire_typed_params_set_int(params, n, arena, field, iv);
        else if (virtwire_typed_params_get_uint(*params, *n, field, &uv) == 1)
            rc = virtwire_typed_params_set_uint(params, n, arena, field, uv);
        else if (virtwire_typed_params_get_llong(*params, *n, field, &lv) == 1)
            rc = virtwire_typed_params_set_llong(params, n, arena, field, lv);
        else if (virtwire_typed_params_get_ullong(*params, *n, field, &ulv) == 1)
            rc = virtwire_typed_params_set_ullong(params, n, arena, field, ulv);
        else if (virtwire_typed_params_get_double(*params, *n, field, &dv) == 1)
            rc = virtwire_typed_params_set_double(params, n, arena, field, dv);
        else if (virtwire_typed_params_get_boolean(*params, *n, field, &iv) == 1)
            rc = virtwire_typed_params_set_boolean(params, n, arena, field, iv);
        else if (virtwire_typed_params_get_string(*params, *n, field, &sv) == 1) {
            char *copy = strdup(sv); /* the setter replaces what sv points to */
            fuzz_check(copy != NULL);
            rc = virtwire_typed_params_set_string(params, n, arena, field, copy);
            free(copy);
        } else {
            fuzz_check(0); /* the decoder accepts the seven types only */
        }
        fuzz_check(rc == 0 && *n == before);
    }
}

static void fuzz_params(const uint8_t *data, size_t size, int heap)
{
    const virtwire_type *t = &remote_domain_get_scheduler_parameters_flags_ret_desc;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_arena *a = heap ? NULL : &arena;
    remote_domain_get_scheduler_parameters_flags_ret v, copy;
    if (virtwire_decode(t, data, size, a, &v) < 0) {
        virtwire_arena_fini(&arena);
        return;
    }
    remote_typed_param *params = v.params.params_val;
    unsigned int n = v.params.params_len;
    /* Booleans read as 0 or 1 (libvirt's way): stored so from the start. */
    for (unsigned int i = 0; i < n; i++)
        if (params[i].value.type == VIR_TYPED_PARAM_BOOLEAN)
            params[i].value.remote_typed_param_value_u.b =
                params[i].value.remote_typed_param_value_u.b != 0;
    for (unsigned int i = 0; i < n; i++) {
        const char *field = params[i].field;
        const remote_typed_param *first = virtwire_typed_params_find(params, n, field);
        fuzz_check(first != NULL && first <= &params[i] && strcmp(first->field, field) == 0);
        int type = first->value.type;
        int iv;
        const char *sv;
        fuzz_check(virtwire_typed_params_get_int(params, n, field, &iv) ==
                   (type == VIR_TYPED_PARAM_INT ? 1 : VIRTWIRE_EINVAL));
        fuzz_check(virtwire_typed_params_get_boolean(params, n, field, &iv) ==
                   (type == VIR_TYPED_PARAM_BOOLEAN ? 1 : VIRTWIRE_EINVAL));
        fuzz_check(virtwire_typed_params_get_string(params, n, field, &sv) ==
                   (type == VIR_TYPED_PARAM_STRING ? 1 : VIRTWIRE_EINVAL));
    }
    if (!virtwire_typed_params_find(params, n, "\x01 no such field"))
        fuzz_check(virtwire_typed_params_get_int(params, n, "\x01 no such field", NULL) == 0);

    /* A deep copy, into the other mode, encodes as the original. */
    unsigned char *e1, *e2, *e3;
    size_t l1 = encoding(&v, &e1);
    virtwire_arena other = VIRTWIRE_ARENA_INIT;
    fuzz_check(virtwire_copy(t, &v, heap ? &other : NULL, &copy) == 0);
    size_t l2 = encoding(&copy, &e2);
    fuzz_check(l1 == l2 && memcmp(e1, e2, l1) == 0);

    /* Every parameter set to what it holds: the same encoding. */
    set_all(&copy.params.params_val, &copy.params.params_len, heap ? &other : NULL);
    size_t l3 = encoding(&copy, &e3);
    fuzz_check(l1 == l3 && memcmp(e1, e3, l1) == 0);

    /* A new field is appended; one the input already has is replaced. */
    unsigned int before = copy.params.params_len;
    int had = virtwire_typed_params_find(copy.params.params_val, before, "\x01 new") != NULL;
    long long got = 0;
    fuzz_check(virtwire_typed_params_set_llong(&copy.params.params_val, &copy.params.params_len,
                                               heap ? &other : NULL, "\x01 new", -5) == 0);
    fuzz_check(copy.params.params_len == before + (had ? 0 : 1));
    fuzz_check(virtwire_typed_params_get_llong(copy.params.params_val, copy.params.params_len,
                                               "\x01 new", &got) == 1 && got == -5);
    free(e1);
    free(e2);
    free(e3);
    if (heap) {
        t->free(&v);
        virtwire_arena_fini(&other);
    } else {
        t->free(&copy);
        virtwire_arena_fini(&arena);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_params(data + 1, size - 1, (data[0] & 2) != 0);
    else
        fuzz_uuid(data + 1, size - 1);
    return 0;
}
