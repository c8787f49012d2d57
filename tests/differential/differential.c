/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Differential test: virtwire's generated codecs against rpcgen + libtirpc.
 *
 * For every type of the nine libvirt modules of one release (or of the
 * modules the harness lists: the rpcsvc files) and for seeds 0..N-1, a
 * random valid value (vw_fill.h; undeclared enum values included, which
 * both codecs write as they are) is
 *   1. encoded by virtwire (T_size must predict the length exactly) and by
 *      rpcgen's xdr_T through libtirpc: the bytes must be identical;
 *   2. decoded from libtirpc's bytes by virtwire, in arena mode and in heap
 *      mode (then freed with T_free), and re-encoded: same bytes again;
 *   3. decoded from virtwire's bytes by libtirpc and re-encoded by libtirpc:
 *      same bytes again (then xdr_free'd).
 * For the first seeds of each type whose encoding is short, every proper
 * prefix of it must fail to decode with VIRTWIRE_ETRUNCATED (in both modes,
 * leak-free under ASan), and encoding into a buffer one byte short must
 * fail with VIRTWIRE_ENOSPACE.
 *
 * Before that, virtwire's types are joined by name with the xdr_T functions
 * rpcgen made (both sets must be the same) and their sizeof compared: the C
 * structs of both sides have the same layout, so the very same value is
 * handed to both encoders.  After all values of a module, the coverage of
 * the fill functions is checked (every union arm, absent and present
 * optional data, empty and full-length strings, opaques and arrays).
 *
 * A failure names the release, module, type and seed; rerun one type with
 * "differential TYPE".
 *
 * usage: differential [TYPE...]      (only these types; no coverage check)
 * environment: VIRTWIRE_DIFF_COUNT  values per type (default 200; fewer
 *                                   skips the coverage check)
 *              VIRTWIRE_DIFF_SEED   seed base (default fixed)
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtwire_program.h"
#include "virtwire_xdr.h"
#include "vw_fill.h"
#include "vw_modules.h"
#include "vw_oracle.h"

#ifndef VW_RELEASE
#error "compile with -DVW_RELEASE=\"<libvirt version>\""
#endif

#define DEFAULT_COUNT 200u
#define DEFAULT_SEED 0x7669727477697265ull /* "virtwire" */
/* Seeds 0..PREFIX_SEEDS-1 of values shorter than PREFIX_MAX get the prefix
 * check (it costs one decode per byte). */
#define PREFIX_SEEDS 3u
#define PREFIX_MAX 512u
/* Room libtirpc gets beyond the length virtwire predicts: an encoding that
 * differs in length shows up as a difference, not as a failure to encode. */
#define TIRPC_SLACK 1024u
/* Stop printing after this many failures. */
#define MAX_REPORTS 40
/* Seeds s < DEFAULT_COUNT with s % FULL_EVERY == FULL_AT make full values
 * (vw_fill.h): 5, the first one early so that short runs have one.  Longer
 * runs (the rpcsvc tests' 1000 values per type) make one every
 * FULL_EVERY_LATER seeds after that: full values can be megabytes, and
 * what the later ones add is unions' further arms (the n-th full value
 * takes arm n). */
#define FULL_EVERY 40u
#define FULL_AT 1u
#define FULL_EVERY_LATER 160u
#define FULL_LATER_FIRST 321u

/* Whether seed s makes a full value, and which one (*nth). */
static int full_value(unsigned s, unsigned *nth)
{
    if (s < DEFAULT_COUNT) {
        *nth = s / FULL_EVERY;
        return s % FULL_EVERY == FULL_AT;
    }
    *nth = DEFAULT_COUNT / FULL_EVERY + (s - FULL_LATER_FIRST) / FULL_EVERY_LATER;
    return s >= FULL_LATER_FIRST && (s - FULL_LATER_FIRST) % FULL_EVERY_LATER == 0;
}

typedef struct stats {
    size_t types;
    size_t values;
    uint64_t bytes;    /* bytes compared */
    size_t prefixes;   /* truncated decodes checked */
} stats;

/* What is being checked, for failure messages. */
typedef struct vcase {
    const vw_module *mod;
    const vw_fill_entry *fill;
    const vw_oracle_entry *oracle;
    unsigned seed;
} vcase;

static int failures;

static void fail(const vcase *c, const char *fmt, ...)
{
    failures++;
    if (failures > MAX_REPORTS)
        return;
    fprintf(stderr, "FAIL %s %s %s seed %u: ", VW_RELEASE, c->mod->name, c->fill->name, c->seed);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *errname(int rc)
{
    const char *s = virtwire_error_name(rc);
    return s ? s : "an unknown code";
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "differential: out of memory\n");
        exit(2);
    }
    return p;
}

