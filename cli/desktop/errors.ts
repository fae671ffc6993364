// Desktop sharing's failures, each with a sentence for the person: what happened and what to do.

import { CodedError } from '../../shared/core/coded-error.js';

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

export class DesktopError extends CodedError<DesktopErrorCode> {
  override readonly name = 'DesktopError';
}
