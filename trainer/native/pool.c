/* The worker pool (see pool.h): one mutex, a generation counter that starts a job, a count that ends it. */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>

#define MAX_THREADS 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static int threads = 1, workers = 0;
static unsigned long generation = 0;
static int pending = 0, job_parts = 0;
static rf_task job_task = NULL;
static void *job_ctx = NULL;
/* The generation each worker was started at: a job begun before it first takes the lock is still its to run. */
static unsigned long born[MAX_THREADS];

static void *worker(void *arg) {
  const int index = (int)(long)arg;
  pthread_mutex_lock(&lock);
  unsigned long seen = born[index];
  for (;;) {
    while (generation == seen) pthread_cond_wait(&start, &lock);
    seen = generation;
    if (index >= job_parts) continue;
    rf_task task = job_task;
    void *ctx = job_ctx;
    const int parts = job_parts;
    pthread_mutex_unlock(&lock);
    task(ctx, index, parts);
    pthread_mutex_lock(&lock);
    if (--pending == 0) pthread_cond_signal(&done);
  }
  return NULL;
}

void rf_pool_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  pthread_mutex_lock(&lock);
  // Workers are started once and kept (they sleep when idle); fewer threads just means fewer parts.
  while (workers < n - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    born[workers + 1] = generation;
    if (pthread_create(&t, &attr, worker, (void *)(long)(workers + 1)) != 0) {
      pthread_attr_destroy(&attr);
      break;
    }
    pthread_attr_destroy(&attr);
    workers++;
  }
  threads = n <= workers + 1 ? n : workers + 1;
  pthread_mutex_unlock(&lock);
}

int rf_pool_threads(void) { return threads; }

int rf_pool_parts(long items, long grain) {
  if (grain < 1) grain = 1;
  long parts = items / grain;
  if (parts > threads) parts = threads;
  return parts < 1 ? 1 : (int)parts;
}

void rf_slice(long items, int part, int parts, long align, long *from, long *to) {
  const long units = (items + align - 1) / align;
  const long a = units * part / parts, b = units * (part + 1) / parts;
  *from = a * align < items ? a * align : items;
  *to = b * align < items ? b * align : items;
}

void rf_pool_run(rf_task task, void *ctx, int parts) {
  if (parts > threads) parts = threads;
  if (parts <= 1) {
    task(ctx, 0, 1);
    return;
  }
  pthread_mutex_lock(&lock);
  job_task = task;
  job_ctx = ctx;
  job_parts = parts;
  pending = parts - 1;
  generation++;
  pthread_cond_broadcast(&start);
  pthread_mutex_unlock(&lock);
  task(ctx, 0, parts);
  pthread_mutex_lock(&lock);
  while (pending > 0) pthread_cond_wait(&done, &lock);
  pthread_mutex_unlock(&lock);
}