static void *xcalloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p) {
        fprintf(stderr, "differential: out of memory\n");
        exit(2);
    }
    return p;
}

/* Storage for a value that virtwire_decode() is about to fill: garbage, as
 * virtwire_decode() zeroes it first (heap mode frees what a failed decode
 * leaves, so it must not see stale pointers). */
static void *garbage(size_t n)
{
    void *p = xmalloc(n);
    memset(p, 0xa5, n ? n : 1);
    return p;
}

/* A copy of exactly n bytes, so that ASan catches any read past the end. */
static unsigned char *exact_copy(const unsigned char *p, size_t n)
{
    unsigned char *q = xmalloc(n);
    if (n)
        memcpy(q, p, n);
    return q;
}

static void hex_line(const char *label, const unsigned char *p, size_t n, size_t from)
{
    fprintf(stderr, "    %-9s @%zu:", label, from);
    for (size_t i = from; i < n && i < from + 16; i++)
        fprintf(stderr, " %02x", p[i]);
    fputc('\n', stderr);
}

/* Compares two encodings; on a difference reports the first differing
 * offset and the bytes from there.  Returns 1 if they are the same. */
static int same_bytes(const vcase *c, const char *what, const unsigned char *a, size_t na,
                      const char *la, const unsigned char *b, size_t nb, const char *lb,
                      stats *st)
{
    size_t n = na < nb ? na : nb;
    size_t off = 0;
    while (off < n && a[off] == b[off])
        off++;
    if (off == n && na == nb) {
        st->bytes += na;
        return 1;
    }
    fail(c, "%s: %s has %zu bytes, %s has %zu; first difference at offset %zu", what, la, na,
         lb, nb, off);
    if (failures <= MAX_REPORTS) {
        size_t from = off & ~(size_t)3;
        hex_line(la, a, na, from);
        hex_line(lb, b, nb, from);
    }
    return 0;
}

/* ---------------------------------------------------------------------- */
/* The two codecs                                                         */
/* ---------------------------------------------------------------------- */

/* Encodes v with virtwire into a buffer of exactly T_size(v) bytes. */
static int ours_encode(const vcase *c, const void *v, unsigned char **out, size_t *outn)
{
    const virtwire_type *t = c->fill->desc;
    size_t n = t->encoded_size(v);
    unsigned char *buf = xmalloc(n);
    size_t len = 0;
    int rc = virtwire_encode(t, v, buf, n, &len);
    if (rc < 0 || len != n) {
        fail(c, "virtwire encode: %s (%d), %zu bytes written, T_size said %zu",
             rc < 0 ? errname(rc) : "success", rc, len, n);
        free(buf);
        return 0;
    }
    if (n < t->min_size || (t->max_size && n > t->max_size)) {
        fail(c, "encoded size %zu outside [%zu, %" PRIu64 "]", n, t->min_size, t->max_size);
        free(buf);
        return 0;
    }
    *out = buf;
    *outn = n;
    return 1;
}

/* Encodes v with rpcgen's xdr_T into a buffer of at most cap bytes. */
static int tirpc_encode(const vcase *c, void *v, size_t cap, unsigned char **out, size_t *outn)
{
    cap = (cap + 3) & ~(size_t)3;
    unsigned char *buf = xcalloc(cap);
    XDR x;
    xdrmem_create(&x, (char *)buf, (unsigned int)cap, XDR_ENCODE);
    bool_t ok = c->oracle->proc(&x, v);
    size_t pos = xdr_getpos(&x);
    xdr_destroy(&x);
    if (!ok) {
        fail(c, "libtirpc xdr_%s failed to encode (buffer of %zu bytes)", c->fill->name, cap);
        free(buf);
        return 0;
    }
    *out = buf;
    *outn = pos;
    return 1;
}

