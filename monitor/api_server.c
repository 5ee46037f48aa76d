/*
 * api_server.c - the management socket: accepts connections, frames their bytes into lines,
 * answers each with api_handle_line() (monitor/api.c) and broadcasts events. Clients are
 * untrusted: all sockets are non-blocking, each client's pending output is capped, and a client
 * that does not read its replies is dropped instead of stalling the supervisor.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "monitor/api.h"
#include "monitor/vm.h"

#define CONN_MAX 16
#define CONN_OUT_MAX (8u << 20)
#define EV_API_KIND 5 /* matches enum ev_kind in supervisor.c */

struct api_conn {
    struct api_conn *next;
    int fd;
    struct api_linebuf lines;
    char *out;
    size_t out_len, out_cap;
};

static void conn_watch(struct vm *vm, int fd, uint32_t events, int op)
{
    struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)EV_API_KIND << 32 | (unsigned)fd};
    epoll_ctl(vm->epfd, op, fd, &ev);
}

static void conn_drop(struct vm *vm, struct api_conn *c)
{
    struct api_conn **pp = &vm->conns;
    while (*pp && *pp != c)
        pp = &(*pp)->next;
    if (*pp)
        *pp = c->next;
    epoll_ctl(vm->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    api_linebuf_free(&c->lines);
    free(c->out);
    free(c);
}

static bool conn_flush(struct vm *vm, struct api_conn *c)
{
    while (c->out_len) {
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            return false;
        }
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    conn_watch(vm, c->fd, EPOLLIN | (c->out_len ? EPOLLOUT : 0), EPOLL_CTL_MOD);
    return true;
}

static bool conn_queue(struct api_conn *c, const char *data, size_t len)
{
    if (c->out_len + len > CONN_OUT_MAX)
        return false;
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return false;
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return true;
}

/* ---- the commands' callbacks ---- */

static const char *state_name(enum vm_state s)
{
    static const char *const names[] = {"starting", "running", "stopping", "stopped"};
    return (unsigned)s < 4 ? names[s] : "?";
}

static int op_query_status(void *ctx, struct jbuf *out)
{
    struct vm *vm = ctx;
    jbuf_member_string(out, "status", state_name(vm->state));
    jbuf_member_int64(out, "monitor-pid", getpid());
    jbuf_member_uint64(out, "memory", vm->cfg.memory);
    jbuf_member_uint64(out, "uptime-ns", vm_now_ns() - vm->started_ns);
    return 0;
}

static const char *const comp_state_names[] = {"new", "started", "hello", "running", "dead"};

static int op_query_components(void *ctx, struct jbuf *out)
{
    struct vm *vm = ctx;
    jbuf_key(out, "components");
    jbuf_array_begin(out);
    for (unsigned k = 0; k < COMP_KIND_COUNT; k++) {
        const struct vm_component *c = &vm->comp[k];
        jbuf_object_begin(out);
        jbuf_member_string(out, "name", component_name(k));
        jbuf_member_int64(out, "pid", c->child.pid);
        jbuf_member_string(out, "executable", c->exe);
        jbuf_member_string(out, "policy", c->policy_path);
        jbuf_member_string(out, "state", comp_state_names[c->state]);
        jbuf_member_bool(out, "empty-root", c->child.empty_root);
        jbuf_object_end(out);
    }
    jbuf_array_end(out);
    return 0;
}

static int op_quit(void *ctx, struct jbuf *out)
{
    (void)out;
    vm_request_stop(ctx, "quit requested on the API socket", 0);
    return 0;
}

/* ---- socket handling ---- */

int api_server_open(struct vm *vm, char *err, size_t errlen)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    const char *path = vm->cfg.api_socket;

    vm->api_fd = -1;
    if (!path)
        return 0;
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "--api-socket %s: path too long", path);
        return -ENAMETOOLONG;
    }
    strcpy(sa.sun_path, path);
    /* Replace a stale socket, never a live one and never any other kind of file. */
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            snprintf(err, errlen, "--api-socket %s: exists and is not a socket", path);
            return -EEXIST;
        }
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (probe >= 0)
            close(probe);
        if (live) {
            snprintf(err, errlen, "--api-socket %s: in use by a running VM", path);
            return -EADDRINUSE;
        }
        unlink(path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 8) < 0) {
        snprintf(err, errlen, "--api-socket %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -errno;
    }
    vm->api_fd = fd;
    conn_watch(vm, fd, EPOLLIN, EPOLL_CTL_ADD);
    return 0;
}

