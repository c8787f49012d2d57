/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The input language of the bad-input catalogue (see README.md here): a
 * line of tokens compiled into a script of byte runs, fds, end of file and
 * clock ticks.
 */
#ifndef VIRTWIRE_TESTS_BAD_INPUT_SCRIPT_H
#define VIRTWIRE_TESTS_BAD_INPUT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "vt_buf.h"

enum bi_op_kind {
    BI_BYTES, /* bytes: plain bytes */
    BI_FD,    /* bytes: the bytes that carry arg fds (one zero byte by default) */
    BI_EOF,   /* the peer stops writing */
    BI_TICK,  /* arg: milliseconds the clock moves, then a keepalive tick */
};

typedef struct bi_op {
    enum bi_op_kind kind;
    vt_buf bytes;
    uint64_t arg;
} bi_op;

typedef struct bi_script {
    bi_op *ops;
    size_t n;
} bi_script;

/**
 * Compiles text into *out.  serial is the value of the symbol "serial".
 * Returns 0, or -1 with a message in err.
 */
int bi_compile(const char *text, uint32_t serial, bi_script *out, char *err, size_t errlen);
void bi_script_free(bi_script *s);

/** All the bytes of a script that has only byte runs, concatenated;
 *  returns -1 when it has other operations. */
int bi_script_bytes(const bi_script *s, vt_buf *out);

#endif
