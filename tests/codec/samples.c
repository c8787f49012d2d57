/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hand-built values and their encodings.  Every byte string below is
 * written from RFC 4506 and the .x declaration named in the comment above
 * it, not produced by virtwire's encoder:
 *   - int, unsigned int, enum, bool, char, short: one 4-byte big-endian word
 *     each (char and short too, also as array elements);
 *   - hyper: 8 bytes, high word first;
 *   - string<N> / opaque<N>: length word, the bytes, zero padding to 4;
 *   - opaque[N]: the N bytes and padding, no length word;
 *   - T x<N> (variable array): count word, then each element;
 *   - T *x (optional data): word 0, or word 1 then the T;
 *   - union: the discriminant word, then the selected arm.
 */
#include "samples.h"

#include <string.h>

#include "admin_protocol.h"
#include "remote_protocol.h"
#include "virnetprotocol.h"

/* ---- helpers comparing decoded values with the hand-built ones --------- */

static int eq_str(const char *a, const char *b)
{
    return a && b ? strcmp(a, b) == 0 : a == b;
}

static int eq_dom(const remote_nonnull_domain *a, const remote_nonnull_domain *b)
{
    return eq_str(a->name, b->name) && memcmp(a->uuid, b->uuid, 16) == 0 && a->id == b->id;
}

static int eq_opt_str(char *const *a, char *const *b)
{
    return a && b ? eq_str(*a, *b) : a == b;
}

static int eq_typed_value(const remote_typed_param_value *a, const remote_typed_param_value *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case 1: return a->remote_typed_param_value_u.i == b->remote_typed_param_value_u.i;
    case 2: return a->remote_typed_param_value_u.ui == b->remote_typed_param_value_u.ui;
    case 3: return a->remote_typed_param_value_u.l == b->remote_typed_param_value_u.l;
    case 4: return a->remote_typed_param_value_u.ul == b->remote_typed_param_value_u.ul;
    /* compare the bits: the sample's double is exact */
    case 5:
        return memcmp(&a->remote_typed_param_value_u.d, &b->remote_typed_param_value_u.d, 8) == 0;
    case 6: return a->remote_typed_param_value_u.b == b->remote_typed_param_value_u.b;
    case 7: return eq_str(a->remote_typed_param_value_u.s, b->remote_typed_param_value_u.s);
    default: return 0;
    }
}

/* ---- remote_nonnull_domain { remote_nonnull_string name; remote_uuid uuid; int id; } */

static char s_vm1[] = "vm1";
static remote_nonnull_domain v_domain = { s_vm1, { UUID_A }, 7 };
static const unsigned char w_domain[] = {
    W(3), 'v', 'm', '1', 0,     /* name: length 3, "vm1", 1 byte of padding */
    UUID_A,                     /* uuid: opaque[16] */
    W(7),                       /* id */
};

static int eq_domain(const void *a, const void *b)
{
    return eq_dom(a, b);
}

/* ---- remote_domain_get_info_ret { unsigned char state; unsigned hyper maxMem;
 *      unsigned hyper memory; unsigned short nrVirtCpu; unsigned hyper cpuTime; } */

static remote_domain_get_info_ret v_info = { 1, 1048576, 524288, 2, 0x123456789ull };
static const unsigned char w_info[] = {
    W(1),                       /* state: an unsigned char takes a whole word */
    H(0, 0x00100000),           /* maxMem 1048576 */
    H(0, 0x00080000),           /* memory 524288 */
    W(2),                       /* nrVirtCpu: an unsigned short takes a whole word */
    H(0x00000001, 0x23456789),  /* cpuTime 0x123456789 */
};

static int eq_info(const void *va, const void *vb)
{
    const remote_domain_get_info_ret *a = va, *b = vb;
    return a->state == b->state && a->maxMem == b->maxMem && a->memory == b->memory &&
           a->nrVirtCpu == b->nrVirtCpu && a->cpuTime == b->cpuTime;
}

/* ---- remote_connect_list_all_domains_ret
 *      { remote_nonnull_domain domains<REMOTE_DOMAIN_LIST_MAX>; unsigned int ret; } */

