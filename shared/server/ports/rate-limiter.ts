/** Fixed-window counters shared by every container (a table item per key and window). */
export interface RateLimiter {
  /**
   * Counts one use of `key` in the window containing `now`; false once `limit` uses were counted
   * in that window, and the use is then not counted.
   */
  consume(key: string, limit: number, windowSeconds: number, now: number): Promise<boolean>;
}
