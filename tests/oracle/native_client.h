/*
 * native_client.h - the parent side of the native runner: starts cloister-oracle-native with a
 * shared region and a doorbell socket, submits batches of cases and collects the results,
 * restarting the runner when a case kills or hangs it (that case is marked ORN_ST_CRASHED).
 *
 * Trusts: nothing the runner writes beyond its bounds-checked fields (callers check status).
 */
#ifndef CLOISTER_ORACLE_NATIVE_CLIENT_H
#define CLOISTER_ORACLE_NATIVE_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#include "tests/oracle/proto.h"

struct oracle_native {
    pid_t pid;
    int sock;   /* parent end of the doorbell */
    int shm_fd;
    struct orn_shm *shm;
    char path[4096];
    unsigned restarts;
    unsigned batch_timeout_ms;
    uint16_t user_cs, user_ds; /* the selectors Linux gives 32-bit processes */
};

/* Start the runner at `path`. Returns 0 or a negative errno. */
int oracle_native_start(struct oracle_native *n, const char *path);

/* Slot i (< ORN_BATCH) for the next batch: fill in->, then call oracle_native_run. */
static inline struct orn_slot *oracle_native_slot(struct oracle_native *n, unsigned i)
{
    return &n->shm->slot[i];
}

/* Run slots [0, count). On return every slot has a status other than ORN_ST_EMPTY. Returns 0,
 * or a negative errno when the runner cannot be (re)started. */
int oracle_native_run(struct oracle_native *n, unsigned count);

/* Stop the runner and release everything. Safe on a zeroed or stopped struct. */
void oracle_native_stop(struct oracle_native *n);

/* Default runner path: cloister-oracle-native next to the running executable, or in
 * $CLOISTER_BIN when set. Writes into buf; returns buf or NULL. */
char *oracle_native_default_path(char *buf, size_t size);

#endif
