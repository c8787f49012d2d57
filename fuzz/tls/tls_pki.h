/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Certificates made in memory with GnuTLS, for the TLS fuzz target and the
 * bad-input catalogue's tls layer (which cannot wait for certtool at
 * every run): a CA, a server certificate (DNS localhost, IP 127.0.0.1)
 * and a client certificate (C=GB,O=virtwire,CN=fuzz client), ECDSA P-256
 * keys, the key usage libvirt's checks want.
 */
#ifndef VIRTWIRE_FUZZ_TLS_PKI_H
#define VIRTWIRE_FUZZ_TLS_PKI_H

/*
 * Writes DIR/srv (cacert.pem, servercert.pem, serverkey.pem) and DIR/cli
 * (cacert.pem, clientcert.pem, clientkey.pem), making DIR and both.
 * Returns 0, or -1 with a message on stderr.
 */
int fz_tls_pki_write(const char *dir);

#endif
