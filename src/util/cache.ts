/**
 * `load` memoised per key, keeping only what succeeds: callers at the same time share one promise,
 * and once it rejects the key is forgotten, so the next call tries again (a failure is not cached
 * for the life of the process).
 */
export function cacheSuccesses<K, V>(load: (key: K) => Promise<V>): (key: K) => Promise<V> {
  const cache = new Map<K, Promise<V>>();
  return (key: K) => {
    let value = cache.get(key);
    if (value) return value;
    value = load(key);
    cache.set(key, value);
    const settled = value;
    settled.catch(() => {
      if (cache.get(key) === settled) cache.delete(key);
    });
    return value;
  };
}