static char s_a[] = "a", s_bb[] = "bb", s_web01[] = "web-01";
static remote_nonnull_domain v_doms[] = {
    { s_a, { UUID_A }, 1 },
    { s_bb, { UUID_B }, 2 },
    { s_web01, { UUID_C }, -1 },
};
static remote_connect_list_all_domains_ret v_list = { { 3, v_doms }, 3 };
static const unsigned char w_list[] = {
    W(3),                                               /* 3 domains */
    W(1), 'a', 0, 0, 0, UUID_A, W(1),                   /* "a" + 3 pad, id 1 */
    W(2), 'b', 'b', 0, 0, UUID_B_WIRE, W(2),            /* "bb" + 2 pad, id 2 */
    W(6), 'w', 'e', 'b', '-', '0', '1', 0, 0, UUID_C,   /* "web-01" + 2 pad */
    0xff, 0xff, 0xff, 0xff,                             /* id -1 */
    W(3),                                               /* ret */
};

static int eq_list(const void *va, const void *vb)
{
    const remote_connect_list_all_domains_ret *a = va, *b = vb;
    if (a->domains.domains_len != b->domains.domains_len || a->ret != b->ret)
        return 0;
    for (unsigned i = 0; i < a->domains.domains_len; i++)
        if (!eq_dom(&a->domains.domains_val[i], &b->domains.domains_val[i]))
            return 0;
    return 1;
}

/* ---- remote_typed_param { remote_nonnull_string field; remote_typed_param_value value; }
 *      union remote_typed_param_value switch (int type) { case 1 (INT): int i;
 *      case 2 (UINT): unsigned int ui; case 3 (LLONG): hyper l;
 *      case 4 (ULLONG): unsigned hyper ul; case 5 (DOUBLE): double d;
 *      case 6 (BOOLEAN): int b; case 7 (STRING): remote_nonnull_string s; } */

static char s_i[] = "i", s_ui[] = "ui", s_ll[] = "ll", s_ull[] = "ull", s_d[] = "d", s_b[] = "b",
            s_s[] = "s", s_hello[] = "hello";
static remote_typed_param v_tp_int = { s_i, { 1, { .i = -5 } } };
static remote_typed_param v_tp_uint = { s_ui, { 2, { .ui = 0x80000000u } } };
static remote_typed_param v_tp_llong = { s_ll, { 3, { .l = -2 } } };
static remote_typed_param v_tp_ullong = { s_ull, { 4, { .ul = 0x0102030405060708ull } } };
static remote_typed_param v_tp_double = { s_d, { 5, { .d = 1.5 } } };
static remote_typed_param v_tp_bool = { s_b, { 6, { .b = 1 } } };
static remote_typed_param v_tp_string = { s_s, { 7, { .s = s_hello } } };