/* virtwire decodes bytes (arena or heap mode) and encodes the result again:
 * the same bytes must come out. */
static void ours_roundtrip(const vcase *c, const unsigned char *bytes, size_t n,
                           virtwire_arena *arena, stats *st)
{
    const virtwire_type *t = c->fill->desc;
    const char *mode = arena ? "arena" : "heap";
    unsigned char *in = exact_copy(bytes, n);
    void *w = garbage(t->size);
    int rc = virtwire_decode(t, in, n, arena, w);
    if (rc < 0) {
        fail(c, "virtwire (%s mode) rejects libtirpc's %zu bytes: %s", mode, n,
             errname(rc));
    } else {
        unsigned char *again;
        size_t m;
        if (ours_encode(c, w, &again, &m)) {
            same_bytes(c, arena ? "libtirpc -> virtwire decode (arena) -> virtwire encode"
                                : "libtirpc -> virtwire decode (heap) -> virtwire encode",
                       bytes, n, "libtirpc", again, m, "virtwire", st);
            free(again);
        }
        if (!arena)
            t->free(w);
    }
    if (arena)
        virtwire_arena_reset(arena);
    free(w);
    free(in);
}

/* libtirpc decodes virtwire's bytes and encodes them again. */
static void tirpc_roundtrip(const vcase *c, const unsigned char *bytes, size_t n, stats *st)
{
    unsigned char *in = exact_copy(bytes, n);
    void *z = xcalloc(c->oracle->size);
    XDR x;
    xdrmem_create(&x, (char *)in, (unsigned int)n, XDR_DECODE);
    bool_t ok = c->oracle->proc(&x, z);
    size_t pos = xdr_getpos(&x);
    xdr_destroy(&x);
    if (!ok || pos != n) {
        fail(c, "libtirpc %s virtwire's %zu bytes (consumed %zu)",
             ok ? "decodes only part of" : "rejects", n, pos);
    } else {
        unsigned char *again;
        size_t m;
        if (tirpc_encode(c, z, n + TIRPC_SLACK, &again, &m)) {
            same_bytes(c, "virtwire -> libtirpc decode -> libtirpc encode", bytes, n,
                       "virtwire", again, m, "libtirpc", st);
            free(again);
        }
    }
    /* XDR_FREE releases what XDR_DECODE allocated, also after a failure. */
    x.x_op = XDR_FREE;
    c->oracle->proc(&x, z);
    free(z);
    free(in);
}

/* Every proper prefix of a valid encoding must fail with ETRUNCATED: the
 * decoder sees the same bytes as for the whole value up to the cut, so no
 * other check can fail and only the missing bytes can stop it.  Each prefix
 * is an exact-size copy, so that ASan sees reads past the end; in heap mode
 * LeakSanitizer sees what the error path fails to free. */
static void check_prefixes(const vcase *c, const unsigned char *bytes, size_t n,
                           virtwire_arena *arena, stats *st)
{
    const virtwire_type *t = c->fill->desc;
    void *w = garbage(t->size);
    for (size_t cut = 0; cut < n; cut++) {
        unsigned char *in = exact_copy(bytes, cut);
        for (int heap = 0; heap < 2; heap++) {
            memset(w, 0xa5, t->size);
            int rc = virtwire_decode(t, in, cut, heap ? NULL : arena, w);
            if (rc != VIRTWIRE_ETRUNCATED) {
                fail(c, "decoding the first %zu of %zu bytes (%s mode) gives %s (%d), "
                     "expected VIRTWIRE_ETRUNCATED", cut, n, heap ? "heap" : "arena",
                     rc ? errname(rc) : "success", rc);
                if (rc == 0 && heap)
                    t->free(w);
            }
            st->prefixes++;
        }
        virtwire_arena_reset(arena);
        free(in);
    }
    free(w);
}

