/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hello-libvirtd: talk to a libvirt daemon with nothing but the generated
 * codecs and a blocking unix socket.
 *
 *   hello-libvirtd SOCKET [URI]
 *
 * Sends what virsh sends to open a connection (AUTH_LIST, CONNECT_OPEN), then
 * asks for the host name, the library version and every domain, looks up a
 * domain that does not exist (to show a remote_error), and closes.  URI is the
 * name sent in CONNECT_OPEN (default "test:///default").
 *
 * This example frames messages by hand to show the wire format; programs
 * should use the transport and client layers instead.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "remote_protocol.h"
#include "virnetprotocol.h"
#include "virtwire_libvirt.h"

#define FRAME_MAX (4 + VIR_NET_MESSAGE_MAX)

static unsigned char frame[FRAME_MAX];
static uint32_t next_serial;

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, unsigned char *p, size_t n)
{
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/*
 * Calls remote procedure proc with args (of type args_t, NULL for void) and
 * decodes the reply into ret (of type ret_t) using arena.  Returns 0, or 1
 * with *err filled in when the daemon answered with an error, or -1 on a
 * transport or codec failure.
 */
static int call(int fd, int proc, const virtwire_type *args_t, const void *args,
                const virtwire_type *ret_t, void *ret, virtwire_arena *arena,
                virNetMessageError *err)
{
    virNetMessageHeader hdr = {
        .prog = REMOTE_PROGRAM,
        .vers = REMOTE_PROTOCOL_VERSION,
        .proc = proc,
        .type = VIR_NET_CALL,
        .serial = next_serial++,
        .status = VIR_NET_OK,
    };
    virtwire_enc e;
    virtwire_enc_init(&e, frame + 4, sizeof(frame) - 4);
    int rc = virNetMessageHeader_encode(&e, &hdr);
    if (rc == 0 && args_t)
        rc = args_t->encode(&e, args);
    if (rc < 0) {
        fprintf(stderr, "encode: %s\n", virtwire_strerror(rc));
        return -1;
    }
    size_t len = (size_t)(e.p - frame);
    virtwire_store_u32(frame, (uint32_t)len);
    if (write_all(fd, frame, len) < 0)
        return -1;

    for (;;) {
        if (read_all(fd, frame, 4) < 0)
            return -1;
        uint32_t flen = virtwire_load_u32(frame);
        if (flen < 28 || flen > FRAME_MAX || read_all(fd, frame + 4, flen - 4) < 0)
            return -1;
        virtwire_dec d;
        virtwire_dec_init(&d, frame + 4, flen - 4, arena);
        virNetMessageHeader rh;
        if (virNetMessageHeader_decode(&d, &rh) < 0)
            return -1;
        if (rh.type != VIR_NET_REPLY || rh.serial != hdr.serial)
            continue; /* an event or keepalive: not ours */
        const unsigned char *payload = d.p;
        size_t plen = virtwire_dec_left(&d);
        if (rh.status == VIR_NET_ERROR) {
            rc = virtwire_decode(&virNetMessageError_desc, payload, plen, arena, err);
            return rc < 0 ? -1 : 1;
        }
        if (!ret_t)
            return plen == 0 ? 0 : -1;
        rc = virtwire_decode(ret_t, payload, plen, arena, ret);
        if (rc < 0)
            fprintf(stderr, "decode: %s\n", virtwire_strerror(rc));
        return rc < 0 ? -1 : 0;
    }
}

static void print_error(const char *what, const virNetMessageError *err)
{
    printf("%s: error code=%d domain=%d message=\"%s\"\n", what, err->code, err->domain,
           err->message ? *err->message : "");
}

int main(int argc, char **argv)
{
    int help = argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    if (help || argc < 2 || argc > 3 || argv[1][0] == '-') {
        fprintf(help ? stdout : stderr, "usage: %s SOCKET [URI]\n"
                "Talks to the libvirt daemon at the unix socket SOCKET with the codecs\n"
                "alone (URI: the connection's name, test:///default by default).\n", argv[0]);
        return help ? 0 : 2;
    }
    char *uri = argc > 2 ? argv[2] : "test:///default";

    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "socket path too long\n");
        return 1;
    }
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror(argv[1]);
        return 1;
    }

    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    int status = 1;

    remote_auth_list_ret auth;
    if (call(fd, REMOTE_PROC_AUTH_LIST, NULL, NULL, &remote_auth_list_ret_desc, &auth, &arena, &err))
        goto out;
    printf("auth types:");
    for (unsigned int i = 0; i < auth.types.types_len; i++)
        printf(" %d", (int)auth.types.types_val[i]);
    printf("\n");
    virtwire_arena_reset(&arena);

    remote_connect_open_args open_args = { .name = &uri, .flags = 0 };
    if (call(fd, REMOTE_PROC_CONNECT_OPEN, &remote_connect_open_args_desc, &open_args, NULL, NULL,
             &arena, &err)) {
        print_error("open", &err);
        goto out;
    }
    printf("opened %s\n", uri);

    remote_connect_get_hostname_ret host;
    if (call(fd, REMOTE_PROC_CONNECT_GET_HOSTNAME, NULL, NULL, &remote_connect_get_hostname_ret_desc,
             &host, &arena, &err))
        goto out;
    printf("hostname: %s\n", host.hostname);

    remote_connect_get_lib_version_ret ver;
    if (call(fd, REMOTE_PROC_CONNECT_GET_LIB_VERSION, NULL, NULL,
             &remote_connect_get_lib_version_ret_desc, &ver, &arena, &err))
        goto out;
    printf("libvirt version: %" PRIu64 "\n", ver.lib_ver);

    remote_connect_list_all_domains_args la = { .need_results = 1, .flags = 0 };
    remote_connect_list_all_domains_ret doms;
    if (call(fd, REMOTE_PROC_CONNECT_LIST_ALL_DOMAINS, &remote_connect_list_all_domains_args_desc, &la,
             &remote_connect_list_all_domains_ret_desc, &doms, &arena, &err))
        goto out;
    printf("domains: %u\n", doms.ret);
    for (unsigned int i = 0; i < doms.domains.domains_len; i++) {
        const remote_nonnull_domain *dom = &doms.domains.domains_val[i];
        char uuid[VIRTWIRE_UUID_STRING_BUFLEN];
        printf("  id=%d name=%s uuid=%s\n", dom->id, dom->name,
               virtwire_uuid_format(dom->uuid, uuid));
    }
    virtwire_arena_reset(&arena);

    remote_domain_lookup_by_name_args lk = { .name = "no-such-domain" };
    remote_domain_lookup_by_name_ret lr;
    if (call(fd, REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME, &remote_domain_lookup_by_name_args_desc, &lk,
             &remote_domain_lookup_by_name_ret_desc, &lr, &arena, &err) != 1)
        goto out;
    print_error("lookup no-such-domain", &err);

    if (call(fd, REMOTE_PROC_CONNECT_CLOSE, NULL, NULL, NULL, NULL, &arena, &err))
        goto out;
    printf("closed\n");
    status = 0;
out:
    if (status)
        fprintf(stderr, "hello-libvirtd: failed\n");
    virtwire_arena_fini(&arena);
    close(fd);
    return status;
}
