/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Prints what the name lookups of libvirt_constants.h and the UUID and
 * version helpers of virtwire_libvirt.h give, one line each, for
 * test_libvirt.py to check against python3-libvirt and virsh:
 *
 *   state VALUE NAME              virtwire_domain_state_name()
 *   reason STATE VALUE NAME       virtwire_domain_state_reason_name()
 *   event VALUE NAME              virtwire_domain_event_name()
 *   detail EVENT VALUE NAME       virtwire_domain_event_detail_name()
 *   eventid VALUE NAME            virtwire_domain_event_id_name()
 *   paramtype VALUE NAME          virtwire_typed_param_type_name()
 *   errcode VALUE NAME            virtwire_error_code_name()
 *   errdomain VALUE NAME          virtwire_error_domain_name()
 *   enum NAME VALUE MEMBER        virtwire_libvirt_enum_name() of every constant
 *
 * for every value from -2 to 120 (NAME "-" when the lookup gives NULL).
 * With arguments: `uuid TEXT` prints virtwire_uuid_parse()'s result and the
 * UUID formatted again; `version N` virtwire_version_format(N).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtwire_libvirt.h"

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "uuid") == 0) {
        char uuid[16], text[VIRTWIRE_UUID_STRING_BUFLEN];
        int rc = virtwire_uuid_parse(argv[2], uuid);
        printf("%d %s\n", rc, rc == 0 ? virtwire_uuid_format(uuid, text) : "-");
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "version") == 0) {
        char text[VIRTWIRE_VERSION_BUFLEN];
        virtwire_version v = virtwire_version_decode(strtoull(argv[2], NULL, 10));
        printf("%s %llu %u %u %llu\n", virtwire_version_format(strtoull(argv[2], NULL, 10), text),
               v.major, v.minor, v.micro,
               (unsigned long long)virtwire_version_pack(v.major, v.minor, v.micro));
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [uuid TEXT | version N]\n", argv[0]);
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    for (int v = -2; v <= 120; v++) {
        printf("state %d %s\n", v, or_dash(virtwire_domain_state_name(v)));
        printf("event %d %s\n", v, or_dash(virtwire_domain_event_name(v)));
        printf("eventid %d %s\n", v, or_dash(virtwire_domain_event_id_name(v)));
        printf("paramtype %d %s\n", v, or_dash(virtwire_typed_param_type_name(v)));
        printf("errcode %d %s\n", v, or_dash(virtwire_error_code_name(v)));
        printf("errdomain %d %s\n", v, or_dash(virtwire_error_domain_name(v)));
        for (int w = -2; w <= 20; w++) {
            printf("reason %d %d %s\n", v, w, or_dash(virtwire_domain_state_reason_name(v, w)));
            printf("detail %d %d %s\n", v, w, or_dash(virtwire_domain_event_detail_name(v, w)));
        }
    }
    for (size_t i = 0; i < virtwire_libvirt_nconstants; i++) {
        const virtwire_libvirt_constant *k = &virtwire_libvirt_constants[i];
        if (k->type)
            printf("enum %s %lld %s\n", k->type, k->value,
                   or_dash(virtwire_libvirt_enum_name(k->type, k->value)));
        if (virtwire_libvirt_constant_find(k->name) != k)
            printf("find %s wrong\n", k->name);
    }
    return 0;
}
