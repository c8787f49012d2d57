/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stand-in for libnsl's internal nis_clnt.h, which nis_callback.x's RPC_XDR
 * %#include line names: rpcgen's code for it needs <rpcsvc/nis.h> and the
 * xdr functions of the nis_object.x and nis_error types it uses (rpcgen's
 * code for nis_object.x and nis.x's enum nis_error defines them). */
#ifndef VW_SHIM_NIS_CLNT_H
#define VW_SHIM_NIS_CLNT_H

#include <rpcsvc/nis.h>

extern bool_t xdr_nis_object(XDR *, nis_object *);
extern bool_t xdr_nis_error(XDR *, nis_error *);

#endif /* VW_SHIM_NIS_CLNT_H */
