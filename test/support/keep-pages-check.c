// Drives memory the way PartitionAlloc does (reserve, commit, decommit by mapping PROT_NONE over it,
// commit again) and prints what it saw as JSON, run with and without native/keep-pages.c preloaded
// (test/keep-pages.test.ts). Memory that was decommitted must read as zero when committed again,
// whoever keeps the pages; a file mapped into the reservation must never be written by keeping.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB (1UL << 20)

static long faults(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

static int all(const unsigned char *p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return 0;
  return 1;
}

static void decommit(void *p, size_t n) {
  if (mmap(p, n, PROT_NONE, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, -1, 0) != p) {
    perror("decommit");
    exit(2);
  }
}

int main(int argc, char **argv) {
  const char *file = argc > 1 ? argv[1] : "keep-pages-check.bin";
  char *res = mmap(NULL, 1UL << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (res == MAP_FAILED) return 2;
  unsigned char *base = (unsigned char *)(((uintptr_t)res + 2 * MIB - 1) & ~(2 * MIB - 1));
  size_t n = 8 * MIB;

  // A buffer used, given back, and taken again (the compositor's frame buffer, each picture).
  long refaults = 0;
  int zeroed = 1;
  for (int round = 0; round < 4; round++) {
    if (mprotect(base, n, PROT_READ | PROT_WRITE) != 0) return 2;
    long before = faults();
    zeroed &= all(base, n, 0);
    if (round > 0) refaults += faults() - before;
    memset(base, 0xAB, n);
    decommit(base, n);
  }

  // Taken again in a forked child (Chromium's zygote forks its renderers): zero there too.
  if (mprotect(base, n, PROT_READ | PROT_WRITE) != 0) return 2;
  memset(base, 0xEF, n);
  decommit(base, n);
  pid_t child = fork();
  if (child == 0) _exit(mprotect(base, n, PROT_READ | PROT_WRITE) == 0 && all(base, n, 0) ? 0 : 1);
  int status = 0;
  waitpid(child, &status, 0);
  int forked = WIFEXITED(status) && WEXITSTATUS(status) == 0;

  // Committed again in parts, read-only first: every part reads as zero.
  if (mprotect(base, n, PROT_READ | PROT_WRITE) != 0) return 2;
  memset(base, 0xCD, n);
  decommit(base, n);
  if (mprotect(base, 2 * MIB, PROT_READ) != 0) return 2;
  int parts = all(base, 2 * MIB, 0);
  if (mprotect(base + 2 * MIB, n - 2 * MIB, PROT_READ | PROT_WRITE) != 0) return 2;
  parts &= all(base + 2 * MIB, n - 2 * MIB, 0);

  // Dropped by madvise while decommitted, then committed: zero.
  memset(base + 2 * MIB, 0x11, 2 * MIB);
  decommit(base, n);
  madvise(base, n, MADV_DONTNEED);
  if (mprotect(base, n, PROT_READ | PROT_WRITE) != 0) return 2;
  int advised = all(base, n, 0);

  // A file mapped into the reservation, then "decommitted" and written: the file keeps its bytes.
  int fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return 2;
  unsigned char *fileAt = base + 16 * MIB;
  if (ftruncate(fd, 2 * MIB) != 0) return 2;
  if (mmap(fileAt, 2 * MIB, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != fileAt) return 2;
  memset(fileAt, 'F', 2 * MIB);
  decommit(fileAt, 2 * MIB);
  if (mprotect(fileAt, 2 * MIB, PROT_READ | PROT_WRITE) != 0) return 2;
  memset(fileAt, 'X', 2 * MIB);
  unsigned char *back = malloc(2 * MIB);
  int fileIntact = pread(fd, back, 2 * MIB, 0) == (ssize_t)(2 * MIB) && all(back, 2 * MIB, 'F');
  close(fd);
  unlink(file);

  printf("{\"forked\":%s,\"zeroed\":%s,\"refaults\":%ld,\"pages\":%lu,\"parts\":%s,\"advised\":%s,\"fileIntact\":%s}\n", forked ? "true" : "false", zeroed ? "true" : "false", refaults,
         3 * n / 4096, parts ? "true" : "false", advised ? "true" : "false", fileIntact ? "true" : "false");
  return 0;
}
