/** The typed error `parse` throws; fails the test if it throws anything else or nothing. */
export function refusal<E extends Error>(type: abstract new (...args: never[]) => E, parse: () => unknown): E {
  try {
    parse();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, but the input was accepted`);
}
