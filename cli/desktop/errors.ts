// Desktop sharing's failures, each with a sentence for the person: what happened and what to do.

export type DesktopErrorCode =
  | 'no-display'
  | 'wayland'
  | 'native-package-missing'
  | 'no-monitor'
  | 'capture-failed'
  | 'monitor-gone'
  | 'encoder-refused'
  | 'input-failed'
  | 'no-clipboard-tool';

export class DesktopError extends Error {
  override readonly name = 'DesktopError';

  constructor(
    readonly code: DesktopErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