static const unsigned char w_tp_int[] = {
    W(1), 'i', 0, 0, 0,         /* field "i" */
    W(1),                       /* type INT */
    0xff, 0xff, 0xff, 0xfb,     /* -5, two's complement */
};
static const unsigned char w_tp_uint[] = {
    W(2), 'u', 'i', 0, 0, W(2), /* field "ui", type UINT */
    0x80, 0x00, 0x00, 0x00,     /* 0x80000000 */
};
static const unsigned char w_tp_llong[] = {
    W(2), 'l', 'l', 0, 0, W(3), /* field "ll", type LLONG */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /* -2 as a hyper */
};
static const unsigned char w_tp_ullong[] = {
    W(3), 'u', 'l', 'l', 0, W(4), /* field "ull", type ULLONG */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
};
static const unsigned char w_tp_double[] = {
    W(1), 'd', 0, 0, 0, W(5),   /* field "d", type DOUBLE */
    /* 1.5 = 1.1b x 2^0: sign 0, exponent 1023 (0x3ff), fraction 0x8000000000000 */
    0x3f, 0xf8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const unsigned char w_tp_bool[] = {
    W(1), 'b', 0, 0, 0, W(6), W(1), /* field "b", type BOOLEAN, b = 1 */
};
static const unsigned char w_tp_string[] = {
    W(1), 's', 0, 0, 0, W(7),   /* field "s", type STRING */
    W(5), 'h', 'e', 'l', 'l', 'o', 0, 0, 0, /* "hello" + 3 pad */
};

static int eq_tp(const void *va, const void *vb)
{
    const remote_typed_param *a = va, *b = vb;
    return eq_str(a->field, b->field) && eq_typed_value(&a->value, &b->value);
}

/* ---- remote_error { int code; int domain; remote_string message; int level;
 *      remote_domain dom; remote_string str1, str2, str3; int int1, int2;
 *      remote_network net; }  (remote_string is remote_nonnull_string *) */

static char s_notfound[] = "Domain not found";
static char *p_notfound = s_notfound, *p_vm1 = s_vm1;
static remote_nonnull_domain v_err_dom = { s_vm1, { UUID_A }, -1 };
static remote_error v_rerror = { 42, 12, &p_notfound, 2, &v_err_dom, &p_vm1, NULL, NULL,
                                 -1, 0x7fffffff, NULL };
static const unsigned char w_rerror[] = {
    W(42), W(12),               /* code, domain */
    W(1), W(16),                /* message present, 16 bytes, no padding */
    'D', 'o', 'm', 'a', 'i', 'n', ' ', 'n', 'o', 't', ' ', 'f', 'o', 'u', 'n', 'd',
    W(2),                       /* level */
    W(1),                       /* dom present */
    W(3), 'v', 'm', '1', 0, UUID_A, 0xff, 0xff, 0xff, 0xff, /* {"vm1", A, -1} */
    W(1), W(3), 'v', 'm', '1', 0, /* str1 "vm1" */
    W(0), W(0),                 /* str2, str3 absent */
    0xff, 0xff, 0xff, 0xff,     /* int1 -1 */
    0x7f, 0xff, 0xff, 0xff,     /* int2 INT_MAX */
    W(0),                       /* net absent */
};

static int eq_rerror(const void *va, const void *vb)
{
    const remote_error *a = va, *b = vb;
    return a->code == b->code && a->domain == b->domain &&
           eq_opt_str(a->message, b->message) && a->level == b->level &&
           (a->dom && b->dom ? eq_dom(a->dom, b->dom) : a->dom == b->dom) &&
           eq_opt_str(a->str1, b->str1) && eq_opt_str(a->str2, b->str2) &&
           eq_opt_str(a->str3, b->str3) && a->int1 == b->int1 && a->int2 == b->int2 &&
           (a->net && b->net ? eq_str(a->net->name, b->net->name) &&
                                   memcmp(a->net->uuid, b->net->uuid, 16) == 0
                             : a->net == b->net);
}

/* ---- virNetMessageError: the same layout in virnetprotocol.x */

static char s_nonet[] = "no net", s_s2[] = "s2", s_default[] = "default";
static char *p_nonet = s_nonet, *p_s2 = s_s2;
static virNetMessageNonnullNetwork v_net = { s_default, { UUID_B } };
static virNetMessageError v_nerror = { 43, 19, &p_nonet, 1, NULL, NULL, &p_s2, NULL,
                                       -2, 7, &v_net };
static const unsigned char w_nerror[] = {
    W(43), W(19),               /* code, domain */
    W(1), W(6), 'n', 'o', ' ', 'n', 'e', 't', 0, 0, /* message "no net" + 2 pad */
    W(1),                       /* level */
    W(0),                       /* dom absent */
    W(0),                       /* str1 absent */
    W(1), W(2), 's', '2', 0, 0, /* str2 "s2" + 2 pad */
    W(0),                       /* str3 absent */
    0xff, 0xff, 0xff, 0xfe,     /* int1 -2 */
    W(7),                       /* int2 */
    W(1),                       /* net present */
    W(7), 'd', 'e', 'f', 'a', 'u', 'l', 't', 0, UUID_B_WIRE, /* {"default", B} */
};

static int eq_nerror(const void *va, const void *vb)
{
    /* same layout as remote_error, member for member */
    const virNetMessageError *a = va, *b = vb;
    return a->code == b->code && a->domain == b->domain &&
           eq_opt_str(a->message, b->message) && a->level == b->level &&
           (a->dom && b->dom ? eq_str(a->dom->name, b->dom->name) : a->dom == b->dom) &&
           eq_opt_str(a->str1, b->str1) && eq_opt_str(a->str2, b->str2) &&
           eq_opt_str(a->str3, b->str3) && a->int1 == b->int1 && a->int2 == b->int2 &&
           (a->net && b->net ? eq_str(a->net->name, b->net->name) &&
                                   memcmp(a->net->uuid, b->net->uuid, 16) == 0
                             : a->net == b->net);
}

/* ---- remote_node_get_info_ret { char model[32]; unsigned hyper memory;
 *      int cpus, mhz, nodes, sockets, cores, threads; } */

static remote_node_get_info_ret v_node = { "x86_64", 16384000, 8, 2400, 1, 1, 4, 2 };
static const unsigned char w_node[] = {
    /* model: 32 chars, one word each: "x86_64" then 26 NULs */
    W('x'), W('8'), W('6'), W('_'), W('6'), W('4'),
    W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0),
    W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0), W(0),
    H(0, 0x00fa0000),           /* memory 16384000 */
    W(8), W(0x960),             /* cpus 8, mhz 2400 */
    W(1), W(1), W(4), W(2),     /* nodes, sockets, cores, threads */
};

