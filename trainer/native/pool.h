/*
 * A small pool of worker threads for the native kernels: `parts` slices of one job, slice 0 on
 * the calling thread, the others on workers that sleep between jobs. Sized by setThreads (the
 * trainer's --threads); one thread means every job runs inline with no synchronisation at all.
 */
#ifndef REFINERY_POOL_H
#define REFINERY_POOL_H

typedef void (*rf_task)(void *ctx, int part, int parts);

void rf_pool_set_threads(int n);
int rf_pool_threads(void);
/* Runs task(ctx, i, parts) for every i in [0, parts) and returns when all are done; parts is capped at the pool's threads. */
void rf_pool_run(rf_task task, void *ctx, int parts);
/* The pool's threads for work of `items` units, at least `grain` units a thread (at least 1). */
int rf_pool_parts(long items, long grain);
/* [*from, *to) of `items` for slice `part` of `parts`, in whole multiples of `align`. */
void rf_slice(long items, int part, int parts, long align, long *from, long *to);

#endif