static void accept_conn(struct vm *vm)
{
    int n = 0;
    for (struct api_conn *c = vm->conns; c; c = c->next)
        n++;
    int fd = accept4(vm->api_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    struct api_conn *c = calloc(1, sizeof *c);
    if (n >= CONN_MAX || !c || api_linebuf_init(&c->lines, API_MAX_LINE) < 0) {
        free(c);
        close(fd);
        return;
    }
    c->fd = fd;
    c->next = vm->conns;
    vm->conns = c;
    conn_watch(vm, fd, EPOLLIN, EPOLL_CTL_ADD);
    struct jbuf g;
    jbuf_init(&g, 4096);
    api_format_greeting(&g, "0.1");
    if (!g.err)
        conn_queue(c, g.data, g.len);
    jbuf_free(&g);
    if (!conn_flush(vm, c))
        conn_drop(vm, c);
}

static bool serve_lines(struct vm *vm, struct api_conn *c)
{
    const struct api_ops ops = {vm, op_query_status, op_query_components, op_quit};
    const char *line;
    size_t len;
    enum api_line_status st;
    struct jbuf reply;
    bool ok = true;

    jbuf_init(&reply, API_REPLY_RECOMMENDED);
    while (ok && (st = api_linebuf_next(&c->lines, &line, &len)) != API_LINE_NONE) {
        jbuf_reset(&reply);
        if (st == API_LINE_TOO_LONG)
            api_reply_error(&reply, API_ERR_INVALID_REQUEST, "request line too long", NULL);
        else
            api_handle_line(&ops, line, len, &reply);
        ok = !reply.err && conn_queue(c, reply.data, reply.len);
    }
    jbuf_free(&reply);
    return ok;
}

void api_server_event(struct vm *vm, int fd, uint32_t events)
{
    if (fd == vm->api_fd) {
        accept_conn(vm);
        return;
    }
    struct api_conn *c = vm->conns;
    while (c && c->fd != fd)
        c = c->next;
    if (!c)
        return;
    if (events & EPOLLIN) {
        for (;;) {
            size_t avail;
            char *space = api_linebuf_space(&c->lines, &avail);
            if (avail == 0) {
                if (!serve_lines(vm, c)) {
                    conn_drop(vm, c);
                    return;
                }
                space = api_linebuf_space(&c->lines, &avail);
                if (avail == 0)
                    break;
            }
            ssize_t n = recv(fd, space, avail, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                serve_lines(vm, c);
                conn_flush(vm, c);
                conn_drop(vm, c);
                return;
            }
            if (n < 0)
                break;
            api_linebuf_commit(&c->lines, (size_t)n);
        }
        if (!serve_lines(vm, c)) {
            conn_drop(vm, c);
            return;
        }
    }
    if ((events & (EPOLLHUP | EPOLLERR)) || !conn_flush(vm, c))
        conn_drop(vm, c);
}

void api_server_broadcast(struct vm *vm, const char *name, int (*write_data)(void *, struct jbuf *),
                          void *ctx)
{
    if (!vm->conns)
        return;
    struct jbuf ev;
    jbuf_init(&ev, 64 * 1024);
    if (api_format_event(&ev, name, write_data, ctx, api_timestamp_now()) == 0 && !ev.err) {
        struct api_conn *c = vm->conns, *next;
        for (; c; c = next) {
            next = c->next;
            if (!conn_queue(c, ev.data, ev.len) || !conn_flush(vm, c))
                conn_drop(vm, c);
        }
    }
    jbuf_free(&ev);
}

void api_server_close(struct vm *vm)
{
    while (vm->conns) {
        conn_flush(vm, vm->conns);
        conn_drop(vm, vm->conns);
    }
    if (vm->api_fd >= 0) {
        close(vm->api_fd);
        vm->api_fd = -1;
        if (vm->cfg.api_socket)
            unlink(vm->cfg.api_socket);
    }
}