static int eq_node(const void *va, const void *vb)
{
    const remote_node_get_info_ret *a = va, *b = vb;
    return memcmp(a->model, b->model, 32) == 0 && a->memory == b->memory &&
           a->cpus == b->cpus && a->mhz == b->mhz && a->nodes == b->nodes &&
           a->sockets == b->sockets && a->cores == b->cores && a->threads == b->threads;
}

/* ---- remote_domain_get_security_label_ret
 *      { char label<REMOTE_SECURITY_LABEL_MAX>; int enforcing; } */

static char s_label[] = { 's', '0', ':', 'c', '1', 0 }; /* libvirt sends the NUL */
static remote_domain_get_security_label_ret v_seclabel = { { 6, s_label }, 1 };
static const unsigned char w_seclabel[] = {
    W(6),                       /* 6 chars, each a whole word */
    W('s'), W('0'), W(':'), W('c'), W('1'), W(0),
    W(1),                       /* enforcing */
};

static int eq_seclabel(const void *va, const void *vb)
{
    const remote_domain_get_security_label_ret *a = va, *b = vb;
    return a->label.label_len == b->label.label_len &&
           memcmp(a->label.label_val, b->label.label_val, a->label.label_len) == 0 &&
           a->enforcing == b->enforcing;
}

/* ---- remote_domain_pin_vcpu_args { remote_nonnull_domain dom;
 *      unsigned int vcpu; opaque cpumap<REMOTE_CPUMAP_MAX>; } */

static char s_cpumap[] = { 0x0f, (char)0xf0, 0x01 };
static remote_domain_pin_vcpu_args v_pin = { { s_vm1, { UUID_A }, 3 }, 1, { 3, s_cpumap } };
static const unsigned char w_pin[] = {
    W(3), 'v', 'm', '1', 0, UUID_A, W(3), /* dom {"vm1", A, 3} */
    W(1),                       /* vcpu */
    W(3), 0x0f, 0xf0, 0x01, 0,  /* cpumap: 3 bytes + 1 pad */
};

static int eq_pin(const void *va, const void *vb)
{
    const remote_domain_pin_vcpu_args *a = va, *b = vb;
    return eq_dom(&a->dom, &b->dom) && a->vcpu == b->vcpu &&
           a->cpumap.cpumap_len == b->cpumap.cpumap_len &&
           memcmp(a->cpumap.cpumap_val, b->cpumap.cpumap_val, a->cpumap.cpumap_len) == 0;
}

/* ---- virNetMessageHeader { unsigned prog; unsigned vers; int proc;
 *      virNetMessageType type; unsigned serial; virNetMessageStatus status; }
 *      The CONNECT_OPEN call seen on the wire (docs/protocol.md, "Connection setup"). */

static virNetMessageHeader v_header = { 0x20008086, 1, 1, VIR_NET_CALL, 2, VIR_NET_OK };
static const unsigned char w_header[] = {
    0x20, 0x00, 0x80, 0x86, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
};

static int eq_header(const void *a, const void *b)
{
    /* six 4-byte members, no padding, no pointers */
    return memcmp(a, b, sizeof(virNetMessageHeader)) == 0;
}

/* ---- virNetStreamHole { hyper length; unsigned int flags; } */

static virNetStreamHole v_hole = { 0x100000005ll, 0 };
static const unsigned char w_hole[] = { H(1, 5), W(0) };

static int eq_hole(const void *va, const void *vb)
{
    const virNetStreamHole *a = va, *b = vb;
    return a->length == b->length && a->flags == b->flags;
}

