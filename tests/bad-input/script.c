/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Compiler of the catalogue's input language:
 *
 *   0000001c 6b656570     hex bytes (spaces between groups are free)
 *   "text"                the bytes of text (\" \\ \n \xHH escapes)
 *   u32(N) u64(N)         big-endian words
 *   str("text")           an XDR string: length, bytes, zero padding
 *   chars("text")         an XDR array of char (libvirt's SASL data): length,
 *                         then each byte as a 4-byte signed int
 *   zeros(N)              N zero bytes
 *   rep(N, ...)           the bytes of ... N times
 *   hdr(P,V,PROC,T,S,ST)  a 24-byte message header
 *   frame(...)            a length word counting itself, then ...
 *   rerr(CODE,DOM,"msg")  a remote_error with a message, other fields null
 *   fd() fd(...)          one fd, carried by a zero byte or by ...
 *   fds(N)                N fds in one message, carried by a zero byte
 *   eof()                 the peer stops writing
 *   tick(MS)              the clock moves MS milliseconds, keepalive ticks
 *
 * Numbers are decimal, 0x hex, or symbols: programs (remote qemu lxc admin
 * keepalive), types (call reply message stream call_fds reply_fds hole),
 * statuses (ok error continue), keepalive procedures (ping pong), and
 * serial (the serial of the call being answered).
 */
#define _POSIX_C_SOURCE 200809L
#include "script.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bi_script_free(bi_script *s)
{
    for (size_t i = 0; i < s->n; i++)
        vt_buf_free(&s->ops[i].bytes);
    free(s->ops);
    s->ops = NULL;
    s->n = 0;
}

int bi_script_bytes(const bi_script *s, vt_buf *out)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->ops[i].kind != BI_BYTES)
            return -1;
        vt_buf_add(out, s->ops[i].bytes.p, s->ops[i].bytes.len);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */

typedef struct parser {
    const char *s;
    uint32_t serial;
    char *err;
    size_t errlen;
    int failed;
} parser;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void fail(parser *P, const char *fmt, ...)
{
    if (P->failed)
        return;
    P->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(P->err, P->errlen, fmt, ap);
    va_end(ap);
}

static void skip_ws(parser *P)
{
    while (isspace((unsigned char)*P->s))
        P->s++;
}

static int expect_char(parser *P, char c)
{
    skip_ws(P);
    if (*P->s != c) {
        fail(P, "expected '%c' at \"%.20s\"", c, P->s);
        return -1;
    }
    P->s++;
    return 0;
}

static size_t read_word(parser *P, char *w, size_t cap)
{
    size_t n = 0;
    while (isalnum((unsigned char)*P->s) || *P->s == '_' || (n == 0 && *P->s == '-')) {
        if (n + 1 < cap)
            w[n++] = *P->s;
        P->s++;
    }
    w[n] = 0;
    return n;
}

static const struct {
    const char *name;
    uint32_t value;
} symbols[] = {
    { "remote", 0x20008086u }, { "qemu", 0x20008087u }, { "lxc", 0x00068000u },
    { "admin", 0x06900690u },  { "keepalive", 0x6b656570u },
    { "call", 0 },   { "reply", 1 },  { "message", 2 }, { "stream", 3 },
    { "call_fds", 4 }, { "reply_fds", 5 }, { "hole", 6 },
    { "ok", 0 },     { "error", 1 },  { "continue", 2 },
    { "ping", 1 },   { "pong", 2 },
};

static int parse_num(parser *P, uint64_t *v)
{
    char w[64];
    skip_ws(P);
    if (!read_word(P, w, sizeof w)) {
        fail(P, "expected a number at \"%.20s\"", P->s);
        return -1;
    }
    if (isdigit((unsigned char)w[0]) || w[0] == '-') {
        char *end;
        *v = w[0] == '-' ? (uint64_t)strtoll(w, &end, 0) : strtoull(w, &end, 0);
        if (*end) {
            fail(P, "bad number \"%s\"", w);
            return -1;
        }
        return 0;
    }
    if (strcmp(w, "serial") == 0) {
        *v = P->serial;
        return 0;
    }
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (strcmp(w, symbols[i].name) == 0) {
            *v = symbols[i].value;
            return 0;
        }
    }
    fail(P, "unknown symbol \"%s\"", w);
    return -1;
}

static int parse_quoted(parser *P, vt_buf *out)
{
    if (expect_char(P, '"') < 0)
        return -1;
    while (*P->s && *P->s != '"') {
        unsigned char c = (unsigned char)*P->s++;
        if (c == '\\') {
            char e = *P->s++;
            if (e == 'n')
                c = '\n';
            else if (e == 't')
                c = '\t';
            else if (e == 'x' && isxdigit((unsigned char)P->s[0]) &&
                     isxdigit((unsigned char)P->s[1])) {
                char h[3] = { P->s[0], P->s[1], 0 };
                c = (unsigned char)strtoul(h, NULL, 16);
                P->s += 2;
            } else if (e == '"' || e == '\\')
                c = (unsigned char)e;
            else {
                fail(P, "bad escape \\%c", e);
                return -1;
            }
        }
        vt_buf_add(out, &c, 1);
    }
    return expect_char(P, '"');
}

