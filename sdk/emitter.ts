// A tiny typed event emitter: Node's `events` module is not available in browsers.

export type Listener<Args extends unknown[]> = (...args: Args) => void;

export class Emitter<Events extends { [event: string]: unknown[] }> {
  /** Listener types vary per event; `on` is the only way in, so each set holds that event's listeners. */
  readonly #listeners = new Map<keyof Events, Set<unknown>>();

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let listeners = this.#listeners.get(event);
    if (!listeners) this.#listeners.set(event, (listeners = new Set()));
    listeners.add(listener);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    this.#listeners.get(event)?.delete(listener);
  }

  /**
   * Calls listeners synchronously. A throwing listener must not corrupt the emitter's owner
   * half-way through a state change, so its error is rethrown on a fresh task (as EventTarget does).
   */
  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<Events[E]>)(...args);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
