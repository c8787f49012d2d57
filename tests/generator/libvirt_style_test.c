/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libvirt_style.x: procedure tables built from a libvirt-style procedure
 * enum, its annotations and the overrides table. */
#include "libvirt_style.h"

#include <string.h>

#include "vwtest.h"

/* What one row of the table should hold. */
typedef struct expect {
    int32_t number;
    const char *name;
    const virtwire_type *args, *ret, *msg;
    uint32_t flags;
    virtwire_generate generate;
    int readstream, writestream;
    const char *sparseflag;
    const char *acl[3];       /* NULL-terminated, empty: no list */
    const char *aclfilter[2];
} expect;

static void check_list(const char *const *got, const char *const *want, const char *what)
{
    if (!want[0]) {
        vt_check(got == NULL, __FILE__, __LINE__, what);
        return;
    }
    vt_check(got != NULL, __FILE__, __LINE__, what);
    if (!got)
        return;
    size_t i = 0;
    for (; want[i]; i++)
        vt_check_str(got[i], want[i], __FILE__, __LINE__, what, "");
    vt_check(got[i] == NULL, __FILE__, __LINE__, what);
}

static void check_row(const virtwire_proc *p, const expect *x)
{
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_STR(p->name, x->name);
    CHECK_INT(p->number, x->number);
    CHECK(p->args == x->args);
    CHECK(p->ret == x->ret);
    CHECK(p->msg == x->msg);
    CHECK_INT(p->flags, x->flags);
    CHECK_INT(p->generate, x->generate);
    CHECK_INT(p->readstream, x->readstream);
    CHECK_INT(p->writestream, x->writestream);
    CHECK_STR(p->sparseflag, x->sparseflag);
    check_list(p->acl, x->acl, x->name);
    check_list(p->aclfilter, x->aclfilter, x->name);
}

static void test_table(void)
{
    const expect rows[] = {
        /* @generate: none, @priority: high, @acl; fds=reply from the overrides */
        { 1, "TEST_PROC_OPEN", &test_open_args_desc, NULL, NULL,
          VIRTWIRE_PROC_PRIORITY_HIGH | VIRTWIRE_PROC_FDS_REPLY, VIRTWIRE_GENERATE_NONE, -1, -1,
          NULL, { "connect:getattr" }, { NULL } },
        /* two @acl lines keep their order; the insert@1 tag changes nothing */
        { 2, "TEST_PROC_GET", NULL, &test_get_ret_desc, NULL, 0, VIRTWIRE_GENERATE_BOTH, -1, -1,
          NULL, { "domain:read", "domain:write" }, { "domain:getattr" } },
        { 3, "TEST_PROC_UPLOAD", &test_upload_args_desc, NULL, NULL,
          VIRTWIRE_PROC_STREAM_WRITE | VIRTWIRE_PROC_STREAM_SPARSE, VIRTWIRE_GENERATE_CLIENT,
          -1, 1, "TEST_UPLOAD_SPARSE", { NULL }, { NULL } },
        /* @readstream plus stream=both from the overrides */
        { 4, "TEST_PROC_DOWNLOAD", NULL, NULL, NULL,
          VIRTWIRE_PROC_STREAM_READ | VIRTWIRE_PROC_STREAM_WRITE, VIRTWIRE_GENERATE_SERVER, 2, -1,
          NULL, { NULL }, { NULL } },
        /* a _msg struct makes an event; trailing skipgen means generate none */
        { 5, "TEST_PROC_EVENT", NULL, NULL, &test_event_msg_desc, VIRTWIRE_PROC_MESSAGE,
          VIRTWIRE_GENERATE_NONE, -1, -1, NULL, { NULL }, { NULL } },
        /* trailing autogen autogen means both */
        { 6, "TEST_PROC_LEGACY", NULL, NULL, NULL, 0, VIRTWIRE_GENERATE_BOTH, -1, -1, NULL,
          { NULL }, { NULL } },
        /* annotations in a plain comment are ignored */
        { 7, "TEST_PROC_PLAIN", NULL, NULL, NULL, 0, VIRTWIRE_GENERATE_UNSET, -1, -1, NULL,
          { NULL }, { NULL } },
        { 8, "TEST_PROC_FDS", NULL, NULL, NULL, VIRTWIRE_PROC_FDS_CALL | VIRTWIRE_PROC_FDS_REPLY,
          VIRTWIRE_GENERATE_NONE, -1, -1, NULL, { NULL }, { NULL } },
    };
    const size_t n = sizeof(rows) / sizeof(rows[0]);

    const virtwire_program *p = &test_program;
    CHECK_STR(p->name, "test");
    CHECK_INT(p->program, 0x7e57ab1e);
    CHECK_INT(p->version, 3);
    CHECK_INT(p->nprocs, n);
    for (size_t i = 0; i < n && i < p->nprocs; i++) {
        check_row(&p->procs[i], &rows[i]);                       /* sorted by number */
        check_row(virtwire_program_find(p, rows[i].number), &rows[i]);
    }
    CHECK(virtwire_program_find(p, 0) == NULL);
    CHECK(virtwire_program_find(p, 9) == NULL);
    check_row(virtwire_program_find_name(p, "open"), &rows[0]);  /* without the prefix */
    check_row(virtwire_program_find_name(p, "TEST_PROC_PLAIN"), &rows[6]);

    /* the enum constants are the procedure numbers */
    CHECK_INT(TEST_PROC_FDS, 8);
    CHECK_INT(TEST_PROC_PLAIN, 7);
}

static void test_camel(void)
{
    const virtwire_program *p = &camel_program;
    CHECK_STR(p->name, "camel");
    CHECK_INT(p->program, 0x12340000);
    CHECK_INT(p->version, 2);
    CHECK_INT(p->nprocs, 1);
    /* CAMEL_PROC_EXIT_EVENT -> camelExitEventMsg */
    const expect exit_event = { 1, "CAMEL_PROC_EXIT_EVENT", NULL, NULL, &camelExitEventMsg_desc,
                                VIRTWIRE_PROC_MESSAGE, VIRTWIRE_GENERATE_UNSET, -1, -1, NULL,
                                { NULL }, { NULL } };
    check_row(virtwire_program_find(p, 1), &exit_event);

    CHECK_INT(virtwire_module_libvirt_style.nprograms, 2);
    CHECK(virtwire_module_libvirt_style.programs[0] == &test_program);
    CHECK(virtwire_module_libvirt_style.programs[1] == &camel_program);
}

static void test_payloads(void)
{
    test_open_args a;
    a.name = "test:///default";
    a.flags = 0;
    ENCODE(test_open_args, &a,
           "0000000f 74657374 3a2f2f2f 64656661 756c7400" /* 15 chars + 1 padding byte */
           "| 00000000");
    CHECK_INT(test_open_args_MAX_SIZE, 72);   /* 4 + 64 + 4 */
    test_procedure proc = TEST_PROC_FDS;
    ENCODE(test_procedure, &proc, "00000008");
    ROUNDTRIP(test_procedure, "00000009");
    STRICT_DECODE_FAILS(test_procedure, "00000009", VIRTWIRE_EENUM);
}

int main(void)
{
    test_table();
    test_camel();
    test_payloads();
    return vt_finish("libvirt_style");
}