/* Encoding into one byte less than needed must fail cleanly. */
static void check_short_buffer(const vcase *c, const void *v, size_t n)
{
    if (n == 0)
        return;
    unsigned char *buf = xmalloc(n - 1);
    int rc = virtwire_encode(c->fill->desc, v, buf, n - 1, NULL);
    if (rc != VIRTWIRE_ENOSPACE)
        fail(c, "encoding %zu bytes into %zu gives %d, expected VIRTWIRE_ENOSPACE", n, n - 1, rc);
    free(buf);
}

/* ---------------------------------------------------------------------- */
/* Driver                                                                 */
/* ---------------------------------------------------------------------- */

static uint64_t value_seed(uint64_t base, const char *name, unsigned seed)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the type name */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return base ^ h ^ ((uint64_t)seed * 0x9e3779b97f4a7c15ull);
}

/* All checks for one value; returns 0 once something failed. */
static int check_value(const vcase *c, uint64_t base, virtwire_arena *fa, virtwire_arena *da,
                       stats *st)
{
    int before = failures;
    const virtwire_type *t = c->fill->desc;
    vw_rng r;
    unsigned nth;
    int full = full_value(c->seed, &nth);
    vw_rng_seed(&r, value_seed(base, c->fill->name, c->seed), full, nth);
    /* Undeclared enum values too.  Not bools other than 0 and 1: rpcgen's
     * inline code (IXDR_PUT_BOOL) writes them as they are, its xdr_bool()
     * calls as 1 (as virtwire does). */
    r.wild = 1;
    void *v = xcalloc(t->size);
    c->fill->fill(&r, fa, v);

    unsigned char *ours = NULL, *theirs = NULL;
    size_t n = 0, tn = 0;
    if (ours_encode(c, v, &ours, &n) && tirpc_encode(c, v, n + TIRPC_SLACK, &theirs, &tn) &&
        same_bytes(c, "encoding of the same value", ours, n, "virtwire", theirs, tn, "libtirpc",
                   st)) {
        ours_roundtrip(c, theirs, tn, da, st);
        ours_roundtrip(c, theirs, tn, NULL, st);
        tirpc_roundtrip(c, ours, n, st);
        if (c->seed < PREFIX_SEEDS && n < PREFIX_MAX) {
            check_prefixes(c, ours, n, da, st);
            check_short_buffer(c, v, n);
        }
    }
    st->values++;
    free(ours);
    free(theirs);
    free(v);
    virtwire_arena_reset(fa);
    return failures == before;
}

static int wanted(const char *name, int argc, char **argv)
{
    if (argc < 2)
        return 1;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0)
            return 1;
    return 0;
}

static const vw_oracle_entry *find_oracle(const vw_module *m, const char *name)
{
    for (size_t i = 0; i < *m->noracle; i++)
        if (strcmp(m->oracle[i].name, name) == 0)
            return &m->oracle[i];
    return NULL;
}

/* Joins virtwire's types with rpcgen's by name into oracle_of[] (same order
 * as the fill table).  Both must have the same types, and each C type the
 * same size: virtwire's value is passed straight to rpcgen's functions. */
static int join_tables(const vw_module *m, const vw_oracle_entry **oracle_of)
{
    int ok = *m->nfill == m->proto->ntypes;
    if (!ok)
        fprintf(stderr, "FAIL %s %s: %zu types in virtwire's module, %zu fill functions\n",
                VW_RELEASE, m->name, m->proto->ntypes, *m->nfill);
    size_t joined = 0;
    for (size_t i = 0; i < *m->nfill; i++) {
        const vw_fill_entry *f = &m->fill[i];
        const vw_oracle_entry *o = find_oracle(m, f->name);
        oracle_of[i] = o;
        if (virtwire_protocol_find_type(m->proto, f->name) != f->desc) {
            fprintf(stderr, "FAIL %s %s %s: not in virtwire's type table\n", VW_RELEASE,
                    m->name, f->name);
            ok = 0;
        } else if (!o) {
            fprintf(stderr, "FAIL %s %s %s: virtwire has the type, rpcgen has no xdr_%s\n",
                    VW_RELEASE, m->name, f->name, f->name);
            ok = 0;
        } else if (f->desc->size != o->size) {
            fprintf(stderr, "FAIL %s %s %s: sizeof is %zu in virtwire, %zu in rpcgen\n",
                    VW_RELEASE, m->name, f->name, f->desc->size, o->size);
            ok = 0;
        } else {
            joined++;
        }
    }
    if (joined != *m->noracle) { /* some of rpcgen's types are not virtwire's */
        for (size_t i = 0; i < *m->noracle; i++) {
            size_t k = 0;
            while (k < *m->nfill && strcmp(m->fill[k].name, m->oracle[i].name) != 0)
                k++;
            if (k == *m->nfill)
                fprintf(stderr, "FAIL %s %s %s: rpcgen has xdr_%s, virtwire has no such type\n",
                        VW_RELEASE, m->name, m->oracle[i].name, m->oracle[i].name);
        }
        ok = 0;
    }
    if (!ok)
        failures++;
    return ok;
}

