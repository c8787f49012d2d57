/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtwire: call any libvirt procedure with JSON arguments, watch events,
 * move stream data, list procedures, and decode captured traffic.  See
 * README.md in this directory and `virtwire --help`.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tool.h"

#include "libvirt_protocols_json.h"
#include "remote_protocol.h"
#include "virtwire_libvirt.h"

#ifndef VIRTWIRE_TOOL_VERSION
#define VIRTWIRE_TOOL_VERSION "0"
#endif

/* The commands, each with its usage and what it does (virtwire --help,
 * virtwire COMMAND --help, and the usage errors of each). */
static int cmd_procs(int argc, char **argv);
static int cmd_const(int argc, char **argv);

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *usage; /* after "virtwire " */
    const char *what;
} commands[] = {
    { "call", vt_cmd_call, "call [--readonly] [--timeout SECONDS] URI PROCEDURE [ARGS]",
      "call PROCEDURE with ARGS (JSON; '-' reads stdin; absent: all members\n"
      "zero, need_results 1 for list procedures) and print its reply as JSON" },
    { "events", vt_cmd_events, "events [--readonly] [--count N] [--timeout SECONDS] URI",
      "register for every event the daemon offers and print them as JSON\n"
      "lines until N events, SECONDS or SIGINT" },
    { "download", vt_cmd_download,
      "download [--readonly] [--timeout SECONDS] URI PROCEDURE ARGS FILE",
      "call a procedure that streams data to the client (screenshot,\n"
      "volume download) and write the data to FILE ('-': stdout)" },
    { "upload", vt_cmd_upload, "upload [--sparse] [--timeout SECONDS] URI PROCEDURE ARGS FILE",
      "call a procedure that streams data to the daemon (volume upload)\n"
      "and send FILE ('-': stdin); --sparse sends its holes as holes" },
    { "procs", cmd_procs, "procs [--json] [PROGRAM] | procs --c PROCEDURE",
      "list procedures with their argument, return and message types, flags\n"
      "and the libvirt release each exists since (>=: a lower bound); with\n"
      "--c, a procedure's C call, its structures and an example" },
    { "const", cmd_const, "const [NAME | ENUM [VALUE]]",
      "libvirt's constants: NAME's value (VIR_DOMAIN_RUNNING), an enum's\n"
      "members (virDomainState), the name of VALUE in ENUM; without\n"
      "arguments every enum" },
    { "decode", vt_cmd_decode, "decode [--port PORT] [FILE]",
      "print every libvirt frame of a capture (pcap, pcapng, or the raw\n"
      "bytes of one connection) as a JSON line" },
    { "proxy", vt_cmd_proxy,
      "proxy --listen unix:PATH|tcp:HOST:PORT --to URI [--log FILE.jsonl]\n"
      "        [--log-data] [--pcapng FILE] [--read-only] [--deny PROC,...]\n"
      "        [--allow PROC,...]",
      "relay every client to the daemon URI designates, one connection\n"
      "each, recording each message as a JSON line and in a capture;\n"
      "refuse the calls the filters name, as libvirtd would" },
    { "replay", vt_cmd_replay, "replay --listen unix:PATH|tcp:HOST:PORT RECORDING.jsonl",
      "serve a session recorded by proxy --log as a daemon: recorded calls\n"
      "answered as they were, with their events and stream data" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char usage_tail[] =
    "\n"
    "Every command takes --help.  PROCEDURE: REMOTE_PROC_CONNECT_GET_HOSTNAME,\n"
    "connect_get_hostname (remote), PROGRAM:NAME (qemu:domain_monitor_command,\n"
    "admin:connect_list_servers) or PROGRAM:NUMBER.  Programs: remote, qemu,\n"
    "lxc, admin (admin procedures connect to an admin socket:\n"
    "libvirtd:///system?socket=...), and for procs and decode also keepalive,\n"
    "lock, log, lxc_monitor.\n"
    "\n"
    "Exit status: 0 success, 1 the daemon answered with an error (printed as\n"
    "JSON on stderr), 2 usage (unknown procedure, bad JSON, bad arguments),\n"
    "3 connection failed or lost, 4 timed out, 5 other failures.\n";

/* Prints "  " + usage and the description indented by six. */
static void print_command(FILE *f, const struct command *c)
{
    fprintf(f, "  %s\n      ", c->usage);
    for (const char *p = c->what; *p; p++) {
        fputc(*p, f);
        if (*p == '\n')
            fputs("      ", f);
    }
    fputc('\n', f);
}

static void print_usage(FILE *f)
{
    fputs("usage: virtwire [--pretty] COMMAND ...\n\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        print_command(f, &commands[i]);
    fputs(usage_tail, f);
}

const char *vt_usage(const char *cmd)
{
    static char buf[NCOMMANDS][160];
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, cmd) == 0) {
            snprintf(buf[i], sizeof buf[i], "virtwire %s", commands[i].usage);
            return buf[i];
        }
    return "virtwire --help";
}

int vt_pretty;

int vt_error(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("virtwire: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* ------------------------------------------------------------------------ */
/* Modules and programs                                                     */
/* ------------------------------------------------------------------------ */

/* virtwire_libvirt_json_modules[] (libvirt_protocols_json.h, generated with
 * the converters) holds the converters of libvirt's nine modules, and through
 * them their protocols. */

/* Short names of the programs whose table names are long. */
static const struct {
    const char *alias;
    const char *name;
} aliases[] = {
    { "lock", "virLockSpaceProtocol" },
    { "log", "virLogManagerProtocol" },
    { "lxc_monitor", "virLXCMonitor" },
    { "lxc-monitor", "virLXCMonitor" },
};

size_t vt_program_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < virtwire_libvirt_njson_modules; i++)
        n += virtwire_libvirt_json_modules[i]->protocol->nprograms;
    return n;
}

const virtwire_program *vt_program(size_t i)
{
    for (size_t m = 0; m < virtwire_libvirt_njson_modules; m++) {
        if (i < virtwire_libvirt_json_modules[m]->protocol->nprograms)
            return virtwire_libvirt_json_modules[m]->protocol->programs[i];
        i -= virtwire_libvirt_json_modules[m]->protocol->nprograms;
    }
    return NULL;
}

const virtwire_program *vt_program_by_name(const char *name)
{
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (strcasecmp(aliases[i].alias, name) == 0)
            name = aliases[i].name;
    for (size_t i = 0; i < vt_program_count(); i++)
        if (strcasecmp(vt_program(i)->name, name) == 0)
            return vt_program(i);
    return NULL;
}

const virtwire_program *vt_program_by_number(uint32_t prog, uint32_t vers)
{
    for (size_t i = 0; i < vt_program_count(); i++)
        if (vt_program(i)->program == prog && vt_program(i)->version == vers)
            return vt_program(i);
    return NULL;
}

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static const virtwire_proc *find_in(const virtwire_program *p, const char *name)
{
    if (all_digits(name)) {
        errno = 0;
        long n = strtol(name, NULL, 10);
        return errno || n > INT32_MAX ? NULL : virtwire_program_find(p, (int32_t)n);
    }
    return virtwire_program_find_name(p, name);
}

const virtwire_proc *vt_resolve(const char *spec, const virtwire_program **prog)
{
    char name[256];
    if (strlen(spec) >= sizeof(name)) {
        vt_error(VT_USAGE, "unknown procedure '%.40s...'", spec);
        return NULL;
    }
    /* Dashes may stand for underscores (connect-get-hostname). */
    size_t n = 0;
    for (const char *s = spec; *s; s++)
        name[n++] = *s == '-' ? '_' : *s;
    name[n] = '\0';
    char *colon = strchr(name, ':');
    if (colon) {
        *colon = '\0';
        /* The program part keeps its dashes: "lxc-monitor". */
        char pname[256];
        memcpy(pname, spec, (size_t)(colon - name));
        pname[colon - name] = '\0';
        const virtwire_program *p = vt_program_by_name(pname);
        if (!p) {
            vt_error(VT_USAGE, "unknown program '%s' in '%s' (programs: remote, qemu, lxc, "
                     "admin, keepalive, lock, log, lxc_monitor)", pname, spec);
            return NULL;
        }
        const virtwire_proc *pr = find_in(p, colon + 1);
        if (!pr) {
            vt_error(VT_USAGE, "unknown procedure '%s' of program %s (virtwire procs %s lists "
                     "them)", colon + 1, p->name, p->name);
            return NULL;
        }
        *prog = p;
        return pr;
    }
    /* A full constant name names its program. */
    for (size_t i = 0; i < vt_program_count(); i++) {
        const virtwire_program *p = vt_program(i);
        for (size_t k = 0; k < p->nprocs; k++)
            if (strcasecmp(p->procs[k].name, name) == 0) {
                *prog = p;
                return &p->procs[k];
            }
    }
    const virtwire_proc *pr = find_in(&remote_program, name);
    if (!pr) {
        vt_error(VT_USAGE, "unknown procedure '%s' (virtwire procs lists them; other "
                 "programs' procedures as PROGRAM:NAME)", spec);
        return NULL;
    }
    *prog = &remote_program;
    return pr;
}

const virtwire_json_type *vt_json_type(const virtwire_type *t)
{
    for (size_t i = 0; i < virtwire_libvirt_njson_modules; i++) {
        const virtwire_json_type *j = virtwire_json_find(virtwire_libvirt_json_modules[i], t);
        if (j)
            return j;
    }
    return NULL;
}

json_t *vt_to_json(const virtwire_type *t, const void *v)
{
    if (!t)
        return json_null();
    const virtwire_json_type *j = vt_json_type(t);
    return j ? j->to_json(v) : NULL;
}

void vt_print(FILE *f, json_t *j)
{
    if (!j) {
        fputs("null\n", f);
        return;
    }
    size_t flags = JSON_ENCODE_ANY | (vt_pretty ? JSON_INDENT(2) : JSON_COMPACT);
    json_dumpf(j, f, flags);
    fputc('\n', f);
    fflush(f);
    json_decref(j);
}

const char *vt_error_names(const virNetMessageError *e, char *buf, size_t len)
{
    const char *code = virtwire_error_code_name(e->code);
    const char *domain = virtwire_error_domain_name(e->domain);
    char c[24], d[24];
    if (!code)
        snprintf(c, sizeof c, "code %d", e->code);
    if (!domain)
        snprintf(d, sizeof d, "domain %d", e->domain);
    snprintf(buf, len, "%s, %s", code ? code : c, domain ? domain : d);
    return buf;
}

int vt_exit_code(int rc)
{
    switch (rc) {
    case 0:
        return VT_OK;
    case VIRTWIRE_EREMOTE:
    case VIRTWIRE_EUNSUPPORTED:
        return VT_REMOTE;
    case VIRTWIRE_ECLOSED:
    case VIRTWIRE_EIO:
    case VIRTWIRE_EKEEPALIVE:
    case VIRTWIRE_EAUTH:
    case VIRTWIRE_EUNSUPPORTED_TRANSPORT:
        return VT_CONNECT;
    case VIRTWIRE_ETIMEDOUT:
        return VT_TIMEOUT;
    case VIRTWIRE_EURI:
    case VIRTWIRE_EURI_TRANSPORT:
    case VIRTWIRE_EURI_UNIX_HOST:
    case VIRTWIRE_EURI_PARAM:
    case VIRTWIRE_EURI_SOCKET:
        return VT_USAGE;
    default:
        return VT_FAIL;
    }
}

/* ------------------------------------------------------------------------ */
/* procs                                                                    */
/* ------------------------------------------------------------------------ */

static const struct {
    uint32_t flag;
    const char *name;
} proc_flags[] = {
    { VIRTWIRE_PROC_STREAM_READ, "stream-read" },
    { VIRTWIRE_PROC_STREAM_WRITE, "stream-write" },
    { VIRTWIRE_PROC_STREAM_SPARSE, "sparse" },
    { VIRTWIRE_PROC_FDS_CALL, "fds-call" },
    { VIRTWIRE_PROC_FDS_REPLY, "fds-reply" },
    { VIRTWIRE_PROC_MESSAGE, "event" },
    { VIRTWIRE_PROC_PRIORITY_HIGH, "priority-high" },
};

/* The release a procedure exists since, as `virtwire procs` prints it:
 * "0.0.3", ">=1.2.1" when inferred (a lower bound), "-" when unknown. */
static void since_text(const virtwire_proc *pr, char *buf, size_t len)
{
    if (!pr->since) {
        snprintf(buf, len, "-");
        return;
    }
    char v[32];
    virtwire_libvirt_version_format(pr->since, v, sizeof v);
    snprintf(buf, len, "%s%s", pr->flags & VIRTWIRE_PROC_SINCE_INFERRED ? ">=" : "", v);
}

static json_t *proc_json(const virtwire_program *p, const virtwire_proc *pr)
{
    json_t *flags = json_array();
    for (size_t i = 0; i < sizeof(proc_flags) / sizeof(proc_flags[0]); i++)
        if (pr->flags & proc_flags[i].flag)
            json_array_append_new(flags, json_string(proc_flags[i].name));
    char since[32];
    virtwire_libvirt_version_format(pr->since, since, sizeof since);
    return json_pack("{s:s, s:i, s:s, s:s?, s:s?, s:s?, s:o, s:s?, s:b}", "program", p->name,
                     "number", (int)pr->number, "name", pr->name, "args",
                     pr->args ? pr->args->name : NULL, "ret", pr->ret ? pr->ret->name : NULL,
                     "msg", pr->msg ? pr->msg->name : NULL, "flags", flags, "since",
                     pr->since ? since : NULL, "since_inferred",
                     (pr->flags & VIRTWIRE_PROC_SINCE_INFERRED) != 0);
}

/* virtwire procs --c PROCEDURE: the text the generator wrote for it. */
static int procs_c(const char *spec)
{
    const virtwire_program *prog;
    const virtwire_proc *pr = vt_resolve(spec, &prog);
    if (!pr)
        return VT_USAGE;
    for (size_t m = 0; m < virtwire_libvirt_njson_modules; m++) {
        const virtwire_json_module *jm = virtwire_libvirt_json_modules[m];
        for (size_t i = 0; i < jm->ncdocs; i++)
            if (jm->cdocs[i].program == prog && jm->cdocs[i].number == pr->number) {
                fputs(jm->cdocs[i].text, stdout);
                return fflush(stdout) == 0 ? VT_OK : VT_FAIL;
            }
    }
    return vt_error(VT_USAGE, "%s has no C calls (the transport handles its program)",
                    pr->name);
}

static int cmd_procs(int argc, char **argv)
{
    int as_json = 0;
    const char *only = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--c") == 0 && i + 1 < argc && argc == 2)
            return procs_c(argv[i + 1]);
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (argv[i][0] == '-' || only)
            return vt_error(VT_USAGE, "usage: %s", vt_usage("procs"));
        else
            only = argv[i];
    }
    const virtwire_program *want = NULL;
    if (only && !(want = vt_program_by_name(only)))
        return vt_error(VT_USAGE, "unknown program '%s' (programs: remote, qemu, lxc, admin, "
                        "keepalive, lock, log, lxc_monitor)", only);
    json_t *all = as_json ? json_array() : NULL;
    for (size_t i = 0; i < vt_program_count(); i++) {
        const virtwire_program *p = vt_program(i);
        if (want && p != want)
            continue;
        for (size_t k = 0; k < p->nprocs; k++) {
            const virtwire_proc *pr = &p->procs[k];
            if (as_json) {
                json_array_append_new(all, proc_json(p, pr));
                continue;
            }
            char flags[128] = "";
            size_t o = 0;
            for (size_t f = 0; f < sizeof(proc_flags) / sizeof(proc_flags[0]); f++)
                if (pr->flags & proc_flags[f].flag)
                    o += (size_t)snprintf(flags + o, sizeof(flags) - o, "%s%s", o ? "," : "",
                                          proc_flags[f].name);
            char since[40];
            since_text(pr, since, sizeof since);
            printf("%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", p->name, (int)pr->number, pr->name,
                   pr->args ? pr->args->name : "-", pr->ret ? pr->ret->name : "-",
                   pr->msg ? pr->msg->name : "-", o ? flags : "-", since);
        }
    }
    if (as_json)
        vt_print(stdout, all);
    return fflush(stdout) == 0 ? VT_OK : VT_FAIL;
}

