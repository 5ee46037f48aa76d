/*
 * main.c - the `cloister` command line: `run` starts a VM, `audit` inspects a running one.
 * Usage errors and bad configuration exit 2 before anything is started.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/api_client.h"
#include "monitor/audit.h"
#include "monitor/vm.h"

#define MIB (1024ull * 1024ull)

static void usage(FILE *f)
{
    fprintf(f,
            "usage: cloister run [--kernel FILE] [--initrd FILE] [--append STRING] [--memory SIZE]\n"
            "                    [--no-reboot] [--api-socket PATH] [--serial FILE]\n"
            "                    [--policy-dir DIR] [--exit-when-up]\n"
            "                    [--selftest-violation COMPONENT:CALL]\n"
            "       cloister audit [--json] --api-socket PATH\n"
            "       cloister api --api-socket PATH COMMAND   (e.g. query-status, quit)\n"
            "SIZE takes a K, M or G suffix (default 128M; 16M to 3G).\n");
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1024, end++;
    else if (*end == 'M' || *end == 'm')
        mul = MIB, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1024 * MIB, end++;
    if (*end || v > (1ull << 40) / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* COMPONENT:CALL for the sandbox self-test: the component attempts CALL once it is up. */
static int parse_selftest(const char *arg, struct vm_config *cfg)
{
    static const char *const calls[] = {"openat", "socket", "execve", "ptrace", "mprotect-exec"};
    char comp[32];
    const char *colon = strchr(arg, ':');
    if (!colon || (size_t)(colon - arg) >= sizeof comp)
        return -1;
    memcpy(comp, arg, (size_t)(colon - arg));
    comp[colon - arg] = '\0';
    cfg->selftest_comp = component_by_name(comp);
    for (unsigned i = 0; i < sizeof calls / sizeof calls[0]; i++)
        if (!strcmp(colon + 1, calls[i]))
            cfg->selftest_call = SELFTEST_OPENAT + i;
    return cfg->selftest_comp >= 0 && cfg->selftest_call ? 0 : -1;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kernel", required_argument, 0, 'k'}, {"initrd", required_argument, 0, 'i'},
        {"append", required_argument, 0, 'a'}, {"memory", required_argument, 0, 'm'},
        {"no-reboot", no_argument, 0, 'n'},    {"api-socket", required_argument, 0, 's'},
        {"serial", required_argument, 0, 'S'}, {"policy-dir", required_argument, 0, 'p'},
        {"exit-when-up", no_argument, 0, 'x'}, {"help", no_argument, 0, 'h'},
        {"selftest-violation", required_argument, 0, 'V'},
        {0, 0, 0, 0}};
    static struct vm vm;
    static char bin_dir[PATH_MAX], policy_dir[PATH_MAX];
    struct vm_config *cfg = &vm.cfg;
    int c;

    memset(&vm, 0, sizeof vm);
    cfg->memory = 128 * MIB;
    cfg->selftest_comp = -1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'k': cfg->kernel = optarg; break;
        case 'i': cfg->initrd = optarg; break;
        case 'a': cfg->append = optarg; break;
        case 'm':
            if (parse_size(optarg, &cfg->memory) < 0 || cfg->memory < 16 * MIB ||
                cfg->memory > 3072 * MIB) {
                fprintf(stderr, "cloister: --memory %s: expected a size from 16M to 3G\n", optarg);
                return 2;
            }
            break;
        case 'n': cfg->no_reboot = true; break;
        case 's': cfg->api_socket = optarg; break;
        case 'S': cfg->serial_file = optarg; break;
        case 'p': cfg->policy_dir = optarg; break;
        case 'x': cfg->exit_when_up = true; break;
        case 'V':
            if (parse_selftest(optarg, cfg) < 0) {
                fprintf(stderr, "cloister: --selftest-violation %s: expected COMPONENT:CALL with "
                                "CALL one of openat, socket, execve, ptrace, mprotect-exec\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cloister: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if ((cfg->initrd || cfg->append) && !cfg->kernel) {
        fprintf(stderr, "cloister: --initrd and --append need --kernel\n");
        return 2;
    }
    if (cfg->serial_file) {
        fprintf(stderr, "cloister: --serial: not available yet in this build\n");
        return 2;
    }

    ssize_t n = readlink("/proc/self/exe", bin_dir, sizeof bin_dir - 1);
    if (n <= 0) {
        fprintf(stderr, "cloister: cannot locate own executable: %s\n", strerror(errno));
        return 2;
    }
    bin_dir[n] = '\0';
    dirname(bin_dir);
    cfg->bin_dir = bin_dir;
    if (!cfg->policy_dir)
        cfg->policy_dir = getenv("CLOISTER_POLICY_DIR");
    if (!cfg->policy_dir) {
        snprintf(policy_dir, sizeof policy_dir, "%s", CLOISTER_POLICY_DIR_DEFAULT);
        cfg->policy_dir = policy_dir;
    }

    char err[700];
    vm.epfd = vm.sigfd = vm.api_fd = -1;
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        vm.comp[k].kind = (enum component_kind)k;
        vm.comp[k].bpf_fd = vm.comp[k].kick_fd = vm.comp[k].stderr_rd = -1;
        vm.comp[k].child.pidfd = -1;
        vm.comp[k].ctl_region.fd = -1;
        vm.comp[k].exit_code = -1;
    }
    for (unsigned l = 0; l < LINK_COUNT; l++)
        vm.link[l].fd = -1;
    if (vm_load_policies(&vm, err, sizeof err) < 0 || vm_prepare(&vm, err, sizeof err) < 0) {
        fprintf(stderr, "cloister: %s\n", err);
        vm_teardown(&vm);
        return 2;
    }
    if (cfg->kernel && vm_read_image(&vm, err, sizeof err) < 0) {
        fprintf(stderr, "cloister: %s\n", err);
        vm_teardown(&vm);
        return 2;
    }
    int rc = vm_start(&vm, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "cloister: %s\n", err);
        vm_teardown(&vm);
        return rc == -EINVAL ? 2 : 1;
    }
    return vm_run(&vm);
}

/* `cloister api --api-socket PATH COMMAND`: send one command, print the reply line. */
static int cmd_api(int argc, char **argv)
{
    static const struct option opts[] = {{"api-socket", required_argument, 0, 's'},
                                         {0, 0, 0, 0}};
    static char reply[1 << 20];
    const char *sock = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 's') {
            usage(stderr);
            return 2;
        }
        sock = optarg;
    }
    if (!sock || optind != argc - 1 || strspn(argv[optind], "abcdefghijklmnopqrstuvwxyz-") !=
                                           strlen(argv[optind])) {
        fprintf(stderr, "cloister api: usage: cloister api --api-socket PATH COMMAND\n");
        return 2;
    }
    char req[160];
    struct api_client_error ce;
    snprintf(req, sizeof req, "{\"execute\":\"%s\"}", argv[optind]);
    if (api_client_call(sock, req, reply, sizeof reply, 5000, &ce) < 0) {
        fprintf(stderr, "cloister api: %s\n", ce.msg);
        return 1;
    }
    printf("%s\n", reply);
    return strstr(reply, "\"error\"") == reply + 1 ? 1 : 0;
}

static int cmd_audit(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"api-socket", required_argument, 0, 's'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *sock = NULL;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 's': sock = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!sock || optind < argc) {
        fprintf(stderr, "cloister audit: --api-socket PATH is required\n");
        return 2;
    }
    return audit_main(sock, json);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(argv[1], "audit"))
        return cmd_audit(argc - 1, argv + 1);
    if (!strcmp(argv[1], "api"))
        return cmd_api(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "cloister: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
