/**
 * The base of every error this project raises on purpose: a stable `code` (each subclass's own union of
 * string literals) that programs branch on and that each client turns into its sentence through one table
 * (cli/error-texts.ts, web/src/text.ts), and a message in plain words for logs and for callers without a table.
 */
export abstract class CodedError<Code extends string = string> extends Error {
  abstract override readonly name: string;

  constructor(
    readonly code: Code,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
