// The cursor shapes both sides remember (cursor-shape messages, docs/protocol.md §9): a shape's
// pixels travel once, with an id; later the id alone says the pointer looks like that again. The
// sender and the receiver keep the same MAX_CURSOR_SHAPES definitions by the same rule (defining
// one more forgets the one defined longest ago), so an id the sender uses is always one the
// receiver still has. The sender's entries are its own keys for a shape; the receiver's the shapes.

import { MAX_CURSOR_SHAPES } from './assist-messages.js';

export class CursorShapeCache<T> {
  readonly #entries = new Map<number, T>();

  /** Defines `id` (again), forgetting the one defined longest ago when that makes one too many. */
  define(id: number, value: T): void {
    this.#entries.delete(id);
    this.#entries.set(id, value);
    if (this.#entries.size > MAX_CURSOR_SHAPES) this.#entries.delete(this.#entries.keys().next().value!);
  }

  get(id: number): T | undefined {
    return this.#entries.get(id);
  }

  /** The id defined with a value equal to `value` by `same`, if one still is. */
  find(same: (value: T) => boolean): number | undefined {
    for (const [id, value] of this.#entries) if (same(value)) return id;
    return undefined;
  }
}
