/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The values of the four workloads: how to build them and how to check a
 * decoded copy.  Included by codec_ours.c and by codec_ref.c, each after its
 * own remote_protocol.h: virtwire lays its structures out exactly like
 * rpcgen, with the same type and field names, so this one text builds the
 * same value for both codecs and checks both decoders the same way.
 */
#ifndef BENCH_CODEC_VALUES_H
#define BENCH_CODEC_VALUES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define W1_DOMAINS 1000u
#define W2_XML_LEN ((size_t)1 << 20)
#define W3_RECORDS 100u
#define W3_PARAMS 40u

/* libvirt's virTypedParameterType: the discriminants on the wire. */
enum { TP_INT = 1, TP_UINT, TP_LLONG, TP_ULLONG, TP_DOUBLE, TP_BOOLEAN, TP_STRING };

static inline void *values_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "bench codec: out of memory\n");
        exit(1);
    }
    return p;
}

static inline char *values_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(values_calloc(n, 1), s, n);
}

/* ---- domains (W1, and the record owners of W3) ------------------------ */

static inline void domain_name(char buf[16], unsigned i)
{
    snprintf(buf, 16, "vm-%05u", i);
}

static inline unsigned char domain_uuid_byte(unsigned i, unsigned k)
{
    return (unsigned char)(i * 131u + k * 17u + 1u);
}

static inline void build_domain(remote_nonnull_domain *d, unsigned i)
{
    char name[16];
    domain_name(name, i);
    d->name = values_strdup(name);
    for (unsigned k = 0; k < 16; k++)
        d->uuid[k] = (char)domain_uuid_byte(i, k);
    d->id = (int)i + 1;
}

static inline int check_domain(const remote_nonnull_domain *d, unsigned i)
{
    char name[16];
    domain_name(name, i);
    if (!d->name || strcmp(d->name, name) != 0 || d->id != (int)i + 1)
        return -1;
    for (unsigned k = 0; k < 16; k++)
        if ((unsigned char)d->uuid[k] != domain_uuid_byte(i, k))
            return -1;
    return 0;
}

/* ---- W1 ---------------------------------------------------------------- */

static inline void build_w1(remote_connect_list_all_domains_ret *v)
{
    v->domains.domains_len = W1_DOMAINS;
    v->domains.domains_val = values_calloc(W1_DOMAINS, sizeof(*v->domains.domains_val));
    for (unsigned i = 0; i < W1_DOMAINS; i++)
        build_domain(&v->domains.domains_val[i], i);
    v->ret = W1_DOMAINS;
}

static inline int check_w1(const remote_connect_list_all_domains_ret *v)
{
    if (v->domains.domains_len != W1_DOMAINS || v->ret != W1_DOMAINS)
        return -1;
    for (unsigned i = 0; i < W1_DOMAINS; i++)
        if (check_domain(&v->domains.domains_val[i], i) < 0)
            return -1;
    return 0;
}

/* ---- W2: a 1 MiB string of printable text ------------------------------ */

static inline char w2_char(size_t k)
{
    static const char text[] = "<domain type='kvm'><name>vm-00001</name></domain>\n";
    return text[k % (sizeof(text) - 1)];
}

static inline void build_w2(remote_domain_get_xml_desc_ret *v)
{
    char *s = values_calloc(W2_XML_LEN + 1, 1);
    for (size_t k = 0; k < W2_XML_LEN; k++)
        s[k] = w2_char(k);
    v->xml = s;
}

static inline int check_w2(const remote_domain_get_xml_desc_ret *v)
{
    if (!v->xml || strlen(v->xml) != W2_XML_LEN)
        return -1;
    for (size_t k = 0; k < W2_XML_LEN; k++)
        if (v->xml[k] != w2_char(k))
            return -1;
    return 0;
}

/* ---- W3: 100 records of 40 typed parameters ---------------------------- */

/* Parameter j of every record has type w3_type[j % 5] and field name
 * "block.<j / 5>.<w3_suffix[j % 5]>". */
static const int w3_type[5] = { TP_ULLONG, TP_LLONG, TP_UINT, TP_STRING, TP_DOUBLE };
static const char *const w3_suffix[5] = { "rd.bytes", "wr.bytes", "rd.reqs", "name", "rd.times" };

static inline void w3_field(char buf[32], unsigned j)
{
    snprintf(buf, 32, "block.%u.%s", j / 5, w3_suffix[j % 5]);
}