/* ---- remote_auth_list_ret { remote_auth_type types<REMOTE_AUTH_TYPE_LIST_MAX>; } */

static remote_auth_type v_auth_types[] = { REMOTE_AUTH_NONE, REMOTE_AUTH_POLKIT };
static remote_auth_list_ret v_auth = { { 2, v_auth_types } };
static const unsigned char w_auth[] = { W(2), W(0), W(2) };

static int eq_auth(const void *va, const void *vb)
{
    const remote_auth_list_ret *a = va, *b = vb;
    return a->types.types_len == b->types.types_len &&
           memcmp(a->types.types_val, b->types.types_val,
                  a->types.types_len * sizeof(remote_auth_type)) == 0;
}

/* ---- remote_domain_event_callback_lifecycle_msg { int callbackID;
 *      remote_domain_event_lifecycle_msg msg { remote_nonnull_domain dom;
 *      int event; int detail; } } */

static remote_domain_event_callback_lifecycle_msg v_event = {
    1, { { s_vm1, { UUID_A }, 1 }, 2, 0 }
};
static const unsigned char w_event[] = {
    W(1),                                   /* callbackID */
    W(3), 'v', 'm', '1', 0, UUID_A, W(1),   /* dom {"vm1", A, 1} */
    W(2), W(0),                             /* event STARTED, detail 0 */
};

static int eq_event(const void *va, const void *vb)
{
    const remote_domain_event_callback_lifecycle_msg *a = va, *b = vb;
    return a->callbackID == b->callbackID && eq_dom(&a->msg.dom, &b->msg.dom) &&
           a->msg.event == b->msg.event && a->msg.detail == b->msg.detail;
}

/* ---- admin_connect_list_servers_ret { admin_nonnull_server servers<>; unsigned ret; } */

static char s_libvirtd[] = "libvirtd", s_admin[] = "admin";
static admin_nonnull_server v_servers[] = { { s_libvirtd }, { s_admin } };
static admin_connect_list_servers_ret v_srvlist = { { 2, v_servers }, 2 };
static const unsigned char w_srvlist[] = {
    W(2),                                               /* 2 servers */
    W(8), 'l', 'i', 'b', 'v', 'i', 'r', 't', 'd',       /* no padding */
    W(5), 'a', 'd', 'm', 'i', 'n', 0, 0, 0,             /* 3 pad */
    W(2),                                               /* ret */
};

static int eq_srvlist(const void *va, const void *vb)
{
    const admin_connect_list_servers_ret *a = va, *b = vb;
    if (a->servers.servers_len != b->servers.servers_len || a->ret != b->ret)
        return 0;
    for (unsigned i = 0; i < a->servers.servers_len; i++)
        if (!eq_str(a->servers.servers_val[i].name, b->servers.servers_val[i].name))
            return 0;
    return 1;
}

/* ---- admin_client_get_info_ret { admin_typed_param params<ADMIN_CLIENT_INFO_PARAMETERS_MAX>; }
 *      admin_typed_param_value has the same arms as remote_typed_param_value. */

static char s_readonly[] = "readonly", s_sockaddr[] = "sock_addr", s_ip[] = "127.0.0.1";
static admin_typed_param v_cparams[] = {
    { s_readonly, { 6, { .b = 1 } } },
    { s_sockaddr, { 7, { .s = s_ip } } },
};
static admin_client_get_info_ret v_cinfo = { { 2, v_cparams } };
static const unsigned char w_cinfo[] = {
    W(2),                                                       /* 2 params */
    W(8), 'r', 'e', 'a', 'd', 'o', 'n', 'l', 'y', W(6), W(1),   /* BOOLEAN 1 */
    W(9), 's', 'o', 'c', 'k', '_', 'a', 'd', 'd', 'r', 0, 0, 0, /* 3 pad */
    W(7), W(9), '1', '2', '7', '.', '0', '.', '0', '.', '1', 0, 0, 0, /* STRING */
};

