/*
 * audit.c - `cloister audit`: what each live component process can really do, read from /proc
 * (not from our configuration). The API socket only tells us which pids to look at; every
 * property reported is the kernel's view of that pid, and the executable is checked too, so a
 * confused or lying monitor cannot make a process look confined when it is not.
 *
 * Flags as violations: any capability in any set, NoNewPrivs != 1, Seccomp != 2 (filter), uid or
 * gid 0, a namespace shared with the monitor, a mapping both writable and executable, an fd other
 * than /dev/null, a pipe or an eventfd, and a root directory that still shows the host's files.
 */
#define _GNU_SOURCE
#include "monitor/audit.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/api_client.h"
#include "monitor/json.h"

#define MAX_ITEMS 64
static const char *const ns_names[] = {"user", "pid", "ipc", "net", "mnt", "uts", "cgroup"};
#define NNS (sizeof ns_names / sizeof ns_names[0])

struct proc_view {
    char name[32];
    int pid;
    char exe[PATH_MAX];
    char expected_exe[PATH_MAX];
    char policy[PATH_MAX];
    char uid[64], gid[64];
    char cap[5][24]; /* Inh Prm Eff Bnd Amb */
    int nnp, seccomp, seccomp_filters;
    bool ns_separate[NNS];
    char ns_id[NNS][40];
    int nfd;
    char fd[MAX_ITEMS][PATH_MAX / 4];
    int fdnum[MAX_ITEMS];
    int nmap;
    char map[MAX_ITEMS][160];
    int mounts;
    char violations[MAX_ITEMS][160];
    int nviol;
};

static void violation(struct proc_view *v, const char *fmt, const char *arg)
{
    if (v->nviol < MAX_ITEMS)
        snprintf(v->violations[v->nviol++], sizeof v->violations[0], fmt, arg);
}

static int read_status(struct proc_view *v)
{
    static const char *const capkeys[5] = {"CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:"};
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", v->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    v->nnp = v->seccomp = v->seccomp_filters = -1;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *val = strchr(line, ':');
        if (!val)
            continue;
        val++;
        val += strspn(val, " \t");
        if (!strncmp(line, "Uid:", 4))
            snprintf(v->uid, sizeof v->uid, "%s", val);
        else if (!strncmp(line, "Gid:", 4))
            snprintf(v->gid, sizeof v->gid, "%s", val);
        else if (!strncmp(line, "NoNewPrivs:", 11))
            v->nnp = atoi(val);
        else if (!strncmp(line, "Seccomp:", 8))
            v->seccomp = atoi(val);
        else if (!strncmp(line, "Seccomp_filters:", 16))
            v->seccomp_filters = atoi(val);
        for (int i = 0; i < 5; i++)
            if (!strncmp(line, capkeys[i], 7))
                snprintf(v->cap[i], sizeof v->cap[i], "%s", val);
    }
    fclose(f);
    return 0;
}

static void read_ns(struct proc_view *v, int monitor_pid)
{
    for (unsigned i = 0; i < NNS; i++) {
        char p1[64], p2[64], l1[40] = "", l2[40] = "";
        snprintf(p1, sizeof p1, "/proc/%d/ns/%s", v->pid, ns_names[i]);
        snprintf(p2, sizeof p2, "/proc/%d/ns/%s", monitor_pid, ns_names[i]);
        ssize_t a = readlink(p1, l1, sizeof l1 - 1);
        ssize_t b = readlink(p2, l2, sizeof l2 - 1);
        if (a > 0)
            l1[a] = '\0';
        if (b > 0)
            l2[b] = '\0';
        snprintf(v->ns_id[i], sizeof v->ns_id[i], "%s", a > 0 ? l1 : "?");
        v->ns_separate[i] = a > 0 && b > 0 && strcmp(l1, l2) != 0;
    }
}

static bool fd_allowed(const char *target)
{
    return !strcmp(target, "/dev/null") || !strncmp(target, "pipe:", 5) ||
           !strcmp(target, "anon_inode:[eventfd]");
}