static inline uint64_t w3_ullong(unsigned r, unsigned j)
{
    return ((uint64_t)1 << 40) + (uint64_t)r * 1000003u + (uint64_t)j * 4096u;
}

static inline int64_t w3_llong(unsigned r, unsigned j)
{
    return -7 - (int64_t)r * 65537 - (int64_t)j;
}

static inline unsigned w3_uint(unsigned r, unsigned j)
{
    return r * W3_PARAMS + j;
}

static inline double w3_double(unsigned r, unsigned j)
{
    return (double)r + (double)j / 8.0;
}

static inline void build_param(remote_typed_param *p, unsigned r, unsigned j)
{
    char field[32];
    w3_field(field, j);
    p->field = values_strdup(field);
    p->value.type = w3_type[j % 5];
    switch (p->value.type) {
    case TP_ULLONG:
        p->value.remote_typed_param_value_u.ul = w3_ullong(r, j);
        break;
    case TP_LLONG:
        p->value.remote_typed_param_value_u.l = w3_llong(r, j);
        break;
    case TP_UINT:
        p->value.remote_typed_param_value_u.ui = w3_uint(r, j);
        break;
    case TP_STRING:
        p->value.remote_typed_param_value_u.s = values_strdup("vda");
        break;
    default:
        p->value.remote_typed_param_value_u.d = w3_double(r, j);
        break;
    }
}

static inline int check_param(const remote_typed_param *p, unsigned r, unsigned j)
{
    char field[32];
    w3_field(field, j);
    if (!p->field || strcmp(p->field, field) != 0 || p->value.type != w3_type[j % 5])
        return -1;
    switch (p->value.type) {
    case TP_ULLONG:
        return p->value.remote_typed_param_value_u.ul == w3_ullong(r, j) ? 0 : -1;
    case TP_LLONG:
        return p->value.remote_typed_param_value_u.l == w3_llong(r, j) ? 0 : -1;
    case TP_UINT:
        return p->value.remote_typed_param_value_u.ui == w3_uint(r, j) ? 0 : -1;
    case TP_STRING:
        return p->value.remote_typed_param_value_u.s &&
               strcmp(p->value.remote_typed_param_value_u.s, "vda") == 0 ? 0 : -1;
    default:
        /* exact: XDR carries the IEEE 754 bits unchanged */
        return p->value.remote_typed_param_value_u.d == w3_double(r, j) ? 0 : -1;
    }
}

static inline void build_w3(remote_connect_get_all_domain_stats_ret *v)
{
    v->retStats.retStats_len = W3_RECORDS;
    v->retStats.retStats_val = values_calloc(W3_RECORDS, sizeof(*v->retStats.retStats_val));
    for (unsigned r = 0; r < W3_RECORDS; r++) {
        remote_domain_stats_record *rec = &v->retStats.retStats_val[r];
        build_domain(&rec->dom, r);
        rec->params.params_len = W3_PARAMS;
        rec->params.params_val = values_calloc(W3_PARAMS, sizeof(*rec->params.params_val));
        for (unsigned j = 0; j < W3_PARAMS; j++)
            build_param(&rec->params.params_val[j], r, j);
    }
}

static inline int check_w3(const remote_connect_get_all_domain_stats_ret *v)
{
    if (v->retStats.retStats_len != W3_RECORDS)
        return -1;
    for (unsigned r = 0; r < W3_RECORDS; r++) {
        const remote_domain_stats_record *rec = &v->retStats.retStats_val[r];
        if (check_domain(&rec->dom, r) < 0 || rec->params.params_len != W3_PARAMS)
            return -1;
        for (unsigned j = 0; j < W3_PARAMS; j++)
            if (check_param(&rec->params.params_val[j], r, j) < 0)
                return -1;
    }
    return 0;
}

/* ---- W4 ---------------------------------------------------------------- */

static inline void build_w4(remote_domain_get_info_ret *v)
{
    v->state = 1;
    v->maxMem = 8388608;
    v->memory = 4194304;
    v->nrVirtCpu = 2;
    v->cpuTime = 123456789012345ull;
}

static inline int check_w4(const remote_domain_get_info_ret *v)
{
    return v->state == 1 && v->maxMem == 8388608 && v->memory == 4194304 &&
           v->nrVirtCpu == 2 && v->cpuTime == 123456789012345ull ? 0 : -1;
}

#endif /* BENCH_CODEC_VALUES_H */
