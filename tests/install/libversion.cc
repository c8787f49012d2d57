// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A C++ program built against an installed virtwire (consumer-cxx): every
// installed header included (all_headers.h), then what libversion.c does:
// connects to URI, prints the daemon's library version and the error of a
// lookup that fails, the same lines.
//
//   libversion_cxx17 URI, libversion_cxx20 URI

#include <cstdio>
#include <cstring>

#include "all_headers.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: libversion_cxx URI\n");
        return 2;
    }
    virtwire_client_options co;
    std::memset(&co, 0, sizeof co);
    co.size = sizeof co;
    virtwire_client *c = nullptr;
    int rc = virtwire_client_connect(argv[1], &co, &c);
    if (rc < 0) {
        std::fprintf(stderr, "connect: %s\n", virtwire_strerror(rc));
        return 1;
    }
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virNetMessageError err;
    virtwire_call_opts opts{};
    opts.size = sizeof opts;
    opts.arena = &arena;
    opts.error = &err;
    remote_connect_get_lib_version_ret *ver = remote_reply_connect_get_lib_version(c, &opts);
    if (!ver) {
        std::fprintf(stderr, "CONNECT_GET_LIB_VERSION failed\n");
        virtwire_client_close(c);
        virtwire_arena_fini(&arena);
        return 1;
    }
    std::printf("libvirt version: %llu\n", static_cast<unsigned long long>(ver->lib_ver));

    remote_domain_lookup_by_name_args args{};
    args.name = const_cast<char *>("no-such-domain");
    remote_domain_lookup_by_name_ret dom;
    rc = remote_call_domain_lookup_by_name(c, &args, &dom, &opts);
    if (rc == VIRTWIRE_EREMOTE && err.code == VIR_ERR_NO_DOMAIN)
        std::printf("lookup: code=%d domain=%d\n", err.code, err.domain);
    else
        std::printf("lookup: %s\n", virtwire_strerror(rc));
    virtwire_arena_fini(&arena);
    virtwire_client_close(c);
    return 0;
}
