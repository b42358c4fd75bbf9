/** Forgets a Map's oldest entries (a Map keeps insertion order) until at most `bound` remain. */
export function forgetOldestBeyond<K, V>(map: Map<K, V>, bound: number): void {
  while (map.size > bound) map.delete(map.keys().next().value!);
}
