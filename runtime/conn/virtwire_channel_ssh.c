/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire channels to child processes: ssh and ext URIs.
 */
#include "virtwire_channel_internal.h"

int vw_channel_open_child(const virtwire_uri *uri, const virtwire_connect_params *p,
                          virtwire_channel **out)
{
    *out = NULL;
    vw_errorf(p->errbuf, p->errbuf_len, "transport '%s' is not supported yet",
                      virtwire_uri_transport_name(uri->transport));
    return VIRTWIRE_EUNSUPPORTED_TRANSPORT;
}