static void read_fds(struct proc_view *v)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", v->pid);
    DIR *d = opendir(dir);
    if (!d) {
        violation(v, "cannot list fds: %s", strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && v->nfd < MAX_ITEMS) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_MAX], t[PATH_MAX / 4];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(p, t, sizeof t - 1);
        t[n > 0 ? n : 0] = '\0';
        v->fdnum[v->nfd] = atoi(e->d_name);
        snprintf(v->fd[v->nfd++], sizeof v->fd[0], "%s", t);
        if (!fd_allowed(t)) {
            char what[PATH_MAX / 4 + 16];
            snprintf(what, sizeof what, "%s -> %s", e->d_name, t);
            violation(v, "holds fd %s", what);
        }
    }
    closedir(d);
}

static void read_maps(struct proc_view *v)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", v->pid);
    FILE *f = fopen(path, "re");
    if (!f) {
        violation(v, "cannot read maps: %s", strerror(errno));
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char range[64], perms[8], name[256] = "";
        unsigned long long off;
        char dev[16];
        unsigned long inode;
        line[strcspn(line, "\n")] = '\0';
        if (sscanf(line, "%63s %7s %llx %15s %lu %255[^\n]", range, perms, &off, dev, &inode, name) < 5)
            continue;
        char *nm = name + strspn(name, " ");
        if (perms[1] == 'w' && perms[2] == 'x')
            violation(v, "writable and executable mapping %s", line);
        /* Shared mappings are the cross-process surface: list them all with permissions. */
        if (perms[3] == 's' && v->nmap < MAX_ITEMS)
            snprintf(v->map[v->nmap++], sizeof v->map[0], "%s %s %s", range, perms, nm);
    }
    fclose(f);
}

static void read_root(struct proc_view *v)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/mountinfo", v->pid);
    FILE *f = fopen(path, "re");
    v->mounts = 0;
    if (!f)
        return;
    while (fgets(line, sizeof line, f))
        v->mounts++;
    fclose(f);
    /* The sandbox root is one empty read-only tmpfs: nothing of the host is mounted. */
    if (v->mounts != 1)
        violation(v, "root is not an empty private mount (%s mounts visible)",
                  v->mounts > 1 ? "several" : "no");
}

static bool caps_empty(const struct proc_view *v, int *which)
{
    for (int i = 0; i < 5; i++)
        if (!v->cap[i][0] || strspn(v->cap[i], "0") != strlen(v->cap[i])) {
            *which = i;
            return false;
        }
    return true;
}

static const char *const cap_set_names[5] = {"inheritable", "permitted", "effective", "bounding",
                                             "ambient"};

int audit_check_confined(int pid, struct audit_confinement_error *err)
{
    static struct proc_view v;
    int which;
    memset(&v, 0, sizeof v);
    v.pid = pid;
    if (read_status(&v) < 0) {
        snprintf(err->msg, sizeof err->msg, "cannot read /proc/%d/status: %s", pid, strerror(errno));
        return -EPERM;
    }
    if (v.seccomp != 2) {
        snprintf(err->msg, sizeof err->msg, "runs without a seccomp filter (Seccomp: %d)", v.seccomp);
        return -EPERM;
    }
    if (v.nnp != 1) {
        snprintf(err->msg, sizeof err->msg, "NoNewPrivs is not set");
        return -EPERM;
    }
    if (!caps_empty(&v, &which)) {
        snprintf(err->msg, sizeof err->msg, "holds capabilities in its %s set",
                 cap_set_names[which]);
        return -EPERM;
    }
    return 0;
}