static int eq_cinfo(const void *va, const void *vb)
{
    const admin_client_get_info_ret *a = va, *b = vb;
    if (a->params.params_len != 2 || b->params.params_len != 2)
        return 0;
    const admin_typed_param *x = a->params.params_val, *y = b->params.params_val;
    return eq_str(x[0].field, y[0].field) && x[0].value.type == 6 && y[0].value.type == 6 &&
           x[0].value.admin_typed_param_value_u.b == y[0].value.admin_typed_param_value_u.b &&
           eq_str(x[1].field, y[1].field) && x[1].value.type == 7 && y[1].value.type == 7 &&
           eq_str(x[1].value.admin_typed_param_value_u.s, y[1].value.admin_typed_param_value_u.s);
}

/* ---- remote_connect_get_capabilities_ret { remote_nonnull_string capabilities; }
 *      A long string (603 bytes): longer than any short-string fast path. */

#define T10 "0123456789"
#define T100 T10 T10 T10 T10 T10 T10 T10 T10 T10 T10
#define CAPS T100 T100 T100 T100 T100 T100 "abc"
static char s_caps[] = CAPS;
static remote_connect_get_capabilities_ret v_caps = { s_caps };
/* length 603 = 0x25b, the 603 bytes, 1 byte of padding (a string literal:
 * sizeof - 1 leaves out its own terminating NUL) */
static const char w_caps[] = "\x00\x00\x02\x5b" CAPS "\0";

static int eq_caps(const void *va, const void *vb)
{
    const remote_connect_get_capabilities_ret *a = va, *b = vb;
    return eq_str(a->capabilities, b->capabilities);
}

#define SAMPLE(label, T, v, w, eq) { label, &T##_desc, &v, w, sizeof(w), eq }

const vwt_sample vwt_samples[] = {
    SAMPLE("nonnull_domain", remote_nonnull_domain, v_domain, w_domain, eq_domain),
    SAMPLE("domain_get_info_ret", remote_domain_get_info_ret, v_info, w_info, eq_info),
    SAMPLE("list_all_domains_ret", remote_connect_list_all_domains_ret, v_list, w_list, eq_list),
    SAMPLE("typed_param INT", remote_typed_param, v_tp_int, w_tp_int, eq_tp),
    SAMPLE("typed_param UINT", remote_typed_param, v_tp_uint, w_tp_uint, eq_tp),
    SAMPLE("typed_param LLONG", remote_typed_param, v_tp_llong, w_tp_llong, eq_tp),
    SAMPLE("typed_param ULLONG", remote_typed_param, v_tp_ullong, w_tp_ullong, eq_tp),
    SAMPLE("typed_param DOUBLE", remote_typed_param, v_tp_double, w_tp_double, eq_tp),
    SAMPLE("typed_param BOOLEAN", remote_typed_param, v_tp_bool, w_tp_bool, eq_tp),
    SAMPLE("typed_param STRING", remote_typed_param, v_tp_string, w_tp_string, eq_tp),
    SAMPLE("remote_error", remote_error, v_rerror, w_rerror, eq_rerror),
    SAMPLE("virNetMessageError", virNetMessageError, v_nerror, w_nerror, eq_nerror),
    SAMPLE("node_get_info_ret", remote_node_get_info_ret, v_node, w_node, eq_node),
    SAMPLE("security_label_ret", remote_domain_get_security_label_ret, v_seclabel, w_seclabel,
           eq_seclabel),
    SAMPLE("pin_vcpu_args", remote_domain_pin_vcpu_args, v_pin, w_pin, eq_pin),
    SAMPLE("virNetMessageHeader", virNetMessageHeader, v_header, w_header, eq_header),
    SAMPLE("virNetStreamHole", virNetStreamHole, v_hole, w_hole, eq_hole),
    SAMPLE("auth_list_ret", remote_auth_list_ret, v_auth, w_auth, eq_auth),
    SAMPLE("callback_lifecycle_msg", remote_domain_event_callback_lifecycle_msg, v_event,
           w_event, eq_event),
    SAMPLE("admin list_servers_ret", admin_connect_list_servers_ret, v_srvlist, w_srvlist,
           eq_srvlist),
    SAMPLE("admin client_get_info_ret", admin_client_get_info_ret, v_cinfo, w_cinfo, eq_cinfo),
    { "get_capabilities_ret (603-byte string)", &remote_connect_get_capabilities_ret_desc,
      &v_caps, (const unsigned char *)w_caps, sizeof(w_caps) - 1, eq_caps },
};

const size_t vwt_nsamples = sizeof(vwt_samples) / sizeof(vwt_samples[0]);
