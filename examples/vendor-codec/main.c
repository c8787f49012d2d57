/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vendor-codec: libvirt's wire format from a project that copied virtwire's
 * runtime/ and generated/ into its own tree and builds them with plain cc
 * (see README.md).  No libvirt, no libtirpc, no code generation at build
 * time.
 *
 * It encodes the first call virsh sends after authentication,
 * REMOTE_PROC_CONNECT_OPEN("test:///default", 0), as a whole frame and
 * prints it in hex; decodes an error reply frame written out by hand below;
 * and looks a procedure up in the generated procedure table.
 */
#include <stdio.h>
#include <string.h>

#include "remote_protocol.h"
#include "virnetprotocol.h"

/* Prints bytes as hex, one space between 4-byte XDR words. */
static void print_hex(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s%02x", i && i % 4 == 0 ? " " : "", b[i]);
    printf("\n");
}

/*
 * Builds the CONNECT_OPEN call frame: the length word (the whole frame,
 * itself included), the 24-byte header, then remote_connect_open_args.
 * Returns the frame length, or a negative virtwire error code.
 */
static long build_connect_open(unsigned char *buf, size_t cap, uint32_t serial)
{
    remote_nonnull_string name = "test:///default";
    remote_connect_open_args args = { &name, 0 }; /* name is a remote_string: optional */
    virNetMessageHeader hdr = {
        REMOTE_PROGRAM, REMOTE_PROTOCOL_VERSION, REMOTE_PROC_CONNECT_OPEN,
        VIR_NET_CALL, serial, VIR_NET_OK,
    };
    /* _size() gives the exact encoding length, so the length word can be
     * written first. */
    size_t len = 4 + virNetMessageHeader_size(&hdr) + remote_connect_open_args_size(&args);
    virtwire_enc e;
    virtwire_enc_init(&e, buf, cap);
    VIRTWIRE_TRY(virtwire_put_u32(&e, (uint32_t)len));
    VIRTWIRE_TRY(virNetMessageHeader_encode(&e, &hdr));
    VIRTWIRE_TRY(remote_connect_open_args_encode(&e, &args));
    return (long)len;
}

/* A REPLY with status ERROR to that call, as a daemon sends it when a
 * domain lookup fails.  Written by hand: 92 bytes. */
static const unsigned char error_reply[] = {
    0x00, 0x00, 0x00, 0x5c,                         /* length 92 = 4 + 24 + 64 */
    0x20, 0x00, 0x80, 0x86, 0x00, 0x00, 0x00, 0x01, /* prog remote, vers 1 */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, /* proc 1, type REPLY */
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, /* serial 2, status ERROR */
    0x00, 0x00, 0x00, 0x2a,                         /* code 42 (VIR_ERR_NO_DOMAIN) */
    0x00, 0x00, 0x00, 0x0c,                         /* domain 12 (VIR_FROM_TEST) */
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, /* message: present, 16 bytes */
    'D', 'o', 'm', 'a', 'i', 'n', ' ', 'n', 'o', 't', ' ', 'f', 'o', 'u', 'n', 'd',
    0x00, 0x00, 0x00, 0x02,                         /* level 2 (VIR_ERR_ERROR) */
    0x00, 0x00, 0x00, 0x00,                         /* dom: NULL */
    0x00, 0x00, 0x00, 0x00,                         /* str1: NULL */
    0x00, 0x00, 0x00, 0x00,                         /* str2: NULL */
    0x00, 0x00, 0x00, 0x00,                         /* str3: NULL */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* int1 0, int2 0 */
    0x00, 0x00, 0x00, 0x00,                         /* net: NULL */
};

static const char *opt(const remote_string s)
{
    return s ? *s : "NULL";
}

/* Decodes the reply frame above and prints the header and the error. */
static int decode_error_reply(void)
{
    virtwire_dec d;
    virtwire_arena arena = VIRTWIRE_ARENA_INIT; /* holds every decoded pointer */
    virNetMessageHeader hdr;
    remote_error err;
    uint32_t len;
    int rc;

    virtwire_dec_init(&d, error_reply, sizeof(error_reply), &arena);
    if ((rc = virtwire_get_u32(&d, &len)) < 0 || len != sizeof(error_reply) ||
        (rc = virNetMessageHeader_decode(&d, &hdr)) < 0)
        goto out;
    printf("reply header: prog=0x%08x vers=%u proc=%d type=%d serial=%u status=%d\n",
           hdr.prog, hdr.vers, hdr.proc, (int)hdr.type, hdr.serial, (int)hdr.status);
    if (hdr.status != VIR_NET_ERROR) {
        rc = VIRTWIRE_EINVAL;
        goto out;
    }
    /* The rest of the frame is exactly one remote_error. */
    rc = virtwire_decode(&remote_error_desc, d.p, virtwire_dec_left(&d), &arena, &err);
    if (rc < 0)
        goto out;
    printf("remote_error: code=%d domain=%d message=\"%s\" level=%d dom=%s "
           "str1=%s str2=%s str3=%s int1=%d int2=%d net=%s\n",
           err.code, err.domain, opt(err.message), err.level, err.dom ? err.dom->name : "NULL",
           opt(err.str1), opt(err.str2), opt(err.str3), err.int1, err.int2,
           err.net ? err.net->name : "NULL");
out:
    virtwire_arena_fini(&arena);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
        fprintf(help ? stdout : stderr, "usage: %s\n"
                "Encodes a CONNECT_OPEN call and decodes an error reply, and prints both.\n",
                argv[0]);
        return help ? 0 : 2;
    }
    unsigned char frame[256];
    long n = build_connect_open(frame, sizeof(frame), 2);
    if (n < 0) {
        fprintf(stderr, "encoding failed: %s\n", virtwire_strerror((int)n));
        return 1;
    }
    printf("call frame (%ld bytes): ", n);
    print_hex(frame, (size_t)n);

    int rc = decode_error_reply();
    if (rc < 0) {
        fprintf(stderr, "decoding failed: %s\n", virtwire_strerror(rc));
        return 1;
    }

    const virtwire_proc *p = virtwire_program_find(&remote_program, 1);
    if (!p) {
        fprintf(stderr, "procedure 1 not in the table\n");
        return 1;
    }
    printf("procedure 1: %s (args %s, ret %s)\n", p->name, p->args ? p->args->name : "void",
           p->ret ? p->ret->name : "void");
    return 0;
}