/* ------------------------------------------------------------------------ */
/* const                                                                    */
/* ------------------------------------------------------------------------ */

static void print_constant(const virtwire_libvirt_constant *k)
{
    if (k->string)
        printf("%s\t\"%s\"\n", k->name, k->string);
    else
        printf("%s\t%lld\n", k->name, k->value);
}

/* The members of enum type that make up value, "A|B", when every bit of
 * value is a member of its own (flags); 0 when not. */
static int flag_names(const char *type, long long value, char *buf, size_t len)
{
    size_t o = 0;
    long long left = value;
    buf[0] = '\0';
    for (size_t i = 0; i < virtwire_libvirt_nconstants && left; i++) {
        const virtwire_libvirt_constant *k = &virtwire_libvirt_constants[i];
        if (!k->type || strcmp(k->type, type) != 0 || k->value <= 0 ||
            (k->value & (k->value - 1)) || !(left & k->value))
            continue;
        int n = snprintf(buf + o, len - o, "%s%s", o ? "|" : "", k->name);
        if (n < 0 || (size_t)n >= len - o)
            return 0;
        o += (size_t)n;
        left &= ~k->value;
    }
    return value > 0 && left == 0;
}

static int cmd_const(int argc, char **argv)
{
    if (argc > 2 || (argc > 0 && argv[0][0] == '-'))
        return vt_error(VT_USAGE, "usage: %s", vt_usage("const"));
    if (argc == 0) {
        /* Every enum: name, members, header. */
        for (size_t i = 0; i < virtwire_libvirt_nconstants; i++) {
            const virtwire_libvirt_constant *k = &virtwire_libvirt_constants[i];
            if (!k->type || (i > 0 && virtwire_libvirt_constants[i - 1].type &&
                             strcmp(virtwire_libvirt_constants[i - 1].type, k->type) == 0))
                continue;
            size_t n = 0;
            while (i + n < virtwire_libvirt_nconstants && virtwire_libvirt_constants[i + n].type &&
                   strcmp(virtwire_libvirt_constants[i + n].type, k->type) == 0)
                n++;
            printf("%s\t%zu\t%s\n", k->type, n, k->header);
        }
        return fflush(stdout) == 0 ? VT_OK : VT_FAIL;
    }
    const virtwire_libvirt_constant *k = virtwire_libvirt_constant_find(argv[0]);
    if (k && argc == 1) {
        if (k->string)
            printf("%s\n", k->string);
        else
            printf("%lld\n", k->value);
        return fflush(stdout) == 0 ? VT_OK : VT_FAIL;
    }
    int members = 0;
    for (size_t i = 0; i < virtwire_libvirt_nconstants; i++)
        if (virtwire_libvirt_constants[i].type &&
            strcmp(virtwire_libvirt_constants[i].type, argv[0]) == 0) {
            members++;
            if (argc == 1)
                print_constant(&virtwire_libvirt_constants[i]);
        }
    if (!members)
        return vt_error(VT_USAGE, "'%s' is no constant or enum of libvirt's (virtwire const lists "
                        "the enums)", argv[0]);
    if (argc == 1)
        return fflush(stdout) == 0 ? VT_OK : VT_FAIL;
    char *end;
    errno = 0;
    long long v = strtoll(argv[1], &end, 0);
    if (errno || end == argv[1] || *end)
        return vt_error(VT_USAGE, "'%s' is not an integer", argv[1]);
    const char *name = virtwire_libvirt_enum_name(argv[0], v);
    char flags[1024];
    if (name)
        printf("%s\n", name);
    else if (flag_names(argv[0], v, flags, sizeof flags))
        printf("%s\n", flags);
    else
        return vt_error(VT_USAGE, "no member of %s has the value %lld", argv[0], v);
    return fflush(stdout) == 0 ? VT_OK : VT_FAIL;
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--pretty") == 0) {
            vt_pretty = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_usage(stdout);
            return VT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("virtwire %s\n", VIRTWIRE_TOOL_VERSION);
            return VT_OK;
        } else {
            return vt_error(VT_USAGE, "unknown option '%s' (virtwire --help lists them)",
                            argv[i]);
        }
    }
    if (i >= argc) {
        print_usage(stderr);
        return VT_USAGE;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i - 1;
    char **sub_argv = argv + i + 1;
    if (strcmp(cmd, "help") == 0 && sub_argc == 0) {
        print_usage(stdout);
        return VT_OK;
    }
    int help = strcmp(cmd, "help") == 0;
    if (help) /* virtwire help COMMAND */
        cmd = sub_argv[0];
    /* --pretty may also follow the command. */
    int k = 0;
    for (int j = 0; j < sub_argc; j++) {
        if (strcmp(sub_argv[j], "--pretty") == 0)
            vt_pretty = 1;
        else if (strcmp(sub_argv[j], "--help") == 0 || strcmp(sub_argv[j], "-h") == 0)
            help = 1;
        else
            sub_argv[k++] = sub_argv[j];
    }
    sub_argc = k;
    for (size_t c = 0; c < NCOMMANDS; c++) {
        if (strcmp(cmd, commands[c].name) != 0)
            continue;
        if (help) {
            printf("usage: virtwire %s\n\n", commands[c].usage);
            print_command(stdout, &commands[c]);
            fputs(usage_tail, stdout);
            return fflush(stdout) == 0 ? VT_OK : VT_FAIL;
        }
        return commands[c].run(sub_argc, sub_argv);
    }
    return vt_error(VT_USAGE, "unknown command '%s' (virtwire --help lists them)", cmd);
}