static void inspect(struct proc_view *v, int monitor_pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", v->pid);
    ssize_t n = readlink(path, v->exe, sizeof v->exe - 1);
    v->exe[n > 0 ? n : 0] = '\0';
    if (n <= 0) {
        violation(v, "process not found: %s", strerror(errno));
        return;
    }
    if (strcmp(v->exe, v->expected_exe) != 0)
        violation(v, "runs %s, not the component executable", v->exe);
    if (read_status(v) < 0) {
        violation(v, "cannot read status: %s", strerror(errno));
        return;
    }
    for (int i = 0; i < 5; i++)
        if (strspn(v->cap[i], "0") != strlen(v->cap[i]) || !v->cap[i][0])
            violation(v, "capabilities in the %s set", cap_set_names[i]);
    if (v->nnp != 1)
        violation(v, "%s", "NoNewPrivs is not set");
    if (v->seccomp != 2)
        violation(v, "%s", "no seccomp filter (Seccomp is not 2)");
    if (!strncmp(v->uid, "0", 1) || strstr(v->uid, "\t0\t") || !strncmp(v->gid, "0", 1))
        violation(v, "%s", "runs with uid or gid 0");
    read_ns(v, monitor_pid);
    for (unsigned i = 0; i < NNS; i++)
        if (!v->ns_separate[i])
            violation(v, "%s namespace shared with the monitor", ns_names[i]);
    read_fds(v);
    read_maps(v);
    read_root(v);
}

static void print_text(const struct proc_view *v, int n)
{
    for (int i = 0; i < n; i++) {
        const struct proc_view *p = &v[i];
        printf("%s (pid %d): %s\n", p->name, p->pid, p->nviol ? "VIOLATIONS" : "ok");
        printf("  executable   %s\n  policy       %s\n", p->exe, p->policy);
        printf("  uid/gid      %s / %s\n", p->uid, p->gid);
        printf("  caps         inh %s prm %s eff %s bnd %s amb %s\n", p->cap[0], p->cap[1],
               p->cap[2], p->cap[3], p->cap[4]);
        printf("  no_new_privs %d   seccomp %d (%d filter%s)\n", p->nnp, p->seccomp,
               p->seccomp_filters, p->seccomp_filters == 1 ? "" : "s");
        printf("  namespaces  ");
        for (unsigned j = 0; j < NNS; j++)
            printf(" %s:%s", ns_names[j], p->ns_separate[j] ? "own" : "SHARED");
        printf("\n  mounts       %d\n  fds\n", p->mounts);
        for (int j = 0; j < p->nfd; j++)
            printf("    %d -> %s\n", p->fdnum[j], p->fd[j]);
        printf("  shared mappings\n");
        for (int j = 0; j < p->nmap; j++)
            printf("    %s\n", p->map[j]);
        for (int j = 0; j < p->nviol; j++)
            printf("  ! %s\n", p->violations[j]);
    }
}

static void print_json(const struct proc_view *v, int n, int total_viol)
{
    struct jbuf b;
    jbuf_init(&b, 4 << 20);
    jbuf_object_begin(&b);
    jbuf_member_int64(&b, "violations", total_viol);
    jbuf_key(&b, "components");
    jbuf_array_begin(&b);
    for (int i = 0; i < n; i++) {
        const struct proc_view *p = &v[i];
        jbuf_object_begin(&b);
        jbuf_member_string(&b, "name", p->name);
        jbuf_member_int64(&b, "pid", p->pid);
        jbuf_member_string(&b, "executable", p->exe);
        jbuf_member_string(&b, "policy", p->policy);
        jbuf_member_string(&b, "uid", p->uid);
        jbuf_member_string(&b, "gid", p->gid);
        static const char *const ck[5] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
        for (int j = 0; j < 5; j++)
            jbuf_member_string(&b, ck[j], p->cap[j]);
        jbuf_member_int64(&b, "NoNewPrivs", p->nnp);
        jbuf_member_int64(&b, "Seccomp", p->seccomp);
        jbuf_member_int64(&b, "Seccomp_filters", p->seccomp_filters);
        jbuf_key(&b, "namespaces");
        jbuf_object_begin(&b);
        for (unsigned j = 0; j < NNS; j++) {
            jbuf_key(&b, ns_names[j]);
            jbuf_object_begin(&b);
            jbuf_member_string(&b, "id", p->ns_id[j]);
            jbuf_member_bool(&b, "separate", p->ns_separate[j]);
            jbuf_object_end(&b);
        }
        jbuf_object_end(&b);
        jbuf_member_int64(&b, "mounts", p->mounts);
        jbuf_key(&b, "fds");
        jbuf_array_begin(&b);
        for (int j = 0; j < p->nfd; j++) {
            jbuf_object_begin(&b);
            jbuf_member_int64(&b, "fd", p->fdnum[j]);
            jbuf_member_string(&b, "target", p->fd[j]);
            jbuf_object_end(&b);
        }
        jbuf_array_end(&b);
        jbuf_key(&b, "shared-mappings");
        jbuf_array_begin(&b);
        for (int j = 0; j < p->nmap; j++)
            jbuf_string(&b, p->map[j]);
        jbuf_array_end(&b);
        jbuf_key(&b, "violations");
        jbuf_array_begin(&b);
        for (int j = 0; j < p->nviol; j++)
            jbuf_string(&b, p->violations[j]);
        jbuf_array_end(&b);
        jbuf_object_end(&b);
    }
    jbuf_array_end(&b);
    jbuf_object_end(&b);
    if (!b.err)
        printf("%s\n", b.data);
    jbuf_free(&b);
}

