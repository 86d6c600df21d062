// keep-pages: preloaded into Chromium (LD_PRELOAD, src/render/keep-pages.ts) so that memory its
// allocators give back and take again stays mapped, instead of being faulted in afresh each time.
//
// Why: every captured picture, Chromium's display compositor allocates a frame-sized buffer and a
// picture-sized one (4.3 MB and 1.6 MB at 1280x800 -> 800x500). PartitionAlloc maps allocations
// that big on their own and, when they are freed, decommits them at once: it maps fresh inaccessible
// memory over them (mmap MAP_FIXED, PROT_NONE), and the next allocation at the same address makes
// them accessible again (mprotect) and faults in every page, zeroed by the kernel. That is about
// 1,500 page faults a picture. On machines where a fault costs 10 us (a PVM guest: BENCHMARKS.md,
// stop 32) it is 15 ms of every 51 ms picture on the compositor thread, which every frame waits for.
//
// What this does: such a decommit becomes mprotect(PROT_NONE), which keeps the pages, and the range
// is noted. When any part of it is made accessible again, that part is zeroed (memset over pages
// that are still there: about 0.3 ms for 4 MB against 10 ms of faults), so the caller sees what the
// kernel would have given it. Everything else passes straight to the kernel.
//
// Only decommits that cannot be anything else are changed: MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS,
// PROT_NONE, whole 2 MiB-aligned super pages (PartitionAlloc's unit), inside a reservation of at
// least 1 GiB that this process made as private anonymous PROT_NONE memory (PartitionAlloc's pools,
// V8's cages) and that nothing else has been mapped over since. A file or shared mapping placed in a
// reservation takes its range out of it, so its pages are never kept or zeroed by us.
//
// The cost: pages decommitted this way stay resident until they are used again or unmapped; the
// process's memory stays near its peak instead of shrinking after it. A render's browser is closed
// after the render, or reused for the next, which needs as much again.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SUPER_PAGE (2UL << 20)
#define MIN_RESERVATION (1UL << 30)
#define MAX_RANGES 4096

typedef struct {
  uintptr_t from, to;
} range;

typedef struct {
  range r[MAX_RANGES];
  int n;
} ranges;

// Reservations decommits may be kept in, and kept ranges that must read as zero when made
// accessible again.
static ranges reserved, kept;

// One lock for both lists. A thread that re-enters (a signal handler mapping memory while this
// thread holds the lock) passes straight to the kernel: it never waits on itself.
static atomic_long owner;

static int lock(void) {
  long self = syscall(SYS_gettid);
  if (atomic_load_explicit(&owner, memory_order_relaxed) == self) return 0;
  long none = 0;
  // Held for a list update or a memset of a few MB at most: yield rather than spin a core away.
  while (!atomic_compare_exchange_weak_explicit(&owner, &none, self, memory_order_acquire, memory_order_relaxed)) {
    none = 0;
    sched_yield();
  }
  return 1;
}

static void unlock(void) { atomic_store_explicit(&owner, 0, memory_order_release); }

// A child forked while another thread held the lock would wait for a thread it does not have.
static void forked(void) { atomic_store_explicit(&owner, 0, memory_order_relaxed); }

__attribute__((constructor)) static void start(void) { pthread_atfork(NULL, NULL, forked); }

static int overlaps(const range *r, uintptr_t from, uintptr_t to) { return r->from < to && from < r->to; }

static int add(ranges *l, uintptr_t from, uintptr_t to) {
  if (l->n >= MAX_RANGES) return 0;
  l->r[l->n++] = (range){from, to};
  return 1;
}

// Takes [from, to) out of a list. With zero set, the kept parts are zeroed first (the caller has
// made them writable). A range split in two when the list is full loses its tail: for `kept` that
// part then stays as it is, for `reserved` it is no longer a place decommits are kept in; either
// way it is only what the kernel would do.
static void take(ranges *l, uintptr_t from, uintptr_t to, int zero) {
  for (int i = 0; i < l->n;) {
    range r = l->r[i];
    if (!overlaps(&r, from, to)) {
      i++;
      continue;
    }
    uintptr_t a = r.from > from ? r.from : from, b = r.to < to ? r.to : to;
    if (zero) memset((void *)a, 0, b - a);
    l->r[i] = l->r[--l->n];
    if (r.from < a) add(l, r.from, a);
    if (b < r.to) add(l, b, r.to);
  }
}

static int within(const ranges *l, uintptr_t from, uintptr_t to) {
  for (int i = 0; i < l->n; i++)
    if (l->r[i].from <= from && to <= l->r[i].to) return 1;
  return 0;
}

static int touches(const ranges *l, uintptr_t from, uintptr_t to) {
  for (int i = 0; i < l->n; i++)
    if (overlaps(&l->r[i], from, to)) return 1;
  return 0;
}

static uintptr_t page_end(uintptr_t from, size_t len) {
  long page = sysconf(_SC_PAGESIZE);
  return from + ((len + (size_t)page - 1) & ~((size_t)page - 1));
}

// Makes the kept part of [from, to) read as zero, leaving it PROT_READ|PROT_WRITE.
static int zero_kept(uintptr_t from, uintptr_t to) {
  for (int i = 0; i < kept.n; i++) {
    range r = kept.r[i];
    if (!overlaps(&r, from, to)) continue;
    uintptr_t a = r.from > from ? r.from : from, b = r.to < to ? r.to : to;
    if (syscall(SYS_mprotect, a, b - a, PROT_READ | PROT_WRITE) != 0) return -1;
  }
  take(&kept, from, to, 1);
  return 0;
}