/* The values made must have covered everything the fill functions can
 * make: every union arm, absent and present optional data, empty strings,
 * opaques and arrays and ones at their bounds.  Returns the sites covered. */
static size_t check_coverage(const vw_module *m, int report)
{
    const vw_coverage *cov = m->coverage;
    size_t covered = 0;
    for (size_t i = 0; i < cov->n; i++) {
        if (cov->hits[i]) {
            covered++;
        } else if (report) {
            failures++;
            if (failures <= MAX_REPORTS)
                fprintf(stderr, "FAIL %s %s: never made: %s\n", VW_RELEASE, m->name,
                        cov->what[i]);
        }
    }
    return covered;
}

static unsigned long env_number(const char *name, unsigned long dflt)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return dflt;
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (*end) {
        fprintf(stderr, "differential: %s=%s is not a number\n", name, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    unsigned count = (unsigned)env_number("VIRTWIRE_DIFF_COUNT", DEFAULT_COUNT);
    uint64_t base = env_number("VIRTWIRE_DIFF_SEED", DEFAULT_SEED);
    virtwire_arena fa = VIRTWIRE_ARENA_INIT, da = VIRTWIRE_ARENA_INIT;
    stats total = { 0, 0, 0, 0 };

    for (size_t mi = 0; mi < vw_module_count; mi++) {
        const vw_module *m = &vw_modules[mi];
        stats st = { 0, 0, 0, 0 };
        const vw_oracle_entry **oracle_of = xcalloc(*m->nfill * sizeof *oracle_of);
        if (!join_tables(m, oracle_of)) {
            free(oracle_of);
            continue;
        }
        for (size_t ti = 0; ti < *m->nfill; ti++) {
            vcase c = { m, &m->fill[ti], oracle_of[ti], 0 };
            if (!wanted(c.fill->name, argc, argv))
                continue;
            st.types++;
            /* After the first failure of a type its other seeds add noise. */
            for (c.seed = 0; c.seed < count; c.seed++)
                if (!check_value(&c, base, &fa, &da, &st))
                    break;
        }
        /* Fewer values or some types only: coverage is not expected. */
        size_t covered = check_coverage(m, count >= DEFAULT_COUNT && argc < 2);
        printf("differential %s %-22s %4zu types %7zu values %11" PRIu64
               " bytes compared %7zu truncated decodes %5zu/%zu sites covered\n",
               VW_RELEASE, m->name, st.types, st.values, st.bytes, st.prefixes, covered,
               m->coverage->n);
        total.types += st.types;
        total.values += st.values;
        total.bytes += st.bytes;
        total.prefixes += st.prefixes;
        free(oracle_of);
    }
    printf("differential %s %-22s %4zu types %7zu values %11" PRIu64
           " bytes compared %7zu truncated decodes\n",
           VW_RELEASE, "total", total.types, total.values, total.bytes, total.prefixes);
    virtwire_arena_fini(&fa);
    virtwire_arena_fini(&da);
    if (failures) {
        fprintf(stderr, "%d failure(s); seed base 0x%" PRIx64 ", %u values per type\n", failures,
                base, count);
        return 1;
    }
    return 0;
}