static int call(const char *sock, const char *req, struct json_doc **doc, const struct json_value **ret)
{
    static char reply[1 << 20];
    struct api_client_error ce;
    struct json_error je;
    const struct json_limits lim = {sizeof reply, 16, 100000};
    int rc = api_client_call(sock, req, reply, sizeof reply, 5000, &ce);
    if (rc < 0) {
        fprintf(stderr, "cloister audit: %s\n", ce.msg);
        return rc;
    }
    rc = json_parse(reply, strlen(reply), &lim, doc, &je);
    if (rc < 0 || !(*ret = json_get(json_root(*doc), "return"))) {
        fprintf(stderr, "cloister audit: bad reply to %s: %s\n", req, reply);
        if (rc == 0)
            json_free(*doc);
        return -EPROTO;
    }
    return 0;
}

static void copy_str(char *dst, size_t cap, const struct json_value *v)
{
    size_t n = 0;
    const char *s = json_string(v, &n);
    snprintf(dst, cap, "%.*s", s ? (int)n : 0, s ? s : "");
}

int audit_main(const char *socket_path, bool json)
{
    struct json_doc *doc;
    const struct json_value *ret;
    int64_t monitor_pid = 0;
    static struct proc_view views[16];
    int n = 0, total = 0;

    if (call(socket_path, "{\"execute\":\"query-status\"}", &doc, &ret) < 0)
        return 2;
    json_int64(json_get(ret, "monitor-pid"), &monitor_pid);
    json_free(doc);
    if (call(socket_path, "{\"execute\":\"query-components\"}", &doc, &ret) < 0)
        return 2;
    const struct json_value *list = json_get(ret, "components");
    for (size_t i = 0; i < json_length(list) && n < 16; i++) {
        const struct json_value *c = json_index(list, i);
        struct proc_view *v = &views[n++];
        int64_t pid = 0;
        memset(v, 0, sizeof *v);
        copy_str(v->name, sizeof v->name, json_get(c, "name"));
        copy_str(v->expected_exe, sizeof v->expected_exe, json_get(c, "executable"));
        copy_str(v->policy, sizeof v->policy, json_get(c, "policy"));
        json_int64(json_get(c, "pid"), &pid);
        v->pid = (int)pid;
        if (pid <= 1 || pid > INT32_MAX)
            violation(v, "%s", "no live process");
        else
            inspect(v, (int)monitor_pid);
        total += v->nviol;
    }
    json_free(doc);
    if (n == 0) {
        fprintf(stderr, "cloister audit: the VM reports no components\n");
        return 2;
    }
    if (json)
        print_json(views, n, total);
    else {
        print_text(views, n);
        printf("%d component%s audited, %d violation%s\n", n, n == 1 ? "" : "s", total,
               total == 1 ? "" : "s");
    }
    return total ? 1 : 0;
}
