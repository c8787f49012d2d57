/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the client tests against a real libvirtd (test driver) share
 * besides tests/lib.
 */
#ifndef VIRTWIRE_TESTS_CLIENT_TLIB_H
#define VIRTWIRE_TESTS_CLIENT_TLIB_H

#include "remote_protocol.h"
#include "virtwire_client.h"

/** The PNG libvirt's test driver sends as any domain's screenshot. */
#define CLT_SCREENSHOT_FILE "/usr/share/libvirt/test-screenshot.png"

/**
 * DOMAIN_LOOKUP_BY_NAME of the test driver's domain "test" on c with o:
 * checks that the call succeeds; the domain (zeroed when it failed).
 */
remote_nonnull_domain clt_lookup_test(virtwire_client *c, virtwire_call_opts *o);

/**
 * CONNECT_GET_HOSTNAME on c with o: the daemon runs on this machine, so it
 * names this host (libvirt may add the domain, the canonical name: ours is
 * a prefix).
 */
void clt_check_hostname(virtwire_client *c, virtwire_call_opts *o);

/**
 * DOMAIN_SCREENSHOT of the test driver's domain "test" on c: the reply
 * names image/png, the stream carries CLT_SCREENSHOT_FILE byte for byte
 * and finishes; each call and stream step waits up to timeout_ms.
 */
void clt_check_screenshot(virtwire_client *c, int timeout_ms);

#endif
