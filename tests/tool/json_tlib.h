/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the two tests of the generated JSON conversion share besides
 * tests/lib (whose CHECK_MSG they use): the lookup of a type's converter.
 */
#ifndef VIRTWIRE_TESTS_JSON_TLIB_H
#define VIRTWIRE_TESTS_JSON_TLIB_H

#include <stdio.h>
#include <stdlib.h>

#include "virtwire_json.h"
#include "vt_check.h"

/* The converter of t in m; a missing one ends the test. */
static inline const virtwire_json_type *find(const virtwire_json_module *m, const virtwire_type *t)
{
    const virtwire_json_type *jt = virtwire_json_find(m, t);
    if (!jt) {
        fprintf(stderr, "no converter for %s\n", t->name);
        exit(1);
    }
    return jt;
}

#endif
