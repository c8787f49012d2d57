/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the generated decoders: the args, ret and msg type
 * of every procedure of every program, and every type of every module,
 * chosen by the input.
 *
 * Input (4 bytes, then the payload):
 *   byte 0     bits 0-1: what to decode: args (0), ret (1), msg (2), or
 *              (3) a type of a module rather than of a procedure;
 *              bit 2: a strict decoder (VIRTWIRE_DEC_STRICT: padding, enums,
 *              bools);
 *   byte 1     the program (index into programs[], modulo), or with 3 the
 *              module (index into virtwire_libvirt_protocols[], modulo);
 *   bytes 2-3  big-endian: the procedure number (a number the program
 *              does not have picks the procedure at that index, modulo
 *              the count), or with 3 the type's index in the module's
 *              type list (modulo).
 * A procedure without the chosen type (void args or ret, not an event)
 * takes its args, ret or msg, whichever it has first.
 *
 * Checks, beyond the sanitizers:
 *   - arena and heap mode give the same result code;
 *   - a value that decodes encodes (in both modes) into exactly
 *     encoded_size() bytes, to the same bytes; one byte less fails with
 *     VIRTWIRE_ENOSPACE;
 *   - the encoding decodes again, to a value that encodes to the same
 *     bytes (decode(encode(x)) == x);
 *   - a strict decoder's encoding is the input itself, unless a string
 *     held a NUL byte (C sees the string cut there: see cut_at_nul()); the
 *     default decoder takes any enum value, and any non-zero bool as 1;
 *   - what the strict decoder takes, the default one takes too;
 *   - heap mode leaks nothing, freed with the type's free function.
 *
 * fuzz_decode_ok counts the inputs that decoded, and fuzz_decode_exact
 * those whose encoding is the input byte for byte (check_captured.c uses
 * them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_protocol.h"
#include "libvirt_protocols.h"
#include "lock_protocol.h"
#include "log_protocol.h"
#include "lxc_monitor_protocol.h"
#include "lxc_protocol.h"
#include "qemu_protocol.h"
#include "remote_protocol.h"
#include "virkeepaliveprotocol.h"
#include "virtwire_program.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

unsigned long fuzz_decode_ok;
unsigned long fuzz_decode_exact;

/* Same order as fuzz/make-seeds. */
static const virtwire_program *const programs[] = {
    &remote_program, &qemu_program, &lxc_program, &admin_program,
    &virLockSpaceProtocol_program, &virLogManagerProtocol_program, &virLXCMonitor_program,
    &keepalive_program,
};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A broken invariant: says which, then aborts (a finding). */
static void fuzz_fail(int line, const char *what)
{
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, line, what);
    abort();
}

#define fuzz_check(cond) ((cond) ? (void)0 : fuzz_fail(__LINE__, #cond))

static const virtwire_type *pick_type(const uint8_t *h)
{
    unsigned which = h[0] & 3u;
    unsigned num = (unsigned)h[2] << 8 | h[3];
    if (which == 3) {
        const virtwire_protocol *m =
            virtwire_libvirt_protocols[h[1] % virtwire_libvirt_nprotocols];
        return m->ntypes ? m->types[num % m->ntypes] : NULL;
    }
    const virtwire_program *prog = programs[h[1] % NELEMS(programs)];
    if (!prog->nprocs)
        return NULL;
    const virtwire_proc *proc = virtwire_program_find(prog, (int32_t)num);
    if (!proc)
        proc = &prog->procs[num % prog->nprocs];
    const virtwire_type *chosen = which == 0 ? proc->args : which == 1 ? proc->ret : proc->msg;
    if (chosen)
        return chosen;
    return proc->args ? proc->args : proc->ret ? proc->ret : proc->msg;
}

/* Decodes buf as t without requiring it to be consumed whole; *used gets
 * the bytes the value took.  Heap-mode values are freed on failure. */
static int decode_prefix(const virtwire_type *t, const uint8_t *buf, size_t len,
                         virtwire_arena *arena, unsigned flags, void *v, size_t *used)
{
    memset(v, 0, t->size);
    virtwire_dec d;
    virtwire_dec_init(&d, buf, len, arena);
    d.flags = flags;
    int rc = t->decode(&d, v);
    *used = (size_t)(d.p - buf);
    fuzz_check(*used <= len);
    if (rc < 0 && !arena)
        t->free(v);
    return rc;
}

/* Encodes v into a fresh buffer of exactly encoded_size() bytes, checking
 * that one byte less is refused.  Returns the buffer (*len: its size). */