static void emit_bytes(bi_script *sc, const void *p, size_t n)
{
    if (!sc->n || sc->ops[sc->n - 1].kind != BI_BYTES) {
        bi_op *ops = realloc(sc->ops, (sc->n + 1) * sizeof *ops);
        if (!ops)
            abort();
        sc->ops = ops;
        memset(&sc->ops[sc->n], 0, sizeof *ops);
        sc->ops[sc->n++].kind = BI_BYTES;
    }
    vt_buf_add(&sc->ops[sc->n - 1].bytes, p, n);
}

static bi_op *emit_op(bi_script *sc, enum bi_op_kind kind)
{
    bi_op *ops = realloc(sc->ops, (sc->n + 1) * sizeof *ops);
    if (!ops)
        abort();
    sc->ops = ops;
    bi_op *op = &sc->ops[sc->n++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    return op;
}

static int parse_seq(parser *P, bi_script *sc, int top);

/* A nested sequence that must be bytes only. */
static int parse_bytes_arg(parser *P, vt_buf *out)
{
    bi_script tmp = { 0 };
    int rc = parse_seq(P, &tmp, 0);
    if (rc == 0 && bi_script_bytes(&tmp, out) < 0) {
        fail(P, "only bytes are allowed inside a function");
        rc = -1;
    }
    bi_script_free(&tmp);
    return rc;
}

static int parse_func(parser *P, const char *name, bi_script *sc, int top)
{
    vt_buf b = { 0 };
    uint64_t v[6];
    int rc = -1;
    if (strcmp(name, "frame") == 0) {
        if (parse_bytes_arg(P, &b) == 0 && expect_char(P, ')') == 0) {
            vt_buf f = { 0 };
            vt_buf_u32(&f, (uint32_t)(b.len + 4));
            vt_buf_add(&f, b.p, b.len);
            emit_bytes(sc, f.p, f.len);
            vt_buf_free(&f);
            rc = 0;
        }
    } else if (strcmp(name, "hdr") == 0) {
        rc = 0;
        for (int i = 0; i < 6 && rc == 0; i++)
            rc = parse_num(P, &v[i]) || expect_char(P, i < 5 ? ',' : ')') ? -1 : 0;
        if (rc == 0) {
            for (int i = 0; i < 6; i++)
                vt_buf_u32(&b, (uint32_t)v[i]);
            emit_bytes(sc, b.p, b.len);
        }
    } else if (strcmp(name, "u32") == 0 || strcmp(name, "u64") == 0 ||
               strcmp(name, "zeros") == 0) {
        if (parse_num(P, &v[0]) == 0 && expect_char(P, ')') == 0) {
            if (name[0] == 'z') {
                if (v[0] > ((uint64_t)1 << 26)) {
                    fail(P, "zeros(%llu) is too many", (unsigned long long)v[0]);
                    goto out;
                }
                void *z = calloc(1, v[0] ? v[0] : 1);
                emit_bytes(sc, z, v[0]);
                free(z);
            } else {
                if (name[1] == '3')
                    vt_buf_u32(&b, (uint32_t)v[0]);
                else
                    vt_buf_u64(&b, v[0]);
                emit_bytes(sc, b.p, b.len);
            }
            rc = 0;
        }
    } else if (strcmp(name, "str") == 0) {
        if (parse_quoted(P, &b) == 0 && expect_char(P, ')') == 0) {
            vt_buf s = { 0 };
            static const unsigned char pad[3];
            vt_buf_u32(&s, (uint32_t)b.len);
            vt_buf_add(&s, b.p, b.len);
            vt_buf_add(&s, pad, (4 - (b.len & 3)) & 3);
            emit_bytes(sc, s.p, s.len);
            vt_buf_free(&s);
            rc = 0;
        }
    } else if (strcmp(name, "chars") == 0) {
        if (parse_quoted(P, &b) == 0 && expect_char(P, ')') == 0) {
            vt_buf s = { 0 };
            vt_buf_u32(&s, (uint32_t)b.len);
            for (size_t i = 0; i < b.len; i++) /* xdr_char: a sign-extended int */
                vt_buf_u32(&s, (uint32_t)(int32_t)(signed char)b.p[i]);
            emit_bytes(sc, s.p, s.len);
            vt_buf_free(&s);
            rc = 0;
        }
    } else if (strcmp(name, "rep") == 0) {
        if (parse_num(P, &v[0]) == 0 && expect_char(P, ',') == 0 && parse_bytes_arg(P, &b) == 0 &&
            expect_char(P, ')') == 0) {
            for (uint64_t i = 0; i < v[0]; i++)
                emit_bytes(sc, b.p, b.len);
            rc = 0;
        }
    } else if (strcmp(name, "rerr") == 0) {
        vt_buf msg = { 0 };
        if (parse_num(P, &v[0]) == 0 && expect_char(P, ',') == 0 && parse_num(P, &v[1]) == 0 &&
            expect_char(P, ',') == 0 && parse_quoted(P, &msg) == 0 && expect_char(P, ')') == 0) {
            static const unsigned char pad[3];
            vt_buf_u32(&b, (uint32_t)v[0]); /* code */
            vt_buf_u32(&b, (uint32_t)v[1]); /* domain */
            vt_buf_u32(&b, 1);               /* message present */
            vt_buf_u32(&b, (uint32_t)msg.len);
            vt_buf_add(&b, msg.p, msg.len);
            vt_buf_add(&b, pad, (4 - (msg.len & 3)) & 3);
            vt_buf_u32(&b, 2); /* level: VIR_ERR_ERROR */
            for (int i = 0; i < 7; i++)
                vt_buf_u32(&b, 0); /* dom, str1-3, int1, int2, net */
            emit_bytes(sc, b.p, b.len);
            rc = 0;
        }
        vt_buf_free(&msg);
    } else if (strcmp(name, "fds") == 0) {
        if (!top) {
            fail(P, "fds() is only allowed at the top level");
            goto out;
        }
        if (parse_num(P, &v[0]) == 0 && expect_char(P, ')') == 0) {
            bi_op *op = emit_op(sc, BI_FD);
            vt_buf_add(&op->bytes, "", 1);
            op->arg = v[0];
            rc = 0;
        }
    } else if (strcmp(name, "fd") == 0 || strcmp(name, "eof") == 0 ||
               strcmp(name, "tick") == 0) {
        if (!top) {
            fail(P, "%s() is only allowed at the top level", name);
            goto out;
        }
        if (name[0] == 'f') {
            if (parse_bytes_arg(P, &b) == 0 && expect_char(P, ')') == 0) {
                bi_op *op = emit_op(sc, BI_FD);
                op->arg = 1;
                if (b.len == 0)
                    vt_buf_add(&op->bytes, "", 1);
                else
                    vt_buf_add(&op->bytes, b.p, b.len);
                rc = 0;
            }
        } else if (name[0] == 'e') {
            if (expect_char(P, ')') == 0) {
                emit_op(sc, BI_EOF);
                rc = 0;
            }
        } else if (parse_num(P, &v[0]) == 0 && expect_char(P, ')') == 0) {
            emit_op(sc, BI_TICK)->arg = v[0];
            rc = 0;
        }
    } else {
        fail(P, "unknown function %s()", name);
    }
out:
    vt_buf_free(&b);
    return P->failed ? -1 : rc;
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

static int parse_seq(parser *P, bi_script *sc, int top)
{
    for (;;) {
        skip_ws(P);
        char c = *P->s;
        if (c == 0 || c == ')' || c == ',')
            return P->failed ? -1 : 0;
        if (c == '"') {
            vt_buf b = { 0 };
            int rc = parse_quoted(P, &b);
            if (rc == 0)
                emit_bytes(sc, b.p, b.len);
            vt_buf_free(&b);
            if (rc < 0)
                return -1;
            continue;
        }
        char w[4096];
        if (!read_word(P, w, sizeof w)) {
            fail(P, "unexpected \"%.20s\"", P->s);
            return -1;
        }
        if (*P->s == '(') {
            P->s++;
            if (parse_func(P, w, sc, top) < 0)
                return -1;
            continue;
        }
        size_t n = strlen(w);
        for (size_t i = 0; i < n; i++) {
            if (!isxdigit((unsigned char)w[i])) {
                fail(P, "\"%s\" is neither hex nor a function call", w);
                return -1;
            }
        }
        if (n % 2) {
            fail(P, "odd number of hex digits in \"%s\"", w);
            return -1;
        }
        for (size_t i = 0; i < n; i += 2) {
            unsigned char byte = (unsigned char)(hexval(w[i]) * 16 + hexval(w[i + 1]));
            emit_bytes(sc, &byte, 1);
        }
    }
}

int bi_compile(const char *text, uint32_t serial, bi_script *out, char *err, size_t errlen)
{
    parser P = { text ? text : "", serial, err, errlen, 0 };
    memset(out, 0, sizeof *out);
    if (parse_seq(&P, out, 1) < 0 || *P.s) {
        if (!P.failed)
            fail(&P, "unexpected \"%.20s\"", P.s);
        bi_script_free(out);
        return -1;
    }
    return 0;
}