static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
  uintptr_t from = (uintptr_t)addr, to = from + len;
  if (addr && (flags & MAP_FIXED)) {
    int locked = lock();
    if (locked && prot == PROT_NONE && flags == (MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS) && fd == -1 && from % SUPER_PAGE == 0 &&
        len % SUPER_PAGE == 0 && len && within(&reserved, from, to) && kept.n < MAX_RANGES - 2 &&
        syscall(SYS_mprotect, addr, len, PROT_NONE) == 0) {
      take(&kept, from, to, 0);
      add(&kept, from, to);
      unlock();
      return addr;
    }
    void *got = sys_mmap(addr, len, prot, flags, fd, off);
    if (got != MAP_FAILED && locked) {
      // Fresh pages from the kernel: nothing of ours is left there.
      take(&kept, from, to, 0);
      if ((flags & (MAP_PRIVATE | MAP_ANONYMOUS)) != (MAP_PRIVATE | MAP_ANONYMOUS) || (flags & MAP_SHARED)) take(&reserved, from, to, 0);
    }
    if (locked) unlock();
    return got;
  }
  void *got = sys_mmap(addr, len, prot, flags, fd, off);
  if (got != MAP_FAILED && prot == PROT_NONE && fd == -1 && len >= MIN_RESERVATION &&
      (flags & (MAP_PRIVATE | MAP_ANONYMOUS | MAP_SHARED)) == (MAP_PRIVATE | MAP_ANONYMOUS)) {
    if (lock()) {
      add(&reserved, (uintptr_t)got, (uintptr_t)got + len);
      unlock();
    }
  }
  return got;
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off) __attribute__((alias("mmap")));

int mprotect(void *addr, size_t len, int prot) {
  uintptr_t from = (uintptr_t)addr, to = page_end(from, len);
  if (prot != PROT_NONE && lock()) {
    if (touches(&kept, from, to)) {
      int rc = zero_kept(from, to);
      unlock();
      return rc == 0 ? (int)syscall(SYS_mprotect, addr, len, prot) : rc;
    }
    unlock();
  }
  return (int)syscall(SYS_mprotect, addr, len, prot);
}

int pkey_mprotect(void *addr, size_t len, int prot, int pkey) {
  uintptr_t from = (uintptr_t)addr, to = page_end(from, len);
  if (prot != PROT_NONE && lock()) {
    if (touches(&kept, from, to)) {
      // Writable under the default key while zeroed, whatever key the range had.
      for (int i = 0; i < kept.n; i++) {
        range r = kept.r[i];
        if (!overlaps(&r, from, to)) continue;
        uintptr_t a = r.from > from ? r.from : from, b = r.to < to ? r.to : to;
        syscall(SYS_pkey_mprotect, a, b - a, PROT_NONE, 0);
      }
      int rc = zero_kept(from, to);
      unlock();
      return rc == 0 ? (int)syscall(SYS_pkey_mprotect, addr, len, prot, pkey) : rc;
    }
    unlock();
  }
  return (int)syscall(SYS_pkey_mprotect, addr, len, prot, pkey);
}

int munmap(void *addr, size_t len) {
  int rc = (int)syscall(SYS_munmap, addr, len);
  if (rc == 0 && lock()) {
    uintptr_t from = (uintptr_t)addr, to = page_end(from, len);
    take(&kept, from, to, 0);
    take(&reserved, from, to, 0);
    unlock();
  }
  return rc;
}

int madvise(void *addr, size_t len, int advice) {
  int rc = (int)syscall(SYS_madvise, addr, len, advice);
  // The kernel dropped the pages: they read as zero from now on, as the caller expects.
  if (rc == 0 && (advice == MADV_DONTNEED || advice == MADV_REMOVE) && lock()) {
    uintptr_t from = (uintptr_t)addr;
    take(&kept, from, page_end(from, len), 0);
    unlock();
  }
  return rc;
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...) {
  void *dest = NULL;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    dest = va_arg(ap, void *);
    va_end(ap);
  }
  uintptr_t from = (uintptr_t)old, to = page_end(from, old_len);
  int locked = lock();
  // Kept pages that move are zeroed first, and read as zero wherever they land.
  if (locked && touches(&kept, from, to)) {
    for (int i = 0; i < kept.n; i++) {
      range r = kept.r[i];
      if (!overlaps(&r, from, to)) continue;
      uintptr_t a = r.from > from ? r.from : from, b = r.to < to ? r.to : to;
      if (syscall(SYS_mprotect, a, b - a, PROT_READ | PROT_WRITE) == 0) {
        memset((void *)a, 0, b - a);
        syscall(SYS_mprotect, a, b - a, PROT_NONE);
      }
    }
    take(&kept, from, to, 0);
  }
  void *got = (void *)syscall(SYS_mremap, old, old_len, new_len, flags, dest);
  if (locked) {
    if (got != MAP_FAILED) {
      take(&reserved, from, to, 0);
      take(&reserved, (uintptr_t)got, page_end((uintptr_t)got, new_len), 0);
      take(&kept, (uintptr_t)got, page_end((uintptr_t)got, new_len), 0);
    }
    unlock();
  }
  return got;
}
