/** A deadline for the page's own waits (images decoding, videos seeking) within a step. */

/** The promise's value, or `instead` when it fails or takes longer than `ms`. */
export async function within<T, S>(p: Promise<T>, ms: number, instead: S): Promise<T | S> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<S>((r) => (timer = setTimeout(() => r(instead), ms)));
  try {
    return await Promise.race([p.catch((): S => instead), late]);
  } finally {
    clearTimeout(timer);
  }
}
