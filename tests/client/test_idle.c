/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The client against a private libvirtd whose keepalive is strict
 * (interval 1 s, count 1: a client that does not answer PINGs is dropped
 * after about 2 s):
 *
 *   - idle through three keepalive intervals and more, the connection
 *     survives (the daemon pinged, the client answered) and calls work;
 *   - DOMAIN_CREATE_XML_WITH_FILES through the generated typed call, with
 *     two real pipe fds passed to the daemon.
 */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote_protocol_client.h"
#include "virtwire_client.h"
#include "vt_check.h"
#include "vt_daemon.h"
#include "vt_sys.h"

static void idle_survives(const vt_libvirtd *d)
{
    virtwire_client *c;
    CHECK_RC(virtwire_client_connect(d->uri, NULL, &c), 0);
    if (!c)
        return;
    vt_sleep_ms(3500); /* more than three intervals, no call of ours */
    CHECK_RC(virtwire_client_error(c), 0);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = 5000 };
    remote_connect_get_lib_version_ret ver;
    CHECK_RC(remote_call_connect_get_lib_version(c, &ver, &opts), 0);
    CHECK(ver.lib_ver >= 9000000);
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
}

static void create_with_files(const vt_libvirtd *d)
{
    virtwire_client *c;
    CHECK_RC(virtwire_client_connect(d->uri, NULL, &c), 0);
    if (!c)
        return;
    int p1[2], p2[2];
    CHECK(pipe(p1) == 0 && pipe(p2) == 0);
    int fds[2] = { p1[0], p2[0] };
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts opts = { .size = sizeof opts, .arena = &arena, .timeout_ms = 5000, .fds = fds, .nfds = 2,
                                .error = &err };
    remote_domain_create_xml_with_files_args args = {
        .xml_desc = "<domain type='test'><name>vw-fds</name><memory>1024</memory>"
                    "<os><type>hvm</type></os></domain>",
        .flags = 0,
    };
    remote_domain_create_xml_with_files_ret ret;
    CHECK_RC(remote_call_domain_create_xml_with_files(c, &args, &ret, &opts), 0);
    CHECK(ret.dom.name && strcmp(ret.dom.name, "vw-fds") == 0);
    CHECK(ret.dom.id > 0);
    /* The fds were lent for the call only: ours are still open. */
    CHECK(fcntl(p1[0], F_GETFD) >= 0 && fcntl(p2[0], F_GETFD) >= 0);
    virtwire_call_opts plain = { .size = sizeof plain, .arena = &arena, .timeout_ms = 5000, .error = &err };
    remote_domain_destroy_args da = { .dom = ret.dom };
    CHECK_RC(remote_call_domain_destroy(c, &da, &plain), 0);
    close(p1[0]), close(p1[1]), close(p2[0]), close(p2[1]);
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PRIVATE_LIBVIRTD_SCRIPT\n", argv[0]);
        return 2;
    }
    setenv("VIRTWIRE_KEEPALIVE_INTERVAL", "1", 1);
    setenv("VIRTWIRE_KEEPALIVE_COUNT", "1", 1);
    vt_libvirtd d;
    vt_libvirtd_start(&d, argv[1], 0);
    idle_survives(&d);
    create_with_files(&d);
    vt_libvirtd_stop(&d);
    return vt_finish("client.idle");
}
