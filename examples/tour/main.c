/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tour URI DOMAIN: a first session with libvirt's daemon, with the typed
 * calls.
 *
 * Prints the daemon's libvirt version, the node's model, CPUs and memory,
 * every domain with its UUID and state, and DOMAIN's XML; destroys and
 * starts DOMAIN and prints the two lifecycle events that follow; then
 * libvirt's error for a domain that does not exist.  examples/tour.py does
 * the same with python3-libvirt, line for line (the test suite runs both
 * against one private libvirtd and compares what they print).
 *
 * Any failure ends the program with libvirt's message, as an exception
 * ends a script: the client's on_error is virtwire_exit_on_error().  The
 * replies live in one arena, released at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "remote_protocol_client.h"
#include "virtwire_libvirt.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        int help = argc == 2 && strcmp(argv[1], "--help") == 0;
        fputs("usage: tour URI DOMAIN\n", help ? stdout : stderr);
        return help ? 0 : 2;
    }
    virtwire_client_options co = VIRTWIRE_CLIENT_OPTIONS(.on_error = virtwire_exit_on_error);
    virtwire_client *c;
    virtwire_client_connect(argv[1], &co, &c);
    virtwire_arena arena = VIRTWIRE_ARENA_INIT;
    virtwire_call_opts o = VIRTWIRE_CALL_OPTS(.arena = &arena);

    printf("libvirt %s\n", VIRTWIRE_VERSION_TEXT(remote_reply_connect_get_lib_version(c, &o)->lib_ver));
    remote_node_get_info_ret *node = remote_reply_node_get_info(c, &o);
    printf("node: %.32s, %d CPUs, %" PRIu64 " MiB\n", node->model, node->cpus, node->memory / 1024);

    /* Every domain, listed (need_results is set for us), with its state. */
    remote_connect_list_all_domains_ret *all = remote_reply_connect_list_all_domains(c, NULL, &o);
    for (unsigned int i = 0; i < all->domains.domains_len; i++) {
        remote_domain_get_state_args d = { .dom = all->domains.domains_val[i] };
        int state = remote_reply_domain_get_state(c, &d, &o)->state;
        printf("%s %s %s\n", d.dom.name, VIRTWIRE_UUID_TEXT(d.dom.uuid), virtwire_domain_state_name(state));
    }
    remote_domain_lookup_by_name_args name = { argv[2] };
    remote_nonnull_domain dom = remote_reply_domain_lookup_by_name(c, &name, &o)->dom;
    remote_domain_get_xml_desc_args xml = { .dom = dom };
    fputs(remote_reply_domain_get_xml_desc(c, &xml, &o)->xml, stdout);

    /* DOMAIN's lifecycle events, kept for this thread to take (no handler). */
    remote_event_registration reg;
    remote_register_domain_event_lifecycle(c, &reg, &dom, NULL, NULL, &o);
    remote_call_domain_destroy(c, &(remote_domain_destroy_args){ dom }, &o);
    remote_call_domain_create(c, &(remote_domain_create_args){ dom }, &o);
    for (int i = 0; i < 2; i++) {
        remote_domain_event_callback_lifecycle_msg ev;
        remote_next_domain_event_callback_lifecycle(c, reg.handler_id, &ev, &o);
        printf("event %s: %s %d\n", ev.msg.dom.name, virtwire_domain_event_name(ev.msg.event), ev.msg.detail);
    }
    remote_deregister_event(c, &reg, &o);

    /* An error this program expects: the daemon's, told to nobody but us. */
    virNetMessageError err;
    virtwire_call_opts quiet = VIRTWIRE_CALL_OPTS(.arena = &arena, .error = &err,
                                                  .on_error = virtwire_error_ignore);
    name.name = "no-such-domain";
    if (!remote_reply_domain_lookup_by_name(c, &name, &quiet))
        printf("error %d: %s\n", err.code, *err.message);
    virtwire_client_close(c);
    virtwire_arena_fini(&arena);
    return 0;
}