static unsigned char *encode_exact(const virtwire_type *t, const void *v, size_t *len)
{
    size_t n = t->encoded_size(v);
    unsigned char *buf = malloc(n ? n : 1);
    fuzz_check(buf != NULL);
    size_t got = 0;
    fuzz_check(virtwire_encode(t, v, buf, n, &got) == 0 && got == n);
    if (n) {
        unsigned char *small = malloc(n - 1 ? n - 1 : 1);
        fuzz_check(small != NULL);
        fuzz_check(virtwire_encode(t, v, small, n - 1, NULL) == VIRTWIRE_ENOSPACE);
        free(small);
    }
    *len = n;
    return buf;
}

/*
 * A strict decoder, and the encoding differs from the input: the only reason
 * allowed is a string that held a NUL byte.  The first difference is then
 * in that string's length word: shorter in the encoding, and the input has
 * a NUL right where the encoded string ends.
 */
static int cut_at_nul(const uint8_t *in, size_t in_len, const uint8_t *enc, size_t enc_len)
{
    size_t i = 0;
    while (i < enc_len && i < in_len && enc[i] == in[i])
        i++;
    size_t w = i & ~(size_t)3;
    if (w + 4 > enc_len || w + 4 > in_len)
        return 0;
    uint32_t len_in = virtwire_load_u32(in + w), len_enc = virtwire_load_u32(enc + w);
    return len_enc < len_in && w + 4 + (size_t)len_enc < in_len && in[w + 4 + len_enc] == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    const virtwire_type *t = pick_type(data);
    if (!t)
        return 0;
    unsigned flags = (data[0] & 4u) ? VIRTWIRE_DEC_STRICT : 0;
    const uint8_t *payload = data + 4;
    size_t len = size - 4;

    void *va = calloc(1, t->size ? t->size : 1);
    void *vh = calloc(1, t->size ? t->size : 1);
    fuzz_check(va && vh);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    size_t used_a, used_h;
    int rc_a = decode_prefix(t, payload, len, &arena, flags, va, &used_a);
    int rc_h = decode_prefix(t, payload, len, NULL, flags, vh, &used_h);
    fuzz_check(rc_a == rc_h && used_a == used_h);
    if (flags && rc_a == 0) {
        void *vl = calloc(1, t->size ? t->size : 1);
        fuzz_check(vl != NULL);
        size_t used_l;
        virtwire_arena al = VIRTWIRE_ARENA_INIT;
        fuzz_check(decode_prefix(t, payload, len, &al, 0, vl, &used_l) == 0 && used_l == used_a);
        free(vl);
        virtwire_arena_fini(&al);
    }

    /* The whole-buffer entry point agrees, and reports trailing bytes. */
    if (flags == 0) {
        virtwire_arena a2 = VIRTWIRE_ARENA_INIT;
        void *v2 = calloc(1, t->size ? t->size : 1);
        fuzz_check(v2 != NULL);
        int rc2 = virtwire_decode(t, payload, len, &a2, v2);
        fuzz_check(rc_a < 0 ? rc2 == rc_a : rc2 == (used_a == len ? 0 : VIRTWIRE_ETRAILING));
        free(v2);
        virtwire_arena_fini(&a2);
    }

    if (rc_a == 0) {
        fuzz_decode_ok++;
        size_t na, nh;
        unsigned char *ea = encode_exact(t, va, &na);
        unsigned char *eh = encode_exact(t, vh, &nh);
        fuzz_check(na == nh && memcmp(ea, eh, na) == 0);
        fuzz_check(na <= used_a);
        if (na == used_a && memcmp(ea, payload, na) == 0)
            fuzz_decode_exact++;
        else if (flags)
            fuzz_check(cut_at_nul(payload, used_a, ea, na));

        /* decode(encode(x)) == x, compared by encoding. */
        void *vr = calloc(1, t->size ? t->size : 1);
        fuzz_check(vr != NULL);
        virtwire_arena ar = VIRTWIRE_ARENA_INIT;
        fuzz_check(virtwire_decode(t, ea, na, &ar, vr) == 0);
        size_t nr;
        unsigned char *er = encode_exact(t, vr, &nr);
        fuzz_check(nr == na && memcmp(er, ea, na) == 0);
        free(er);
        free(vr);
        virtwire_arena_fini(&ar);
        free(ea);
        free(eh);
        t->free(vh);
    }
    free(va);
    free(vh);
    virtwire_arena_fini(&arena);
    return 0;
}
