/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* rpcprog.x: the procedure tables of rpcgen program definitions. */
#include "rpcprog.h"

#include <string.h>

#include "vwtest.h"

/* Checks one row of a procedure table. */
static void check_proc(const virtwire_proc *p, int32_t number, const char *name,
                       const virtwire_type *args, const virtwire_type *ret)
{
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_INT(p->number, number);
    CHECK_STR(p->name, name);
    CHECK(p->args == args);
    CHECK(p->ret == ret);
    CHECK(p->msg == NULL);
    /* rpcgen programs carry no libvirt annotations */
    CHECK_INT(p->flags, 0);
    CHECK_INT(p->generate, VIRTWIRE_GENERATE_UNSET);
    CHECK_INT(p->readstream, -1);
    CHECK_INT(p->writestream, -1);
    CHECK(p->sparseflag == NULL && p->acl == NULL && p->aclfilter == NULL);
}

static void test_two_versions(void)
{
    /* A program with several versions gets one table per version. */
    const virtwire_program *v1 = &CALC_PROG_CALC_V1_program;
    CHECK_STR(v1->name, "CALC_PROG_CALC_V1");
    CHECK_INT(v1->program, 0x20000099);
    CHECK_INT(v1->version, 1);
    CHECK_INT(v1->nprocs, 4);
    /* sorted by number although the .x lists 0, 1, 3, 2 */
    check_proc(&v1->procs[0], 0, "CALC_NULL", NULL, NULL);
    check_proc(&v1->procs[1], 1, "CALC_ADD", &add_args_desc, &add_ret_desc);
    check_proc(&v1->procs[2], 2, "CALC_SET", &name_t_desc, NULL);
    check_proc(&v1->procs[3], 3, "CALC_NAME", NULL, &name_t_desc);

    check_proc(virtwire_program_find(v1, 3), 3, "CALC_NAME", NULL, &name_t_desc);
    CHECK(virtwire_program_find(v1, 4) == NULL);
    check_proc(virtwire_program_find_name(v1, "CALC_SET"), 2, "CALC_SET", &name_t_desc, NULL);

    const virtwire_program *v2 = &CALC_PROG_CALC_V2_program;
    CHECK_STR(v2->name, "CALC_PROG_CALC_V2");
    CHECK_INT(v2->program, 0x20000099);
    CHECK_INT(v2->version, 2);
    CHECK_INT(v2->nprocs, 1);
    check_proc(&v2->procs[0], 1, "CALC_ADD2", &add_args_desc, &add_ret_desc);
}

static void test_single_version(void)
{
    const virtwire_program *p = &SINGLE_PROG_program;
    CHECK_STR(p->name, "SINGLE_PROG");
    CHECK_INT(p->program, 0x300);
    CHECK_INT(p->version, 5);
    CHECK_INT(p->nprocs, 1);
    check_proc(virtwire_program_find(p, 7), 7, "SINGLE_SUM", &add_args_desc, &add_ret_desc);
}

static void test_protocol(void)
{
    CHECK_STR(virtwire_module_rpcprog.name, "rpcprog");
    CHECK_INT(virtwire_module_rpcprog.ntypes, 3);
    CHECK_STR(virtwire_module_rpcprog.types[0]->name, "add_args");
    CHECK_STR(virtwire_module_rpcprog.types[1]->name, "add_ret");
    CHECK_STR(virtwire_module_rpcprog.types[2]->name, "name_t");
    CHECK_INT(virtwire_module_rpcprog.nprograms, 3);
    CHECK(virtwire_module_rpcprog.programs[0] == &CALC_PROG_CALC_V1_program);
    CHECK(virtwire_module_rpcprog.programs[2] == &SINGLE_PROG_program);
    CHECK(virtwire_protocol_find_type(&virtwire_module_rpcprog, "add_ret") == &add_ret_desc);
    CHECK(virtwire_protocol_find_type(&virtwire_module_rpcprog, "nope") == NULL);

    /* the argument and result types work through the table */
    add_args a = { 2, -3 };
    ENCODE(add_args, &a, "00000002 fffffffd");
    add_ret r = { -1 };
    const virtwire_proc *add = virtwire_program_find(&CALC_PROG_CALC_V1_program, 1);
    CHECK(add != NULL);
    if (add) {
        vwtest_encode(add->args, &a, "00000002 fffffffd", __FILE__, __LINE__);
        vwtest_encode(add->ret, &r, "ffffffff ffffffff", __FILE__, __LINE__);
    }
    CHECK_INT(name_t_MAX_SIZE, 20);  /* 4 + 16 */
}

int main(void)
{
    test_two_versions();
    test_single_version();
    test_protocol();
    return vt_finish("rpcprog");
}
